/**
 * End-to-end: the reconciler (`{"action": "reconcile"}`, sent by the schedule) repairs what events missed.
 */
import { running } from '../../emulator/events';
import { logsWith, metricsOf } from '../../emulator/handler';
import { ownedAt } from '../../emulator/records';
import { expectCallsWithin, expectZone } from '../support/assertions';
import { useE2e } from '../support/e2e';

const e2e = useE2e();

/** Per registered service: one ListTasks, at most one DescribeTasks / DescribeNetworkInterfaces, one listing; one change request. */
const RECONCILE_CALLS = {
  'ecs:ListTasks': 3,
  'ecs:DescribeTasks': 3,
  'ec2:DescribeNetworkInterfaces': 3,
  'route53:ListResourceRecordSets': 3,
  'route53:ChangeResourceRecordSets': 1,
};

test('a missed stop: the record of a stopped task is deleted', async () => {
  const tasks = await e2e.startAndPublish(e2e.web, 2);
  await e2e.world.stopTask(tasks[0]);
  const inv = await e2e.reconcile();
  expect(inv.error).toBeUndefined();
  expect(inv.result).toMatchObject({ services: 3, skipped: 0, upserted: 0, deleted: 1, failed: 0 });
  await expectZone(e2e, { web: [tasks[1]] }, e2e.baseline);
  expectCallsWithin(e2e.proxy, RECONCILE_CALLS);
  expect(metricsOf(inv.logs)).toMatchObject({ DriftRepaired: 1, RecordsDeleted: 1 });
});

test('a missed start: a running task without a record gets one', async () => {
  const web = await e2e.world.startTask(e2e.web.serviceName);
  const api = await e2e.world.startTask(e2e.api.serviceName);
  const inv = await e2e.reconcile();
  expect(inv.result).toMatchObject({ upserted: 2, deleted: 0, failed: 0 });
  await expectZone(e2e, { web: [web], api: [api] }, e2e.baseline);
  expectCallsWithin(e2e.proxy, RECONCILE_CALLS);
  expect(e2e.proxy.calls().filter((c) => c.action === 'ChangeResourceRecordSets').map((c) => c.changes?.total)).toEqual([2]);
});

test('a wrong address or TTL is fixed', async () => {
  const [a, b] = await e2e.startAndPublish(e2e.play, 2);
  const records = ownedAt(await e2e.records(), e2e.play.fqdn);
  await e2e.world.putRecords(records.map((r) => (r.SetIdentifier === a.taskId
    ? { ...r, ResourceRecords: [{ Value: '192.0.2.200' }] }
    : { ...r, TTL: 3600 })), 'UPSERT');
  const inv = await e2e.reconcile();
  expect(inv.result).toMatchObject({ upserted: 2, deleted: 0, failed: 0 });
  await expectZone(e2e, { play: [a, b] }, e2e.baseline);
  expectCallsWithin(e2e.proxy, RECONCILE_CALLS);
  expect(logsWith(inv.logs, { taskId: a.taskId, reason: /drifted .*192\.0\.2\.200/ })).toHaveLength(1);
  expect(metricsOf(inv.logs)).toMatchObject({ DriftRepaired: 2 });
});

test('nothing to repair: no change request, records untouched', async () => {
  const web = await e2e.startAndPublish(e2e.web, 2);
  const before = await e2e.records();
  const inv = await e2e.reconcile();
  expect(inv.result).toMatchObject({ upserted: 0, deleted: 0, failed: 0 });
  await expectZone(e2e, { web }, e2e.baseline);
  expect(await e2e.records()).toEqual(before);
  expectCallsWithin(e2e.proxy, { ...RECONCILE_CALLS, 'route53:ChangeResourceRecordSets': 0 });
});

test('records the library does not own are left alone, even at a registered name', async () => {
  await e2e.world.putRecords([
    { Name: e2e.api.fqdn, Type: 'A', SetIdentifier: 'someone-else', Weight: 10, TTL: 60, ResourceRecords: [{ Value: '192.0.2.55' }] },
  ]);
  const before = await e2e.unownedSnapshot();
  const api = await e2e.world.startTask(e2e.api.serviceName);
  const web = await e2e.world.startTask(e2e.web.serviceName);
  const inv = await e2e.reconcile();
  expect(inv.result).toMatchObject({ upserted: 1, deleted: 0 });
  await expectZone(e2e, { web: [web] }, before);
  expect(logsWith(inv.logs, { taskId: api.taskId, outcome: 'conflict' })).toHaveLength(1);
});

test('a task that only claims a registered group (not started by the service) loses its record at reconciliation', async () => {
  const impostor = await e2e.world.startTask('web-impostor', { group: `service:${e2e.web.serviceName}`, taskTags: e2e.world.serviceTags(e2e.web.serviceName) });
  const real = await e2e.world.startTask(e2e.web.serviceName);
  await e2e.deliver([running(impostor), running(real)]);
  const inv = await e2e.reconcile();
  expect(inv.error).toBeUndefined();
  await expectZone(e2e, { web: [real] }, e2e.baseline);
});
