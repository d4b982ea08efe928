import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { Route53Client } from '@aws-sdk/client-route-53';
import type { Context } from 'aws-lambda';
import { awsError } from './fake-api';
import { CONFIG, MC, startEvent, stopEvent, taskArn } from './fixtures';
import { handler } from '../../src/lambda/discovery.lambda';
import { ConfigError, ENV, METRIC } from '../../src/shared/contract';

const CONTEXT: Partial<Context> = { awsRequestId: 'req-1', functionName: 'discovery-fn', getRemainingTimeInMillis: () => 60_000 };

type Send = jest.SpyInstance<Promise<unknown>, [unknown]>;

let saved: NodeJS.ProcessEnv;
let logSpy: jest.SpyInstance;
let sends: { ecs: Send; ec2: Send; route53: Send };

/** Every line written to console.log, parsed. */
function lines(): Array<Record<string, any>> {
  return logSpy.mock.calls.map(call => {
    expect(call).toHaveLength(1);
    return JSON.parse(call[0] as string);
  });
}

const emfLines = () => lines().filter(l => l._aws !== undefined);
const logLines = () => lines().filter(l => l._aws === undefined);

function sqs(...bodies: Array<[string, unknown]>) {
  return {
    Records: bodies.map(([messageId, body]) => ({
      messageId,
      receiptHandle: `rh-${messageId}`,
      body: typeof body === 'string' ? body : JSON.stringify(body),
      attributes: {},
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:discovery',
      awsRegion: 'eu-west-1',
    })),
  };
}

/** Makes a client's `send` answer per command class name. */
function answer(spy: Send, answers: Record<string, (input: any) => unknown>): void {
  spy.mockImplementation(async (command: any) => {
    const name = command.constructor.name as string;
    const a = answers[name];
    if (!a) {
      throw new Error(`unexpected ${name}`);
    }
    return a(command.input);
  });
}

beforeEach(() => {
  saved = { ...process.env };
  process.env[ENV.CONFIG] = JSON.stringify(CONFIG);
  delete process.env[ENV.METRICS_NAMESPACE];
  logSpy = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  // Tripwires: any AWS call a test does not set up fails loudly instead of reaching the network.
  const tripwire = async (command: unknown) => {
    throw new Error(`unexpected AWS call ${(command as object).constructor.name}`);
  };
  sends = {
    ecs: jest.spyOn(ECSClient.prototype, 'send').mockImplementation(tripwire) as unknown as Send,
    ec2: jest.spyOn(EC2Client.prototype, 'send').mockImplementation(tripwire) as unknown as Send,
    route53: jest.spyOn(Route53Client.prototype, 'send').mockImplementation(tripwire) as unknown as Send,
  };
});

afterEach(() => {
  jest.restoreAllMocks();
  process.env = saved;
});

describe('configuration', () => {
  test.each([
    ['missing', undefined, /PUBLIC_DISCOVERY_CONFIG is not set/],
    ['not JSON', '{', /PUBLIC_DISCOVERY_CONFIG is not valid JSON/],
    ['without services', JSON.stringify({ clusterArn: CONFIG.clusterArn }), /PUBLIC_DISCOVERY_CONFIG\.services must be an array/],
  ])('%s: the invocation rejects with a ConfigError and logs one JSON error line', async (_what, value, message) => {
    if (value === undefined) {
      delete process.env[ENV.CONFIG];
    } else {
      process.env[ENV.CONFIG] = value;
    }
    const err = await handler(sqs(['m1', startEvent('t1')]), CONTEXT).catch(e => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(message);
    expect(lines()).toEqual([{ level: 'error', message: 'invalid configuration', requestId: 'req-1', reason: err.message }]);
    expect(sends.ecs).not.toHaveBeenCalled();
  });

  test('importing the handler never throws, whatever the environment', () => {
    delete process.env[ENV.CONFIG];
    process.env[ENV.METRICS_NAMESPACE] = '';
    let imported: unknown;
    jest.isolateModules(() => {
      imported = jest.requireActual('../../src/lambda/discovery.lambda');
    });
    expect(typeof (imported as { handler?: unknown }).handler).toBe('function');
    expect(logSpy).not.toHaveBeenCalled();
  });
});

describe('event routing', () => {
  test('an unrecognised event is logged and the invocation resolves', async () => {
    await expect(handler({ hello: 'world' }, CONTEXT)).resolves.toBeUndefined();
    expect(logLines()).toEqual([{
      level: 'error', message: expect.stringContaining('unrecognised event ignored'), requestId: 'req-1', keys: ['hello'],
    }]);
    expect(emfLines()).toHaveLength(1);
  });

  test.each([
    ['a string', 'reconcile', 'string'],
    ['null', null, 'object'],
    ['a list', [1], 'object'],
  ])('an unrecognised event that is %s is logged with its type', async (_what, event, keys) => {
    await expect(handler(event)).resolves.toBeUndefined();
    expect(logLines()).toEqual([expect.objectContaining({ level: 'error', keys })]);
  });

  test('records that are not all from SQS are not taken for an SQS batch', async () => {
    const event = sqs(['m1', 'x']);
    (event.Records[0] as { eventSource: string }).eventSource = 'aws:kinesis';
    await expect(handler(event, CONTEXT)).resolves.toBeUndefined();
    expect(logLines()).toEqual([expect.objectContaining({ message: expect.stringContaining('unrecognised event ignored'), keys: ['Records'] })]);
  });

  test('an SQS batch of malformed messages is acknowledged without any AWS call', async () => {
    const result = await handler(sqs(['m1', 'not json'], ['m2', { source: 'aws.ec2' }], ['m3', { ...startEvent('t1'), detail: {} }]), CONTEXT);
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sends.ecs).not.toHaveBeenCalled();
    expect(sends.ec2).not.toHaveBeenCalled();
    expect(sends.route53).not.toHaveBeenCalled();
    expect(logLines().filter(l => l.level === 'error').map(l => l.messageId)).toEqual(['m1', 'm2', 'm3']);
    expect(emfLines()).toEqual([expect.objectContaining({ FunctionName: 'discovery-fn', [METRIC.EVENTS_IGNORED]: 3 })]);
  });

  test('an empty SQS batch returns no failures', async () => {
    await expect(handler({ Records: [] }, CONTEXT)).resolves.toEqual({ batchItemFailures: [] });
  });

  test('every line is one JSON object and one EMF line is flushed per invocation, in the configured namespace', async () => {
    process.env[ENV.METRICS_NAMESPACE] = 'Custom/Discovery';
    await handler(sqs(['m1', '{']), CONTEXT);
    await handler({ what: 1 }, CONTEXT);
    const emf = emfLines();
    expect(emf).toHaveLength(2);
    for (const doc of emf) {
      expect(doc._aws.CloudWatchMetrics).toEqual([{
        Namespace: 'Custom/Discovery',
        Dimensions: [['FunctionName']],
        Metrics: Object.values(METRIC).map(Name => ({ Name, Unit: 'Count' })),
      }]);
      expect(doc.FunctionName).toBe('discovery-fn');
    }
    expect(emf[0][METRIC.EVENTS_IGNORED]).toBe(1);
    expect(emf[1][METRIC.EVENTS_IGNORED]).toBe(0);
  });

  test('without a context: namespace and function name defaults', async () => {
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'from-env';
    process.env[ENV.METRICS_NAMESPACE] = '';
    await handler({ Records: [] });
    expect(emfLines()).toEqual([expect.objectContaining({
      FunctionName: 'from-env', _aws: expect.objectContaining({ CloudWatchMetrics: [expect.objectContaining({ Namespace: 'EcsPublicDiscovery' })] }),
    })]);
  });

  test('an SQS start event goes through the pipeline; a failed DescribeTasks fails its message', async () => {
    sends.ecs.mockRejectedValue(awsError('AccessDeniedException', 'not allowed'));
    const result = await handler(sqs(['m1', startEvent('t1')], ['m2', startEvent('t2', { group: 'service:other' })]), CONTEXT);
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(sends.ecs).toHaveBeenCalledTimes(1);
    expect(emfLines()).toEqual([expect.objectContaining({ [METRIC.CHANGES_FAILED]: 1, [METRIC.EVENTS_IGNORED]: 1 })]);
  });

  test('a throttled call is retried and logged while time remains', async () => {
    answer(sends.ecs, { DescribeTasksCommand: () => ({ tasks: [] }) });
    answer(sends.route53, { ListResourceRecordSetsCommand: () => ({ ResourceRecordSets: [], IsTruncated: false }) });
    sends.ecs.mockRejectedValueOnce(awsError('ThrottlingException', 'slow down'));
    const result = await handler(sqs(['m1', startEvent('t1')]), { ...CONTEXT, getRemainingTimeInMillis: () => 60_000 });
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sends.ecs).toHaveBeenCalledTimes(2);
    expect(logLines()).toContainEqual(expect.objectContaining({
      level: 'warn', message: 'retrying a throttled or failed AWS call', operation: 'ecs:DescribeTasks', attempt: 1, error: 'ThrottlingException',
    }));
  });

  test('no retry starts when the invocation is about to time out', async () => {
    sends.ecs.mockRejectedValue(awsError('ThrottlingException', 'slow down'));
    const result = await handler(sqs(['m1', startEvent('t1')]), { ...CONTEXT, getRemainingTimeInMillis: () => 500 });
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(sends.ecs).toHaveBeenCalledTimes(1);
  });

  test('a bare ECS event is processed as a batch of one and resolves when it succeeds', async () => {
    const record = { Name: MC.fqdn, Type: 'A', SetIdentifier: 't1', MultiValueAnswer: true, TTL: 60, ResourceRecords: [{ Value: '203.0.113.1' }] };
    answer(sends.route53, {
      ListResourceRecordSetsCommand: () => ({ ResourceRecordSets: [record], IsTruncated: false }),
      ChangeResourceRecordSetsCommand: () => ({ ChangeInfo: { Id: 'c1', Status: 'PENDING' } }),
    });
    await expect(handler(stopEvent('t1'), CONTEXT)).resolves.toBeUndefined();
    const change = sends.route53.mock.calls.map(([c]) => (c as { input: any }).input).find(i => i.ChangeBatch);
    expect(change.ChangeBatch.Changes).toEqual([{ Action: 'DELETE', ResourceRecordSet: record }]);
    expect(emfLines()).toEqual([expect.objectContaining({ [METRIC.RECORDS_DELETED]: 1 })]);
  });

  test('a bare ECS event whose change fails makes the invocation throw, so Lambda retries', async () => {
    sends.ecs.mockRejectedValue(awsError('AccessDeniedException', 'not allowed'));
    const event = startEvent('t1');
    await expect(handler(event, CONTEXT)).rejects.toThrow(`the change for event ${event.id} failed`);
    expect(emfLines()).toHaveLength(1);
  });

  test('a bare ECS event without an id is named "direct"', async () => {
    sends.ecs.mockRejectedValue(awsError('AccessDeniedException', 'not allowed'));
    const { id: _id, ...event } = startEvent('t1');
    await expect(handler(event, CONTEXT)).rejects.toThrow('the change for event direct failed');
  });

  test('a bare event of another cluster is ignored without a call', async () => {
    await expect(handler(startEvent('t1', { clusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/x' }), CONTEXT)).resolves.toBeUndefined();
    expect(sends.ecs).not.toHaveBeenCalled();
  });

  test('a reconciliation that fails for a service fails the invocation, after flushing its metrics', async () => {
    answer(sends.ecs, {
      ListTasksCommand: () => {
        throw Object.assign(new Error('not authorized'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
      },
    });
    answer(sends.route53, { ListResourceRecordSetsCommand: () => ({ ResourceRecordSets: [], IsTruncated: false }) });
    await expect(handler({ action: 'reconcile' }, CONTEXT)).rejects.toThrow(/reconciliation failed for api, minecraft, web/);
    expect(emfLines()).toEqual([expect.objectContaining({ [METRIC.CHANGES_FAILED]: 3 })]);
  });

  test('{"action": "reconcile"} runs the reconciler and returns its summary', async () => {
    answer(sends.ecs, {
      ListTasksCommand: input => ({ taskArns: input.serviceName === 'minecraft' ? [taskArn('t1')] : [] }),
      DescribeTasksCommand: () => ({
        tasks: [{
          taskArn: taskArn('t1'),
          lastStatus: 'RUNNING',
          desiredStatus: 'RUNNING',
          group: 'service:minecraft',
          attachments: [{ type: 'ElasticNetworkInterface', details: [{ name: 'networkInterfaceId', value: 'eni-1' }] }],
          tags: [{ key: 'public-discovery:name', value: 'mc' }],
        }],
      }),
    });
    answer(sends.ec2, {
      DescribeNetworkInterfacesCommand: () => ({ NetworkInterfaces: [{ NetworkInterfaceId: 'eni-1', Association: { PublicIp: '203.0.113.7' }, TagSet: [] }] }),
    });
    answer(sends.route53, {
      ListResourceRecordSetsCommand: () => ({ ResourceRecordSets: [], IsTruncated: false }),
      ChangeResourceRecordSetsCommand: () => ({ ChangeInfo: { Id: 'c1', Status: 'PENDING' } }),
    });
    const summary = await handler({ action: 'reconcile' }, CONTEXT);
    expect(summary).toEqual({ services: 3, skipped: 0, upserted: 1, deleted: 0, failed: 0, failedServices: [] });
    expect(emfLines()).toEqual([expect.objectContaining({ [METRIC.RECORDS_UPSERTED]: 1, [METRIC.DRIFT_REPAIRED]: 1 })]);
  });
});
