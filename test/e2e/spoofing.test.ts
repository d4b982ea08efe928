/**
 * End-to-end: tags are untrusted input. Whoever can tag a task must not be able to publish (or take
 * over) a name: the registration is the authority, a task tag may only agree with it. The ENI's tags
 * are not read at all (ECS does not copy task tags there; anyone allowed ec2:CreateTags can write them).
 */
import { running } from '../../emulator/events';
import { LogLine, logsWith, metricsOf } from '../../emulator/handler';
import { published } from '../../emulator/records';
import type { EcsTag, TaskInfo } from '../../emulator/world';
import { expectAcknowledged, expectCallsWithin, expectZone } from '../support/assertions';
import { useE2e } from '../support/e2e';

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

test.each(spoofs)('%s: on a web task\'s tags, refused; on its ENI, ignored (the task is published from its registration)', async (_label, tags) => {
  const real = await legitimate();
  const onEni = await e2e.world.startTask(e2e.web.serviceName, { eniTags: tags });
  const onTask = await e2e.world.startTask(e2e.web.serviceName, { taskTags: tags });
  const inv = await e2e.deliver([running(onEni), running(onTask)]);
  expectAcknowledged(inv);
  await expectZone(e2e, { ...real, web: [...real.web, onEni] }, e2e.baseline);
  expectCallsWithin(e2e.proxy, {
    'ecs:DescribeTasks': 2, 'ec2:DescribeNetworkInterfaces': 1, 'route53:ListResourceRecordSets': 1, 'route53:ChangeResourceRecordSets': 1,
  });
  expect(logsWith(inv.logs, { level: 'error', taskId: onTask.taskId, outcome: 'rejected', reason: /public-discovery:(name|ttl) tag/ })).toHaveLength(1);
  expect(logsWith(inv.logs, { taskId: onEni.taskId }).map((l) => [l.level, l.json?.outcome])).toEqual([['info', 'applied']]);
  expect(metricsOf(inv.logs)).toMatchObject({ TasksRejected: 1, RecordsUpserted: 1, RecordsDeleted: 0 });
});

test('all spoofs at once, next to legitimate starts: the task-tag spoofs are refused, the ENI-tagged tasks published', async () => {
  const real = await legitimate();
  const [onTask, onEni] = await Promise.all([
    Promise.all(spoofs.map(([, tags]) => e2e.world.startTask(e2e.web.serviceName, { taskTags: tags }))),
    Promise.all(spoofs.map(([, tags]) => e2e.world.startTask(e2e.web.serviceName, { eniTags: tags }))),
  ]);
  const fresh = await e2e.world.startTask(e2e.web.serviceName);
  const inv = await e2e.deliver([...onTask, ...onEni, fresh].map((t) => running(t)));
  expectAcknowledged(inv);
  await expectZone(e2e, { ...real, web: [...real.web, ...onEni, fresh] }, e2e.baseline);
  expect(metricsOf(inv.logs)).toMatchObject({ TasksRejected: spoofs.length, RecordsUpserted: spoofs.length + 1 });
});

test('a wrong name and TTL tag on the ENI are ignored: the genuine task is published with the registration\'s values', async () => {
  // ECS does not copy task tags to the ENI; whoever may call ec2:CreateTags can write there.
  const eniTags: EcsTag[] = [{ key: NAME, value: 'web' }, { key: TTL, value: '5' }];
  const t = await e2e.world.startTask(e2e.api.serviceName, { eniTags });
  expect(t.tags).toEqual([{ key: NAME, value: 'api' }, { key: TTL, value: '300' }]);
  const inv = await e2e.deliver([running(t)]);
  expectAcknowledged(inv);
  await expectZone(e2e, { api: [t] }, e2e.baseline);
  expect(published(await e2e.records(), e2e.api.fqdn).map((r) => r.ttl)).toEqual([300]);
  // Not refused, and no warning about a differing TTL: the ENI's tags are never read.
  expect(logsWith(inv.logs, { taskId: t.taskId }).map((l) => [l.level, l.json?.outcome])).toEqual([['info', 'applied']]);
  expect(logsWith(inv.logs, { level: 'warn' })).toEqual([]);
  expect(metricsOf(inv.logs)).toMatchObject({ TasksRejected: 0, RecordsUpserted: 1 });

  // The reconciler reads the same way: a missed start with a tagged ENI is published too, and the first stays.
  const missed = await e2e.world.startTask(e2e.web.serviceName, { eniTags: [{ key: NAME, value: 'api' }, { key: TTL, value: 'abc' }] });
  const rec = await e2e.reconcile();
  expect(rec.result).toMatchObject({ upserted: 1, deleted: 0, failed: 0 });
  await expectZone(e2e, { api: [t], web: [missed] }, e2e.baseline);
  expect(logsWith(rec.logs, { level: 'warn' })).toEqual([]);
  expect(logsWith(rec.logs, { level: 'error' })).toEqual([]);
});

test('a valid TTL tag on the task that differs from the registration: published with the registered TTL, with a warning', async () => {
  const t = await e2e.world.startTask(e2e.web.serviceName, { taskTags: [{ key: NAME, value: 'web' }, { key: TTL, value: '5' }] });
  const inv = await e2e.deliver([running(t)]);
  expectAcknowledged(inv);
  await expectZone(e2e, { web: [t] }, e2e.baseline);
  expect(logsWith(inv.logs, { level: 'warn', taskId: t.taskId, reason: /registered TTL/ })).toHaveLength(1);
});

test('the reconciler applies the same checks: a running task with a spoofed task tag gets no record', async () => {
  const real = await legitimate();
  const t = await e2e.world.startTask(e2e.play.serviceName, { taskTags: [{ key: NAME, value: 'web' }] });
  const inv = await e2e.reconcile();
  expect(inv.result).toMatchObject({ upserted: 0, deleted: 0, failed: 0 });
  await expectZone(e2e, real, e2e.baseline);
  expect(logsWith(inv.logs, { taskId: t.taskId })).toEqual([]);
  expect(logsWith(inv.logs, { level: 'warn', message: 'tasks refused by the registration', service: e2e.play.serviceName, count: 1 })).toHaveLength(1);
  expect(metricsOf(inv.logs)).toMatchObject({ TasksRejected: 1 });
});

/** Number of log lines (the metric line aside) per level. */
function linesByLevel(logs: LogLine[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of logsWith(logs, {})) {
    out[l.level ?? '<none>'] = (out[l.level ?? '<none>'] ?? 0) + 1;
  }
  return out;
}

test('a refused task that keeps running: one error line from its start event, then one warning per reconciliation', async () => {
  const real = await legitimate();
  const t = await e2e.world.startTask(e2e.web.serviceName, { taskTags: [{ key: NAME, value: 'api' }] });
  // The start event, delivered twice in one batch (SQS delivers at least once): one error line.
  const start = await e2e.deliver([running(t), running(t)]);
  expectAcknowledged(start);
  expect(linesByLevel(start.logs)).toEqual({ error: 1 });
  expect(logsWith(start.logs, { level: 'error', taskId: t.taskId, outcome: 'rejected', reason: /public-discovery:name tag "api"/ })).toHaveLength(1);
  expect(metricsOf(start.logs)).toMatchObject({ TasksRejected: 1 });

  // Every scheduled run refuses it again: no error line, one warning summing up the service's refused tasks.
  for (let run = 0; run < 3; run++) {
    const rec = await e2e.reconcile();
    expect(rec.error).toBeUndefined();
    expect(rec.result).toMatchObject({ upserted: 0, deleted: 0, failed: 0, failedServices: [] });
    expect(linesByLevel(rec.logs)).toEqual({ warn: 1, info: 1 });
    const [summary] = logsWith(rec.logs, { level: 'warn' });
    expect(summary.json).toEqual({
      level: 'warn',
      message: 'tasks refused by the registration',
      requestId: expect.any(String),
      service: e2e.web.serviceName,
      name: e2e.web.fqdn,
      count: 1,
      tasks: [{ taskId: t.taskId, reason: 'public-discovery:name tag "api" does not match the name registered for service web ("web")' }],
    });
    expect(logsWith(rec.logs, { level: 'info', message: 'reconciliation finished' })).toHaveLength(1);
    expect(metricsOf(rec.logs)).toMatchObject({ TasksRejected: 1, RecordsUpserted: 0, RecordsDeleted: 0 });
    await expectZone(e2e, real, e2e.baseline);
  }
});
