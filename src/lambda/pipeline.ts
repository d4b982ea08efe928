/**
 * The batch pipeline: one batch of ECS Task State Change messages, in named steps:
 *
 *   parse → coalesce → confirm starts → resolve addresses → plan per name → fill freed slots → apply
 *
 * Each step runs the pure planner on what the one before it produced and on the observations it reads
 * through {@link DiscoveryApi}, so this module runs unchanged against fakes in unit tests. A task whose
 * observation or change fails is marked in the {@link Batch}, and its messages go back to the queue.
 */
import { applyAndReport } from './apply';
import { attachHealthChecks } from './health-checks';
import { EniObservation, PipelineDeps, PlannedChange, PublishItem, RecordSet, TaskEvent, TaskObservation, TaskOutcome, TaskWork } from './model';
import { isMalformed, parseTaskEvent } from './parse';
import { planService } from './plan-service';
import { Coalesced, coalesce, confirmIntent, projectRecords, Removal, resolvePublish, zonedOutcomes } from './planner';
import { ownedBy, planRegistration, readRegistrationRecords } from './task-names';
import { errorMessage, errorName } from './telemetry';
import { MAX_RECORDS_PER_NAME, METRIC, nameKey, RegisteredService } from '../shared/contract';

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

/** Processes one batch of ECS Task State Change messages. */
export async function processMessages(batchDeps: PipelineDeps, messages: readonly InboundMessage[]): Promise<BatchResult> {
  // A task published in several zones gets its one health check ensured once in the batch.
  const deps = { ...batchDeps, ensuredChecks: new Map<string, Promise<string>>() };
  const batch = new Batch();
  const events = parseMessages(deps, messages);
  const coalesced = coalesceEvents(deps, batch, events);
  const names = new NamesOfBatch();
  const confirmed = await confirmStarts(deps, batch, names, coalesced.work);
  await resolveAddresses(deps, batch, names, confirmed);
  // A stop event without a group: look for the task's record under every registered name (never the whole zone).
  if (coalesced.orphanRemovals.length > 0) {
    deps.config.services.forEach(service => names.of(service));
  }
  const { changes, fills } = await planNames(deps, batch, names, coalesced.orphanRemovals);
  await fillFreedSlots(deps, batch, changes, fills);
  return applyBatch(deps, batch, changes);
}

/** What the steps of one batch share: the outcomes so far, the messages of each task, the tasks that failed. */
class Batch {
  public readonly outcomes: TaskOutcome[] = [];
  public readonly messagesOfTask = new Map<string, string[]>();
  public readonly failedTasks = new Set<string>();

  /** Records a task as failed: its messages are handed back to the queue. */
  public fail(taskId: string, outcome: Omit<TaskOutcome, 'taskId' | 'outcome' | 'level'>): void {
    this.failedTasks.add(taskId);
    this.outcomes.push({ ...outcome, taskId, outcome: 'failed', level: 'error' });
  }

  /** A task whose read failed (one read for all its registrations): failed once, however many zones it is published in. */
  public failRead(taskId: string, outcome: Omit<TaskOutcome, 'taskId' | 'outcome' | 'level'>): void {
    if (!this.failedTasks.has(taskId)) {
      this.fail(taskId, outcome);
    }
  }
}

/** What one registered name gets in a batch. */
interface NameWork {
  readonly service: RegisteredService;
  readonly publishes: PublishItem[];
  readonly removals: Removal[];
}

/** The names a batch touches, in the order it first touched them (the order they are read in). */
class NamesOfBatch {
  private readonly byName = new Map<string, NameWork>();

  /** The work of the service's name, created empty on first use. */
  public of(service: RegisteredService): NameWork {
    // By zone and name: one name may be registered in two zones (split-horizon DNS).
    let nw = this.byName.get(nameKey(service));
    if (!nw) {
      nw = { service, publishes: [], removals: [] };
      this.byName.set(nameKey(service), nw);
    }
    return nw;
  }

  public values(): IterableIterator<NameWork> {
    return this.byName.values();
  }
}

/** A start confirmed by ECS: the work and what ECS says about the task now. */
interface ConfirmedStart {
  readonly work: TaskWork;
  readonly observed: TaskObservation;
}

/** A name that was full and frees slots in this batch, with the records it will hold once the batch applies. */
interface FreedSlots {
  readonly service: RegisteredService;
  readonly projected: RecordSet[];
}

/** Step 1, parse: a malformed message can never succeed, so it is logged and acknowledged. */
function parseMessages(deps: PipelineDeps, messages: readonly InboundMessage[]): TaskEvent[] {
  const events: TaskEvent[] = [];
  for (const m of messages) {
    const parsed = parseTaskEvent(m.messageId, m.body);
    if (isMalformed(parsed)) {
      deps.log.error('malformed message acknowledged without action', { messageId: parsed.messageId, reason: parsed.reason });
      deps.metrics.add(METRIC.EVENTS_IGNORED);
    } else {
      events.push(parsed);
    }
  }
  return events;
}

/** Step 2, coalesce: keeps the newest event per task of a registered service, and which messages spoke of each task. */
function coalesceEvents(deps: PipelineDeps, batch: Batch, events: readonly TaskEvent[]): Coalesced {
  const coalesced = coalesce(deps.config, events);
  batch.outcomes.push(...coalesced.ignored);
  for (const w of coalesced.work) {
    batch.messagesOfTask.set(w.event.taskId, w.messageIds);
  }
  for (const o of coalesced.orphanRemovals) {
    batch.messagesOfTask.set(o.event.taskId, o.messageIds);
  }
  return coalesced;
}

/**
 * Step 3, confirm starts with ECS: a start ECS does not confirm becomes a removal; a stop is a removal
 * as it stands. Returns the confirmed starts.
 */
async function confirmStarts(deps: PipelineDeps, batch: Batch, names: NamesOfBatch, work: readonly TaskWork[]): Promise<ConfirmedStart[]> {
  const { config, api, log } = deps;
  const toPublish = work.filter(w => w.intent === 'publish');
  let tasks = new Map<string, TaskObservation>();
  if (toPublish.length > 0) {
    try {
      // A service published in several zones has one work item per zone: each task is described once.
      tasks = await api.describeTasks(config.clusterArn, [...new Set(toPublish.map(w => w.event.taskArn))]);
    } catch (err) {
      log.error('DescribeTasks failed; the batch\'s start events will be retried', { error: errorName(err), detail: errorMessage(err) });
      toPublish.forEach(w => batch.failRead(w.event.taskId, { service: w.service.serviceName, name: w.service.fqdn, action: 'UPSERT', reason: `DescribeTasks failed: ${errorName(err)}` }));
    }
  }
  const confirmed: ConfirmedStart[] = [];
  for (const w of work) {
    if (batch.failedTasks.has(w.event.taskId)) {
      continue;
    }
    const observed = tasks.get(w.event.taskArn);
    const decision = confirmIntent(w, observed);
    if (decision.intent === 'remove') {
      names.of(w.service).removals.push({ taskId: w.event.taskId, reason: decision.reason, ...(decision.unhealthy ? { unhealthy: true } : {}) });
    } else {
      confirmed.push({ work: w, observed: observed! });
    }
  }
  return confirmed;
}

/** The ENI of a confirmed start: what ECS says now, else what the event said. */
function eniOf(c: ConfirmedStart): string | undefined {
  return c.observed.eniId ?? c.work.event.eniId;
}

/** Step 4, resolve addresses: reads the ENIs of the confirmed starts and decides each task's record values. */
async function resolveAddresses(deps: PipelineDeps, batch: Batch, names: NamesOfBatch, confirmed: readonly ConfirmedStart[]): Promise<void> {
  const { api, log } = deps;
  let enis = new Map<string, EniObservation>();
  const eniIds = [...new Set(confirmed.map(eniOf).filter((id): id is string => id !== undefined))];
  if (eniIds.length > 0) {
    try {
      enis = await api.describeNetworkInterfaces(eniIds);
    } catch (err) {
      log.error('DescribeNetworkInterfaces failed; the batch\'s start events will be retried', { error: errorName(err), detail: errorMessage(err) });
      confirmed.forEach(c => batch.failRead(c.work.event.taskId, { service: c.work.service.serviceName, name: c.work.service.fqdn, action: 'UPSERT', reason: `DescribeNetworkInterfaces failed: ${errorName(err)}` }));
    }
  }
  for (const c of confirmed) {
    const taskId = c.work.event.taskId;
    if (batch.failedTasks.has(taskId)) {
      continue;
    }
    const eniId = eniOf(c);
    const resolution = resolvePublish(c.work.service, taskId, eniId ? enis.get(eniId) : undefined, c.observed.tags);
    if (resolution.ok) {
      resolution.warnings.forEach(reason => log.warn('task published from its registration', { taskId, service: c.work.service.serviceName, reason }));
      names.of(c.work.service).publishes.push(resolution.item);
    } else {
      batch.outcomes.push(...zonedOutcomes(deps.config, c.work.service, [resolution.outcome]));
    }
  }
}

/**
 * Step 5, plan per name: reads the records of every name the batch touches and plans its changes. Orphan
 * stops are matched to a name by the set identifier of an owned record. Names that were full and free
 * slots are returned for {@link fillFreedSlots}.
 */
async function planNames(
  deps: PipelineDeps, batch: Batch, names: NamesOfBatch, orphanRemovals: Coalesced['orphanRemovals'],
): Promise<{ changes: PlannedChange[]; fills: FreedSlots[] }> {
  const { api, log } = deps;
  const changes: PlannedChange[] = [];
  const fills: FreedSlots[] = [];
  for (const nw of names.values()) {
    let records: RecordSet[];
    try {
      records = await readRegistrationRecords(api, nw.service);
    } catch (err) {
      log.error('ListResourceRecordSets failed; events for this name will be retried', { name: nw.service.fqdn, error: errorName(err), detail: errorMessage(err) });
      // An orphan stop's record may be under this name: its messages must be retried too.
      // A failure of one zone: its outcomes name the zone when the service has several.
      const [failure] = zonedOutcomes<Omit<TaskOutcome, 'taskId' | 'outcome' | 'level'>>(deps.config, nw.service, [{
        service: nw.service.serviceName, name: nw.service.fqdn, action: 'SKIP', reason: `ListResourceRecordSets failed: ${errorName(err)}`,
      }]);
      [...nw.publishes, ...nw.removals, ...orphanRemovals.map(o => ({ taskId: o.event.taskId }))].forEach(i => batch.fail(i.taskId, failure));
      continue;
    }
    const owns = ownedBy(nw.service);
    for (const o of orphanRemovals) {
      if (records.some(r => owns(r) && r.SetIdentifier === o.event.taskId)) {
        nw.removals.push({ taskId: o.event.taskId, reason: 'found by set identifier; the event named no service' });
      }
    }
    // Each task's health check exists before its records name it (a no-op without `healthCheck`).
    const attached = await attachHealthChecks(deps, nw.service, records, nw.publishes);
    attached.failed.forEach(({ taskId, ...o }) => batch.fail(taskId, o));
    const plan = planRegistration(nw.service, records, attached.items, nw.removals);
    changes.push(...plan.changes);
    batch.outcomes.push(...zonedOutcomes(deps.config, nw.service, plan.outcomes));
    if (plan.ownedBefore >= MAX_RECORDS_PER_NAME && plan.changes.some(c => c.action === 'DELETE')) {
      fills.push({ service: nw.service, projected: projectRecords(records, plan.changes) });
    }
  }
  for (const o of orphanRemovals) {
    if (!changes.some(c => c.taskId === o.event.taskId) && !batch.failedTasks.has(o.event.taskId)) {
      batch.outcomes.push({ taskId: o.event.taskId, action: 'DELETE', outcome: 'unchanged', reason: 'no record under any registered name', level: 'info' });
    }
  }
  return { changes, fills };
}

/**
 * Step 6, fill freed slots: a removal at a full name frees slots, so the waiting tasks are planned into
 * them now, from the records the name will hold once this batch applies, and go out in the same change
 * request. Adds to `changes`.
 */
async function fillFreedSlots(deps: PipelineDeps, batch: Batch, changes: PlannedChange[], fills: readonly FreedSlots[]): Promise<void> {
  for (const fill of fills) {
    deps.log.info('slots free at a full name; publishing waiting tasks in the same change request', { service: fill.service.serviceName, name: fill.service.fqdn });
    try {
      const plan = await planService(deps, fill.service, fill.projected, true);
      changes.push(...plan.changes);
      // Only the tasks that get a slot are reported here; the others keep the outcome of their own event.
      batch.outcomes.push(...plan.outcomes.filter(o => o.outcome === 'planned'));
    } catch (err) {
      deps.log.warn('could not fill the freed slots now; the reconciler will', { service: fill.service.serviceName, error: errorName(err), detail: errorMessage(err) });
    }
  }
}

/**
 * Step 7, apply: isolating whatever Route53 rejects, then making sure no record outlives its task; the
 * messages of every task that failed go back to the queue.
 */
async function applyBatch(deps: PipelineDeps, batch: Batch, changes: readonly PlannedChange[]): Promise<BatchResult> {
  const final = await applyAndReport(deps, changes, batch.outcomes, 'task outcome');
  final.filter(o => o.outcome === 'failed').forEach(o => batch.failedTasks.add(o.taskId));
  const failedMessageIds = [...batch.failedTasks].flatMap(taskId => batch.messagesOfTask.get(taskId) ?? []);
  return { failedMessageIds: [...new Set(failedMessageIds)], outcomes: final };
}
