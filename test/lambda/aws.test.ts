import { DescribeNetworkInterfacesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeTasksCommand, ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand, ListResourceRecordSetsCommandOutput, Route53Client } from '@aws-sdk/client-route-53';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
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

/** The input of every command a mocked client received, in order. */
function inputs(client: { calls(): Array<{ args: unknown[] }> }): any[] {
  return client.calls().map(c => (c.args[0] as { input: unknown }).input);
}

/** Real SDK clients, each mocked on its own with aws-sdk-client-mock (no call leaves the process). */
function setup() {
  const clients = {
    ecs: new ECSClient({ region: 'eu-west-1' }),
    ec2: new EC2Client({ region: 'eu-west-1' }),
    route53: new Route53Client({ region: 'us-east-1' }),
    ssm: new SSMClient({ region: 'eu-west-1' }),
  } satisfies AwsClients;
  const sdk = { ecs: mockClient(clients.ecs), ec2: mockClient(clients.ec2), route53: mockClient(clients.route53), ssm: mockClient(clients.ssm) };
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
  const lines: string[] = [];
  const logs = () => lines.map(l => JSON.parse(l) as Record<string, unknown>);
  return { sdk, api: new SdkDiscoveryApi(clients, retry, new Logger(l => lines.push(l)), async () => ssmAdapter), sleeps, retries, logs };
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
    const { sdk, api } = setup();
    sdk.ecs.on(DescribeTasksCommand).resolves({ tasks: [], failures: [] });
    const arns = ids(250, 'arn:aws:ecs:eu-west-1:123456789012:task/games/t');
    await api.describeTasks(CLUSTER_ARN, [...arns, arns[0], arns[249]]);
    expect(sdk.ecs).toHaveReceivedCommandTimes(DescribeTasksCommand, 3);
    expect(sdk.ecs.calls().every(c => c.args[0] instanceof DescribeTasksCommand)).toBe(true);
    expect(inputs(sdk.ecs)).toEqual([
      { cluster: CLUSTER_ARN, tasks: arns.slice(0, 100), include: ['TAGS'] },
      { cluster: CLUSTER_ARN, tasks: arns.slice(100, 200), include: ['TAGS'] },
      { cluster: CLUSTER_ARN, tasks: arns.slice(200), include: ['TAGS'] },
    ]);
  });

  test('no task, no call', async () => {
    const { sdk, api } = setup();
    expect(await api.describeTasks(CLUSTER_ARN, [])).toEqual(new Map());
    expect(sdk.ecs).not.toHaveReceivedAnyCommand();
  });

  test('maps tasks to observations; unknown tasks are absent', async () => {
    const { sdk, api } = setup();
    sdk.ecs.on(DescribeTasksCommand).resolves({
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
    const { sdk, api } = setup();
    sdk.ecs.on(DescribeTasksCommand).resolves({ failures: [{ arn: taskArn('a'), reason: 'MISSING' }] });
    expect(await api.describeTasks(CLUSTER_ARN, [taskArn('a')])).toEqual(new Map());
  });

  test('throttling is retried', async () => {
    const { sdk, api, sleeps, retries } = setup();
    sdk.ecs.on(DescribeTasksCommand).rejectsOnce(awsError('ThrottlingException')).resolves({ tasks: [] });
    await api.describeTasks(CLUSTER_ARN, [taskArn('a')]);
    expect(sdk.ecs).toHaveReceivedCommandTimes(DescribeTasksCommand, 2);
    expect(sleeps).toEqual([50]);
    expect(retries).toEqual(['ecs:DescribeTasks#1:ThrottlingException']);
  });

  test('a non-retryable error is thrown at once', async () => {
    const { sdk, api } = setup();
    sdk.ecs.on(DescribeTasksCommand).rejects(awsError('ClusterNotFoundException'));
    await expect(api.describeTasks(CLUSTER_ARN, [taskArn('a')])).rejects.toMatchObject({ name: 'ClusterNotFoundException' });
    expect(sdk.ecs).toHaveReceivedCommandTimes(DescribeTasksCommand, 1);
  });
});

describe('SdkDiscoveryApi.listServiceTasks', () => {
  test('lists the tasks that should run and follows nextToken', async () => {
    const { sdk, api } = setup();
    sdk.ecs.on(ListTasksCommand)
      .resolvesOnce({ taskArns: [taskArn('a'), taskArn('b')], nextToken: 'n1' })
      .resolvesOnce({ taskArns: undefined, nextToken: 'n2' })
      .resolvesOnce({ taskArns: [taskArn('c')] });
    expect(await api.listServiceTasks(CLUSTER_ARN, 'minecraft')).toEqual([taskArn('a'), taskArn('b'), taskArn('c')]);
    expect(sdk.ecs.calls().every(c => c.args[0] instanceof ListTasksCommand)).toBe(true);
    expect(inputs(sdk.ecs)).toEqual([
      { cluster: CLUSTER_ARN, serviceName: 'minecraft', desiredStatus: 'RUNNING', nextToken: undefined },
      { cluster: CLUSTER_ARN, serviceName: 'minecraft', desiredStatus: 'RUNNING', nextToken: 'n1' },
      { cluster: CLUSTER_ARN, serviceName: 'minecraft', desiredStatus: 'RUNNING', nextToken: 'n2' },
    ]);
  });

  test('gives up after the policy\'s attempts and throws the last error', async () => {
    const { sdk, api } = setup();
    sdk.ecs.on(ListTasksCommand).rejects(awsError('ThrottlingException'));
    await expect(api.listServiceTasks(CLUSTER_ARN, 'minecraft')).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(sdk.ecs).toHaveReceivedCommandTimes(ListTasksCommand, 3);
  });

  test('a service ECS does not know (deleted outside the stack) has no tasks: one warning, no retry', async () => {
    const { sdk, api, logs } = setup();
    sdk.ecs.on(ListTasksCommand).rejects(awsError('ServiceNotFoundException', 'Service not found.'));
    expect(await api.listServiceTasks(CLUSTER_ARN, 'minecraft')).toEqual([]);
    expect(sdk.ecs).toHaveReceivedCommandTimes(ListTasksCommand, 1);
    expect(logs()).toEqual([{
      level: 'warn',
      message: 'ECS does not know the service (deleted outside the stack?); it is read as a service with no tasks',
      service: 'minecraft',
      clusterArn: CLUSTER_ARN,
      error: 'ServiceNotFoundException',
    }]);
  });

  test('a service that disappears between two pages has no tasks either', async () => {
    const { sdk, api } = setup();
    sdk.ecs.on(ListTasksCommand)
      .resolvesOnce({ taskArns: [taskArn('a')], nextToken: 'n1' })
      .rejectsOnce(awsError('ServiceNotFoundException', 'Service not found.'));
    expect(await api.listServiceTasks(CLUSTER_ARN, 'minecraft')).toEqual([]);
  });

  test('other errors (a missing cluster) are thrown, not read as "no tasks"', async () => {
    const { sdk, api, logs } = setup();
    sdk.ecs.on(ListTasksCommand).rejects(awsError('ClusterNotFoundException', 'Cluster not found.'));
    await expect(api.listServiceTasks(CLUSTER_ARN, 'minecraft')).rejects.toMatchObject({ name: 'ClusterNotFoundException' });
    expect(logs()).toEqual([]);
  });
});

describe('SdkDiscoveryApi.describeNetworkInterfaces', () => {
  test('filters by network-interface-id in chunks of 200, duplicates removed', async () => {
    const { sdk, api } = setup();
    sdk.ec2.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: [] });
    const enis = ids(450, 'eni-');
    await api.describeNetworkInterfaces([...enis, 'eni-0']);
    expect(sdk.ec2.calls().every(c => c.args[0] instanceof DescribeNetworkInterfacesCommand)).toBe(true);
    expect(inputs(sdk.ec2)).toEqual([
      { Filters: [{ Name: 'network-interface-id', Values: enis.slice(0, 200) }], NextToken: undefined },
      { Filters: [{ Name: 'network-interface-id', Values: enis.slice(200, 400) }], NextToken: undefined },
      { Filters: [{ Name: 'network-interface-id', Values: enis.slice(400) }], NextToken: undefined },
    ]);
    // never NetworkInterfaceIds, which fails the whole call for a deleted ENI
    expect(inputs(sdk.ec2).every(i => i.NetworkInterfaceIds === undefined)).toBe(true);
  });

  test('follows NextToken within a chunk and maps public IPs, never the ENI\'s tags', async () => {
    const { sdk, api } = setup();
    sdk.ec2.on(DescribeNetworkInterfacesCommand)
      .resolvesOnce({
        // Whoever may call ec2:CreateTags can write these; ECS never does.
        NetworkInterfaces: [{ NetworkInterfaceId: 'eni-a', Association: { PublicIp: '203.0.113.1' }, TagSet: [{ Key: 'public-discovery:name', Value: 'spoofed' }] }],
        NextToken: 'p2',
      })
      .resolvesOnce({
        NetworkInterfaces: [
          { NetworkInterfaceId: 'eni-b' },
          { NetworkInterfaceId: 'eni-c', Association: { PublicIp: '' } },
          { Association: { PublicIp: '203.0.113.9' } },
        ],
      });
    const out = await api.describeNetworkInterfaces(['eni-a', 'eni-b', 'eni-c', 'eni-deleted']);
    expect(inputs(sdk.ec2).map(i => i.NextToken)).toEqual([undefined, 'p2']);
    expect(inputs(sdk.ec2)[1].Filters).toEqual([{ Name: 'network-interface-id', Values: ['eni-a', 'eni-b', 'eni-c', 'eni-deleted'] }]);
    expect([...out.values()]).toStrictEqual([
      { eniId: 'eni-a', publicIp: '203.0.113.1' },
      { eniId: 'eni-b', publicIp: undefined },
      { eniId: 'eni-c', publicIp: undefined },
    ]);
    expect(out.has('eni-deleted')).toBe(false);
  });

  test('a response without interfaces gives nothing', async () => {
    const { sdk, api } = setup();
    sdk.ec2.on(DescribeNetworkInterfacesCommand).resolves({});
    expect(await api.describeNetworkInterfaces(['eni-a'])).toEqual(new Map());
  });

  test('RequestLimitExceeded is retried', async () => {
    const { sdk, api } = setup();
    sdk.ec2.on(DescribeNetworkInterfacesCommand).rejectsOnce(awsError('RequestLimitExceeded', 'x', 503)).resolves({ NetworkInterfaces: [] });
    await api.describeNetworkInterfaces(['eni-a']);
    expect(sdk.ec2).toHaveReceivedCommandTimes(DescribeNetworkInterfacesCommand, 2);
  });
});

describe('SdkDiscoveryApi.listRecordsAt', () => {
  const other: RecordSet = ownedRecord(WEB, 'w1', '203.0.113.50');
  /** A ListResourceRecordSets page; the records are the handler's own shape (`RecordSet`), which is what Route53 lists. */
  const page = (p: Omit<ListResourceRecordSetsCommandOutput, '$metadata' | 'ResourceRecordSets' | 'IsTruncated' | 'MaxItems' | 'NextRecordType'>
    & { ResourceRecordSets?: object[]; IsTruncated?: boolean; NextRecordType?: string }) => p as ListResourceRecordSetsCommandOutput;

  test('starts at the name and stops at the first record of another name', async () => {
    const { sdk, api } = setup();
    const mine = [simpleRecord(MC), ownedRecord(MC, 'a', '203.0.113.1'), { Name: MC.fqdn, Type: 'TXT', TTL: 60, ResourceRecords: [{ Value: '"x"' }] }];
    sdk.route53.on(ListResourceRecordSetsCommand).resolves(page({
      ResourceRecordSets: [...mine, other, ownedRecord(MC, 'not-reached', '203.0.113.99')],
      IsTruncated: true,
      NextRecordName: 'zz.example.com.',
      NextRecordType: 'A',
    }));
    expect(await api.listRecordsAt(ZONE, MC.fqdn)).toEqual(mine);
    expect(sdk.route53).toHaveReceivedCommandTimes(ListResourceRecordSetsCommand, 1);
    expect(sdk.route53.call(0).args[0]).toBeInstanceOf(ListResourceRecordSetsCommand);
    expect(inputs(sdk.route53)[0]).toMatchObject({ HostedZoneId: ZONE, StartRecordName: MC.fqdn, MaxItems: RECORDS_PAGE_SIZE });
    expect(inputs(sdk.route53)[0].StartRecordIdentifier).toBeUndefined();
  });

  test('names are compared case-insensitively and with or without the trailing dot', async () => {
    const { sdk, api } = setup();
    const upper = { ...ownedRecord(MC, 'a', '203.0.113.1'), Name: 'MC.Example.Com' };
    sdk.route53.on(ListResourceRecordSetsCommand).resolves(page({ ResourceRecordSets: [upper], IsTruncated: false }));
    expect(await api.listRecordsAt(ZONE, MC.fqdn)).toEqual([upper]);
  });

  test('an empty zone or a listing that starts past the name gives nothing', async () => {
    const { sdk, api } = setup();
    sdk.route53.on(ListResourceRecordSetsCommand)
      .resolvesOnce(page({ ResourceRecordSets: [], IsTruncated: false }))
      .resolvesOnce(page({ ResourceRecordSets: [other], IsTruncated: true, NextRecordName: WEB.fqdn, NextRecordType: 'A', NextRecordIdentifier: 'w2' }))
      .resolvesOnce(page({}))
      .resolvesOnce(page({ ResourceRecordSets: [{ Type: 'A' }, ownedRecord(MC, 'a', '203.0.113.1')], IsTruncated: false }));
    expect(await api.listRecordsAt(ZONE, MC.fqdn)).toEqual([]);
    expect(await api.listRecordsAt(ZONE, MC.fqdn)).toEqual([]);
    expect(await api.listRecordsAt(ZONE, MC.fqdn)).toEqual([]);
    expect(await api.listRecordsAt(ZONE, MC.fqdn)).toEqual([]);
    expect(sdk.route53).toHaveReceivedCommandTimes(ListResourceRecordSetsCommand, 4);
  });

  test('follows NextRecordName/Type/Identifier while the next record is still at the name', async () => {
    const { sdk, api } = setup();
    const page1 = ids(300, 'a').map((id, i) => ownedRecord(MC, id, `203.0.${Math.floor(i / 250)}.${(i % 250) + 1}`));
    const page2 = [ownedRecord(MC, 'b0', '198.51.100.1')];
    sdk.route53.on(ListResourceRecordSetsCommand)
      .resolvesOnce(page({ ResourceRecordSets: page1, IsTruncated: true, NextRecordName: MC.fqdn, NextRecordType: 'A', NextRecordIdentifier: 'b0' }))
      .resolvesOnce(page({ ResourceRecordSets: [...page2, other], IsTruncated: true, NextRecordName: WEB.fqdn, NextRecordType: 'A', NextRecordIdentifier: 'w9' }));
    expect(await api.listRecordsAt(ZONE, MC.fqdn)).toEqual([...page1, ...page2]);
    expect(inputs(sdk.route53)[1]).toEqual({
      HostedZoneId: ZONE, StartRecordName: MC.fqdn, StartRecordType: 'A', StartRecordIdentifier: 'b0', MaxItems: RECORDS_PAGE_SIZE,
    });
    expect(sdk.route53).toHaveReceivedCommandTimes(ListResourceRecordSetsCommand, 2);
  });

  test('does not follow a next page that starts at another name', async () => {
    const { sdk, api } = setup();
    sdk.route53.on(ListResourceRecordSetsCommand).resolvesOnce(page({
      ResourceRecordSets: [ownedRecord(MC, 'a', '203.0.113.1')], IsTruncated: true, NextRecordName: 'other.example.com.', NextRecordType: 'A',
    }));
    expect(await api.listRecordsAt(ZONE, MC.fqdn)).toEqual([ownedRecord(MC, 'a', '203.0.113.1')]);
    expect(sdk.route53).toHaveReceivedCommandTimes(ListResourceRecordSetsCommand, 1);
  });

  test('does not follow a next page when the listing is not truncated', async () => {
    const { sdk, api } = setup();
    sdk.route53.on(ListResourceRecordSetsCommand).resolvesOnce(page({
      ResourceRecordSets: [ownedRecord(MC, 'a', '203.0.113.1')], IsTruncated: false, NextRecordName: MC.fqdn, NextRecordType: 'A', NextRecordIdentifier: 'b',
    }));
    await api.listRecordsAt(ZONE, MC.fqdn);
    expect(sdk.route53).toHaveReceivedCommandTimes(ListResourceRecordSetsCommand, 1);
  });

  test('Throttling is retried, each page on its own', async () => {
    const { sdk, api, retries } = setup();
    sdk.route53.on(ListResourceRecordSetsCommand)
      .rejectsOnce(awsError('Throttling', 'Rate exceeded'))
      .resolvesOnce(page({ ResourceRecordSets: [ownedRecord(MC, 'a', '203.0.113.1')], IsTruncated: true, NextRecordName: MC.fqdn, NextRecordType: 'A', NextRecordIdentifier: 'b' }))
      .rejectsOnce(awsError('PriorRequestNotComplete'))
      .resolvesOnce(page({ ResourceRecordSets: [ownedRecord(MC, 'b', '203.0.113.2')], IsTruncated: false }));
    expect(await api.listRecordsAt(ZONE, MC.fqdn)).toHaveLength(2);
    expect(retries).toEqual(['route53:ListResourceRecordSets#1:Throttling', 'route53:ListResourceRecordSets#1:PriorRequestNotComplete']);
  });
});

describe('SdkDiscoveryApi.changeRecords', () => {
  test('sends one change batch of the documented shape', async () => {
    const { sdk, api } = setup();
    sdk.route53.on(ChangeResourceRecordSetsCommand).resolves({ ChangeInfo: { Id: '/change/C1', Status: 'PENDING', SubmittedAt: new Date(0) } });
    const upsert = ownedRecord(MC, 'a', '203.0.113.1');
    const del = { ...ownedRecord(MC, 'b', '203.0.113.2', 45), HealthCheckId: 'hc' };
    await api.changeRecords(ZONE, [{ action: 'UPSERT', record: upsert }, { action: 'DELETE', record: del }]);
    expect(sdk.route53).toHaveReceivedCommandTimes(ChangeResourceRecordSetsCommand, 1);
    expect(sdk.route53.call(0).args[0]).toBeInstanceOf(ChangeResourceRecordSetsCommand);
    expect(inputs(sdk.route53)).toEqual([{
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
    const { sdk, api, sleeps } = setup();
    sdk.route53.on(ChangeResourceRecordSetsCommand).rejectsOnce(err).rejectsOnce(err).resolves({});
    await api.changeRecords(ZONE, [{ action: 'UPSERT', record: ownedRecord(MC, 'a', '203.0.113.1') }]);
    expect(sdk.route53).toHaveReceivedCommandTimes(ChangeResourceRecordSetsCommand, 3);
    expect(sleeps).toEqual([50, 100]);
  });

  test('InvalidChangeBatch is not retried', async () => {
    const { sdk, api } = setup();
    sdk.route53.on(ChangeResourceRecordSetsCommand).rejects(awsError('InvalidChangeBatch', '[Tried to delete resource record set ... but it was not found]'));
    await expect(api.changeRecords(ZONE, [{ action: 'DELETE', record: ownedRecord(MC, 'a', '203.0.113.1') }]))
      .rejects.toMatchObject({ name: 'InvalidChangeBatch' });
    expect(sdk.route53).toHaveReceivedCommandTimes(ChangeResourceRecordSetsCommand, 1);
  });
});

describe('SdkDiscoveryApi.getParameters', () => {
  test('asks for at most 10 names per request, duplicates removed; parameters that do not exist are absent', async () => {
    const { sdk, api } = setup();
    sdk.ssm.on(GetParametersCommand).callsFake(async (input: { Names: string[] }) => ({
      Parameters: input.Names.filter(n => n !== '/p/3').map(n => ({ Name: n, Value: `value of ${n}` })),
      InvalidParameters: input.Names.filter(n => n === '/p/3'),
    }));
    const names = [...ids(12, '/p/'), '/p/0'];

    const values = await api.getParameters(names);

    expect(inputs(sdk.ssm).map(i => i.Names)).toEqual([ids(10, '/p/'), ['/p/10', '/p/11']]);
    expect(sdk.ssm.call(0).args[0]).toBeInstanceOf(GetParametersCommand);
    expect(values.size).toBe(11);
    expect(values.get('/p/11')).toBe('value of /p/11');
    expect(values.has('/p/3')).toBe(false);
  });

  test('throttling is retried', async () => {
    const { sdk, api, retries } = setup();
    sdk.ssm.on(GetParametersCommand).rejectsOnce(awsError('ThrottlingException', 'Rate exceeded')).resolvesOnce({ Parameters: [{ Name: '/p', Value: 'v' }] });
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

describe('describeNetworkInterfaces, IPv6', () => {
  test('reads the first IPv6 address of the ENI beside its public IPv4 address', async () => {
    const { sdk, api } = setup();
    sdk.ec2.on(DescribeNetworkInterfacesCommand).resolves({
      NetworkInterfaces: [
        { NetworkInterfaceId: 'eni-dual', Association: { PublicIp: '203.0.113.1' }, Ipv6Addresses: [{ Ipv6Address: '2001:db8::1' }, { Ipv6Address: '2001:db8::2' }] },
        { NetworkInterfaceId: 'eni-v6', Ipv6Addresses: [{}, { Ipv6Address: '2001:db8::6' }] },
        { NetworkInterfaceId: 'eni-v4', Association: { PublicIp: '203.0.113.4' }, Ipv6Addresses: [] },
      ],
    });
    const out = await api.describeNetworkInterfaces(['eni-dual', 'eni-v6', 'eni-v4']);
    expect([...out.values()]).toStrictEqual([
      { eniId: 'eni-dual', publicIp: '203.0.113.1', ipv6Address: '2001:db8::1' },
      { eniId: 'eni-v6', publicIp: undefined, ipv6Address: '2001:db8::6' },
      { eniId: 'eni-v4', publicIp: '203.0.113.4' },
    ]);
  });
});

describe('SdkDiscoveryApi.listRecordsAt with the subtree (task names and SRV records)', () => {
  const page = (p: { ResourceRecordSets?: object[]; IsTruncated?: boolean; NextRecordName?: string; NextRecordType?: string }) =>
    p as ListResourceRecordSetsCommandOutput;
  const id = 'a'.repeat(32);
  const below = [
    { ...ownedRecord(MC, id, '203.0.113.1'), Name: `${id}.${MC.fqdn}` },
    { Name: `_minecraft._tcp.${MC.fqdn}`, Type: 'SRV', SetIdentifier: id, MultiValueAnswer: true, TTL: 60, ResourceRecords: [{ Value: `0 1 25565 ${id}.${MC.fqdn}` }] },
  ];

  test('reads the name and the names below it in one listing, and stops at the first name outside', async () => {
    const { sdk, api } = setup();
    const mine = [ownedRecord(MC, id, '203.0.113.1'), ...below];
    sdk.route53.on(ListResourceRecordSetsCommand).resolves(page({
      ResourceRecordSets: [...mine, { ...ownedRecord(MC, 'x', '203.0.113.9'), Name: 'mcx.example.com.' }, ownedRecord(MC, 'late', '203.0.113.99')],
      IsTruncated: true,
      NextRecordName: 'zz.example.com.',
      NextRecordType: 'A',
    }));
    expect(await api.listRecordsAt(ZONE, MC.fqdn, true)).toEqual(mine);
    expect(sdk.route53).toHaveReceivedCommandTimes(ListResourceRecordSetsCommand, 1);
    expect(inputs(sdk.route53)[0]).toMatchObject({ StartRecordName: MC.fqdn, MaxItems: RECORDS_PAGE_SIZE });
  });

  test('follows the next page while it starts below the name; without the subtree the same listing stops at the name', async () => {
    const { sdk, api } = setup();
    sdk.route53.on(ListResourceRecordSetsCommand)
      .resolvesOnce(page({ ResourceRecordSets: [ownedRecord(MC, id, '203.0.113.1')], IsTruncated: true, NextRecordName: below[0].Name, NextRecordType: 'A' }))
      .resolvesOnce(page({ ResourceRecordSets: below, IsTruncated: false }))
      .resolvesOnce(page({ ResourceRecordSets: [ownedRecord(MC, id, '203.0.113.1')], IsTruncated: true, NextRecordName: below[0].Name, NextRecordType: 'A' }));
    expect(await api.listRecordsAt(ZONE, MC.fqdn, true)).toEqual([ownedRecord(MC, id, '203.0.113.1'), ...below]);
    expect(inputs(sdk.route53)[1]).toMatchObject({ StartRecordName: below[0].Name, StartRecordType: 'A' });
    expect(await api.listRecordsAt(ZONE, MC.fqdn)).toEqual([ownedRecord(MC, id, '203.0.113.1')]);
    expect(sdk.route53).toHaveReceivedCommandTimes(ListResourceRecordSetsCommand, 3);
  });
});
