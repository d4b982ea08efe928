/**
 * End-to-end: the function dies between two batches, or in the middle of one, or a task stops while
 * its record is being written. SQS then hands the
 * messages it never heard back about to a fresh instance. Whatever point the crash hit, the records
 * converge and nothing is created twice or lost.
 */
import { running, sqsBatch, stopped } from '../../emulator/events';
import { handlerEnv, startHandlerProcess } from '../../emulator/handler';
import { expectAcknowledged, expectZone } from '../support/assertions';
import { useE2e } from '../support/e2e';

const e2e = useE2e();

async function waitFor(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('killed in the middle of a batch, before Route53 was changed: the redelivered batch converges', async () => {
  const tasks = await e2e.world.startTasks(e2e.web.serviceName, 3);
  const batch = sqsBatch(tasks.map((t) => running(t)));

  // Route53 keeps failing the change request, so the doomed instance sits in its retry loop; it is
  // killed (SIGKILL, as a Lambda timeout or an out-of-memory would end it) once the change was tried.
  e2e.proxy.failNext({ service: 'route53', action: 'ChangeResourceRecordSets' }, 1000, 'InternalError');
  const doomed = await startHandlerProcess(handlerEnv(e2e.proxy.endpoint, e2e.env));
  const lost = doomed.invoke(batch).catch((err: Error) => err);
  await waitFor(() => e2e.proxy.injectedCount() > 0, 'the first change request');
  await doomed.stop();
  expect(await lost).toBeInstanceOf(Error);
  await expectZone(e2e, {}, e2e.baseline);

  // SQS redelivers the same messages after the visibility timeout, to a new instance.
  e2e.proxy.clearFaults();
  const redelivered = await e2e.invoke<{ batchItemFailures: unknown[] }>(batch);
  expectAcknowledged(redelivered);
  await expectZone(e2e, { web: tasks }, e2e.baseline);
  expect(e2e.proxy.count('route53', 'ChangeResourceRecordSets')).toBe(1);
});

test('crashed after Route53 applied a batch but before SQS heard back: the redelivery changes nothing and the next batch applies', async () => {
  const tasks = await e2e.world.startTasks(e2e.web.serviceName, 3);
  const first = sqsBatch(tasks.map((t) => running(t)));
  // The invocation applies its changes; its answer is then lost with the instance.
  expectAcknowledged(await e2e.invoke<{ batchItemFailures: unknown[] }>(first));
  await expectZone(e2e, { web: tasks }, e2e.baseline);

  // Meanwhile a task stopped. The next receive holds the unacknowledged messages and the new one.
  await e2e.world.stopTask(tasks[0]);
  const next = sqsBatch([...tasks.map((t) => running(t)), stopped(tasks[0])]);
  const inv = await e2e.invoke<{ batchItemFailures: unknown[] }>(next);
  expectAcknowledged(inv);
  await expectZone(e2e, { web: [tasks[1], tasks[2]] }, e2e.baseline);
  // Only the stop needed a change; the replayed starts were already in place.
  const change = e2e.proxy.calls().filter((c) => c.action === 'ChangeResourceRecordSets');
  expect(change).toHaveLength(1);
  expect(change[0].changes).toMatchObject({ total: 1, deletes: 1 });
});

test('a task stops while its record is being written (its stop handled elsewhere): the record is removed again', async () => {
  const [t] = await e2e.world.startTasks(e2e.web.serviceName, 1);
  // While the change request is in flight, ECS stops the task and a concurrent invocation handles the
  // stop events, finding no record yet.
  e2e.proxy.beforeNext({ service: 'route53', action: 'ChangeResourceRecordSets' }, async () => {
    await e2e.world.stopTask(t);
  });
  const inv = await e2e.invoke<{ batchItemFailures: unknown[] }>(sqsBatch([running(t)]));
  expectAcknowledged(inv);
  await expectZone(e2e, {}, e2e.baseline);
  const changes = e2e.proxy.calls().filter((c) => c.action === 'ChangeResourceRecordSets').map((c) => c.changes);
  expect(changes).toEqual([expect.objectContaining({ upserts: 1, deletes: 0 }), expect.objectContaining({ upserts: 0, deletes: 1 })]);
  expect(e2e.proxy.count('ecs', 'DescribeTasks')).toBe(2);
});
