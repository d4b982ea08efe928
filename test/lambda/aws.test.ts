import { DescribeNetworkInterfacesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeTasksCommand, ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { awsError } from './fake-api';
import { CLUSTER_ARN, MC, ownedRecord, simpleRecord, taskArn, WEB, ZONE } from './fixtures';
import {
  AwsClients, chunk, CONNECTION_TIMEOUT_MS, createClients, DESCRIBE_TASKS_LIMIT, ENI_FILTER_LIMIT, RECORDS_PAGE_SIZE, REQUEST_TIMEOUT_MS,
  SdkDiscoveryApi,
} from '../../src/lambda/aws';
import type { RecordSet } from '../../src/lambda/model';
import { RetryPolicy } from '../../src/lambda/retry';
import * as ssmAdapter from '../../src/lambda/ssm';
import { Logger } from '../../src/lambda/telemetry';

/** Commands as the mocked `send` received them. */
type Sent = { constructor: { name: string }; input: any };

function setup() {
  const send = { ecs: jest.fn(), ec2: jest.fn(), route53: jest.fn(), ssm: jest.fn() };
  const clients: AwsClients = {
    ecs: { send: send.ecs } as unknown as ECSClient,
    ec2: { send: send.ec2 } as unknown as EC2Client,
    route53: { send: send.route53 } as unknown as Route53Client,
    ssm: { send: send.ssm } as unknown as SSMClient,
  };
  const sleeps: number[] = [];
  const retries: string[] = [];
  const retry: RetryPolicy = {
    maxAttempts: 3,
    baseDelayMs: 100,
    maxDelayMs: 1000,
    random: () => 0.5,
    sleep: async ms => {
      sleeps.push(ms);
    },
    onRetry: info => retries.push(`${info.operation}#${info.attempt}:${info.error}`),
  };
  const inputs = (fn: jest.Mock): any[] => fn.mock.calls.map(([c]) => (c as Sent).input);
  const lines: string[] = [];
  const logs = () => lines.map(l => JSON.parse(l) as Record<string, unknown>);
  return { send, api: new SdkDiscoveryApi(clients, retry, new Logger(l => lines.push(l)), async () => ssmAdapter), sleeps, retries, inputs, logs };
}

const ids = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('chunk', () => {
  test.each([
    [[], 2, []],
    [[1, 2, 3], 2, [[1, 2], [3]]],
    [[1, 2, 3, 4], 2, [[1, 2], [3, 4]]],
    [[1], 100, [[1]]],
  ])('chunk(%p, %p)', (items, size, expected) => {
    expect(chunk(items, size)).toEqual(expected);
  });

  test('limits', () => {
    expect([DESCRIBE_TASKS_LIMIT, ENI_FILTER_LIMIT, RECORDS_PAGE_SIZE]).toEqual([100, 200, 300]);
  });
});

describe('createClients', () => {
  test('leaves retries to withRetry and puts Route53 in the configured region or us-east-1', async () => {
    const saved = process.env.AWS_REGION;
    try {
      delete process.env.AWS_REGION;
      const clients = createClients();
      expect(await clients.ecs.config.maxAttempts()).toBe(1);
      expect(await clients.ec2.config.maxAttempts()).toBe(1);
      expect(await clients.route53.config.maxAttempts()).toBe(1);
      expect(await clients.route53.config.region()).toBe('us-east-1');
      process.env.AWS_REGION = 'cn-north-1';
      expect(await createClients().route53.config.region()).toBe('cn-north-1');
    } finally {
      if (saved === undefined) {
        delete process.env.AWS_REGION;
      } else {
        process.env.AWS_REGION = saved;
      }
    }
  });

  test('bounds every call with a connection and a request timeout', async () => {
    const clients = createClients();
    for (const client of [clients.ecs, clients.ec2, clients.route53]) {
      const handler = client.config.requestHandler as unknown as { configProvider: Promise<Record<string, unknown>> };
      expect(await handler.configProvider).toMatchObject({ connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS });
    }
    expect(CONNECTION_TIMEOUT_MS + REQUEST_TIMEOUT_MS).toBeLessThan(60_000 / 4);
  });
});

describe('SdkDiscoveryApi.describeTasks', () => {
  test('asks in batches of 100 with TAGS included, duplicates removed', async () => {
    const { send, api, inputs } = setup();
    send.ecs.mockResolvedValue({ tasks: [], failures: [] });
    const arns = ids(250, 'arn:aws:ecs:eu-west-1:123456789012:task/games/t');
    await api.describeTasks(CLUSTER_ARN, [...arns, arns[0], arns[249]]);
    expect(send.ecs).toHaveBeenCalledTimes(3);
    expect(send.ecs.mock.calls.every(([c]) => c instanceof DescribeTasksCommand)).toBe(true);
    expect(inputs(send.ecs)).toEqual([
      { cluster: CLUSTER_ARN, tasks: arns.slice(0, 100), include: ['TAGS'] },
      { cluster: CLUSTER_ARN, tasks: arns.slice(100, 200), include: ['TAGS'] },
      { cluster: CLUSTER_ARN, tasks: arns.slice(200), include: ['TAGS'] },
    ]);
  });

  test('no task, no call', async () => {
    const { send, api } = setup();
    expect(await api.describeTasks(CLUSTER_ARN, [])).toEqual(new Map());
    expect(send.ecs).not.toHaveBeenCalled();
  });

  test('maps tasks to observations; unknown tasks are absent', async () => {
    const { send, api } = setup();
    send.ecs.mockResolvedValue({
      tasks: [
        {
          taskArn: taskArn('a'),
          lastStatus: 'RUNNING',
          desiredStatus: 'RUNNING',
          group: 'service:minecraft',
          attachments: [{ type: 'ElasticNetworkInterface', status: 'ATTACHED', details: [{ name: 'networkInterfaceId', value: 'eni-a' }] }],
          tags: [{ key: 'public-discovery:name', value: 'mc' }],
        },
        { taskArn: taskArn('b'), lastStatus: 'STOPPED', desiredStatus: 'STOPPED' },
        { lastStatus: 'RUNNING' },
      ],
      failures: [{ arn: taskArn('c'), reason: 'MISSING' }],
    });
    const out = await api.describeTasks(CLUSTER_ARN, [taskArn('a'), taskArn('b'), taskArn('c')]);
    expect([...out.entries()]).toEqual([
      [taskArn('a'), { taskArn: taskArn('a'), lastStatus: 'RUNNING', desiredStatus: 'RUNNING', group: 'service:minecraft', eniId: 'eni-a', tags: { 'public-discovery:name': 'mc' } }],
      [taskArn('b'), { taskArn: taskArn('b'), lastStatus: 'STOPPED', desiredStatus: 'STOPPED', group: undefined, eniId: undefined, tags: {} }],
    ]);
  });

  test('a response without tasks gives nothing', async () => {
    const { send, api } = setup();
    send.ecs.mockResolvedValue({ failures: [{ arn: taskArn('a'), reason: 'MISSING' }] });
    expect(await api.describeTasks(CLUSTER_ARN, [taskArn('a')])).toEqual(new Map());
  });

  test('throttling is retried', async () => {
    const { send, api, sleeps, retries } = setup();
    send.ecs.mockRejectedValueOnce(awsError('ThrottlingException')).mockResolvedValue({ tasks: [] });
    await api.describeTasks(CLUSTER_ARN, [taskArn('a')]);
    expect(send.ecs).toHaveBeenCalledTimes(2);
    expect(sleeps).toEqual([50]);
    expect(retries).toEqual(['ecs:DescribeTasks#1:ThrottlingException']);
  });

  test('a non-retryable error is thrown at once', async () => {
    const { send, api } = setup();
    send.ecs.mockRejectedValue(awsError('ClusterNotFoundException'));
    await expect(api.describeTasks(CLUSTER_ARN, [taskArn('a')])).rejects.toMatchObject({ name: 'ClusterNotFoundException' });
    expect(send.ecs).toHaveBeenCalledTimes(1);
  });
});

describe('SdkDiscoveryApi.listServiceTasks', () => {
  test('lists the tasks that should run and follows nextToken', async () => {
    const { send, api, inputs } = setup();
    send.ecs
      .mockResolvedValueOnce({ taskArns: [taskArn('a'), taskArn('b')], nextToken: 'n1' })
      .mockResolvedValueOnce({ taskArns: undefined, nextToken: 'n2' })
      .mockResolvedValueOnce({ taskArns: [taskArn('c')] });
    expect(await api.listServiceTasks(CLUSTER_ARN, 'minecraft')).toEqual([taskArn('a'), taskArn('b'), taskArn('c')]);
    expect(send.ecs.mock.calls.every(([c]) => c instanceof ListTasksCommand)).toBe(true);
    expect(inputs(send.ecs)).toEqual([
      { cluster: CLUSTER_ARN, serviceName: 'minecraft', desiredStatus: 'RUNNING', nextToken: undefined },
      { cluster: CLUSTER_ARN, serviceName: 'minecraft', desiredStatus: 'RUNNING', nextToken: 'n1' },
      { cluster: CLUSTER_ARN, serviceName: 'minecraft', desiredStatus: 'RUNNING', nextToken: 'n2' },
    ]);
  });

  test('gives up after the policy\'s attempts and throws the last error', async () => {
    const { send, api } = setup();
    send.ecs.mockRejectedValue(awsError('ThrottlingException'));
    await expect(api.listServiceTasks(CLUSTER_ARN, 'minecraft')).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(send.ecs).toHaveBeenCalledTimes(3);
  });

  test('a service ECS does not know (deleted outside the stack) has no tasks: one warning, no retry', async () => {
    const { send, api, logs } = setup();
    send.ecs.mockRejectedValue(awsError('ServiceNotFoundException', 'Service not found.'));
    expect(await api.listServiceTasks(CLUSTER_ARN, 'minecraft')).toEqual([]);
    expect(send.ecs).toHaveBeenCalledTimes(1);
    expect(logs()).toEqual([{
      level: 'warn',
      message: 'ECS does not know the service (deleted outside the stack?); it is read as a service with no tasks',
      service: 'minecraft',
      clusterArn: CLUSTER_ARN,
      error: 'ServiceNotFoundException',
    }]);
  });

  test('a service that disappears between two pages has no tasks either', async () => {
    const { send, api } = setup();
    send.ecs
      .mockResolvedValueOnce({ taskArns: [taskArn('a')], nextToken: 'n1' })
      .mockRejectedValueOnce(awsError('ServiceNotFoundException', 'Service not found.'));
    expect(await api.listServiceTasks(CLUSTER_ARN, 'minecraft')).toEqual([]);
  });

  test('other errors (a missing cluster) are thrown, not read as "no tasks"', async () => {
    const { send, api, logs } = setup();
    send.ecs.mockRejectedValue(awsError('ClusterNotFoundException', 'Cluster not found.'));
    await expect(api.listServiceTasks(CLUSTER_ARN, 'minecraft')).rejects.toMatchObject({ name: 'ClusterNotFoundException' });
    expect(logs()).toEqual([]);
  });
});

describe('SdkDiscoveryApi.describeNetworkInterfaces', () => {
  test('filters by network-interface-id in chunks of 200, duplicates removed', async () => {
    const { send, api, inputs } = setup();
    send.ec2.mockResolvedValue({ NetworkInterfaces: [] });
    const enis = ids(450, 'eni-');
    await api.describeNetworkInterfaces([...enis, 'eni-0']);
    expect(send.ec2.mock.calls.every(([c]) => c instanceof DescribeNetworkInterfacesCommand)).toBe(true);
    expect(inputs(send.ec2)).toEqual([
      { Filters: [{ Name: 'network-interface-id', Values: enis.slice(0, 200) }], NextToken: undefined },
      { Filters: [{ Name: 'network-interface-id', Values: enis.slice(200, 400) }], NextToken: undefined },
      { Filters: [{ Name: 'network-interface-id', Values: enis.slice(400) }], NextToken: undefined },
    ]);
    // never NetworkInterfaceIds, which fails the whole call for a deleted ENI
    expect(inputs(send.ec2).every(i => i.NetworkInterfaceIds === undefined)).toBe(true);
  });

  test('follows NextToken within a chunk and maps public IPs, never the ENI\'s tags', async () => {
    const { send, api, inputs } = setup();
    send.ec2
      .mockResolvedValueOnce({
        // Whoever may call ec2:CreateTags can write these; ECS never does.
        NetworkInterfaces: [{ NetworkInterfaceId: 'eni-a', Association: { PublicIp: '203.0.113.1' }, TagSet: [{ Key: 'public-discovery:name', Value: 'spoofed' }] }],
        NextToken: 'p2',
      })
      .mockResolvedValueOnce({
        NetworkInterfaces: [
          { NetworkInterfaceId: 'eni-b' },
          { NetworkInterfaceId: 'eni-c', Association: { PublicIp: '' } },
          { Association: { PublicIp: '203.0.113.9' } },
        ],
      });
    const out = await api.describeNetworkInterfaces(['eni-a', 'eni-b', 'eni-c', 'eni-deleted']);
    expect(inputs(send.ec2).map(i => i.NextToken)).toEqual([undefined, 'p2']);
    expect(inputs(send.ec2)[1].Filters).toEqual([{ Name: 'network-interface-id', Values: ['eni-a', 'eni-b', 'eni-c', 'eni-deleted'] }]);
    expect([...out.values()]).toStrictEqual([
      { eniId: 'eni-a', publicIp: '203.0.113.1' },
      { eniId: 'eni-b', publicIp: undefined },
      { eniId: 'eni-c', publicIp: undefined },
    ]);
    expect(out.has('eni-deleted')).toBe(false);
  });

  test('a response without interfaces gives nothing', async () => {
    const { send, api } = setup();
    send.ec2.mockResolvedValue({});
    expect(await api.describeNetworkInterfaces(['eni-a'])).toEqual(new Map());
  });

  test('RequestLimitExceeded is retried', async () => {
    const { send, api } = setup();
    send.ec2.mockRejectedValueOnce(awsError('RequestLimitExceeded', 'x', 503)).mockResolvedValue({ NetworkInterfaces: [] });
    await api.describeNetworkInterfaces(['eni-a']);
    expect(send.ec2).toHaveBeenCalledTimes(2);
  });
});

describe('SdkDiscoveryApi.listRecordsAt', () => {
  const other: RecordSet = ownedRecord(WEB, 'w1', '203.0.113.50');

  test('starts at the name and stops at the first record of another name', async () => {
    const { send, api, inputs } = setup();
    const mine = [simpleRecord(MC), ownedRecord(MC, 'a', '203.0.113.1'), { Name: MC.fqdn, Type: 'TXT', TTL: 60, ResourceRecords: [{ Value: '"x"' }] }];
    send.route53.mockResolvedValue({
      ResourceRecordSets: [...mine, other, ownedRecord(MC, 'not-reached', '203.0.113.99')],
      IsTruncated: true,
      NextRecordName: 'zz.example.com.',
      NextRecordType: 'A',
    });
    expect(await api.listRecordsAt(ZONE, MC.fqdn)).toEqual(mine);
    expect(send.route53).toHaveBeenCalledTimes(1);
    expect(send.route53.mock.calls[0][0]).toBeInstanceOf(ListResourceRecordSetsCommand);
    expect(inputs(send.route53)[0]).toMatchObject({ HostedZoneId: ZONE, StartRecordName: MC.fqdn, MaxItems: RECORDS_PAGE_SIZE });
    expect(inputs(send.route53)[0].StartRecordIdentifier).toBeUndefined();
  });

  test('names are compared case-insensitively and with or without the trailing dot', async () => {
    const { send, api } = setup();
    const upper = { ...ownedRecord(MC, 'a', '203.0.113.1'), Name: 'MC.Example.Com' };
    send.route53.mockResolvedValue({ ResourceRecordSets: [upper], IsTruncated: false });
    expect(await api.listRecordsAt(ZONE, MC.fqdn)).toEqual([upper]);
  });

  test('an empty zone or a listing that starts past the name gives nothing', async () => {
    const { send, api } = setup();
    send.route53.mockResolvedValueOnce({ ResourceRecordSets: [], IsTruncated: false });
    expect(await api.listRecordsAt(ZONE, MC.fqdn)).toEqual([]);
    send.route53.mockResolvedValueOnce({ ResourceRecordSets: [other], IsTruncated: true, NextRecordName: WEB.fqdn, NextRecordType: 'A', NextRecordIdentifier: 'w2' });
    expect(await api.listRecordsAt(ZONE, MC.fqdn)).toEqual([]);
    send.route53.mockResolvedValueOnce({});
    expect(await api.listRecordsAt(ZONE, MC.fqdn)).toEqual([]);
    send.route53.mockResolvedValueOnce({ ResourceRecordSets: [{ Type: 'A' }, ownedRecord(MC, 'a', '203.0.113.1')], IsTruncated: false });
    expect(await api.listRecordsAt(ZONE, MC.fqdn)).toEqual([]);
    expect(send.route53).toHaveBeenCalledTimes(4);
  });

  test('follows NextRecordName/Type/Identifier while the next record is still at the name', async () => {
    const { send, api, inputs } = setup();
    const page1 = ids(300, 'a').map((id, i) => ownedRecord(MC, id, `203.0.${Math.floor(i / 250)}.${(i % 250) + 1}`));
    const page2 = [ownedRecord(MC, 'b0', '198.51.100.1')];
    send.route53
      .mockResolvedValueOnce({ ResourceRecordSets: page1, IsTruncated: true, NextRecordName: MC.fqdn, NextRecordType: 'A', NextRecordIdentifier: 'b0' })
      .mockResolvedValueOnce({ ResourceRecordSets: [...page2, other], IsTruncated: true, NextRecordName: WEB.fqdn, NextRecordType: 'A', NextRecordIdentifier: 'w9' });
    expect(await api.listRecordsAt(ZONE, MC.fqdn)).toEqual([...page1, ...page2]);
    expect(inputs(send.route53)[1]).toEqual({
      HostedZoneId: ZONE, StartRecordName: MC.fqdn, StartRecordType: 'A', StartRecordIdentifier: 'b0', MaxItems: RECORDS_PAGE_SIZE,
    });
    expect(send.route53).toHaveBeenCalledTimes(2);
  });

  test('does not follow a next page that starts at another name', async () => {
    const { send, api } = setup();
    send.route53.mockResolvedValueOnce({
      ResourceRecordSets: [ownedRecord(MC, 'a', '203.0.113.1')], IsTruncated: true, NextRecordName: 'other.example.com.', NextRecordType: 'A',
    });
    expect(await api.listRecordsAt(ZONE, MC.fqdn)).toEqual([ownedRecord(MC, 'a', '203.0.113.1')]);
    expect(send.route53).toHaveBeenCalledTimes(1);
  });

  test('does not follow a next page when the listing is not truncated', async () => {
    const { send, api } = setup();
    send.route53.mockResolvedValueOnce({
      ResourceRecordSets: [ownedRecord(MC, 'a', '203.0.113.1')], IsTruncated: false, NextRecordName: MC.fqdn, NextRecordType: 'A', NextRecordIdentifier: 'b',
    });
    await api.listRecordsAt(ZONE, MC.fqdn);
    expect(send.route53).toHaveBeenCalledTimes(1);
  });

  test('Throttling is retried, each page on its own', async () => {
    const { send, api, retries } = setup();
    send.route53
      .mockRejectedValueOnce(awsError('Throttling', 'Rate exceeded'))
      .mockResolvedValueOnce({ ResourceRecordSets: [ownedRecord(MC, 'a', '203.0.113.1')], IsTruncated: true, NextRecordName: MC.fqdn, NextRecordType: 'A', NextRecordIdentifier: 'b' })
      .mockRejectedValueOnce(awsError('PriorRequestNotComplete'))
      .mockResolvedValueOnce({ ResourceRecordSets: [ownedRecord(MC, 'b', '203.0.113.2')], IsTruncated: false });
    expect(await api.listRecordsAt(ZONE, MC.fqdn)).toHaveLength(2);
    expect(retries).toEqual(['route53:ListResourceRecordSets#1:Throttling', 'route53:ListResourceRecordSets#1:PriorRequestNotComplete']);
  });
});

describe('SdkDiscoveryApi.changeRecords', () => {
  test('sends one change batch of the documented shape', async () => {
    const { send, api, inputs } = setup();
    send.route53.mockResolvedValue({ ChangeInfo: { Id: '/change/C1', Status: 'PENDING' } });
    const upsert = ownedRecord(MC, 'a', '203.0.113.1');
    const del = { ...ownedRecord(MC, 'b', '203.0.113.2', 45), HealthCheckId: 'hc' };
    await api.changeRecords(ZONE, [{ action: 'UPSERT', record: upsert }, { action: 'DELETE', record: del }]);
    expect(send.route53).toHaveBeenCalledTimes(1);
    expect(send.route53.mock.calls[0][0]).toBeInstanceOf(ChangeResourceRecordSetsCommand);
    expect(inputs(send.route53)).toEqual([{
      HostedZoneId: ZONE,
      ChangeBatch: {
        Comment: 'cdk-ecs-public-discovery',
        Changes: [{ Action: 'UPSERT', ResourceRecordSet: upsert }, { Action: 'DELETE', ResourceRecordSet: del }],
      },
    }]);
  });

  test.each([
    ['Throttling', awsError('Throttling', 'Rate exceeded', 400)],
    ['PriorRequestNotComplete', awsError('PriorRequestNotComplete', 'busy', 400)],
    ['a 5xx', awsError('InternalFailure', 'oops', 500)],
  ])('%s is retried', async (_what, err) => {
    const { send, api, sleeps } = setup();
    send.route53.mockRejectedValueOnce(err).mockRejectedValueOnce(err).mockResolvedValue({});
    await api.changeRecords(ZONE, [{ action: 'UPSERT', record: ownedRecord(MC, 'a', '203.0.113.1') }]);
    expect(send.route53).toHaveBeenCalledTimes(3);
    expect(sleeps).toEqual([50, 100]);
  });

  test('InvalidChangeBatch is not retried', async () => {
    const { send, api } = setup();
    send.route53.mockRejectedValue(awsError('InvalidChangeBatch', '[Tried to delete resource record set ... but it was not found]'));
    await expect(api.changeRecords(ZONE, [{ action: 'DELETE', record: ownedRecord(MC, 'a', '203.0.113.1') }]))
      .rejects.toMatchObject({ name: 'InvalidChangeBatch' });
    expect(send.route53).toHaveBeenCalledTimes(1);
  });
});

describe('SdkDiscoveryApi.getParameters', () => {
  test('asks for at most 10 names per request, duplicates removed; parameters that do not exist are absent', async () => {
    const { send, api, inputs } = setup();
    send.ssm.mockImplementation(async (c: Sent) => ({
      Parameters: (c.input.Names as string[]).filter(n => n !== '/p/3').map(n => ({ Name: n, Value: `value of ${n}` })),
      InvalidParameters: (c.input.Names as string[]).filter(n => n === '/p/3'),
    }));
    const names = [...ids(12, '/p/'), '/p/0'];

    const values = await api.getParameters(names);

    expect(inputs(send.ssm).map(i => i.Names)).toEqual([ids(10, '/p/'), ['/p/10', '/p/11']]);
    expect(send.ssm.mock.calls[0][0].constructor.name).toBe('GetParametersCommand');
    expect(values.size).toBe(11);
    expect(values.get('/p/11')).toBe('value of /p/11');
    expect(values.has('/p/3')).toBe(false);
  });

  test('throttling is retried', async () => {
    const { send, api, retries } = setup();
    send.ssm.mockRejectedValueOnce(awsError('ThrottlingException', 'Rate exceeded')).mockResolvedValueOnce({ Parameters: [{ Name: '/p', Value: 'v' }] });
    expect(await api.getParameters(['/p'])).toEqual(new Map([['/p', 'v']]));
    expect(retries).toEqual(['ssm:GetParameters#1:ThrottlingException']);
  });

  test('without a client given, one is created on first use and kept', async () => {
    const retry: RetryPolicy = { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 };
    const clients = createClients();
    expect(clients.ssm).toBeUndefined();
    const api = new SdkDiscoveryApi(clients, retry, undefined, async () => ssmAdapter);
    await api.getParameters([]);
    expect(clients.ssm?.constructor.name).toBe('SSMClient');
    expect(await clients.ssm!.config.maxAttempts()).toBe(1);
  });
});
