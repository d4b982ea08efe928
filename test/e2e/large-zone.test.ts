/**
 * End-to-end: a zone holding 2,000 unrelated records. The handler reads the registered names only,
 * never the whole zone, so its cost does not grow with the zone.
 */
import { running, stopped } from '../../emulator/events';
import { bulkRecords } from '../../emulator/records';
import { expectAcknowledged, expectCallsWithin, expectZone } from '../support/assertions';
import { useE2e } from '../support/e2e';

const e2e = useE2e({ seed: (world) => world.putRecords(bulkRecords(world.zoneName, 2000)) });

/** The names the handler listed (the `name` query parameter of each ListResourceRecordSets). */
function listedNames(): string[] {
  return e2e.proxy.calls().filter((c) => c.action === 'ListResourceRecordSets')
    .map((c) => new URL(c.path, 'http://x').searchParams.get('name') ?? '<whole zone>');
}

test('the zone really holds 2,000 unrelated records besides the neighbours', async () => {
  const records = await e2e.records();
  expect(records.filter((r) => /^host-\d{5}\./.test(r.Name ?? ''))).toHaveLength(2000);
});

test('a stop makes at most one listing and one change request', async () => {
  const tasks = await e2e.startAndPublish(e2e.web, 3);
  await e2e.world.stopTask(tasks[0]);
  const inv = await e2e.deliver([stopped(tasks[0])]);
  expectAcknowledged(inv);
  await expectZone(e2e, { web: tasks.slice(1) }, e2e.baseline);
  expectCallsWithin(e2e.proxy, { 'route53:ListResourceRecordSets': 1, 'route53:ChangeResourceRecordSets': 1 });
  expect(listedNames()).toEqual([e2e.web.fqdn]);
});

test('a start lists only its own name', async () => {
  const t = await e2e.world.startTask(e2e.play.serviceName);
  const inv = await e2e.deliver([running(t)]);
  expectAcknowledged(inv);
  await expectZone(e2e, { play: [t] }, e2e.baseline);
  expectCallsWithin(e2e.proxy, {
    // DescribeTasks twice: to confirm the task runs, and after the write to check it did not stop meanwhile.
    'ecs:DescribeTasks': 2, 'ec2:DescribeNetworkInterfaces': 1, 'route53:ListResourceRecordSets': 1, 'route53:ChangeResourceRecordSets': 1,
  });
  expect(listedNames()).toEqual([e2e.play.fqdn]);
});

test('the reconciler lists each registered name once, never the whole zone', async () => {
  const web = await e2e.startAndPublish(e2e.web, 2);
  const api = await e2e.world.startTask(e2e.api.serviceName);
  const inv = await e2e.reconcile();
  expect(inv.result).toMatchObject({ upserted: 1, deleted: 0, failed: 0 });
  await expectZone(e2e, { web, api: [api] }, e2e.baseline);
  expect(listedNames().sort()).toEqual([...e2e.fqdns].sort());
  expectCallsWithin(e2e.proxy, {
    'ecs:ListTasks': 3,
    'ecs:DescribeTasks': 3,
    'ec2:DescribeNetworkInterfaces': 3,
    'route53:ListResourceRecordSets': 3,
    'route53:ChangeResourceRecordSets': 1,
  });
});
