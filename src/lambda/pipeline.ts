/**
 * The orchestration layer: runs the pure planner's steps with the observations the adapters
 * fetch in between, applies the planned changes and reports what happened. Every AWS call goes
 * through {@link DiscoveryApi}, so this module runs unchanged against fakes in unit tests.
 */
import { applyAndReport } from './apply';
import { EniObservation, PipelineDeps, PlannedChange, PublishItem, RecordSet, TaskObservation, TaskOutcome, TaskWork } from './model';
import { isMalformed, parseTaskEvent } from './parse';
import { planService } from './plan-service';
import { coalesce, confirmIntent, isOwned, planName, projectRecords, resolvePublish } from './planner';
import { errorMessage, errorName } from './telemetry';
import { MAX_RECORDS_PER_NAME, METRIC, RegisteredService } from '../shared/contract';

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
