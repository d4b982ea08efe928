/**
 * Deleting every record this library owns at given names: what the custom resource's Delete does for the
 * stack's names, and its Update for the names no longer registered.
 */
import { applyChanges, failureOfChange } from './apply';
import { PipelineDeps, PlannedChange, RecordSet } from './model';
import { hasSubtree, ownsRecord } from './task-names';
import { errorMessage, errorName } from './telemetry';
import { LifecycleName, METRIC, nameKey, RegisteredService } from '../shared/contract';

/** Result of {@link purgeNames}. */
export interface PurgeSummary {
  /** Records deleted. */
  readonly deleted: number;
  /** Names whose records could not all be deleted, with the reason. */
  readonly failures: Array<LifecycleName & { readonly reason: string }>;
}

/** Options of {@link purgeNames}. */
export interface PurgeOptions {
  /** Milliseconds left for the work; no further name is read once fewer than `reserveMs` remain. */
  readonly remainingMs?: () => number;
  /** Time kept free for the last change request and the answer (default 10 s). */
  readonly reserveMs?: number;
  /**
   * When given (epoch milliseconds), the second reading waits until then and reads every name, not only those
   * that had records: an event invocation still running from before may write a record at any of them.
   */
  readonly settleUntil?: number;
  /** Waits; replaced in tests. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Past this many names in one zone, the zone is read page by page (300 records each) instead of name by
 * name, as long as that takes fewer requests: Route53 answers 5 requests per second per account.
 */
const ZONE_SCAN_MIN_NAMES = 10;

/**
 * Deletes every record this library owns at the given names (see "Ownership" in docs/design.md) and
 * nothing else: the names are read, their owned records are deleted with their exact values (one request
 * per zone and write group), and the names are read a second time, so that a record written, or changed,
 * meanwhile is deleted too. With `settleUntil`, the second reading waits until every event invocation that was
 * already running has ended, and reads every name; without it, only the names that had records. Work stops in
 * time to answer: a name that could not be cleared, or was not reached, is reported, never skipped silently.
 */
export async function purgeNames(
  deps: Pick<PipelineDeps, 'api' | 'log' | 'metrics'>, names: readonly LifecycleName[], options: PurgeOptions = {},
): Promise<PurgeSummary> {
  const { log, metrics } = deps;
  const failures = new Map<string, LifecycleName & { reason: string }>();
  const outOfTime = () => options.remainingMs !== undefined && options.remainingMs() < (options.reserveMs ?? 10_000);
  let deleted = 0;
  let pending = [...new Map(names.map(n => [nameKey(n), n] as const)).values()];
  for (let pass = 1; pass <= 2 && pending.length > 0; pass++) {
    // The second pass only checks again: a name it cannot reach in time was cleared by the first.
    const { records, listed } = await readNames(deps, pending, failures, outOfTime, pass === 1);
    const changes: PlannedChange[] = [];
    for (const name of listed) {
      const service: RegisteredService = {
        serviceName: name.serviceName,
        name: name.fqdn,
        fqdn: name.fqdn,
        ttl: 0,
        ttlTagged: false,
        hostedZoneId: name.hostedZoneId,
        writeGroup: name.writeGroup,
        ...(name.recordTypes ? { recordTypes: name.recordTypes } : {}),
      };
      for (const record of records.get(nameKey(name)) ?? []) {
        changes.push({ action: 'DELETE', hostedZoneId: name.hostedZoneId, record, taskId: record.SetIdentifier as string, service });
      }
    }
    const settling = pass === 1 && options.settleUntil !== undefined;
    if (changes.length === 0 && !settling) {
      break;
    }
    const changeFailures = changes.length > 0 ? await applyChanges(deps, changes) : new Map<string, string>();
    for (const c of changes) {
      const reason = failureOfChange(changeFailures, c);
      if (reason === undefined) {
        deleted++;
        metrics.add(METRIC.RECORDS_DELETED);
        log.info('record deleted with its registration', { taskId: c.taskId, name: c.service.fqdn, service: c.service.serviceName, action: 'DELETE', outcome: 'applied' });
      } else {
        metrics.add(METRIC.CHANGES_FAILED);
        const name = listed.find(n => nameKey(n) === nameKey(c.service));
        failures.set(nameKey(c.service), {
          hostedZoneId: c.hostedZoneId,
          fqdn: c.service.fqdn,
          serviceName: c.service.serviceName,
          writeGroup: c.service.writeGroup,
          ...(c.service.recordTypes ? { recordTypes: c.service.recordTypes } : {}),
          ...(name?.taskNames ? { taskNames: true } : {}),
          ...(name?.srvFqdn ? { srvFqdn: name.srvFqdn } : {}),
          reason: `ChangeResourceRecordSets failed: ${reason}`,
        });
      }
    }
    // Read the names that had records once more: a record written or changed meanwhile (a task event handled
    // concurrently, a DELETE refused because the values moved) is deleted by the second pass.
    const touched = new Set(changes.map(c => nameKey(c.service)));
    pending = settling ? listed : listed.filter(n => touched.has(nameKey(n)));
    if (settling) {
      await settle(deps, options);
    }
  }
  return { deleted, failures: [...failures.values()] };
}

/** Time a second reading of the names takes at most, kept free when the wait before it is cut short. */
const SECOND_READING_MS = 10_000;

/**
 * Waits until `settleUntil`, as far as the time left allows: an event invocation that was already running when
 * the request arrived must have ended before the names are read again.
 */
async function settle(deps: Pick<PipelineDeps, 'log'>, options: PurgeOptions): Promise<void> {
  const wanted = options.settleUntil! - Date.now();
  const allowed = options.remainingMs ? options.remainingMs() - (options.reserveMs ?? 10_000) - SECOND_READING_MS : wanted;
  const wait = Math.max(0, Math.min(wanted, allowed));
  if (wait < wanted) {
    deps.log.warn('too little time to wait for running event invocations before reading the names again', { waitMs: wait, wantedMs: wanted });
  }
  if (wait > 0) {
    deps.log.info('waiting for event invocations that were already running before reading the names again', { waitMs: wait });
    await (options.sleep ?? (ms => new Promise<void>(resolve => setTimeout(resolve, ms))))(wait);
  }
}

/**
 * Reads the owned records of the names: zone by zone, the whole zone when that is cheaper, else name by
 * name. Names not read (an error, or no time left) are entered in `failures`; names read are cleared there.
 */
async function readNames(
  deps: Pick<PipelineDeps, 'api' | 'log'>, names: readonly LifecycleName[],
  failures: Map<string, LifecycleName & { reason: string }>, outOfTime: () => boolean, reportUnreached: boolean,
): Promise<{ records: Map<string, RecordSet[]>; listed: LifecycleName[] }> {
  const records = new Map<string, RecordSet[]>();
  const listed: LifecycleName[] = [];
  const byZone = new Map<string, LifecycleName[]>();
  names.forEach(n => byZone.set(n.hostedZoneId, [...(byZone.get(n.hostedZoneId) ?? []), n]));
  for (const [zone, zoneNames] of byZone) {
    let remaining = zoneNames;
    if (zoneNames.length >= ZONE_SCAN_MIN_NAMES && !outOfTime()) {
      try {
        const all = await deps.api.listZoneRecords(zone, Math.floor(zoneNames.length / 2));
        if (all) {
          for (const n of zoneNames) {
            records.set(nameKey(n), all.filter(r => ownsRecord(n, r)));
            listed.push(n);
            failures.delete(nameKey(n));
          }
          remaining = [];
        }
      } catch (err) {
        deps.log.warn('could not read the zone at once; reading name by name', { hostedZoneId: zone, error: errorName(err), detail: errorMessage(err) });
      }
    }
    for (const n of remaining) {
      if (outOfTime()) {
        if (reportUnreached) {
          failures.set(nameKey(n), { ...n, reason: 'not reached before the function\'s time ran out' });
        }
        continue;
      }
      try {
        // A name with task names or an SRV name is read with its subtree, where those records are.
        const found = hasSubtree(n) ? await deps.api.listRecordsAt(zone, n.fqdn, true) : await deps.api.listRecordsAt(zone, n.fqdn);
        records.set(nameKey(n), found.filter(r => ownsRecord(n, r)));
        listed.push(n);
        failures.delete(nameKey(n));
      } catch (err) {
        if (errorName(err) === 'NoSuchHostedZone') {
          // Route53 only deletes a zone that holds nothing but its NS and SOA records: no record is left to delete.
          deps.log.warn('the hosted zone no longer exists; nothing is left to delete at its names', { hostedZoneId: zone, name: n.fqdn });
          records.set(nameKey(n), []);
          listed.push(n);
          failures.delete(nameKey(n));
          continue;
        }
        failures.set(nameKey(n), { ...n, reason: `ListResourceRecordSets failed: ${errorName(err)}: ${errorMessage(err)}` });
      }
    }
  }
  return { records, listed };
}
