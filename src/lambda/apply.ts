/**
 * The last steps of every workflow that writes records: apply the planned changes (isolating whatever
 * Route53 rejects), check the tasks whose records were just written, settle each planned outcome as
 * applied or failed, count the outcomes as metrics and log one line per outcome.
 */
import { releaseHealthChecks, replaceDeletedChecks } from './health-checks';
import { PipelineDeps, PlannedChange, TaskObservation, TaskOutcome } from './model';
import { batchChanges, healthWait, intentOf, zonedOutcomes } from './planner';
import { errorMessage, errorName, MetricName, Metrics } from './telemetry';
import { METRIC, nameKey, taskIdFromArn } from '../shared/contract';
import { normalizeName } from '../shared/dns-name';

/** Changes Route53 did not apply, by {@link changeKey}, with the reason. */
export type ChangeFailures = Map<string, string>;

/**
 * Identifies a task's change of one record: the task id for its A record, `<task id>|AAAA` for its AAAA record,
 * so that a dual-stack task whose AAAA change failed still reports its A change as applied. A record at another
 * name than the service's (a task name, the SRV name) adds `|<record name>`; with a name (a task published at
 * several, in several zones), `@<zone id>|<fqdn>` follows, so the task's change in one zone is told apart from
 * its change in another.
 */
export function changeKey(
  taskId: string, type: string | undefined, name?: { readonly hostedZoneId: string; readonly fqdn: string }, recordName?: string,
): string {
  const typed = type === undefined || type === 'A' ? taskId : `${taskId}|${type}`;
  const key = recordName === undefined ? typed : `${typed}|${recordName}`;
  return name === undefined ? key : `${key}@${nameKey(name)}`;
}

/** The record's name when it is not the service's name (a task name, the SRV name), else undefined. */
export function recordNameOf(c: Pick<PlannedChange, 'record' | 'service'>): string | undefined {
  const name = normalizeName(c.record.Name);
  return name === c.service.fqdn ? undefined : name;
}

/**
 * Applies the changes, re-checks the tasks whose records were written, settles every planned outcome
 * as applied or failed, counts the outcomes as metrics and logs one line per outcome.
 */
export async function applyAndReport(
  deps: PipelineDeps, planned: readonly PlannedChange[], outcomes: TaskOutcome[], message: string, publishing?: ReadonlySet<string>,
): Promise<TaskOutcome[]> {
  const failures = await applyChanges(deps, planned);
  // A record naming a check deleted since it was read (a stop handled meanwhile): the task's check is created
  // again and the change retried once, with the new check.
  const stale = planned.filter(c => c.action === 'UPSERT' && c.record.HealthCheckId !== undefined && failureOfChange(failures, c)?.startsWith('NoSuchHealthCheck'));
  const replaced = stale.length > 0 ? await replaceDeletedChecks(deps, stale, planned) : new Map<PlannedChange, PlannedChange>();
  if (replaced.size > 0) {
    for (const c of replaced.keys()) {
      forgetFailure(failures, c);
    }
    (await applyChanges(deps, [...replaced.values()])).forEach((reason, key) => failures.set(key, reason));
  }
  const changes = planned.map(c => replaced.get(c) ?? c);
  const redeletes: PlannedChange[] = [];
  outcomes.push(...await verifyUpserts(deps, changes, failures, redeletes));
  const final = settle(outcomes, failures);
  // A task whose records are all gone loses its health check, only now that no record names it.
  const all = [...changes, ...redeletes];
  if (all.some(c => c.record.HealthCheckId !== undefined)) {
    await releaseHealthChecks(deps, all, c => failureOfChange(failures, c) !== undefined, final, publishing);
  }
  countOutcomes(deps.metrics, final);
  for (const { level, ...fields } of final) {
    deps.log.log(level, message, fields);
  }
  return final;
}

/**
 * Sends the changes in as few requests as Route53's limits allow (one per hosted zone below 1000
 * changes). A rejected request is bisected so that one bad change cannot hold back the others.
 */
export async function applyChanges(deps: Pick<PipelineDeps, 'api' | 'log'>, changes: readonly PlannedChange[]): Promise<ChangeFailures> {
  const failures: ChangeFailures = new Map();
  // A task with changes at several names (a service published in several zones) has its failures keyed per zone and name.
  const namesOf = new Map<string, Set<string>>();
  const at = (c: PlannedChange) => ({ hostedZoneId: c.hostedZoneId, fqdn: c.service.fqdn });
  changes.forEach(c => namesOf.set(c.taskId, (namesOf.get(c.taskId) ?? new Set()).add(nameKey(at(c)))));
  const keyOf = (c: PlannedChange) => changeKey(c.taskId, c.record.Type, namesOf.get(c.taskId)!.size > 1 ? at(c) : undefined, recordNameOf(c));
  for (const batch of batchChanges(changes)) {
    await applyIsolating(deps, batch.hostedZoneId, batch.changes, failures, keyOf);
  }
  return failures;
}

/**
 * Why Route53 did not apply a task's change of one type at a name (its zone given when known), or undefined
 * when it did (see {@link applyChanges}).
 */
export function failureOf(
  failures: ChangeFailures, taskId: string, type: string | undefined, hostedZoneId: string | undefined, fqdn: string | undefined,
  recordName?: string,
): string | undefined {
  const zoned = hostedZoneId !== undefined && fqdn !== undefined
    ? failures.get(changeKey(taskId, type, { hostedZoneId, fqdn }, recordName)) : undefined;
  return zoned ?? failures.get(changeKey(taskId, type, undefined, recordName));
}

/** Why Route53 did not apply a planned change, or undefined when it did (see {@link failureOf}). */
export function failureOfChange(failures: ChangeFailures, c: PlannedChange): string | undefined {
  return failureOf(failures, c.taskId, c.record.Type, c.hostedZoneId, c.service.fqdn, recordNameOf(c));
}

/** Forgets a planned change's failure, under either key {@link failureOf} reads (it is tried again). */
function forgetFailure(failures: ChangeFailures, c: PlannedChange): void {
  const recordName = recordNameOf(c);
  failures.delete(changeKey(c.taskId, c.record.Type, { hostedZoneId: c.hostedZoneId, fqdn: c.service.fqdn }, recordName));
  failures.delete(changeKey(c.taskId, c.record.Type, undefined, recordName));
}

/** Route53's answers that refuse a change request for its content (not for throttling or a fault). */
const REJECTIONS: ReadonlySet<string> = new Set(['InvalidChangeBatch', 'InvalidInput', 'NoSuchHealthCheck']);

/** Sends one request; when Route53 rejects it, bisects it so that the rejected changes are found and reported alone. */
async function applyIsolating(
  deps: Pick<PipelineDeps, 'api' | 'log'>, zoneId: string, changes: PlannedChange[], failures: ChangeFailures, keyOf: (c: PlannedChange) => string,
): Promise<void> {
  try {
    await deps.api.changeRecords(zoneId, changes);
  } catch (err) {
    const name = errorName(err);
    const message = errorMessage(err);
    if (REJECTIONS.has(name) && changes.length > 1) {
      deps.log.warn('Route53 rejected a batch; isolating the rejected changes', { hostedZoneId: zoneId, changes: changes.length, detail: message });
      const mid = Math.ceil(changes.length / 2);
      await applyIsolating(deps, zoneId, changes.slice(0, mid), failures, keyOf);
      await applyIsolating(deps, zoneId, changes.slice(mid), failures, keyOf);
      return;
    }
    const single = changes.length === 1 ? changes[0] : undefined;
    if (single?.action === 'DELETE' && REJECTIONS.has(name) && /not found/i.test(message)) {
      deps.log.info('record was already deleted', { taskId: single.taskId, name: single.record.Name });
      return;
    }
    for (const c of changes) {
      failures.set(keyOf(c), `${name}: ${message}`);
    }
  }
}

/**
 * Closes the race between confirming that a task runs and writing its record: a stop handled in the
 * meantime (by a concurrent invocation) found no record to delete, so the record just written would
 * outlive its task and point at a released address. The tasks whose records were written are described
 * again, and the records of those now stopping or gone are deleted with the values just written.
 * Returns the outcomes of those deletions (planned; `settle` decides whether they applied).
 */
async function verifyUpserts(
  deps: PipelineDeps, changes: readonly PlannedChange[], failures: ChangeFailures, redeletes: PlannedChange[] = [],
): Promise<TaskOutcome[]> {
  const written = changes.filter(c => c.action === 'UPSERT' && failureOfChange(failures, c) === undefined);
  if (written.length === 0) {
    return [];
  }
  const { config, api, log } = deps;
  const taskPrefix = config.clusterArn.replace(':cluster/', ':task/');
  let observed: Map<string, TaskObservation>;
  try {
    observed = await api.describeTasks(config.clusterArn, written.map(c => `${taskPrefix}/${c.taskId}`));
  } catch (err) {
    log.warn('could not check that the tasks just published still run; the reconciler will', { error: errorName(err), detail: errorMessage(err) });
    return [];
  }
  const byId = new Map([...observed.values()].map(o => [taskIdFromArn(o.taskArn), o] as const));
  // A gated service's task that turned UNHEALTHY meanwhile (its event handled by a concurrent invocation) is stale too.
  const stale = written.filter(c => {
    const o = byId.get(c.taskId);
    return !o || intentOf(o.lastStatus, o.desiredStatus) === 'remove' || healthWait(c.service, o.healthStatus) !== undefined;
  });
  if (stale.length === 0) {
    return [];
  }
  const deletes: PlannedChange[] = stale.map(c => ({ ...c, action: 'DELETE' }));
  redeletes.push(...deletes);
  const deleteFailures = await applyChanges(deps, deletes);
  deleteFailures.forEach((reason, key) => failures.set(key, reason));
  return deletes.flatMap(c => zonedOutcomes(config, { serviceName: c.service.serviceName, hostedZoneId: c.hostedZoneId }, [{
    taskId: c.taskId,
    service: c.service.serviceName,
    name: c.service.fqdn,
    action: 'DELETE',
    ...(c.record.Type === 'AAAA' || c.record.Type === 'SRV' ? { recordType: c.record.Type } : {}),
    ...(recordNameOf(c) !== undefined ? { recordName: recordNameOf(c) } : {}),
    outcome: 'planned',
    level: 'warn',
    reason: stillRunning(byId.get(c.taskId))
      ? 'the task stopped being HEALTHY while its record was being written; the record was removed again'
      : 'the task stopped while its record was being written; the record was removed again',
  } satisfies TaskOutcome]));
}

/** True when ECS reports the task running (not stopping nor gone). */
function stillRunning(o: TaskObservation | undefined): boolean {
  return o !== undefined && intentOf(o.lastStatus, o.desiredStatus) !== 'remove';
}

/** Turns planned outcomes into applied or failed ones. */
function settle(outcomes: readonly TaskOutcome[], failures: ChangeFailures): TaskOutcome[] {
  return outcomes.map(o => {
    if (o.outcome !== 'planned') {
      return o;
    }
    const failure = failureOf(failures, o.taskId, o.recordType, o.hostedZoneId, o.name, o.recordName);
    return failure === undefined
      ? { ...o, outcome: 'applied' }
      : { ...o, outcome: 'failed', level: 'error', reason: `Route53 did not apply the change: ${failure}` };
  });
}

/** The metric each outcome counts in (an applied change counts as an upsert or a deletion). */
const OUTCOME_METRIC: Partial<Record<TaskOutcome['outcome'], MetricName>> = {
  failed: METRIC.CHANGES_FAILED,
  ignored: METRIC.EVENTS_IGNORED,
  rejected: METRIC.TASKS_REJECTED,
  conflict: METRIC.TASKS_REJECTED,
  capacity: METRIC.CAPACITY_EXCEEDED,
};

/** Counts the outcomes as metrics. */
function countOutcomes(metrics: Metrics, outcomes: readonly TaskOutcome[]): void {
  // A task the registration refuses (resolvePublish) is one refused task however many zones refused it.
  const refused = new Set<string>();
  for (const o of outcomes) {
    if (o.outcome === 'rejected') {
      const key = `${o.service}|${o.taskId}`;
      if (refused.has(key)) {
        continue;
      }
      refused.add(key);
    }
    const name = o.outcome === 'applied'
      ? (o.action === 'DELETE' ? METRIC.RECORDS_DELETED : METRIC.RECORDS_UPSERTED)
      : OUTCOME_METRIC[o.outcome];
    if (name !== undefined) {
      metrics.add(name);
    }
  }
}
