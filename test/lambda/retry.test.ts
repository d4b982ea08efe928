import { backoffDelay, DEFAULT_RETRY, isRetryable, RetryPolicy, withRetry } from '../../src/lambda/retry';

/** An error shaped like the AWS SDK v3's service exceptions. */
function awsError(name: string, status?: number, more: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${name} happened`), { name, $metadata: status === undefined ? {} : { httpStatusCode: status }, ...more });
}

describe('isRetryable', () => {
  test.each<[string, unknown, boolean]>([
    ['Throttling (Route53)', awsError('Throttling', 400), true],
    ['ThrottlingException (ECS)', awsError('ThrottlingException', 400), true],
    ['RequestLimitExceeded (EC2)', awsError('RequestLimitExceeded', 503), true],
    ['PriorRequestNotComplete', awsError('PriorRequestNotComplete', 400), true],
    ['a 500', awsError('SomethingBroke', 500), true],
    ['a 502', awsError('BadGateway', 502), true],
    ['a 503 ServiceUnavailable', awsError('ServiceUnavailable', 503), true],
    ['a 429', awsError('TooManyWhatever', 429), true],
    ['a network error by code', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), true],
    ['a TimeoutError', awsError('TimeoutError'), true],
    ['an error the SDK marks $retryable', awsError('Odd', 400, { $retryable: { throttling: true } }), true],
    ['a throttling name only the SDK\'s list has (EC2ThrottledException)', awsError('EC2ThrottledException', 400), true],
    ['a 501 (a server error the SDK\'s standard strategy would not retry)', awsError('NotImplemented', 501), true],
    ['a clock-skew error the SDK corrected', awsError('SignatureDoesNotMatch', 403, { $metadata: { httpStatusCode: 403, clockSkewCorrected: true } }), true],
    ['a clock-skew error not corrected', awsError('RequestExpired', 403), false],
    ['an AbortError', awsError('AbortError'), false],
    ['InvalidChangeBatch', awsError('InvalidChangeBatch', 400), false],
    ['InvalidInput', awsError('InvalidInput', 400), false],
    ['AccessDeniedException', awsError('AccessDeniedException', 403), false],
    ['a 404', awsError('NoSuchHostedZone', 404), false],
    ['a plain Error', new Error('boom'), false],
    ['a string', 'Throttling', false],
    ['null', null, false],
    ['undefined', undefined, false],
  ])('%s → %p', (_what, err, retryable) => {
    expect(isRetryable(err)).toBe(retryable);
  });
});

describe('backoffDelay', () => {
  const policy: RetryPolicy = { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 1000 };

  test.each([
    [1, 100], [2, 200], [3, 400], [4, 800], [5, 1000], [6, 1000], [30, 1000],
  ])('retry %i: full jitter below a ceiling of %i ms', (attempt, ceiling) => {
    expect(backoffDelay(policy, attempt, () => 0)).toBe(0);
    expect(backoffDelay(policy, attempt, () => 0.5)).toBe(Math.floor(ceiling / 2));
    const top = backoffDelay(policy, attempt, () => 0.999999);
    expect(top).toBeLessThan(ceiling);
    expect(top).toBeGreaterThanOrEqual(ceiling - 1);
  });

  test('uses Math.random by default and stays in bounds', () => {
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(policy, 3);
      expect(Number.isInteger(d)).toBe(true);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(400);
    }
  });

  test('the defaults are 8 attempts, 100 ms base, 5 s cap', () => {
    expect(DEFAULT_RETRY).toEqual({ maxAttempts: 8, baseDelayMs: 100, maxDelayMs: 5000 });
    expect(backoffDelay(DEFAULT_RETRY, 20, () => 0.999999)).toBe(4999);
  });
});

describe('withRetry', () => {
  function policy(over: Partial<RetryPolicy> = {}) {
    const sleeps: number[] = [];
    const retries: Array<{ operation: string; attempt: number; delayMs: number; error: string }> = [];
    const p: RetryPolicy = {
      maxAttempts: 4,
      baseDelayMs: 100,
      maxDelayMs: 1000,
      random: () => 0.5,
      sleep: async ms => {
        sleeps.push(ms);
      },
      onRetry: info => retries.push(info),
      ...over,
    };
    return { p, sleeps, retries };
  }

  test('returns at once when the call succeeds', async () => {
    const { p, sleeps } = policy();
    const fn = jest.fn().mockResolvedValue('ok');
    await expect(withRetry('op', p, fn)).resolves.toBe('ok');
    expect(fn).toHaveBeenCalledTimes(1);
    expect(sleeps).toEqual([]);
  });

  test('retries throttling with backoff, then succeeds', async () => {
    const { p, sleeps, retries } = policy();
    const fn = jest.fn()
      .mockRejectedValueOnce(awsError('Throttling', 400))
      .mockRejectedValueOnce(awsError('PriorRequestNotComplete', 400))
      .mockResolvedValue('done');
    await expect(withRetry('route53:Change', p, fn)).resolves.toBe('done');
    expect(fn).toHaveBeenCalledTimes(3);
    expect(sleeps).toEqual([50, 100]);
    expect(retries).toEqual([
      { operation: 'route53:Change', attempt: 1, delayMs: 50, error: 'Throttling' },
      { operation: 'route53:Change', attempt: 2, delayMs: 100, error: 'PriorRequestNotComplete' },
    ]);
  });

  test('gives up after maxAttempts and throws the last error', async () => {
    const { p, sleeps } = policy({ maxAttempts: 3 });
    const errors = [awsError('Throttling', 400), awsError('ServiceUnavailable', 503), awsError('Throttling', 400)];
    const fn = jest.fn();
    errors.forEach(e => fn.mockRejectedValueOnce(e));
    const caught = await withRetry('op', p, fn).catch(e => e);
    expect(caught).toBe(errors[2]);
    expect(fn).toHaveBeenCalledTimes(3);
    expect(sleeps).toHaveLength(2);
  });

  test('maxAttempts 1 never retries', async () => {
    const { p, sleeps } = policy({ maxAttempts: 1 });
    const fn = jest.fn().mockRejectedValue(awsError('Throttling', 400));
    await expect(withRetry('op', p, fn)).rejects.toMatchObject({ name: 'Throttling' });
    expect(fn).toHaveBeenCalledTimes(1);
    expect(sleeps).toEqual([]);
  });

  test.each([
    ['InvalidChangeBatch', awsError('InvalidChangeBatch', 400)],
    ['a plain Error', new Error('bug')],
  ])('a non-retryable error (%s) is thrown at once', async (_what, err) => {
    const { p, sleeps, retries } = policy();
    const fn = jest.fn().mockRejectedValue(err);
    await expect(withRetry('op', p, fn)).rejects.toBe(err);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(sleeps).toEqual([]);
    expect(retries).toEqual([]);
  });

  test('stops retrying when the invocation has too little time left', async () => {
    let remaining = 10_000;
    const { p, sleeps } = policy({
      remainingMs: () => remaining,
      sleep: async ms => {
        sleeps.push(ms);
        remaining = 2000;
      },
    });
    const err = awsError('Throttling', 400);
    const fn = jest.fn().mockRejectedValue(err);
    await expect(withRetry('op', p, fn)).rejects.toBe(err);
    // first retry: 10 s left, 50 ms delay → retried; second: 2 s left < 100 ms + 2 s margin → thrown
    expect(fn).toHaveBeenCalledTimes(2);
    expect(sleeps).toEqual([50]);
  });

  test('the time kept free for the retried call is configurable', async () => {
    const { p, sleeps } = policy({ remainingMs: () => 7000, reserveMs: 8000 });
    const err = awsError('Throttling', 400);
    const fn = jest.fn().mockRejectedValue(err);
    await expect(withRetry('op', p, fn)).rejects.toBe(err);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(sleeps).toEqual([]);
  });

  test('retries while enough time remains', async () => {
    const { p, sleeps } = policy({ remainingMs: () => 2100 });
    const fn = jest.fn().mockRejectedValueOnce(awsError('Throttling', 400)).mockResolvedValue(1);
    await expect(withRetry('op', p, fn)).resolves.toBe(1);
    expect(sleeps).toEqual([50]);
  });

  test('sleeps for real when no sleep is given', async () => {
    const fn = jest.fn().mockRejectedValueOnce(awsError('Throttling', 400)).mockResolvedValue('late');
    const started = Date.now();
    await expect(withRetry('op', { maxAttempts: 2, baseDelayMs: 40, maxDelayMs: 40, random: () => 0.99 }, fn)).resolves.toBe('late');
    expect(Date.now() - started).toBeGreaterThanOrEqual(30);
  });
});
