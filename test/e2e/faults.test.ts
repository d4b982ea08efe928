/**
 * End-to-end: throttling, transient errors and rejected changes. Whatever AWS answers, the records
 * converge (possibly after SQS redelivers the messages reported as failed) and nothing is lost.
 */
import { running, stopped } from '../../emulator/events';
import { logsWith, metricsOf } from '../../emulator/handler';
import { expectAcknowledged, expectZone, recordCalls } from '../support/assertions';
import { useE2e } from '../support/e2e';

const e2e = useE2e();

test('Route53 throttles half of the calls: every start and every stop still converges', async () => {
  const [web, api, play] = await Promise.all([e2e.web, e2e.api, e2e.play].map((s) => e2e.world.startTasks(s.serviceName, 3)));
  e2e.proxy.failNext({ service: 'route53' }, 1, 'Throttling');
  e2e.proxy.failRandomly({ service: 'route53' }, 0.5, 'Throttling', 20240601);

  const starts = await e2e.deliverUntilAcknowledged([...web, ...api, ...play].map((t) => running(t)));
  expect(starts.unacknowledged).toBe(0);
  await expectZone(e2e, { web, api, play }, e2e.baseline);
  const injectedDuringStarts = e2e.proxy.injectedCount();
  expect(injectedDuringStarts).toBeGreaterThan(0);
  recordCalls({ ...e2e.proxy.flatCounts(), injected: injectedDuringStarts, rounds: starts.rounds }, 'throttling: starts');

  const leaving = [web[0], web[2], api[1], play[0], play[1], play[2]];
  await e2e.world.stopTasks(leaving);
  // Few Route53 calls happen here: make sure at least the first one is throttled too.
  e2e.proxy.failNext({ service: 'route53' }, 1, 'Throttling');
  const stops = await e2e.deliverUntilAcknowledged(leaving.map((t) => stopped(t)));
  expect(stops.unacknowledged).toBe(0);
  await expectZone(e2e, { web: [web[1]], api: [api[0], api[2]] }, e2e.baseline);
  expect(e2e.proxy.injectedCount()).toBeGreaterThan(0);
  recordCalls({ ...e2e.proxy.flatCounts(), injected: e2e.proxy.injectedCount(), rounds: stops.rounds }, 'throttling: stops');

  const rec = await e2e.reconcile();
  expect(rec.result).toMatchObject({ upserted: 0, deleted: 0 });
});

test('PriorRequestNotComplete on the change request is retried within the invocation', async () => {
  const tasks = await e2e.world.startTasks(e2e.web.serviceName, 2);
  e2e.proxy.failNext({ service: 'route53', action: 'ChangeResourceRecordSets' }, 2, 'PriorRequestNotComplete');
  const inv = await e2e.deliver(tasks.map((t) => running(t)));
  expectAcknowledged(inv);
  await expectZone(e2e, { web: tasks }, e2e.baseline);
  expect(e2e.proxy.count('route53', 'ChangeResourceRecordSets')).toBe(3);
  expect(logsWith(inv.logs, { level: 'warn', error: 'PriorRequestNotComplete' })).toHaveLength(2);
  recordCalls(e2e.proxy.flatCounts());
});

test('ECS and EC2 throttling is retried within the invocation', async () => {
  const tasks = await e2e.world.startTasks(e2e.api.serviceName, 2);
  e2e.proxy.failNext({ service: 'ecs', action: 'DescribeTasks' }, 2, 'Throttling');
  e2e.proxy.failNext({ service: 'ec2', action: 'DescribeNetworkInterfaces' }, 1, 'Throttling');
  const inv = await e2e.deliver(tasks.map((t) => running(t)));
  expectAcknowledged(inv);
  await expectZone(e2e, { api: tasks }, e2e.baseline);
  // DescribeTasks: two throttled, one answered, then the check after the write.
  expect(e2e.proxy.flatCounts()).toMatchObject({ 'ecs:DescribeTasks': 4, 'ec2:DescribeNetworkInterfaces': 2 });
});

test('DescribeTasks keeps failing: the start messages are returned for redelivery, stops in the batch still apply', async () => {
  const [leaving] = await e2e.startAndPublish(e2e.play, 1);
  const newcomers = await e2e.world.startTasks(e2e.web.serviceName, 2);
  await e2e.world.stopTask(leaving);
  e2e.proxy.failRandomly({ service: 'ecs', action: 'DescribeTasks' }, 1, 'InternalError');
  const events = [running(newcomers[0]), stopped(leaving), running(newcomers[1])];
  const first = await e2e.deliverUntilAcknowledged(events, { maxRounds: 1, timeoutMs: 4000 });
  expect(first.unacknowledged).toBe(2);
  const failedBodies = first.invocations[0].result!.batchItemFailures.length;
  expect(failedBodies).toBe(2);
  await expectZone(e2e, {}, e2e.baseline);
  expect(metricsOf(first.invocations[0].logs)).toMatchObject({ ChangesFailed: 2, RecordsDeleted: 1 });

  e2e.proxy.clearFaults();
  const again = await e2e.deliverUntilAcknowledged(events);
  expect(again.unacknowledged).toBe(0);
  await expectZone(e2e, { web: newcomers }, e2e.baseline);
});

test('Route53 rejects one change: the batch is bisected, the others apply, only that message fails', async () => {
  const tasks = await e2e.world.startTasks(e2e.web.serviceName, 4);
  const bad = tasks[2];
  e2e.proxy.failRandomly((c) => c.action === 'ChangeResourceRecordSets' && c.body.includes(bad.taskId), 1, 'InvalidChangeBatch');
  const batch = await e2e.deliverUntilAcknowledged(tasks.map((t) => running(t)), { maxRounds: 1 });
  expect(batch.unacknowledged).toBe(1);
  const inv = batch.invocations[0];
  await expectZone(e2e, { web: tasks.filter((t) => t !== bad) }, e2e.baseline);
  expect(logsWith(inv.logs, { level: 'error', taskId: bad.taskId, outcome: 'failed' })).toHaveLength(1);
  expect(metricsOf(inv.logs)).toMatchObject({ RecordsUpserted: 3, ChangesFailed: 1 });
  // 4 → 2 + 2 → (1 + 1) + 2: at most 1 + 2 + 2 requests.
  expect(e2e.proxy.count('route53', 'ChangeResourceRecordSets')).toBeLessThanOrEqual(5);
  recordCalls(e2e.proxy.flatCounts());
});

test('Route53 throttles without end: the messages come back for redelivery, nothing is lost', async () => {
  const tasks = await e2e.world.startTasks(e2e.web.serviceName, 2);
  e2e.proxy.failRandomly({ service: 'route53', action: 'ChangeResourceRecordSets' }, 1, 'Throttling');
  const first = await e2e.deliverUntilAcknowledged(tasks.map((t) => running(t)), { maxRounds: 1, timeoutMs: 4000 });
  expect(first.unacknowledged).toBe(2);
  await expectZone(e2e, {}, e2e.baseline);
  e2e.proxy.clearFaults();
  const rec = await e2e.reconcile();
  expect(rec.result).toMatchObject({ upserted: 2, failed: 0 });
  await expectZone(e2e, { web: tasks }, e2e.baseline);
});
