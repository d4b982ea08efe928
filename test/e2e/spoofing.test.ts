/**
 * End-to-end: tags are untrusted input. Whoever can tag an ENI or a task must not be able to publish
 * (or take over) a name: the registration is the authority, a tag may only agree with it.
 */
import { expectAcknowledged, expectCallsWithin, expectZone } from '../support/assertions';
import { useE2e } from '../support/e2e';
import { running } from '../support/events';
import { logsWith, metricsOf } from '../support/handler';
import type { EcsTag, TaskInfo } from '../support/world';

const e2e = useE2e();

const NAME = 'public-discovery:name';
const TTL = 'public-discovery:ttl';

/** Publishes one legitimate task per service (one batch); their records must survive every attempt below. */
async function legitimate(): Promise<{ web: TaskInfo[]; api: TaskInfo[]; play: TaskInfo[] }> {
  const [web, api, play] = await Promise.all([e2e.web, e2e.api, e2e.play].map((s) => e2e.world.startTasks(s.serviceName, 1)));
  expectAcknowledged(await e2e.deliver([web[0], api[0], play[0]].map((t) => running(t))));
  e2e.proxy.resetCounts();
  return { web, api, play };
}

test('an unregistered service\'s task whose ENI carries another service\'s name tag publishes nothing', async () => {
  const real = await legitimate();
  const tags: EcsTag[] = [{ key: NAME, value: 'web' }];
  const intruder = await e2e.world.startTask('intruder', { taskTags: tags, eniTags: tags });
  const inv = await e2e.deliver([running(intruder)]);
  expectAcknowledged(inv);
  await expectZone(e2e, real, e2e.baseline);
  expectCallsWithin(e2e.proxy, {});
  expect(logsWith(inv.logs, { taskId: intruder.taskId, outcome: 'ignored' })).toHaveLength(1);
  // The reconciler lists the registered services' tasks only: the intruder stays out.
  const rec = await e2e.reconcile();
  expect(rec.result).toMatchObject({ upserted: 0, deleted: 0, failed: 0 });
  await expectZone(e2e, real, e2e.baseline);
});

const spoofs: Array<[string, EcsTag[]]> = [
  ['a wildcard name', [{ key: NAME, value: '*' }]],
  ['another name in the zone', [{ key: NAME, value: 'admin.other' }]],
  ['the name in upper case', [{ key: NAME, value: 'WEB' }]],
  ['the name with a trailing dot', [{ key: NAME, value: 'web.' }]],
  ['another registered service\'s name', [{ key: NAME, value: 'api' }]],
  ['the absolute record name', [{ key: NAME, value: 'web.example.com.' }]],
  ['an empty name', [{ key: NAME, value: '' }]],
  ['a TTL that is not a number', [{ key: NAME, value: 'web' }, { key: TTL, value: 'abc' }]],
  ['a negative TTL', [{ key: NAME, value: 'web' }, { key: TTL, value: '-1' }]],
  ['a TTL in exponent notation', [{ key: NAME, value: 'web' }, { key: TTL, value: '1e3' }]],
  ['a TTL above 2^31-1', [{ key: NAME, value: 'web' }, { key: TTL, value: '2147483648' }]],
  ['a TTL tag alone, not a number', [{ key: TTL, value: '60s' }]],
];

test.each(spoofs)('%s on the ENI or on the task of a web task: rejected, nothing published', async (_label, tags) => {
  const real = await legitimate();
  const onEni = await e2e.world.startTask(e2e.web.serviceName, { eniTags: tags });
  const onTask = await e2e.world.startTask(e2e.web.serviceName, { taskTags: tags, eniTags: 'none' });
  const inv = await e2e.deliver([running(onEni), running(onTask)]);
  expectAcknowledged(inv);
  await expectZone(e2e, real, e2e.baseline);
  expectCallsWithin(e2e.proxy, { 'ecs:DescribeTasks': 1, 'ec2:DescribeNetworkInterfaces': 1, 'route53:ListResourceRecordSets': 1 });
  for (const t of [onEni, onTask]) {
    expect(logsWith(inv.logs, { level: 'error', taskId: t.taskId, outcome: 'rejected', reason: /public-discovery:(name|ttl) tag/ })).toHaveLength(1);
  }
  expect(metricsOf(inv.logs)).toMatchObject({ TasksRejected: 2, RecordsUpserted: 0, RecordsDeleted: 0 });
});

test('all spoofs at once, next to legitimate starts: only the legitimate tasks are published', async () => {
  const real = await legitimate();
  const fakes = await Promise.all(spoofs.map(([, tags]) => e2e.world.startTask(e2e.web.serviceName, { eniTags: tags })));
  const fresh = await e2e.world.startTask(e2e.web.serviceName);
  const inv = await e2e.deliver([...fakes, fresh].map((t) => running(t)));
  expectAcknowledged(inv);
  await expectZone(e2e, { ...real, web: [...real.web, fresh] }, e2e.baseline);
  expect(metricsOf(inv.logs)).toMatchObject({ TasksRejected: spoofs.length, RecordsUpserted: 1 });
});

test('the ENI\'s tags are read before the task\'s: a spoofed ENI tag wins over a correct task tag', async () => {
  const t = await e2e.world.startTask(e2e.web.serviceName, { eniTags: [{ key: NAME, value: 'api' }] });
  expect(t.tags).toContainEqual({ key: NAME, value: 'web' });
  const inv = await e2e.deliver([running(t)]);
  await expectZone(e2e, {}, e2e.baseline);
  expect(logsWith(inv.logs, { taskId: t.taskId, outcome: 'rejected' })).toHaveLength(1);
});

test('a valid TTL tag that differs from the registration: published with the registered TTL, with a warning', async () => {
  const t = await e2e.world.startTask(e2e.web.serviceName, { eniTags: [{ key: NAME, value: 'web' }, { key: TTL, value: '5' }] });
  const inv = await e2e.deliver([running(t)]);
  expectAcknowledged(inv);
  await expectZone(e2e, { web: [t] }, e2e.baseline);
  expect(logsWith(inv.logs, { level: 'warn', taskId: t.taskId, reason: /registered TTL/ })).toHaveLength(1);
});

test('the reconciler applies the same checks: a spoofed running task gets no record', async () => {
  const real = await legitimate();
  const t = await e2e.world.startTask(e2e.play.serviceName, { eniTags: [{ key: NAME, value: 'web' }] });
  const inv = await e2e.reconcile();
  expect(inv.result).toMatchObject({ upserted: 0, deleted: 0, failed: 0 });
  await expectZone(e2e, real, e2e.baseline);
  expect(logsWith(inv.logs, { taskId: t.taskId, outcome: 'rejected' })).toHaveLength(1);
});
