/**
 * End-to-end: ECS task state change events, delivered as SQS batches to the bundled handler, against
 * the emulator. Each scenario checks the zone's full contents afterwards (the registered names hold
 * exactly the expected records; every other record is untouched) and bounds the AWS calls made.
 */
import { running, stopped, stopRequested, stopSequence, taskStateChange } from '../../emulator/events';
import { logsWith, metricsOf } from '../../emulator/handler';
import { published } from '../../emulator/records';
import { expectAcknowledged, expectCallsWithin, expectZone } from '../support/assertions';
import { useE2e } from '../support/e2e';

const e2e = useE2e();

/**
 * The calls one batch of start events may make: one of each, nothing else, but for a second
 * DescribeTasks after the write that checks no task stopped meanwhile.
 */
const START_CALLS = {
  'ecs:DescribeTasks': 2,
  'ec2:DescribeNetworkInterfaces': 1,
  'route53:ListResourceRecordSets': 1,
  'route53:ChangeResourceRecordSets': 1,
};

test('one task starts: its record appears', async () => {
  const t = await e2e.world.startTask(e2e.web.serviceName);
  const inv = await e2e.deliver([running(t)]);
  expectAcknowledged(inv);
  await expectZone(e2e, { web: [t] }, e2e.baseline);
  expectCallsWithin(e2e.proxy, START_CALLS);
  expect(logsWith(inv.logs, { taskId: t.taskId, action: 'UPSERT', outcome: 'applied' })).toHaveLength(1);
  expect(metricsOf(inv.logs)).toMatchObject({ RecordsUpserted: 1, ChangesFailed: 0, TasksRejected: 0 });
});

test('three tasks of one service: three records, one change request', async () => {
  const tasks = await e2e.world.startTasks(e2e.web.serviceName, 3);
  const inv = await e2e.deliver(tasks.map((t) => running(t)));
  expectAcknowledged(inv);
  await expectZone(e2e, { web: tasks }, e2e.baseline);
  expectCallsWithin(e2e.proxy, START_CALLS);
  expect(e2e.proxy.calls().find((c) => c.action === 'ChangeResourceRecordSets')?.changes).toMatchObject({ total: 3, upserts: 3 });
});

test('a service registered with dnsTtl 300 gets records with TTL 300', async () => {
  const t = await e2e.world.startTask(e2e.api.serviceName);
  expect(t.tags).toContainEqual({ key: 'public-discovery:ttl', value: '300' });
  const inv = await e2e.deliver([running(t)]);
  expectAcknowledged(inv);
  await expectZone(e2e, { api: [t] }, e2e.baseline);
  expect(published(await e2e.records(), e2e.api.fqdn).map((r) => r.ttl)).toEqual([300]);
  expectCallsWithin(e2e.proxy, START_CALLS);
});

test('one of three tasks stops: only its record goes, with one list and one change', async () => {
  const tasks = await e2e.startAndPublish(e2e.web, 3);
  await e2e.world.stopTask(tasks[1]);
  const inv = await e2e.deliver(stopSequence(tasks[1]));
  expectAcknowledged(inv);
  await expectZone(e2e, { web: [tasks[0], tasks[2]] }, e2e.baseline);
  expectCallsWithin(e2e.proxy, { 'route53:ListResourceRecordSets': 1, 'route53:ChangeResourceRecordSets': 1 });
  expect(e2e.proxy.calls().find((c) => c.action === 'ChangeResourceRecordSets')?.changes).toMatchObject({ total: 1, deletes: 1 });
});

test('the first stop event (desired STOPPED while still RUNNING) already removes the record', async () => {
  const [t] = await e2e.startAndPublish(e2e.web, 1);
  const inv = await e2e.deliver([stopRequested(t)]);
  expectAcknowledged(inv);
  await expectZone(e2e, {}, e2e.baseline);
  expectCallsWithin(e2e.proxy, { 'route53:ListResourceRecordSets': 1, 'route53:ChangeResourceRecordSets': 1 });
});

test('the same event twice: the second changes nothing and sends no change request', async () => {
  const t = await e2e.world.startTask(e2e.web.serviceName);
  const event = running(t);
  expectAcknowledged(await e2e.deliver([event]));
  const second = await e2e.deliver([event]);
  expectAcknowledged(second);
  await expectZone(e2e, { web: [t] }, e2e.baseline);
  expectCallsWithin(e2e.proxy, { ...START_CALLS, 'route53:ChangeResourceRecordSets': 0 });
  expect(logsWith(second.logs, { taskId: t.taskId, outcome: 'unchanged' })).toHaveLength(1);
});

test('a stop processed before its start: the late RUNNING event does not create a record', async () => {
  const t = await e2e.world.startTask(e2e.web.serviceName);
  await e2e.world.stopTask(t);
  const stop = await e2e.deliver([stopped(t)]);
  expectAcknowledged(stop);
  expectCallsWithin(e2e.proxy, { 'route53:ListResourceRecordSets': 1 });
  const late = await e2e.deliver([running(t)]);
  expectAcknowledged(late);
  await expectZone(e2e, {}, e2e.baseline);
  // DescribeTasks says STOPPED: the start becomes a removal of a record that is not there.
  expectCallsWithin(e2e.proxy, { 'ecs:DescribeTasks': 1, 'route53:ListResourceRecordSets': 1 });
  expect(logsWith(late.logs, { taskId: t.taskId, action: 'DELETE', reason: /STOPPED/ })).toHaveLength(1);
});

test('a start and its stop in one batch: the stop wins, no record', async () => {
  const t = await e2e.world.startTask(e2e.web.serviceName);
  await e2e.world.stopTask(t);
  const inv = await e2e.deliver([stopped(t), running(t)]);
  expectAcknowledged(inv);
  await expectZone(e2e, {}, e2e.baseline);
  expectCallsWithin(e2e.proxy, { 'route53:ListResourceRecordSets': 1 });
});

test('a start whose ENI is already gone: no record, a log line says why', async () => {
  const t = await e2e.world.startTask(e2e.web.serviceName);
  await e2e.world.deleteEni(t);
  const inv = await e2e.deliver([running(t)]);
  expectAcknowledged(inv);
  await expectZone(e2e, {}, e2e.baseline);
  expectCallsWithin(e2e.proxy, { 'ecs:DescribeTasks': 1, 'ec2:DescribeNetworkInterfaces': 1, 'route53:ListResourceRecordSets': 1 });
  expect(logsWith(inv.logs, { taskId: t.taskId, reason: /network interface no longer exists/ })).toHaveLength(1);
});

test('an ENI without a public IP: no record, an error names the reason', async () => {
  const t = await e2e.world.startTask(e2e.web.serviceName, { publicIp: false });
  const inv = await e2e.deliver([running(t)]);
  expectAcknowledged(inv);
  await expectZone(e2e, {}, e2e.baseline);
  expectCallsWithin(e2e.proxy, { 'ecs:DescribeTasks': 1, 'ec2:DescribeNetworkInterfaces': 1, 'route53:ListResourceRecordSets': 1 });
  expect(logsWith(inv.logs, { level: 'error', taskId: t.taskId, outcome: 'rejected', reason: /no public IPv4 address/ })).toHaveLength(1);
  expect(metricsOf(inv.logs)).toMatchObject({ TasksRejected: 1, RecordsUpserted: 0 });
});

test('no name tag on the task: published from the registration, with a warning', async () => {
  const t = await e2e.world.startTask(e2e.web.serviceName, { taskTags: [] });
  const inv = await e2e.deliver([running(t)]);
  expectAcknowledged(inv);
  await expectZone(e2e, { web: [t] }, e2e.baseline);
  expectCallsWithin(e2e.proxy, START_CALLS);
  expect(logsWith(inv.logs, { level: 'warn', taskId: t.taskId, reason: /public-discovery:name/ })).toHaveLength(1);
});

test('the task carries the name tag and its ENI none, as ECS leaves it: published, no warning', async () => {
  const t = await e2e.world.startTask(e2e.web.serviceName);
  const inv = await e2e.deliver([running(t)]);
  expectAcknowledged(inv);
  await expectZone(e2e, { web: [t] }, e2e.baseline);
  expectCallsWithin(e2e.proxy, START_CALLS);
  expect(logsWith(inv.logs, { level: 'warn' })).toEqual([]);
});

test('a task of an unregistered service is ignored and logged, without any AWS call', async () => {
  const t = await e2e.world.startTask('batch-jobs');
  const inv = await e2e.deliver([running(t)]);
  expectAcknowledged(inv);
  await expectZone(e2e, {}, e2e.baseline);
  expectCallsWithin(e2e.proxy, {});
  expect(logsWith(inv.logs, { taskId: t.taskId, outcome: 'ignored', reason: /not registered/ })).toHaveLength(1);
  expect(metricsOf(inv.logs)).toMatchObject({ EventsIgnored: 1 });
});

test('a task of another cluster is ignored', async () => {
  const t = await e2e.world.startTask(e2e.web.serviceName);
  const other = 'arn:aws:ecs:us-east-1:123456789012:cluster/other';
  const inv = await e2e.deliver([taskStateChange(t, { lastStatus: 'RUNNING', detail: { clusterArn: other } })]);
  expectAcknowledged(inv);
  await expectZone(e2e, {}, e2e.baseline);
  expectCallsWithin(e2e.proxy, {});
  expect(logsWith(inv.logs, { taskId: t.taskId, outcome: 'ignored', reason: /another cluster/ })).toHaveLength(1);
});

test('a simple A record already at the name: nothing written, the conflict logged, the record intact', async () => {
  await e2e.world.putRecords([{ Name: e2e.web.fqdn, Type: 'A', TTL: 300, ResourceRecords: [{ Value: '192.0.2.80' }] }]);
  const before = await e2e.unownedSnapshot();
  expect(before).toContain('192.0.2.80');
  const t = await e2e.world.startTask(e2e.web.serviceName);
  const inv = await e2e.deliver([running(t)]);
  expectAcknowledged(inv);
  await expectZone(e2e, {}, before);
  expectCallsWithin(e2e.proxy, { 'ecs:DescribeTasks': 1, 'ec2:DescribeNetworkInterfaces': 1, 'route53:ListResourceRecordSets': 1 });
  expect(logsWith(inv.logs, { level: 'error', taskId: t.taskId, outcome: 'conflict' })).toHaveLength(1);
  expect(metricsOf(inv.logs)).toMatchObject({ TasksRejected: 1 });
});

test('malformed messages are logged and acknowledged; nothing changes and nothing is called', async () => {
  const t = await e2e.world.startTask(e2e.web.serviceName);
  const noArn = running(t);
  delete (noArn.detail as Record<string, unknown>).taskArn;
  const inv = await e2e.deliver([
    { rawBody: '{"version":"0","source":"aws.ecs",' },
    { event: { 'source': 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification', 'detail': {} } },
    { event: noArn },
    { rawBody: '"just a string"' },
  ]);
  expectAcknowledged(inv);
  await expectZone(e2e, {}, e2e.baseline);
  expectCallsWithin(e2e.proxy, {});
  expect(logsWith(inv.logs, { level: 'error', message: /malformed/ })).toHaveLength(4);
});

test('several events in one SQS batch: one change request for the zone', async () => {
  const [gone] = await e2e.startAndPublish(e2e.play, 1);
  const web = await e2e.world.startTasks(e2e.web.serviceName, 2);
  const api = await e2e.world.startTask(e2e.api.serviceName);
  await e2e.world.stopTask(gone);
  const inv = await e2e.deliver([running(web[0]), running(api), stopped(gone), running(web[1])]);
  expectAcknowledged(inv);
  await expectZone(e2e, { web, api: [api] }, e2e.baseline);
  expectCallsWithin(e2e.proxy, { ...START_CALLS, 'route53:ListResourceRecordSets': 3 });
  expect(e2e.proxy.calls().filter((c) => c.action === 'ChangeResourceRecordSets').map((c) => c.changes))
    .toEqual([expect.objectContaining({ total: 4, upserts: 3, deletes: 1 })]);
});

test('a bare EventBridge event (direct invocation) is processed as a batch of one', async () => {
  const t = await e2e.world.startTask(e2e.play.serviceName);
  const inv = await e2e.invoke(running(t));
  expect(inv.error).toBeUndefined();
  await expectZone(e2e, { play: [t] }, e2e.baseline);
  expectCallsWithin(e2e.proxy, START_CALLS);
});
