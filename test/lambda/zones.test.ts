/**
 * Several hosted zones in the handler: a service with one registration per zone (split-horizon: a public and
 * a private zone of the same name, `addressScope: 'private'` in the private one), handled by the pure planner,
 * the batch pipeline, the reconciler and the purge over the in-memory API.
 */
import { DescribeNetworkInterfacesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { Route53Client } from '@aws-sdk/client-route-53';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { awsError, FakeDiscoveryApi } from './fake-api';
import { CLUSTER_ARN, MC, OTHER_ZONE, ownedRecord, startEvent, stopEvent, taskEvent, ZONE } from './fixtures';
import { pipelineHarness } from './pipeline-harness';
import { applyChanges, changeKey, failureOf } from '../../src/lambda/apply';
import { SdkDiscoveryApi } from '../../src/lambda/aws';
import { coalesce, desiredRecord, resolvePublish, servicesOfGroup, zonedOutcomes } from '../../src/lambda/planner';
import { purgeNames } from '../../src/lambda/purge';
import { reconcile } from '../../src/lambda/reconcile';
import { DiscoveryConfig, RegisteredService, TAG_NAME } from '../../src/shared/contract';

const PRIVATE_ZONE = 'Z3PRIVATEZONE';
/** mc in the public zone (MC), the same name in a private zone (private addresses), and mc.example.net. in another zone. */
const MC_PRIVATE: RegisteredService = { ...MC, hostedZoneId: PRIVATE_ZONE, writeGroup: 1, addressScope: 'private' };
const MC_NET: RegisteredService = { ...MC, fqdn: 'mc.example.net.', hostedZoneId: OTHER_ZONE, writeGroup: 2 };
const CONFIG: DiscoveryConfig = { clusterArn: CLUSTER_ARN, services: [MC, MC_PRIVATE, MC_NET] };
const TAGS = { [TAG_NAME]: MC.name };

describe('planner', () => {
  test('every registration of a task group, in configuration order', () => {
    expect(servicesOfGroup(CONFIG, 'service:minecraft')).toEqual([MC, MC_PRIVATE, MC_NET]);
    expect(servicesOfGroup(CONFIG, 'service:other')).toEqual([]);
    expect(servicesOfGroup(CONFIG, undefined)).toEqual([]);
  });

  test('coalesce: one work item per registration, sharing the task\'s event and messages', () => {
    const { work } = coalesce(CONFIG, [taskEvent({ id: 't1', lastStatus: 'RUNNING', desiredStatus: 'RUNNING', messageId: 'm1' })]);
    expect(work.map(w => [w.service, w.event.taskId, w.messageIds])).toEqual([[MC, 't1', ['m1']], [MC_PRIVATE, 't1', ['m1']], [MC_NET, 't1', ['m1']]]);
  });

  test('a private registration publishes the ENI\'s private address and needs no public one', () => {
    const eni = { eniId: 'eni-1', privateIp: '10.0.1.5' };
    const resolved = resolvePublish(MC_PRIVATE, 't1', eni, TAGS);
    expect(resolved).toEqual({ ok: true, item: { taskId: 't1', privateIp: '10.0.1.5', ttl: 60 }, warnings: [] });
    expect(resolved.ok && desiredRecord(MC_PRIVATE, resolved.item).ResourceRecords).toEqual([{ Value: '10.0.1.5' }]);
    // The public registration of the same task still needs the public address.
    expect(resolvePublish(MC, 't1', eni, TAGS)).toMatchObject({ ok: false, outcome: { outcome: 'rejected', reason: expect.stringContaining('no public IPv4 address') } });
  });

  test('a private registration without a private address is rejected, naming the ENI', () => {
    expect(resolvePublish(MC_PRIVATE, 't1', { eniId: 'eni-1', publicIp: '203.0.113.1' }, TAGS)).toMatchObject({
      ok: false, outcome: { outcome: 'rejected', reason: 'network interface eni-1 has no private IPv4 address to publish in the private zone' },
    });
  });

  test('a private dual-stack registration publishes the private IPv4 and the IPv6 address', () => {
    const dual = { ...MC_PRIVATE, recordTypes: ['A', 'AAAA'] as RegisteredService['recordTypes'] };
    expect(resolvePublish(dual, 't1', { eniId: 'eni-1', privateIp: '10.0.1.5', ipv6Address: '2001:db8::5' }, TAGS)).toMatchObject({
      ok: true, item: { privateIp: '10.0.1.5', ipv6Address: '2001:db8::5' },
    });
  });

  test('outcomes name their zone only for a service published in several zones', () => {
    const outcome = { taskId: 't1', action: 'UPSERT' as const, outcome: 'planned' as const, reason: 'r', level: 'info' as const };
    expect(zonedOutcomes(CONFIG, MC_PRIVATE, [outcome])).toEqual([{ ...outcome, hostedZoneId: PRIVATE_ZONE }]);
    expect(zonedOutcomes({ clusterArn: CLUSTER_ARN, services: [MC] }, MC, [outcome])).toEqual([outcome]);
  });
});

describe('applyChanges and failureOf', () => {
  test('a task\'s failure in one zone is not its failure in another', async () => {
    const api = new FakeDiscoveryApi();
    api.failAlways('changeRecords', awsError('InternalError', 'boom', 500), args => args[0] === PRIVATE_ZONE);
    const change = (service: RegisteredService, ip: string) => ({
      action: 'UPSERT' as const, hostedZoneId: service.hostedZoneId, taskId: 't1', service, record: ownedRecord(service, 't1', ip),
    });
    const failures = await applyChanges({ api, log: pipelineHarness(CONFIG).deps.log }, [change(MC, '203.0.113.1'), change(MC_PRIVATE, '10.0.1.5')]);
    expect([...failures.keys()]).toEqual([changeKey('t1', 'A', MC_PRIVATE)]);
    expect(failureOf(failures, 't1', 'A', PRIVATE_ZONE, MC.fqdn)).toBe('InternalError: boom');
    expect(failureOf(failures, 't1', 'A', ZONE, MC.fqdn)).toBeUndefined();
    expect(api.records(ZONE, MC.fqdn)).toEqual([ownedRecord(MC, 't1', '203.0.113.1')]);
  });
});

describe('pipeline', () => {
  test('a start publishes in every zone, reading the task and its ENI once; a stop removes it from every zone', async () => {
    const h = pipelineHarness(CONFIG);
    h.api.addTask('t1', { service: MC, ip: '203.0.113.1', privateIp: '10.0.1.5' });
    const start = await h.run(['m1', startEvent('t1')]);
    expect(start.failedMessageIds).toEqual([]);
    expect(h.api.records(ZONE, MC.fqdn)).toEqual([ownedRecord(MC, 't1', '203.0.113.1')]);
    expect(h.api.records(PRIVATE_ZONE, MC.fqdn)).toEqual([ownedRecord(MC_PRIVATE, 't1', '10.0.1.5')]);
    expect(h.api.records(OTHER_ZONE, MC_NET.fqdn)).toEqual([ownedRecord(MC_NET, 't1', '203.0.113.1')]);
    expect(h.api.callsOf('describeTasks')[0][1]).toEqual([expect.stringContaining('/t1')]);
    expect(h.api.callsOf('describeNetworkInterfaces')).toEqual([[['eni-t1']]]);
    expect(start.outcomes.map(o => [o.hostedZoneId, o.outcome])).toEqual([[ZONE, 'applied'], [PRIVATE_ZONE, 'applied'], [OTHER_ZONE, 'applied']]);

    h.api.stopTask('t1');
    const stop = await h.run(['m2', stopEvent('t1')]);
    expect(stop.failedMessageIds).toEqual([]);
    expect([ZONE, PRIVATE_ZONE, OTHER_ZONE].flatMap(z => h.api.records(z))).toEqual([]);
  });

  test('a failing zone fails the task\'s messages but not the other zones\' changes', async () => {
    const h = pipelineHarness(CONFIG);
    h.api.addTask('t1', { service: MC, ip: '203.0.113.1', privateIp: '10.0.1.5' });
    h.api.failAlways('changeRecords', awsError('InternalError', 'boom', 500), args => args[0] === PRIVATE_ZONE);
    const result = await h.run(['m1', startEvent('t1')]);
    expect(result.failedMessageIds).toEqual(['m1']);
    expect(result.outcomes.map(o => [o.hostedZoneId, o.outcome])).toEqual([[ZONE, 'applied'], [PRIVATE_ZONE, 'failed'], [OTHER_ZONE, 'applied']]);
    expect(h.api.records(OTHER_ZONE, MC_NET.fqdn)).toHaveLength(1);
    expect(h.counted()).toMatchObject({ RecordsUpserted: 2, ChangesFailed: 1 });
  });

  test('a listing that fails in one zone leaves the others\' changes to go', async () => {
    const h = pipelineHarness(CONFIG);
    h.api.addTask('t1', { service: MC, ip: '203.0.113.1', privateIp: '10.0.1.5' });
    h.api.fail('listRecordsAt', awsError('Throttling', 'slow down'), 1, args => args[0] === OTHER_ZONE);
    const result = await h.run(['m1', startEvent('t1')]);
    expect(result.failedMessageIds).toEqual(['m1']);
    expect(h.api.records(ZONE, MC.fqdn)).toHaveLength(1);
    expect(h.api.records(PRIVATE_ZONE, MC.fqdn)).toHaveLength(1);
    expect(h.api.records(OTHER_ZONE, MC_NET.fqdn)).toEqual([]);
  });
});

describe('reconcile and purge', () => {
  test('the reconciler covers every zone', async () => {
    const h = pipelineHarness(CONFIG);
    h.api.addTask('t1', { service: MC, ip: '203.0.113.1', privateIp: '10.0.1.5' });
    h.api.put(PRIVATE_ZONE, ownedRecord(MC_PRIVATE, 'gone', '10.0.9.9'));
    h.api.put(OTHER_ZONE, ownedRecord(MC_NET, 't1', '198.51.100.99'));
    const summary = await reconcile(h.deps);
    expect(summary).toMatchObject({ services: 3, upserted: 3, deleted: 1, failed: 0 });
    expect(h.api.records(PRIVATE_ZONE, MC.fqdn)).toEqual([ownedRecord(MC_PRIVATE, 't1', '10.0.1.5')]);
    expect(h.api.records(OTHER_ZONE, MC_NET.fqdn)).toEqual([ownedRecord(MC_NET, 't1', '203.0.113.1')]);
  });

  test('the purge deletes the name in every zone; a failing zone is reported alone', async () => {
    const h = pipelineHarness(CONFIG);
    h.api.put(ZONE, ownedRecord(MC, 't1', '203.0.113.1'));
    h.api.put(PRIVATE_ZONE, ownedRecord(MC_PRIVATE, 't1', '10.0.1.5'));
    h.api.put(OTHER_ZONE, ownedRecord(MC_NET, 't1', '203.0.113.1'));
    h.api.failAlways('changeRecords', awsError('InternalError', 'boom', 500), args => args[0] === OTHER_ZONE);
    const names = CONFIG.services.map(s => ({ hostedZoneId: s.hostedZoneId, fqdn: s.fqdn, serviceName: s.serviceName, writeGroup: s.writeGroup }));
    const summary = await purgeNames(h.deps, names);
    expect(summary.deleted).toBe(2);
    expect(summary.failures.map(f => [f.hostedZoneId, f.fqdn])).toEqual([[OTHER_ZONE, MC_NET.fqdn]]);
    expect(h.api.records(ZONE)).toEqual([]);
    expect(h.api.records(PRIVATE_ZONE)).toEqual([]);
  });
});

test('the SDK adapter reads the ENI\'s private address', async () => {
  const clients = { ecs: new ECSClient({}), ec2: new EC2Client({ region: 'eu-west-1' }), route53: new Route53Client({}), ssm: new SSMClient({}) };
  const ec2 = mockClient(clients.ec2);
  ec2.on(DescribeNetworkInterfacesCommand).resolves({
    NetworkInterfaces: [{ NetworkInterfaceId: 'eni-1', PrivateIpAddress: '10.0.1.5', Association: { PublicIp: '203.0.113.1' } }, { NetworkInterfaceId: 'eni-2' }],
  });
  const api = new SdkDiscoveryApi(clients, { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 });
  const out = await api.describeNetworkInterfaces(['eni-1', 'eni-2']);
  expect(out.get('eni-1')).toEqual({ eniId: 'eni-1', publicIp: '203.0.113.1', privateIp: '10.0.1.5' });
  expect(out.get('eni-2')).not.toHaveProperty('privateIp');
  ec2.restore();
});

test('the reconciler reads a service\'s tasks and ENIs once for all its zones, after listing every zone\'s records', async () => {
  const h = pipelineHarness(CONFIG);
  h.api.addTask('t1', { service: MC, ip: '203.0.113.1', privateIp: '10.0.1.5' });
  await reconcile(h.deps);
  expect(h.api.count('listServiceTasks')).toBe(1);
  expect(h.api.count('describeNetworkInterfaces')).toBe(1);
  const order = h.api.calls.map(c => c.method).filter(m => m !== 'changeRecords');
  expect(order.slice(0, 4)).toEqual(['listRecordsAt', 'listRecordsAt', 'listRecordsAt', 'listServiceTasks']);
  // The tasks are described once to plan, and once more after the writes (the re-check reads afresh).
  expect(h.api.count('describeTasks')).toBe(2);
});

test('a zone whose listing fails in the reconciler is reported; the other zones are reconciled', async () => {
  const h = pipelineHarness(CONFIG);
  h.api.addTask('t1', { service: MC, ip: '203.0.113.1', privateIp: '10.0.1.5' });
  h.api.fail('listRecordsAt', awsError('Throttling', 'slow down'), 1, args => args[0] === PRIVATE_ZONE);
  const summary = await reconcile(h.deps);
  expect(summary).toMatchObject({ upserted: 2, failedServices: ['minecraft'] });
  expect(h.api.records(PRIVATE_ZONE)).toEqual([]);
  expect(h.api.records(OTHER_ZONE, MC_NET.fqdn)).toHaveLength(1);
});

describe('a service in several zones counts one failure or refusal once (review of issue 10)', () => {
  test('reconciler: one failed shared read (ListTasks) is one failed service and one ChangesFailed, logged once with its zones', async () => {
    const h = pipelineHarness(CONFIG);
    h.api.addTask('t1', { service: MC, ip: '203.0.113.1', privateIp: '10.0.1.5' });
    h.api.fail('listServiceTasks', awsError('ThrottlingException', 'slow down'), 1);
    const summary = await reconcile(h.deps);
    expect(summary).toMatchObject({ services: 3, upserted: 0, failed: 0, failedServices: ['minecraft'] });
    expect(h.counted()).toEqual({ ChangesFailed: 1 });
    const lines = h.logs().filter(l => l.message === 'reconciliation of a service failed; it is retried at the next run');
    expect(lines).toEqual([expect.objectContaining({ service: 'minecraft', hostedZoneIds: [ZONE, PRIVATE_ZONE, OTHER_ZONE], error: 'ThrottlingException' })]);
  });

  test('reconciler: a zone\'s own listing failure beside a shared one still fails the service once', async () => {
    const h = pipelineHarness(CONFIG);
    h.api.fail('listRecordsAt', awsError('Throttling', 'slow down'), 1, args => args[0] === PRIVATE_ZONE);
    h.api.fail('listRecordsAt', awsError('Throttling', 'slow down'), 1, args => args[0] === OTHER_ZONE);
    const summary = await reconcile(h.deps);
    expect(summary.failedServices).toEqual(['minecraft']);
    expect(h.counted()).toEqual({ ChangesFailed: 1 });
    // Two errors, each its own line naming its zone.
    expect(h.logs().filter(l => l.message === 'reconciliation of a service failed; it is retried at the next run').map(l => l.hostedZoneIds))
      .toEqual([[PRIVATE_ZONE], [OTHER_ZONE]]);
  });

  test('pipeline: a failed DescribeTasks is one failed outcome (one ChangesFailed) for the task, not one per zone', async () => {
    const h = pipelineHarness(CONFIG);
    h.api.addTask('t1', { service: MC, ip: '203.0.113.1', privateIp: '10.0.1.5' });
    h.api.fail('describeTasks', awsError('ThrottlingException', 'slow down'), 1);
    const result = await h.run(['m1', startEvent('t1')]);
    expect(result.failedMessageIds).toEqual(['m1']);
    expect(result.outcomes.filter(o => o.outcome === 'failed')).toEqual([expect.objectContaining({ taskId: 't1', reason: 'DescribeTasks failed: ThrottlingException' })]);
    expect(h.counted()).toEqual({ ChangesFailed: 1 });
  });

  test('pipeline: a failed DescribeNetworkInterfaces is one failed outcome for the task', async () => {
    const h = pipelineHarness(CONFIG);
    h.api.addTask('t1', { service: MC, ip: '203.0.113.1', privateIp: '10.0.1.5' });
    h.api.fail('describeNetworkInterfaces', awsError('RequestLimitExceeded', 'slow down'), 1);
    const result = await h.run(['m1', startEvent('t1')]);
    expect(result.failedMessageIds).toEqual(['m1']);
    expect(result.outcomes.filter(o => o.outcome === 'failed')).toHaveLength(1);
    expect(h.counted()).toEqual({ ChangesFailed: 1 });
  });

  test('pipeline: a failed listing in one zone is a failed outcome naming that zone', async () => {
    const h = pipelineHarness(CONFIG);
    h.api.addTask('t1', { service: MC, ip: '203.0.113.1', privateIp: '10.0.1.5' });
    h.api.fail('listRecordsAt', awsError('Throttling', 'slow down'), 1, args => args[0] === OTHER_ZONE);
    const result = await h.run(['m1', startEvent('t1')]);
    expect(result.outcomes.filter(o => o.outcome === 'failed').map(o => o.hostedZoneId)).toEqual([OTHER_ZONE]);
  });

  test('pipeline: a task without a public IP is one refused task (TasksRejected 1), its lines naming each refusing zone; the private zone gets its record', async () => {
    const h = pipelineHarness(CONFIG);
    h.api.addTask('t1', { service: MC, ip: null, privateIp: '10.0.1.5' });
    const result = await h.run(['m1', startEvent('t1')]);
    expect(result.outcomes.filter(o => o.outcome === 'rejected').map(o => o.hostedZoneId)).toEqual([ZONE, OTHER_ZONE]);
    expect(h.counted()).toEqual({ TasksRejected: 1, RecordsUpserted: 1 });
    expect(h.api.records(PRIVATE_ZONE, MC.fqdn)).toEqual([ownedRecord(MC_PRIVATE, 't1', '10.0.1.5')]);
  });

  test('reconciler: a task without a public IP is counted once and named with its zones in one warning', async () => {
    const h = pipelineHarness(CONFIG);
    h.api.addTask('t1', { service: MC, ip: null, privateIp: '10.0.1.5' });
    await reconcile(h.deps);
    expect(h.counted()).toMatchObject({ TasksRejected: 1 });
    const lines = h.logs().filter(l => l.message === 'tasks refused by the registration');
    expect(lines).toEqual([expect.objectContaining({
      service: 'minecraft',
      count: 1,
      tasks: [
        { taskId: 't1', reason: expect.stringContaining('no public IPv4 address'), hostedZoneId: ZONE },
        { taskId: 't1', reason: expect.stringContaining('no public IPv4 address'), hostedZoneId: OTHER_ZONE },
      ],
    })]);
  });
});

test('a task published in two public zones with a health check creates and tags its one check once per batch and per reconciliation', async () => {
  const healthCheck = { type: 'TCP' as const, port: 25565, intervalSeconds: 30, failureThreshold: 3 };
  const checked: DiscoveryConfig = {
    clusterArn: CLUSTER_ARN,
    owner: '123456789012/eu-west-1/c8aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
    services: [{ ...MC, healthCheck }, { ...MC_PRIVATE, healthCheck }, { ...MC_NET, healthCheck }],
  };
  const h = pipelineHarness(checked);
  h.api.addTask('t1', { service: MC, ip: '203.0.113.1', privateIp: '10.0.1.5' });
  expect((await h.run(['m1', startEvent('t1')])).failedMessageIds).toEqual([]);
  expect(h.api.count('createHealthCheck')).toBe(1);
  expect(h.api.count('tagHealthCheck')).toBe(1);
  const [id] = [...h.api.healthChecks.keys()];
  expect(h.api.records(ZONE, MC.fqdn).map(r => r.HealthCheckId)).toEqual([id]);
  expect(h.api.records(OTHER_ZONE, MC_NET.fqdn).map(r => r.HealthCheckId)).toEqual([id]);
  expect(h.api.records(PRIVATE_ZONE, MC.fqdn).map(r => r.HealthCheckId)).toEqual([undefined]);

  // The reconciler, finding both public records without their check, ensures it once too.
  for (const [zone, service] of [[ZONE, MC], [OTHER_ZONE, MC_NET]] as const) {
    h.api.zones.set(zone, [ownedRecord(service, 't1', '203.0.113.1')]);
  }
  const before = h.api.count('createHealthCheck');
  await reconcile(h.deps);
  expect(h.api.count('createHealthCheck') - before).toBe(1);
  expect(h.api.records(ZONE, MC.fqdn).map(r => r.HealthCheckId)).toEqual([id]);
  expect(h.api.records(OTHER_ZONE, MC_NET.fqdn).map(r => r.HealthCheckId)).toEqual([id]);
});
