/**
 * End-to-end at scale: bursts of hundreds of task changes delivered in SQS batches of 100, and a
 * service with more tasks than a name can hold (100 multi-value records).
 */
import type { ResourceRecordSet } from '@aws-sdk/client-route-53';
import { running, stopped } from '../../emulator/events';
import { LogLine, logsWith, metricsOf } from '../../emulator/handler';
import { notOwned, published, snapshot } from '../../emulator/records';
import type { TaskInfo } from '../../emulator/world';
import { MAX_RECORDS_PER_NAME, RegisteredService } from '../../src/shared/contract';
import { expectAcknowledged, recordCalls } from '../support/assertions';
import { useE2e } from '../support/e2e';

const e2e = useE2e();

interface BatchStats {
  readonly changeCalls: number;
  readonly changes: number;
  /** ceil(changes * 2 / 1000): the most change requests Route53's limits justify (one zone here). */
  readonly bound: number;
  readonly metrics: Record<string, number>;
  readonly counts: Record<string, number>;
  readonly logs: LogLine[];
}

/** Delivers events in SQS batches of `size`; after each batch, `check` runs (e.g. an invariant). */
async function deliverInBatches(
  events: ReadonlyArray<Record<string, unknown>>, size: number, before?: (i: number) => Promise<void>, check?: () => Promise<void>,
): Promise<BatchStats[]> {
  const stats: BatchStats[] = [];
  for (let i = 0; i < events.length; i += size) {
    await before?.(i);
    const inv = await e2e.deliver(events.slice(i, i + size));
    expectAcknowledged(inv);
    const calls = e2e.proxy.calls().filter((c) => c.action === 'ChangeResourceRecordSets' && c.status === 200);
    const changes = calls.reduce((n, c) => n + (c.changes?.total ?? 0), 0);
    stats.push({
      changeCalls: calls.length,
      changes,
      bound: Math.ceil((changes * 2) / 1000),
      metrics: metricsOf(inv.logs),
      counts: e2e.proxy.flatCounts(),
      logs: inv.logs,
    });
    await check?.();
  }
  return stats;
}

/** Round-robin merge, so every batch mixes services. */
function interleave<T>(...lists: T[][]): T[] {
  const out: T[] = [];
  for (let i = 0; i < Math.max(...lists.map((l) => l.length)); i++) {
    lists.forEach((l) => i < l.length && out.push(l[i]));
  }
  return out;
}

/**
 * The invariant: every owned record at the service's name is a running task of that service with its
 * public IP and the registered TTL, and the name holds as many records as it can: min(100, running).
 */
function expectNameInvariant(records: ResourceRecordSet[], service: RegisteredService, runningTasks: readonly TaskInfo[]): void {
  const rows = published(records, service.fqdn);
  const byId = new Map(runningTasks.map((t) => [t.taskId, t]));
  const strays = rows.filter((r) => byId.get(r.setIdentifier)?.publicIp !== r.address || r.ttl !== service.ttl);
  expect({ name: service.fqdn, strays, count: rows.length })
    .toEqual({ name: service.fqdn, strays: [], count: Math.min(MAX_RECORDS_PER_NAME, runningTasks.length) });
}

function boundViolations(stats: BatchStats[]): string[] {
  return stats.map((s, i) => (s.changeCalls > s.bound ? `batch ${i + 1}: ${s.changeCalls} change requests for ${s.changes} changes (at most ${s.bound})` : ''))
    .filter((v) => v !== '');
}

test('a burst of 500 starts across 3 services, then their stops, in SQS batches of 100', async () => {
  const services = [e2e.web, e2e.api, e2e.play];
  const [web, api, play] = await Promise.all([167, 167, 166].map((n, i) => e2e.world.startTasks(services[i].serviceName, n)));
  const all = interleave(web, api, play);
  // Running tasks whose RUNNING event has been delivered: the ones that may hold a record.
  const runningOf = new Map<string, Set<TaskInfo>>(services.map((s) => [s.serviceName, new Set<TaskInfo>()]));
  const invariant = async () => {
    const records = await e2e.records();
    services.forEach((s) => expectNameInvariant(records, s, [...runningOf.get(s.serviceName)!]));
    expect(snapshot(notOwned(records, e2e.fqdns))).toBe(e2e.baseline);
  };

  const starts = await deliverInBatches(all.map((t) => running(t)), 100, async (i) => {
    all.slice(i, i + 100).forEach((t) => runningOf.get(t.serviceName)!.add(t));
  }, invariant);
  // Each name holds 100 records; the 200 tasks beyond were counted as CapacityExceeded.
  starts.forEach((s, i) => recordCalls({ ...s.counts, changes: s.changes }, `burst: start batch ${i + 1}`));
  expect(starts.reduce((n, s) => n + (s.metrics.CapacityExceeded ?? 0), 0)).toBe(500 - 3 * MAX_RECORDS_PER_NAME);
  expect(boundViolations(starts)).toEqual([]);

  // ECS stops the tasks batch by batch; each batch's STOPPED events follow.
  const stops = await deliverInBatches(all.map((t) => stopped(t)), 100, async (i) => {
    const batch = all.slice(i, i + 100);
    await e2e.world.stopTasks(batch);
    batch.forEach((t) => runningOf.get(t.serviceName)!.delete(t));
  }, invariant);
  stops.forEach((s, i) => recordCalls({ ...s.counts, changes: s.changes }, `burst: stop batch ${i + 1}`));
  const finalRecords = await e2e.records();
  expect(services.map((s) => published(finalRecords, s.fqdn))).toEqual([[], [], []]);
  expect(snapshot(notOwned(finalRecords, e2e.fqdns))).toBe(e2e.baseline);
  // docs/design.md step 10: one ChangeResourceRecordSets per hosted zone, split only past Route53's limits.
  expect(boundViolations(stops)).toEqual([]);
});

test('130 tasks of one service: exactly 100 records, the rest wait and fill the gaps as tasks stop', async () => {
  const tasks = await e2e.world.startTasks(e2e.web.serviceName, 130);
  const alive = new Set<TaskInfo>();
  const check = async () => expectNameInvariant(await e2e.records(), e2e.web, [...alive]);

  const starts = await deliverInBatches(tasks.map((t) => running(t)), 100, async (i) => {
    tasks.slice(i, i + 100).forEach((t) => alive.add(t));
  }, check);
  expect(starts.map((s) => s.metrics.CapacityExceeded)).toEqual([0, 30]);
  const holding = new Set(published(await e2e.records(), e2e.web.fqdn).map((r) => r.setIdentifier));
  const waiting = tasks.filter((t) => !holding.has(t.taskId));
  expect(waiting).toHaveLength(30);
  const capacityLogs = logsWith(starts[1].logs, { level: 'warn', outcome: 'capacity' });
  expect(capacityLogs.map((l) => l.json?.taskId).sort()).toEqual(waiting.map((t) => t.taskId).sort());

  // 10 published tasks stop: their slots go to 10 waiting tasks in the same invocation.
  const firstStops = tasks.filter((t) => holding.has(t.taskId)).slice(0, 10);
  const gaps = await deliverInBatches(firstStops.map((t) => stopped(t)), 100, async () => {
    await e2e.world.stopTasks(firstStops);
    firstStops.forEach((t) => alive.delete(t));
  }, check);
  expect(gaps[0].metrics).toMatchObject({ RecordsDeleted: 10, RecordsUpserted: 10 });
  recordCalls({ ...gaps[0].counts, changes: gaps[0].changes }, 'capacity: 10 of 100 published stop, 10 waiting fill');

  // 30 more stop: 120 → 90 running, all of them published.
  const more = [...alive].slice(0, 30);
  await deliverInBatches(more.map((t) => stopped(t)), 100, async () => {
    await e2e.world.stopTasks(more);
    more.forEach((t) => alive.delete(t));
  }, check);

  // The rest stop: nothing left.
  const rest = [...alive];
  await deliverInBatches(rest.map((t) => stopped(t)), 100, async () => {
    await e2e.world.stopTasks(rest);
    rest.forEach((t) => alive.delete(t));
  }, check);
  expect(published(await e2e.records(), e2e.web.fqdn)).toEqual([]);
  expect(snapshot(notOwned(await e2e.records(), e2e.fqdns))).toBe(e2e.baseline);
});
