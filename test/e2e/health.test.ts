/**
 * End-to-end: health gating. The example app with its Web service registered with `publishWhenHealthy`
 * (its container has a health check), Api and Game left ungated. moto's tasks have no health status: the
 * proxy reports the one a test sets with `World.setHealth` in DescribeTasks, else UNKNOWN (see
 * `ecsDescribeTasks` in emulator/moto-gaps.ts), and the events carry it as ECS's do.
 */
import { healthChanged, running, stopSequence } from '../../emulator/events';
import { buildExampleStack, templateOf } from '../../emulator/example-app';
import { logsWith, metricsOf } from '../../emulator/handler';
import type { TaskInfo } from '../../emulator/world';
import { expectAcknowledged, expectZone } from '../support/assertions';
import { useE2e } from '../support/e2e';

const synthesize = () => templateOf(buildExampleStack({ publishWhenHealthy: { Web: true } }).stack);
const e2e = useE2e({ synthesize });

const health = (t: TaskInfo, status: 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN') => e2e.world.setHealth(t, status, e2e.proxy);

test('the registration carries the flag for Web only', () => {
  expect(e2e.web.publishWhenHealthy).toBe(true);
  expect(e2e.api).not.toHaveProperty('publishWhenHealthy');
  expect(e2e.play).not.toHaveProperty('publishWhenHealthy');
});

test('start (UNKNOWN: no record), HEALTHY (record), UNHEALTHY (gone, the task runs), HEALTHY (back), stop (gone)', async () => {
  let t = await e2e.world.startTask(e2e.web.serviceName);
  t = health(t, 'UNKNOWN');
  const started = await e2e.deliver([running(t)]);
  expectAcknowledged(started);
  await expectZone(e2e, {}, e2e.baseline);
  expect(logsWith(started.logs, { taskId: t.taskId, action: 'SKIP', outcome: 'ignored' })).toEqual([
    expect.objectContaining({ reason: 'waiting for ECS to report the task HEALTHY (healthStatus UNKNOWN)' }),
  ]);
  expect(metricsOf(started.logs)).toMatchObject({ EventsIgnored: 1, TasksRejected: 0, RecordsUpserted: 0 });

  t = health(t, 'HEALTHY');
  expectAcknowledged(await e2e.deliver([healthChanged(t, 5)]));
  await expectZone(e2e, { web: [t] }, e2e.baseline);

  t = health(t, 'UNHEALTHY');
  const unhealthy = await e2e.deliver([healthChanged(t, 6)]);
  expectAcknowledged(unhealthy);
  await expectZone(e2e, {}, e2e.baseline);
  expect(metricsOf(unhealthy.logs)).toMatchObject({ RecordsDeleted: 1, TasksRejected: 0 });

  t = health(t, 'HEALTHY');
  expectAcknowledged(await e2e.deliver([healthChanged(t, 7)]));
  await expectZone(e2e, { web: [t] }, e2e.baseline);

  await e2e.world.stopTask(t);
  expectAcknowledged(await e2e.deliver(stopSequence(t)));
  await expectZone(e2e, {}, e2e.baseline);
});

test('a late HEALTHY event after the task turned UNHEALTHY publishes nothing: DescribeTasks decides', async () => {
  let t = await e2e.world.startTask(e2e.web.serviceName);
  t = health(t, 'HEALTHY');
  const late = healthChanged(t, 5);
  t = health(t, 'UNHEALTHY');
  expectAcknowledged(await e2e.deliver([late]));
  await expectZone(e2e, {}, e2e.baseline);
});

test('the reconciler converges a gated service: HEALTHY tasks published, the record of an UNHEALTHY one removed', async () => {
  const [a, b, c] = await e2e.world.startTasks(e2e.web.serviceName, 3);
  health(a, 'HEALTHY');
  health(b, 'HEALTHY');
  // c stays UNKNOWN. b is published, then turns UNHEALTHY without an event reaching the handler.
  expectAcknowledged(await e2e.deliver([running(a), running(b), running(c)]));
  await expectZone(e2e, { web: [a, b] }, e2e.baseline);
  health(b, 'UNHEALTHY');
  const inv = await e2e.reconcile();
  expect(inv.error).toBeUndefined();
  await expectZone(e2e, { web: [a] }, e2e.baseline);
  expect(logsWith(inv.logs, { taskId: b.taskId, action: 'DELETE', outcome: 'applied' })).toHaveLength(1);
});

test('an ungated service is unchanged: its UNKNOWN and UNHEALTHY tasks are published', async () => {
  const [p1, p2] = await e2e.world.startTasks(e2e.play.serviceName, 2);
  health(p2, 'UNHEALTHY');
  expectAcknowledged(await e2e.deliver([running(p1), running(p2)]));
  await expectZone(e2e, { play: [p1, p2] }, e2e.baseline);
  const inv = await e2e.reconcile();
  expect(inv.error).toBeUndefined();
  await expectZone(e2e, { play: [p1, p2] }, e2e.baseline);
});
