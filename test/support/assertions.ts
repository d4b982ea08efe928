/**
 * Assertions shared by the e2e scenarios (jest only).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { E2e } from './e2e';
import type { Invocation } from '../../emulator/handler';
import type { AwsProxy } from '../../emulator/proxy';
import { expectedRows, notOwned, published, snapshot } from '../../emulator/records';
import type { TaskInfo } from '../../emulator/world';
import { nameKey, RegisteredService } from '../../src/shared/contract';

/**
 * The zone's full contents: each registered name holds exactly the records of the given tasks (with the
 * service's TTL and the tasks' public IPs), and every record the handler does not own is byte-for-byte
 * what it was (`unownedBefore`, a {@link snapshot}).
 */
export interface ExpectedTasks {
  readonly web?: readonly TaskInfo[];
  readonly api?: readonly TaskInfo[];
  readonly play?: readonly TaskInfo[];
}

export async function expectZone(e2e: E2e, expected: ExpectedTasks, unownedBefore: string): Promise<void> {
  const records = await e2e.records();
  const actual = {
    web: published(records, e2e.web.fqdn),
    api: published(records, e2e.api.fqdn),
    play: published(records, e2e.play.fqdn),
  };
  expect(actual).toEqual({
    web: expectedRows(expected.web ?? [], e2e.web.fqdn, e2e.web.ttl),
    api: expectedRows(expected.api ?? [], e2e.api.fqdn, e2e.api.ttl),
    play: expectedRows(expected.play ?? [], e2e.play.fqdn, e2e.play.ttl),
  });
  expect(snapshot(notOwned(records, e2e.config.services))).toBe(unownedBefore);
}

/** Every counted call is listed in `bounds` and within its bound (unlisted actions: none allowed). */
export function expectCallsWithin(proxy: AwsProxy, bounds: Record<string, number>): Record<string, number> {
  const counts = proxy.flatCounts();
  const over = Object.entries(counts)
    .filter(([k, v]) => v > (bounds[k] ?? 0))
    .map(([k, v]) => `${k}: ${v} calls, at most ${bounds[k] ?? 0} expected`);
  expect(over).toEqual([]);
  recordCalls(counts);
  return counts;
}

/** An SQS invocation that returned without error and reported no failed message. */
export function expectAcknowledged(inv: Invocation<{ batchItemFailures: unknown[] }>): void {
  expect(inv.error).toBeUndefined();
  expect(inv.result).toEqual({ batchItemFailures: [] });
}

/**
 * When E2E_CALLS_FILE is set, appends the measured call counts of the current test to it (one JSON
 * line per call), so a run can report the figures without the tests printing anything.
 */
export function recordCalls(counts: Record<string, number>, label?: string): void {
  const file = process.env.E2E_CALLS_FILE;
  if (!file) {
    return;
  }
  const name = label ?? expect.getState().currentTestName ?? 'unknown';
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, JSON.stringify({ test: name, counts }) + '\n');
}

/** The registration of a service (by its name tag) in a zone: a service published in several zones has one per zone. */
export function registrationIn(services: readonly RegisteredService[], name: string, zoneId: string): RegisteredService {
  const found = services.find((s) => s.name === name && nameKey(s) === nameKey({ hostedZoneId: zoneId, fqdn: s.fqdn }));
  if (!found) {
    throw new Error(`no registration of ${name} in ${zoneId}`);
  }
  return found;
}
