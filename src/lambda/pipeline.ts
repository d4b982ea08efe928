/**
 * The orchestration layer: runs the pure planner's steps with the observations the adapters
 * fetch in between, applies the planned changes and reports what happened. Every AWS call goes
 * through {@link DiscoveryApi}, so this module runs unchanged against fakes in unit tests.
 */
import { applyAndReport, applyChanges } from './apply';
import { EniObservation, PipelineDeps, PlannedChange, PublishItem, RecordSet, TaskObservation, TaskOutcome, TaskWork } from './model';
import { isMalformed, parseTaskEvent } from './parse';
import { coalesce, confirmIntent, isOwned, planName, projectRecords, resolvePublish } from './planner';
import { errorMessage, errorName } from './telemetry';
import { LifecycleName, MAX_RECORDS_PER_NAME, METRIC, RegisteredService, taskIdFromArn } from '../shared/contract';

/** One delivered message: its id (for partial batch failures) and its body. */
export interface InboundMessage {
  readonly messageId: string;
  readonly body: unknown;
}

/** Result of {@link processMessages}. */
export interface BatchResult {
  /** Messages to hand back to the queue for another attempt. */
  readonly failedMessageIds: string[];
  /** The fate of every task the batch spoke of. */
  readonly outcomes: TaskOutcome[];
}

/** Result of {@link reconcile}. */
export interface ReconcileSummary {
  readonly services: number;
  /** Services left for a later run because the invocation's time ran short. */
  readonly skipped?: number;
  readonly upserted: number;
  readonly deleted: number;
  readonly failed: number;
  readonly failedServices: string[];
}

interface NameWork {
  readonly service: RegisteredService;
  readonly publishes: PublishItem[];
  readonly removals: Array<{ taskId: string; reason?: string }>;
}

/** Processes one batch of ECS Task State Change messages. */
export async function processMessages(deps: PipelineDeps, messages: readonly InboundMessage[]): Promise<BatchResult> {
  const { config, api, log, metrics } = deps;
  const outcomes: TaskOutcome[] = [];
  const messagesOfTask = new Map<string, string[]>();
  const failedTasks = new Set<string>();
  const fail = (taskId: string, outcome: Omit<TaskOutcome, 'taskId' | 'outcome' | 'level'>) => {
    failedTasks.add(taskId);
    outcomes.push({ ...outcome, taskId, outcome: 'failed', level: 'error' });
  };

  // 1. Parse; a malformed message can never succeed, so it is logged and acknowledged.
  const events = [];
  for (const m of messages) {
    const parsed = parseTaskEvent(m.messageId, m.body);
    if (isMalformed(parsed)) {
      log.error('malformed message acknowledged without action', { messageId: parsed.messageId, reason: parsed.reason });
      metrics.add(METRIC.EVENTS_IGNORED);
    } else {
      events.push(parsed);
    }
  }

  // 2. Keep the newest event per task of a registered service.
  const { work, ignored, orphanRemovals } = coalesce(config, events);
  outcomes.push(...ignored);
  for (const w of work) {
    messagesOfTask.set(w.event.taskId, w.messageIds);
  }
  for (const o of orphanRemovals) {
    messagesOfTask.set(o.event.taskId, o.messageIds);
  }

  // 3. Confirm publications with ECS, then read their ENIs.
  const toPublish = work.filter(w => w.intent === 'publish');
  let tasks = new Map<string, TaskObservation>();
  if (toPublish.length > 0) {
    try {
      tasks = await api.describeTasks(config.clusterArn, toPublish.map(w => w.event.taskArn));
    } catch (err) {
      log.error('DescribeTasks failed; the batch\'s start events will be retried', { error: errorName(err), detail: errorMessage(err) });
      toPublish.forEach(w => fail(w.event.taskId, { service: w.service.serviceName, name: w.service.fqdn, action: 'UPSERT', reason: `DescribeTasks failed: ${errorName(err)}` }));
    }
  }

  const byName = new Map<string, NameWork>();
  const nameWork = (service: RegisteredService): NameWork => {
    let nw = byName.get(service.fqdn);
    if (!nw) {
      nw = { service, publishes: [], removals: [] };
      byName.set(service.fqdn, nw);
    }
    return nw;
  };

  const confirmed: Array<{ work: TaskWork; observed: TaskObservation }> = [];
  for (const w of work) {
    if (failedTasks.has(w.event.taskId)) {
      continue;
    }
    const observed = tasks.get(w.event.taskArn);
    const decision = confirmIntent(w, observed);
    if (decision.intent === 'remove') {
      nameWork(w.service).removals.push({ taskId: w.event.taskId, reason: decision.reason });
    } else {
      confirmed.push({ work: w, observed: observed! });
    }
  }

  const eniOf = (c: { work: TaskWork; observed: TaskObservation }) => c.observed.eniId ?? c.work.event.eniId;
  let enis = new Map<string, EniObservation>();
  const eniIds = confirmed.map(eniOf).filter((id): id is string => id !== undefined);
  if (eniIds.length > 0) {
    try {
      enis = await api.describeNetworkInterfaces(eniIds);
    } catch (err) {
      log.error('DescribeNetworkInterfaces failed; the batch\'s start events will be retried', { error: errorName(err), detail: errorMessage(err) });
      confirmed.forEach(c => fail(c.work.event.taskId, { service: c.work.service.serviceName, name: c.work.service.fqdn, action: 'UPSERT', reason: `DescribeNetworkInterfaces failed: ${errorName(err)}` }));
    }
  }
  for (const c of confirmed) {
    const taskId = c.work.event.taskId;
    if (failedTasks.has(taskId)) {
      continue;
    }
    const eniId = eniOf(c);
    const resolution = resolvePublish(c.work.service, taskId, eniId ? enis.get(eniId) : undefined, c.observed.tags);
    if (resolution.ok) {
      resolution.warnings.forEach(reason => log.warn('task published from its registration', { taskId, service: c.work.service.serviceName, reason }));
      nameWork(c.work.service).publishes.push(resolution.item);
    } else {
      outcomes.push(resolution.outcome);
    }
  }

  // A stop event without a group: look for the task's record under every registered name (never the whole zone).
  if (orphanRemovals.length > 0) {
    config.services.forEach(nameWork);
  }

  // 4. Read the records of every affected name and plan.
  const changes: PlannedChange[] = [];
  const fills: Array<{ service: RegisteredService; projected: RecordSet[] }> = [];
  for (const nw of byName.values()) {
    let records: RecordSet[];
    try {
      records = await api.listRecordsAt(nw.service.hostedZoneId, nw.service.fqdn);
    } catch (err) {
      log.error('ListResourceRecordSets failed; events for this name will be retried', { name: nw.service.fqdn, error: errorName(err), detail: errorMessage(err) });
      // An orphan stop's record may be under this name: its messages must be retried too.
      [...nw.publishes, ...nw.removals, ...orphanRemovals.map(o => ({ taskId: o.event.taskId }))].forEach(i => fail(i.taskId, { service: nw.service.serviceName, name: nw.service.fqdn, action: 'SKIP', reason: `ListResourceRecordSets failed: ${errorName(err)}` }));
      continue;
    }
    for (const o of orphanRemovals) {
      if (records.some(r => isOwned(r, nw.service.fqdn) && r.SetIdentifier === o.event.taskId)) {
        nw.removals.push({ taskId: o.event.taskId, reason: 'found by set identifier; the event named no service' });
      }
    }
    const plan = planName(nw.service, records, nw.publishes, nw.removals);
    changes.push(...plan.changes);
    outcomes.push(...plan.outcomes);
    if (plan.ownedBefore >= MAX_RECORDS_PER_NAME && plan.changes.some(c => c.action === 'DELETE')) {
      fills.push({ service: nw.service, projected: projectRecords(records, plan.changes) });
    }
  }
  for (const o of orphanRemovals) {
    if (!changes.some(c => c.taskId === o.event.taskId) && !failedTasks.has(o.event.taskId)) {
      outcomes.push({ taskId: o.event.taskId, action: 'DELETE', outcome: 'unchanged', reason: 'no record under any registered name', level: 'info' });
    }
  }

  // 5. A removal at a full name frees slots: plan the waiting tasks into them now, from the records
  //    the name will hold once this batch applies, so that they go out in the same change request.
  for (const fill of fills) {
    log.info('slots free at a full name; publishing waiting tasks in the same change request', { service: fill.service.serviceName, name: fill.service.fqdn });
    try {
      const plan = await planService(deps, fill.service, fill.projected, true);
      changes.push(...plan.changes);
      // Only the tasks that get a slot are reported here; the others keep the outcome of their own event.
      outcomes.push(...plan.outcomes.filter(o => o.outcome === 'planned'));
    } catch (err) {
      log.warn('could not fill the freed slots now; the reconciler will', { service: fill.service.serviceName, error: errorName(err), detail: errorMessage(err) });
    }
  }

  // 6. Apply, isolating whatever Route53 rejects, then make sure no record outlives its task.
  const final = await applyAndReport(deps, changes, outcomes, 'task outcome');
  final.filter(o => o.outcome === 'failed').forEach(o => failedTasks.add(o.taskId));

  const failedMessageIds = [...failedTasks].flatMap(taskId => messagesOfTask.get(taskId) ?? []);
  return { failedMessageIds: [...new Set(failedMessageIds)], outcomes: final };
}

/** Options of {@link reconcile}. */
export interface ReconcileOptions {
  /** Milliseconds left for the work; no further service is started once fewer than `reserveMs` remain. */
  readonly remainingMs?: () => number;
  /** Time kept free for applying the changes and answering (default 15 s). */
  readonly reserveMs?: number;
}

/**
 * Converges the records of the given services (all registered ones by default) on their running
 * tasks: adds missing records, deletes records of tasks that are gone, fixes wrong values. When time
 * runs short, the services not reached are left for a later run (counted in `skipped`).
 */
export async function reconcile(
  deps: PipelineDeps, services: readonly RegisteredService[] = deps.config.services, options: ReconcileOptions = {},
): Promise<ReconcileSummary> {
  const { log, metrics } = deps;
  const changes: PlannedChange[] = [];
  const outcomes: TaskOutcome[] = [];
  const failedServices: string[] = [];
  let reached = 0;
  for (const service of services) {
    if (options.remainingMs && options.remainingMs() < (options.reserveMs ?? 15_000)) {
      break;
    }
    reached++;
    try {
      const plan = await planService(deps, service);
      changes.push(...plan.changes);
      // A refused task is refused again at every run for as long as it runs: its start event logged it at
      // error level once; here it is counted and summed up in one warning per service instead of one line per task.
      const refused = plan.outcomes.filter(o => o.outcome === 'rejected');
      outcomes.push(...plan.outcomes.filter(o => o.outcome !== 'rejected'));
      reportRefused(deps, service, refused);
    } catch (err) {
      failedServices.push(service.serviceName);
      log.error('reconciliation of a service failed; it is retried at the next run', { service: service.serviceName, error: errorName(err), detail: errorMessage(err) });
    }
  }
  const skipped = services.length - reached;
  if (skipped > 0) {
    log.warn('time ran short: services left for the next reconciliation', { skipped, services: services.slice(reached).map(s => s.serviceName).slice(0, 20) });
  }

  const final = await applyAndReport(deps, changes, outcomes, 'reconciler outcome');
  let upserted = 0;
  let deleted = 0;
  let failed = 0;
  for (const o of final) {
    if (o.outcome === 'applied') {
      metrics.add(METRIC.DRIFT_REPAIRED);
      upserted += o.action === 'UPSERT' ? 1 : 0;
      deleted += o.action === 'DELETE' ? 1 : 0;
    }
    failed += o.outcome === 'failed' ? 1 : 0;
  }
  // A service that could not be reconciled is a failure too: its drift stays until a later run.
  metrics.add(METRIC.CHANGES_FAILED, failedServices.length);
  const summary = { services: services.length, skipped, upserted, deleted, failed, failedServices };
  log.log(failedServices.length > 0 ? 'error' : 'info', 'reconciliation finished', { ...summary });
  return summary;
}

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
}

/**
 * Past this many names in one zone, the zone is read page by page (300 records each) instead of name by
 * name, as long as that takes fewer requests: Route53 answers 5 requests per second per account.
 */
const ZONE_SCAN_MIN_NAMES = 10;

/**
 * Deletes every record this library owns at the given names (see "Ownership" in docs/design.md) and
 * nothing else: the names are read, their owned records are deleted with their exact values (one request
 * per zone and write group), and the names that had records are read again, so that a record written, or
 * changed, meanwhile is deleted too. Work stops in time to answer: a name that could not be cleared, or
 * was not reached, is reported, never skipped silently.
 */
export async function purgeNames(
  deps: Pick<PipelineDeps, 'api' | 'log' | 'metrics'>, names: readonly LifecycleName[], options: PurgeOptions = {},
): Promise<PurgeSummary> {
  const { log, metrics } = deps;
  const failures = new Map<string, LifecycleName & { reason: string }>();
  const key = (n: Pick<LifecycleName, 'hostedZoneId' | 'fqdn'>) => `${n.hostedZoneId}|${n.fqdn}`;
  const outOfTime = () => options.remainingMs !== undefined && options.remainingMs() < (options.reserveMs ?? 10_000);
  let deleted = 0;
  let pending = [...new Map(names.map(n => [key(n), n] as const)).values()];
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
      };
      for (const record of records.get(key(name)) ?? []) {
        changes.push({ action: 'DELETE', hostedZoneId: name.hostedZoneId, record, taskId: record.SetIdentifier as string, service });
      }
    }
    if (changes.length === 0) {
      break;
    }
    const changeFailures = await applyChanges(deps, changes);
    for (const c of changes) {
      const reason = changeFailures.get(c.taskId);
      if (reason === undefined) {
        deleted++;
        metrics.add(METRIC.RECORDS_DELETED);
        log.info('record deleted with its registration', { taskId: c.taskId, name: c.service.fqdn, service: c.service.serviceName, action: 'DELETE', outcome: 'applied' });
      } else {
        metrics.add(METRIC.CHANGES_FAILED);
        failures.set(key(c.service), {
          hostedZoneId: c.hostedZoneId,
          fqdn: c.service.fqdn,
          serviceName: c.service.serviceName,
          writeGroup: c.service.writeGroup,
          reason: `ChangeResourceRecordSets failed: ${reason}`,
        });
      }
    }
    // Read the names that had records once more: a record written or changed meanwhile (a task event handled
    // concurrently, a DELETE refused because the values moved) is deleted by the second pass.
    const touched = new Set(changes.map(c => key(c.service)));
    pending = listed.filter(n => touched.has(key(n)));
  }
  return { deleted, failures: [...failures.values()] };
}

/**
 * Reads the owned records of the names: zone by zone, the whole zone when that is cheaper, else name by
 * name. Names not read (an error, or no time left) are entered in `failures`; names read are cleared there.
 */
async function readNames(
  deps: Pick<PipelineDeps, 'api' | 'log'>, names: readonly LifecycleName[],
  failures: Map<string, LifecycleName & { reason: string }>, outOfTime: () => boolean, reportUnreached: boolean,
): Promise<{ records: Map<string, RecordSet[]>; listed: LifecycleName[] }> {
  const key = (n: Pick<LifecycleName, 'hostedZoneId' | 'fqdn'>) => `${n.hostedZoneId}|${n.fqdn}`;
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
            records.set(key(n), all.filter(r => isOwned(r, n.fqdn)));
            listed.push(n);
            failures.delete(key(n));
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
          failures.set(key(n), { ...n, reason: 'not reached before the function\'s time ran out' });
        }
        continue;
      }
      try {
        records.set(key(n), (await deps.api.listRecordsAt(zone, n.fqdn)).filter(r => isOwned(r, n.fqdn)));
        listed.push(n);
        failures.delete(key(n));
      } catch (err) {
        failures.set(key(n), { ...n, reason: `ListResourceRecordSets failed: ${errorName(err)}: ${errorMessage(err)}` });
      }
    }
  }
  return { records, listed };
}

/** Most refused tasks named in the reconciler's summary line; the count covers them all. */
export const REFUSED_TASKS_LOGGED = 20;

/** Counts the tasks the reconciler refused (`TasksRejected`) and logs them as one warning line. */
function reportRefused(deps: PipelineDeps, service: RegisteredService, refused: readonly TaskOutcome[]): void {
  if (refused.length === 0) {
    return;
  }
  deps.metrics.add(METRIC.TASKS_REJECTED, refused.length);
  deps.log.warn('tasks refused by the registration', {
    service: service.serviceName,
    name: service.fqdn,
    count: refused.length,
    tasks: refused.slice(0, REFUSED_TASKS_LOGGED).map(o => ({ taskId: o.taskId, reason: o.reason })),
    ...(refused.length > REFUSED_TASKS_LOGGED ? { tasksNotListed: refused.length - REFUSED_TASKS_LOGGED } : {}),
  });
}

/**
 * Plans what converges one service's name on its running tasks: records for running tasks that
 * lack one (existing holders first, so a full name does not churn), deletions of owned records no
 * running task holds, corrections of wrong values. `records` are the name's records when the
 * caller already knows them (or knows what they will be); otherwise they are listed. With `fillOnly`,
 * only records for running tasks are planned, never a deletion.
 */
async function planService(
  deps: PipelineDeps, service: RegisteredService, records?: readonly RecordSet[], fillOnly = false,
): Promise<{ changes: PlannedChange[]; outcomes: TaskOutcome[] }> {
  const { config, api } = deps;
  // Records are read before the tasks: a record published after this listing is not seen, so it cannot be
  // mistaken for the record of a task that is not running yet when the tasks are read.
  const current = records ?? await api.listRecordsAt(service.hostedZoneId, service.fqdn);
  const arns = await api.listServiceTasks(config.clusterArn, service.serviceName);
  const tasks = arns.length > 0 ? await api.describeTasks(config.clusterArn, arns) : new Map<string, TaskObservation>();
  const running = [...tasks.values()].filter(t => t.lastStatus === 'RUNNING' && t.desiredStatus === 'RUNNING'
    && t.group === `service:${service.serviceName}`);
  const eniIds = running.map(t => t.eniId).filter((id): id is string => id !== undefined);
  const enis = eniIds.length > 0 ? await api.describeNetworkInterfaces(eniIds) : new Map<string, EniObservation>();

  const outcomes: TaskOutcome[] = [];
  const publishes: PublishItem[] = [];
  for (const t of running) {
    const taskId = taskIdFromArn(t.taskArn);
    const resolution = resolvePublish(service, taskId, t.eniId ? enis.get(t.eniId) : undefined, t.tags);
    if (resolution.ok) {
      publishes.push(resolution.item);
    } else {
      outcomes.push(resolution.outcome);
    }
  }
  const holding = new Set(current.filter(r => isOwned(r, service.fqdn)).map(r => r.SetIdentifier as string));
  publishes.sort((a, b) => Number(holding.has(b.taskId)) - Number(holding.has(a.taskId)) || a.taskId.localeCompare(b.taskId));
  const wanted = new Set(publishes.map(p => p.taskId));
  // Filling freed slots only adds: deleting records is left to the events and the reconciler, so the fill
  // can never undo a change of the batch it joins (ListTasks may not list a task that just started).
  const removals = fillOnly ? [] : [...holding].filter(id => !wanted.has(id))
    .map(taskId => ({ taskId, reason: 'no running task of the service holds it (reconciler)' }));
  const plan = planName(service, current, publishes, removals);
  outcomes.push(...plan.outcomes.filter(o => o.outcome !== 'unchanged'));
  return { changes: plan.changes, outcomes };
}
