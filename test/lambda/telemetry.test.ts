import { errorMessage, errorName, Logger, Metrics } from '../../src/lambda/telemetry';
import { DEFAULT_METRICS_NAMESPACE, METRIC } from '../../src/shared/contract';

describe('Logger', () => {
  test('writes one JSON object per line with level, message and fields', () => {
    const lines: string[] = [];
    const log = new Logger(line => lines.push(line));
    log.info('hello', { taskId: 't1', n: 2 });
    log.warn('careful');
    log.error('bad', { reason: 'x' });
    log.debug('detail', { a: [1] });
    log.log('info', 'direct', { outcome: 'applied' });
    expect(lines.every(l => !l.includes('\n'))).toBe(true);
    expect(lines.map(l => JSON.parse(l))).toEqual([
      { level: 'info', message: 'hello', taskId: 't1', n: 2 },
      { level: 'warn', message: 'careful' },
      { level: 'error', message: 'bad', reason: 'x' },
      { level: 'debug', message: 'detail', a: [1] },
      { level: 'info', message: 'direct', outcome: 'applied' },
    ]);
  });

  test('prefixes every line with its context; a child adds to it', () => {
    const lines: string[] = [];
    const log = new Logger(line => lines.push(line), { requestId: 'r-1' });
    log.info('a');
    log.child({ service: 'minecraft' }).warn('b', { taskId: 't1' });
    log.info('c');
    expect(lines.map(l => JSON.parse(l))).toEqual([
      { level: 'info', message: 'a', requestId: 'r-1' },
      { level: 'warn', message: 'b', requestId: 'r-1', service: 'minecraft', taskId: 't1' },
      { level: 'info', message: 'c', requestId: 'r-1' },
    ]);
  });

  test('writes to console.log by default, escaping newlines in values', () => {
    const spy = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      new Logger().error('multi\nline', { detail: 'a\nb' });
      expect(spy).toHaveBeenCalledTimes(1);
      const line = spy.mock.calls[0][0] as string;
      expect(line).not.toContain('\n');
      expect(JSON.parse(line)).toEqual({ level: 'error', message: 'multi\nline', detail: 'a\nb' });
    } finally {
      spy.mockRestore();
    }
  });
});

describe('Metrics', () => {
  test('counts per name', () => {
    const m = new Metrics('ns', 'fn');
    m.add(METRIC.RECORDS_UPSERTED);
    m.add(METRIC.RECORDS_UPSERTED, 4);
    expect(m.get(METRIC.RECORDS_UPSERTED)).toBe(5);
    expect(m.get(METRIC.RECORDS_DELETED)).toBe(0);
  });

  test('snapshot lists every metric, zeros included', () => {
    const m = new Metrics('ns', 'fn');
    m.add(METRIC.TASKS_REJECTED, 2);
    expect(m.snapshot()).toEqual({
      RecordsUpserted: 0, RecordsDeleted: 0, ChangesFailed: 0, DriftRepaired: 0, EventsIgnored: 0, TasksRejected: 2, CapacityExceeded: 0,
    });
  });

  test('flush writes one valid EMF document', () => {
    const lines: string[] = [];
    const m = new Metrics('MyNamespace', 'my-function');
    m.add(METRIC.RECORDS_DELETED, 3);
    m.add(METRIC.CAPACITY_EXCEEDED);
    m.flush(line => lines.push(line), 1_700_000_000_000);
    expect(lines).toHaveLength(1);
    const doc = JSON.parse(lines[0]);
    expect(doc._aws).toEqual({
      Timestamp: 1_700_000_000_000,
      CloudWatchMetrics: [{
        Namespace: 'MyNamespace',
        Dimensions: [['FunctionName']],
        Metrics: expect.arrayContaining(Object.values(METRIC).map(Name => ({ Name, Unit: 'Count' }))),
      }],
    });
    expect(doc._aws.CloudWatchMetrics[0].Metrics).toHaveLength(Object.values(METRIC).length);
    expect(doc.FunctionName).toBe('my-function');
    for (const name of Object.values(METRIC)) {
      // EMF: every metric named in the directive must be a top-level numeric member.
      expect(typeof doc[name]).toBe('number');
    }
    expect(doc.RecordsDeleted).toBe(3);
    expect(doc.CapacityExceeded).toBe(1);
    expect(doc.RecordsUpserted).toBe(0);
    expect(Object.keys(doc).sort()).toEqual(['FunctionName', '_aws', ...Object.values(METRIC)].sort());
  });

  test('defaults: namespace EcsPublicDiscovery, function name from the environment, console.log, now', () => {
    const saved = process.env.AWS_LAMBDA_FUNCTION_NAME;
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'env-function';
    const spy = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const before = Date.now();
      new Metrics().flush();
      expect(spy).toHaveBeenCalledTimes(1);
      const doc = JSON.parse(spy.mock.calls[0][0] as string);
      expect(doc._aws.CloudWatchMetrics[0].Namespace).toBe(DEFAULT_METRICS_NAMESPACE);
      expect(doc.FunctionName).toBe('env-function');
      expect(doc._aws.Timestamp).toBeGreaterThanOrEqual(before);
      expect(doc._aws.Timestamp).toBeLessThanOrEqual(Date.now());
    } finally {
      spy.mockRestore();
      if (saved === undefined) {
        delete process.env.AWS_LAMBDA_FUNCTION_NAME;
      } else {
        process.env.AWS_LAMBDA_FUNCTION_NAME = saved;
      }
    }
  });

  test('the function name falls back to "local"', () => {
    const saved = process.env.AWS_LAMBDA_FUNCTION_NAME;
    delete process.env.AWS_LAMBDA_FUNCTION_NAME;
    try {
      const lines: string[] = [];
      new Metrics().flush(l => lines.push(l));
      expect(JSON.parse(lines[0]).FunctionName).toBe('local');
    } finally {
      if (saved !== undefined) {
        process.env.AWS_LAMBDA_FUNCTION_NAME = saved;
      }
    }
  });
});

describe('errorName and errorMessage', () => {
  test.each<[unknown, string]>([
    [Object.assign(new Error('throttled'), { name: 'Throttling' }), 'Throttling'],
    [{ code: 'ECONNRESET' }, 'ECONNRESET'],
    [{}, 'Error'],
    ['text', 'text'],
    [42, '42'],
  ])('errorName(%p) = %p', (err, name) => {
    expect(errorName(err)).toBe(name);
  });

  test.each<[unknown, string]>([
    [new Error('boom'), 'boom'],
    ['text', 'text'],
    [{ message: 'not an Error' }, '[object Object]'],
  ])('errorMessage(%p) = %p', (err, message) => {
    expect(errorMessage(err)).toBe(message);
  });
});
