/**
 * Checks of the emulator harness itself: if these fail, the scenario results mean nothing.
 */
import { DescribeNetworkInterfacesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeTasksCommand, ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { running, sqsBatch, stopped } from '../../emulator/events';
import { synthesizeExampleTemplate } from '../../emulator/example-app';
import { MotoServer, startMoto } from '../../emulator/moto';
import { AwsProxy, classify } from '../../emulator/proxy';
import { Change, checkChangeBatch, parseChangeBatch, Rrset } from '../../emulator/route53-rules';
import { handlerEnvironment, resolveIntrinsics } from '../../emulator/template-config';
import { REGION, World } from '../../emulator/world';

let moto: MotoServer;
let proxy: AwsProxy;
let world: World;

const viaProxy = () => {
  const common = { endpoint: proxy.endpoint, region: REGION, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 };
  return { ecs: new ECSClient(common), ec2: new EC2Client(common), route53: new Route53Client(common) };
};

beforeAll(async () => {
  moto = await startMoto();
  proxy = await AwsProxy.start(moto.endpoint);
});

afterAll(async () => {
  await proxy?.stop();
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
  proxy.forgetZones();
  proxy.clearFaults();
  proxy.restoreServices();
  world = await World.create(moto.endpoint);
  proxy.resetCounts();
});

test('moto keeps a task RUNNING however often it is described (state frozen after reset)', async () => {
  const t = await world.startTask('web');
  const c = viaProxy();
  for (let i = 0; i < 6; i++) {
    const res = await c.ecs.send(new DescribeTasksCommand({ cluster: world.clusterArn, tasks: [t.taskArn] }));
    expect(res.tasks?.[0].lastStatus).toBe('RUNNING');
  }
  await world.stopTask(t);
  const res = await c.ecs.send(new DescribeTasksCommand({ cluster: world.clusterArn, tasks: [t.taskArn] }));
  expect([res.tasks?.[0].lastStatus, res.tasks?.[0].desiredStatus]).toEqual(['STOPPED', 'STOPPED']);
});

test('the proxy counts calls by service and action; direct clients are not counted', async () => {
  const c = viaProxy();
  const t = await world.startTask('web');
  await c.ecs.send(new DescribeTasksCommand({ cluster: world.clusterArn, tasks: [t.taskArn] }));
  await c.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'network-interface-id', Values: [t.eniId] }] }));
  await c.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: world.zoneId }));
  await c.route53.send(new ChangeResourceRecordSetsCommand({
    HostedZoneId: world.zoneId,
    ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: 'x.example.com', Type: 'A', TTL: 5, ResourceRecords: [{ Value: '192.0.2.1' }] } }] },
  }));
  expect(proxy.counts()).toEqual({
    ecs: { DescribeTasks: 1 },
    ec2: { DescribeNetworkInterfaces: 1 },
    route53: { ListResourceRecordSets: 1, ChangeResourceRecordSets: 1 },
  });
  expect(proxy.calls().find((x) => x.action === 'ChangeResourceRecordSets')?.changes).toMatchObject({ total: 1, upserts: 1 });
});

test('the task carries its tags, its ENI none (as ECS leaves it) and a public IP; a stopped task has lost its ENI', async () => {
  const t = await world.startTask('web', { taskTags: [{ key: 'public-discovery:name', value: 'web' }] });
  const task = await world.clients.ecs.send(new DescribeTasksCommand({ cluster: world.clusterArn, tasks: [t.taskArn], include: ['TAGS'] }));
  expect(task.tasks?.[0].tags).toEqual([{ key: 'public-discovery:name', value: 'web' }]);
  const res = await world.clients.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'network-interface-id', Values: [t.eniId] }] }));
  expect(res.NetworkInterfaces?.[0].Association?.PublicIp).toBe(t.publicIp);
  expect(res.NetworkInterfaces?.[0].TagSet ?? []).toEqual([]);
  // A test can still tag an ENI explicitly, as anyone allowed ec2:CreateTags could.
  const tagged = await world.startTask('web', { eniTags: [{ key: 'public-discovery:name', value: 'api' }] });
  const taggedEni = await world.clients.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'network-interface-id', Values: [tagged.eniId] }] }));
  expect(taggedEni.NetworkInterfaces?.[0].TagSet).toEqual([{ Key: 'public-discovery:name', Value: 'api' }]);
  await world.stopTask(t);
  const after = await world.clients.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'network-interface-id', Values: [t.eniId] }] }));
  expect(after.NetworkInterfaces).toEqual([]);
});

test('injected Route53 faults reach the SDK as Throttling / PriorRequestNotComplete, then calls pass again', async () => {
  const c = viaProxy();
  proxy.failNext({ service: 'route53', action: 'ListResourceRecordSets' }, 1, 'Throttling');
  proxy.failNext({ service: 'route53', action: 'ListResourceRecordSets' }, 1, 'PriorRequestNotComplete');
  const names: string[] = [];
  for (let i = 0; i < 3; i++) {
    try {
      await c.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: world.zoneId }));
      names.push('ok');
    } catch (e) {
      names.push((e as Error).name);
    }
  }
  expect(names).toEqual(['Throttling', 'PriorRequestNotComplete', 'ok']);
  expect(proxy.injectedCount()).toBe(2);
});

test('seeded random faults repeat exactly', async () => {
  const pattern = async (seed: number) => {
    proxy.clearFaults();
    proxy.failRandomly({ service: 'ecs' }, 0.5, 'Throttling', seed);
    const c = viaProxy();
    const out: string[] = [];
    for (let i = 0; i < 12; i++) {
      out.push(await c.ecs.send(new ListTasksCommand({ cluster: world.clusterArn })).then(() => '.', (e: Error) => e.name[0]));
    }
    return out.join('');
  };
  const a = await pattern(7);
  const b = await pattern(7);
  expect(a).toBe(b);
  expect(a).toMatch(/T/);
  expect(a).toMatch(/\./);
});

test('ListTasks filters by serviceName and pages by 100; DescribeTasks reports unknown tasks as MISSING', async () => {
  const c = viaProxy();
  const web = await world.startTasks('web', 105);
  await world.startTasks('api', 2);
  const page1 = await c.ecs.send(new ListTasksCommand({ cluster: world.clusterArn, serviceName: 'web', desiredStatus: 'RUNNING' }));
  expect(page1.taskArns).toHaveLength(100);
  const page2 = await c.ecs.send(new ListTasksCommand({ cluster: world.clusterArn, serviceName: 'web', desiredStatus: 'RUNNING', nextToken: page1.nextToken }));
  expect(page2.nextToken).toBeUndefined();
  expect(new Set([...page1.taskArns!, ...page2.taskArns!])).toEqual(new Set(web.map((t) => t.taskArn)));
  const gone = web[0].taskArn.replace(/[0-9a-f]{8}$/, '00000000');
  const described = await c.ecs.send(new DescribeTasksCommand({ cluster: world.clusterArn, tasks: [web[1].taskArn, gone] }));
  expect(described.tasks?.map((t) => t.taskArn)).toEqual([web[1].taskArn]);
  expect(described.failures).toEqual([{ arn: gone, reason: 'MISSING' }]);
  await expect(c.ecs.send(new DescribeTasksCommand({ cluster: world.clusterArn, tasks: web.slice(0, 101).map((t) => t.taskArn) })))
    .rejects.toThrow(/at most 100/);
});

test('ListTasks of a deleted service answers ServiceNotFoundException, as ECS does (moto never does)', async () => {
  const c = viaProxy();
  await world.startTask('web');
  const api = await world.startTask('api');
  proxy.deleteService('web');
  await expect(c.ecs.send(new ListTasksCommand({ cluster: world.clusterArn, serviceName: 'web', desiredStatus: 'RUNNING' })))
    .rejects.toMatchObject({ name: 'ServiceNotFoundException', message: 'Service not found.' });
  const others = await c.ecs.send(new ListTasksCommand({ cluster: world.clusterArn, serviceName: 'api', desiredStatus: 'RUNNING' }));
  expect(others.taskArns).toEqual([api.taskArn]);
  proxy.restoreServices();
  const back = await c.ecs.send(new ListTasksCommand({ cluster: world.clusterArn, serviceName: 'web', desiredStatus: 'RUNNING' }));
  expect(back.taskArns).toHaveLength(1);
});

describe('Route53 change rules', () => {
  const rec = (name: string, extra: Record<string, unknown> = {}) => ({
    Name: name, Type: 'A' as const, TTL: 60, ResourceRecords: [{ Value: '192.0.2.1' }], ...extra,
  });

  test('a DELETE of a missing record or with other values is refused; the whole batch is refused', async () => {
    const c = viaProxy();
    await world.putRecords([rec('m.example.com.', { SetIdentifier: 'a', MultiValueAnswer: true })]);
    const send = (changes: Array<{ Action: 'UPSERT' | 'DELETE' | 'CREATE'; ResourceRecordSet: ReturnType<typeof rec> }>) =>
      c.route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: world.zoneId, ChangeBatch: { Changes: changes } }));
    await expect(send([
      { Action: 'UPSERT', ResourceRecordSet: rec('n.example.com.') },
      { Action: 'DELETE', ResourceRecordSet: rec('m.example.com.', { SetIdentifier: 'zzz', MultiValueAnswer: true }) },
    ])).rejects.toMatchObject({ name: 'InvalidChangeBatch', message: expect.stringMatching(/set-identifier='zzz'\] but it was not found/) });
    await expect(send([{ Action: 'DELETE', ResourceRecordSet: rec('m.example.com.', { SetIdentifier: 'a', MultiValueAnswer: true, TTL: 61 }) }]))
      .rejects.toMatchObject({ name: 'InvalidChangeBatch', message: expect.stringMatching(/do not match the current values/) });
    const names = (await world.zoneRecords()).map((r) => r.Name);
    expect(names).not.toContain('n.example.com.');
    expect(names).toContain('m.example.com.');
  });

  test('a multi-value record cannot join a simple record of the same name and type', async () => {
    await world.putRecords([rec('s.example.com.')]);
    const c = viaProxy();
    await expect(c.route53.send(new ChangeResourceRecordSetsCommand({
      HostedZoneId: world.zoneId,
      ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: rec('s.example.com.', { SetIdentifier: 't1', MultiValueAnswer: true }) }] },
    }))).rejects.toMatchObject({ name: 'InvalidChangeBatch', message: expect.stringMatching(/non multivalue answer rrset exists/) });
  });

  test('the rules in isolation: limits, CNAME, 100 routed records per name', () => {
    const mv = (id: string) => ({ name: 'w.example.com.', type: 'A', setIdentifier: id, multiValueAnswer: true, ttl: 60, values: ['192.0.2.1'] });
    const hundred = Array.from({ length: 100 }, (_v, i) => mv(`t${i}`));
    const refusal = (current: Rrset[], changes: Change[]) => checkChangeBatch('example.com.', current, changes)?.messages[0];
    expect(checkChangeBatch('example.com.', hundred, [{ action: 'UPSERT', record: mv('t0') }])).toBeUndefined();
    expect(refusal(hundred, [{ action: 'UPSERT', record: mv('new') }])).toMatch(/already holds 100/);
    expect(refusal([], Array.from({ length: 501 }, (_v, i) => ({ action: 'UPSERT' as const, record: mv(`u${i}`) })))).toMatch(/limit of 1000/);
    expect(refusal([{ name: 'w.example.com.', type: 'CNAME', ttl: 5, values: ['x.'] }], [{ action: 'UPSERT', record: mv('a') }]))
      .toMatch(/conflicting RRSet of type CNAME/);
    expect(refusal([], [{ action: 'UPSERT', record: { ...mv('a'), name: 'w.example.org.' } }])).toMatch(/not permitted in zone/);
  });

  test('parseChangeBatch reads the SDK\'s XML', () => {
    const xml = '<?xml version="1.0" encoding="UTF-8"?><ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/">'
      + '<ChangeBatch><Comment>c</Comment><Changes><Change><Action>DELETE</Action><ResourceRecordSet><Name>a&amp;b.example.com.</Name>'
      + '<Type>A</Type><SetIdentifier>id</SetIdentifier><MultiValueAnswer>true</MultiValueAnswer><TTL>60</TTL><ResourceRecords>'
      + '<ResourceRecord><Value>192.0.2.1</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch>'
      + '</ChangeResourceRecordSetsRequest>';
    expect(parseChangeBatch(xml)).toEqual([{
      action: 'DELETE',
      record: expect.objectContaining({ name: 'a&b.example.com.', type: 'A', setIdentifier: 'id', multiValueAnswer: true, ttl: 60, values: ['192.0.2.1'] }),
    }]);
  });
});

test('classify names ECS, EC2 and Route53 actions', () => {
  const auth = (svc: string) => ({ authorization: `AWS4-HMAC-SHA256 Credential=AK/20250101/us-east-1/${svc}/aws4_request, SignedHeaders=host, Signature=x` });
  expect(classify('POST', '/', { ...auth('ecs'), 'x-amz-target': 'AmazonEC2ContainerServiceV20141113.ListTasks' }, '{}')).toEqual({ service: 'ecs', action: 'ListTasks' });
  expect(classify('POST', '/', { ...auth('ec2'), 'content-type': 'application/x-www-form-urlencoded' }, 'Action=DescribeNetworkInterfaces&Version=2016-11-15'))
    .toEqual({ service: 'ec2', action: 'DescribeNetworkInterfaces' });
  expect(classify('POST', '/2013-04-01/hostedzone/Z1/rrset/', auth('route53'), '')).toEqual({ service: 'route53', action: 'ChangeResourceRecordSets' });
  expect(classify('GET', '/2013-04-01/hostedzone/Z1/rrset?name=a', auth('route53'), '')).toEqual({ service: 'route53', action: 'ListResourceRecordSets' });
});

test('the handler configuration comes from the synthesized template, resolved with the emulator\'s ids', () => {
  const template = synthesizeExampleTemplate();
  const { env, config } = handlerEnvironment(template, {
    clusterName: world.clusterName, clusterArn: world.clusterArn, zoneId: world.zoneId, serviceNames: { Web: 'web', Api: 'api', Game: 'game' },
  });
  expect(config.clusterArn).toBe(world.clusterArn);
  expect(config.services).toEqual([
    { serviceName: 'web', name: 'web', fqdn: 'web.example.com.', ttl: 60, ttlTagged: false, hostedZoneId: world.zoneId },
    { serviceName: 'api', name: 'api', fqdn: 'api.example.com.', ttl: 300, ttlTagged: true, hostedZoneId: world.zoneId },
    { serviceName: 'game', name: 'play', fqdn: 'play.example.com.', ttl: 60, ttlTagged: false, hostedZoneId: world.zoneId },
  ]);
  expect(env.PUBLIC_DISCOVERY_METRICS_NAMESPACE).toBe('EcsPublicDiscovery');
  expect(resolveIntrinsics({ 'Fn::Join': ['-', [{ 'Fn::Select': [1, { 'Fn::Split': ['/', 'a/b/c'] }] }, { Ref: 'AWS::Region' }]] }, { resources: {} }))
    .toBe('b-us-east-1');
});

test('event builders produce the EventBridge and SQS shapes', async () => {
  const t = await world.startTask('web');
  const ev = running(t);
  expect(ev).toMatchObject({
    'version': '0',
    'detail-type': 'ECS Task State Change',
    'source': 'aws.ecs',
    'resources': [t.taskArn],
    'detail': { taskArn: t.taskArn, clusterArn: world.clusterArn, group: 'service:web', lastStatus: 'RUNNING', desiredStatus: 'RUNNING', launchType: 'FARGATE' },
  });
  expect((ev.detail as { attachments: Array<{ details: Array<{ name: string; value: string }> }> }).attachments[0].details)
    .toContainEqual({ name: 'networkInterfaceId', value: t.eniId });
  expect(stopped(t).detail).toMatchObject({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED', version: 8 });
  const batch = sqsBatch([ev, { rawBody: 'not json' }]);
  expect(batch.Records.map((r) => [r.eventSource, typeof r.messageId, r.body])).toEqual([
    ['aws:sqs', 'string', JSON.stringify(ev)], ['aws:sqs', 'string', 'not json'],
  ]);
});
