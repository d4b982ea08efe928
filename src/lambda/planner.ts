/**
 * The pure planner: parsed events and observations in, Route53 changes and per-task outcomes out.
 * No I/O, no clock, no randomness: every function here is deterministic and unit-tested.
 */
import {
  EniObservation, Intent, PlannedChange, PublishItem, RecordSet, STOPPING_STATUSES, TaskEvent, TaskObservation, TaskOutcome, TaskWork,
} from './model';
import {
  DEFAULT_RECORD_TYPES, MAX_RECORDS_PER_NAME, MAX_TTL_SECONDS, RecordType, recordTypesOf, RegisteredService, TAG_NAME, TAG_TTL, DiscoveryConfig,
} from '../shared/contract';
import { normalizeName } from '../shared/dns-name';

/** What a task's statuses ask for, or undefined when they are neither a start nor a stop. */
export function intentOf(lastStatus: string | undefined, desiredStatus: string | undefined): Intent | undefined {
  if (desiredStatus === 'STOPPED' || (lastStatus !== undefined && STOPPING_STATUSES.has(lastStatus))) {
    return 'remove';
  }
  if (lastStatus === 'RUNNING' && desiredStatus === 'RUNNING') {
    return 'publish';
  }
  return undefined;
}

/**
 * Every registration of the service a task group (`service:<name>`) belongs to: one per hosted zone (and
 * name) the service is published in.
 */
export function servicesOfGroup(config: DiscoveryConfig, group: string | undefined): RegisteredService[] {
  if (group === undefined || !group.startsWith('service:')) {
    return [];
  }
  const serviceName = group.slice('service:'.length);
  return config.services.filter(s => s.serviceName === serviceName);
}

/**
 * Why a running task of a service published only when healthy (`publishWhenHealthy`) gets no record now, or
 * undefined when it may have one: every task of an ungated service, and a gated service's task that ECS
 * reports HEALTHY. Only what ECS answers (DescribeTasks) is given here, never the event's own health status.
 */
export function healthWait(service: RegisteredService, healthStatus: string | undefined): string | undefined {
  if (service.publishWhenHealthy !== true || healthStatus === 'HEALTHY') {
    return undefined;
  }
  return `waiting for ECS to report the task HEALTHY (healthStatus ${healthStatus ?? 'UNKNOWN'})`;
}

/**
 * The outcomes of one registration, each naming its hosted zone when its service has more than one
 * registration (it is published in several zones: a task's change in one zone then succeeds or fails apart
 * from its change in another); as they are otherwise, so the outcomes of a service of one zone read as before.
 */
export function zonedOutcomes<T extends Partial<TaskOutcome>>(
  config: DiscoveryConfig, service: Pick<RegisteredService, 'serviceName' | 'hostedZoneId'>, outcomes: T[],
): T[] {
  const registrations = config.services.filter(s => s.serviceName === service.serviceName).length;
  return registrations > 1 ? outcomes.map(o => ({ ...o, hostedZoneId: service.hostedZoneId })) : outcomes;
}

/** Result of {@link coalesce}. */
export interface Coalesced {
  /** One entry per task, in the order tasks first appeared. */
  readonly work: TaskWork[];
  /** Tasks (events) ignored on purpose. */
  readonly ignored: TaskOutcome[];
  /** Stop events whose service cannot be known from the event: their record is searched under every registered name. */
  readonly orphanRemovals: Array<{ event: TaskEvent; messageIds: string[] }>;
}

/**
 * Drops events this construct does not handle and keeps, per task, the event with the highest
 * `detail.version` (a stop wins a tie, the safe side). Every message that spoke of a task is
 * attached to the task's work so that its success or failure is reported for all of them.
 */
export function coalesce(config: DiscoveryConfig, events: readonly TaskEvent[]): Coalesced {
  const newest = new Map<string, { event: TaskEvent; messageIds: string[] }>();
  const ignored: TaskOutcome[] = [];
  for (const event of events) {
    if (event.clusterArn !== config.clusterArn) {
      ignored.push(ignore(event, `task of another cluster (${event.clusterArn})`));
      continue;
    }
    const seen = newest.get(event.taskArn);
    if (!seen) {
      newest.set(event.taskArn, { event, messageIds: [event.messageId] });
      continue;
    }
    seen.messageIds.push(event.messageId);
    if (isNewer(event, seen.event)) {
      seen.event = event;
    }
  }

  const work: TaskWork[] = [];
  const orphanRemovals: Coalesced['orphanRemovals'] = [];
  for (const { event, messageIds } of newest.values()) {
    const intent = intentOf(event.lastStatus, event.desiredStatus);
    if (intent === undefined) {
      ignored.push(ignore(event, `neither a start nor a stop (lastStatus ${event.lastStatus}, desiredStatus ${event.desiredStatus})`));
      continue;
    }
    const services = servicesOfGroup(config, event.group);
    if (services.length > 0) {
      // One work item per registration: a service published in several zones is handled in each.
      services.forEach(service => work.push({ event, service, intent, messageIds }));
    } else if (event.group === undefined && intent === 'remove') {
      orphanRemovals.push({ event, messageIds });
    } else {
      ignored.push({ ...ignore(event, `task of a service not registered with addService (group ${JSON.stringify(event.group ?? null)})`), level: 'warn' });
    }
  }
  return { work, ignored, orphanRemovals };
}

function isNewer(a: TaskEvent, b: TaskEvent): boolean {
  if (a.version !== b.version) {
    return a.version > b.version;
  }
  return intentOf(a.lastStatus, a.desiredStatus) === 'remove' && intentOf(b.lastStatus, b.desiredStatus) !== 'remove';
}

function ignore(event: TaskEvent, reason: string): TaskOutcome {
  return { taskId: event.taskId, action: 'SKIP', outcome: 'ignored', reason, level: 'info' };
}

/**
 * Confirms a publish intent against what ECS says now. A task ECS no longer knows, or that is
 * stopping, must not get a record: this keeps a late or replayed RUNNING event from resurrecting
 * the record of a stopped task.
 */
export function confirmIntent(work: TaskWork, observed: TaskObservation | undefined): { intent: Intent; reason?: string; unhealthy?: boolean } {
  if (work.intent === 'remove') {
    return { intent: 'remove' };
  }
  if (!observed) {
    return { intent: 'remove', reason: 'ECS no longer knows the task' };
  }
  if (intentOf(observed.lastStatus, observed.desiredStatus) === 'remove') {
    return { intent: 'remove', reason: `ECS reports the task as ${observed.lastStatus}/${observed.desiredStatus}` };
  }
  // The group is taken from ECS, not from the message: a forged message cannot lend a task another service's name.
  const group = `service:${work.service.serviceName}`;
  if (observed.group !== group) {
    return { intent: 'remove', reason: `ECS reports the task in group ${JSON.stringify(observed.group ?? null)}, not ${group}` };
  }
  // A gated service's running task that ECS does not report HEALTHY keeps no record; it is not refused.
  const wait = healthWait(work.service, observed.healthStatus);
  if (wait !== undefined) {
    return { intent: 'remove', reason: wait, unhealthy: true };
  }
  return { intent: 'publish' };
}

/** Result of {@link resolvePublish}: the record values, or why the task gets none. */
export type PublishResolution =
  | { readonly ok: true; readonly item: PublishItem; readonly warnings: string[] }
  | { readonly ok: false; readonly outcome: TaskOutcome };

/**
 * Decides a running task's record values from its ENI (the public address) and the task's own tags
 * (what ECS propagated from the service; never the ENI's, which anyone with `ec2:CreateTags` may
 * write). The registration is the authority; tags are untrusted input that must agree with it.
 */
export function resolvePublish(
  service: RegisteredService, taskId: string, eni: EniObservation | undefined, taskTags: Readonly<Record<string, string>>,
): PublishResolution {
  const reject = (outcome: TaskOutcome['outcome'], reason: string, level: TaskOutcome['level'] = 'error'): PublishResolution => ({
    ok: false,
    outcome: { taskId, service: service.serviceName, name: service.fqdn, action: 'SKIP', outcome, reason, level },
  });
  if (!eni) {
    return reject('ignored', 'the task\'s network interface no longer exists (the task is stopping)', 'warn');
  }
  const types = recordTypesOf(service);
  const wantsA = types.includes('A');
  const wantsAAAA = types.includes('AAAA');
  // A private zone's A records hold the ENI's private address (split-horizon DNS), which every ENI has.
  const scoped = service.addressScope === 'private';
  if (wantsA && scoped && !eni.privateIp) {
    return reject('rejected', `network interface ${eni.eniId} has no private IPv4 address to publish in the private zone`);
  }
  if (wantsA && !scoped && !eni.publicIp) {
    return reject('rejected', `network interface ${eni.eniId} has no public IPv4 address: set assignPublicIp on the service and use a public subnet`);
  }
  if (!wantsA && !eni.ipv6Address) {
    return reject('rejected', `network interface ${eni.eniId} has no IPv6 address, and the service publishes IPv6 only: place the service in `
      + 'subnets with an IPv6 CIDR block that assign IPv6 addresses on creation (AssignIpv6AddressOnCreation)');
  }
  const warnings: string[] = [];
  if (wantsA && wantsAAAA && !eni.ipv6Address) {
    warnings.push(`network interface ${eni.eniId} has no IPv6 address; the dual-stack task is published with its A record only `
      + '(give the service\'s subnets an IPv6 CIDR block that assigns IPv6 addresses on creation)');
  }
  const nameTag = taskTags[TAG_NAME];
  if (nameTag === undefined) {
    warnings.push(`the task does not carry the ${TAG_NAME} tag; published from the service registration (check the service's propagateTags)`);
  } else if (nameTag !== service.name) {
    return reject('rejected', `${TAG_NAME} tag ${JSON.stringify(nameTag)} does not match the name registered for service ${service.serviceName} (${JSON.stringify(service.name)})`);
  }
  const ttlTag = taskTags[TAG_TTL];
  if (ttlTag !== undefined) {
    if (!/^\d{1,10}$/.test(ttlTag) || Number(ttlTag) > MAX_TTL_SECONDS) {
      return reject('rejected', `${TAG_TTL} tag ${JSON.stringify(ttlTag)} is not a whole number of seconds in 0..${MAX_TTL_SECONDS}`);
    }
    if (Number(ttlTag) !== service.ttl) {
      warnings.push(`${TAG_TTL} tag ${ttlTag} differs from the registered TTL ${service.ttl}; the registered TTL is used`);
    }
  }
  const item: PublishItem = {
    taskId,
    ...(wantsA ? (scoped ? { privateIp: eni.privateIp } : { publicIp: eni.publicIp }) : {}),
    ...(wantsAAAA && eni.ipv6Address ? { ipv6Address: eni.ipv6Address } : {}),
    ttl: service.ttl,
  };
  return { ok: true, item, warnings };
}

/**
 * True when this library owns the record (see "Ownership" in docs/design.md): at the registered name, of a
 * type the registration publishes (`A` unless given), with a set identifier and multi-value answer routing.
 */
export function isOwned(record: RecordSet, fqdn: string, types: readonly string[] = DEFAULT_RECORD_TYPES): boolean {
  return normalizeName(record.Name) === fqdn && types.includes(record.Type) && typeof record.SetIdentifier === 'string'
    && record.SetIdentifier !== '' && record.MultiValueAnswer === true;
}

/**
 * A record at the name that would make Route53 refuse (or would be shadowed by) our multi-value records of
 * the given types: a record of one of those types that is not ours, or a CNAME.
 */
export function conflictOf(records: readonly RecordSet[], fqdn: string, types: readonly string[] = DEFAULT_RECORD_TYPES): RecordSet | undefined {
  return records.find(r => normalizeName(r.Name) === fqdn && !isOwned(r, fqdn, types) && (types.includes(r.Type) || r.Type === 'CNAME'));
}

/** The value a task's record of the given type holds, or undefined when the task has no such address. */
export function addressOf(item: PublishItem, type: RecordType): string | undefined {
  return type === 'A' ? item.privateIp ?? item.publicIp : item.ipv6Address;
}

/** The record of the given type (A unless given) a task should have. */
export function desiredRecord(service: RegisteredService, item: PublishItem, type: RecordType = 'A'): RecordSet {
  return {
    Name: service.fqdn,
    Type: type,
    SetIdentifier: item.taskId,
    MultiValueAnswer: true,
    TTL: item.ttl,
    ResourceRecords: [{ Value: addressOf(item, type) ?? '' }],
    ...(item.healthCheckId !== undefined ? { HealthCheckId: item.healthCheckId } : {}),
  };
}

function sameValues(record: RecordSet, item: PublishItem, type: RecordType): boolean {
  const values = record.ResourceRecords ?? [];
  // A record whose health check is not the task's (or that has one the task should not have) has drifted.
  return record.TTL === item.ttl && values.length === 1 && values[0].Value === addressOf(item, type)
    && record.HealthCheckId === item.healthCheckId;
}

/** A task whose records go: it stopped, or (`unhealthy`) it runs but ECS does not report it HEALTHY. */
export interface Removal {
  readonly taskId: string;
  readonly reason?: string;
  /** A running task of a gated service that is not HEALTHY: with no record, it is ignored (one SKIP outcome), not a stop. */
  readonly unhealthy?: boolean;
}

/** Result of {@link planName}. */
export interface NamePlan {
  readonly changes: PlannedChange[];
  readonly outcomes: TaskOutcome[];
  /** Owned records at the name before the plan. */
  readonly ownedBefore: number;
  /** Owned records at the name once the plan is applied. */
  readonly ownedAfter: number;
}

/**
 * Plans the changes for one registered name from the records it holds now.
 *
 * - a removal deletes the task's owned record with its exact current values, or does nothing when it is gone;
 * - a publication upserts the task's record unless an identical one exists; a new record is only added while
 *   the name holds fewer than {@link MAX_RECORDS_PER_NAME} owned records;
 * - a name holding a record this library does not own is never written to (removals of owned records still go).
 */
export function planName(
  service: RegisteredService,
  records: readonly RecordSet[],
  publishes: readonly PublishItem[],
  removals: ReadonlyArray<Removal>,
  capacity: number = MAX_RECORDS_PER_NAME,
): NamePlan {
  const fqdn = service.fqdn;
  const types = recordTypesOf(service);
  // Route53 counts the records of a name per type: each type is planned on its own.
  const owned = new Map<RecordType, Map<string, RecordSet>>(types.map(t => [t, new Map()]));
  for (const r of records) {
    if (isOwned(r, fqdn, types)) {
      owned.get(r.Type as RecordType)!.set(r.SetIdentifier as string, r);
    }
  }
  const changes: PlannedChange[] = [];
  const outcomes: TaskOutcome[] = [];
  const base = { service: service.serviceName, name: fqdn };
  const typed = (type: RecordType) => (type === 'A' ? {} : { recordType: type });
  const count = new Map(types.map(t => [t, owned.get(t)!.size] as const));
  const ownedBefore = Math.max(0, ...count.values());

  for (const removal of removals) {
    const why = removal.reason ? ` (${removal.reason})` : '';
    if (removal.unhealthy && types.every(type => !owned.get(type)!.has(removal.taskId))) {
      outcomes.push({ ...base, taskId: removal.taskId, action: 'SKIP', outcome: 'ignored', reason: removal.reason ?? 'the task is not HEALTHY', level: 'info' });
      continue;
    }
    for (const type of types) {
      const record = owned.get(type)!.get(removal.taskId);
      if (!record) {
        outcomes.push({ ...base, taskId: removal.taskId, action: 'DELETE', ...typed(type), outcome: 'unchanged', reason: `record already absent${why}`, level: 'info' });
        continue;
      }
      changes.push({ action: 'DELETE', hostedZoneId: service.hostedZoneId, record, taskId: removal.taskId, service });
      const reason = removal.unhealthy ? `task not HEALTHY${why}` : `task stopped${why}`;
      outcomes.push({ ...base, taskId: removal.taskId, action: 'DELETE', ...typed(type), outcome: 'planned', reason, level: 'info' });
      owned.get(type)!.delete(removal.taskId);
      count.set(type, count.get(type)! - 1);
    }
  }

  const conflict = conflictOf(records, fqdn, types);
  for (const item of publishes) {
    if (conflict) {
      outcomes.push({
        ...base,
        taskId: item.taskId,
        action: 'SKIP',
        outcome: 'conflict',
        level: 'error',
        reason: `${fqdn} already holds a ${conflict.Type} record not managed by public discovery`
          + `${conflict.SetIdentifier ? ` (set identifier ${conflict.SetIdentifier})` : ' (simple routing)'}: remove it or register another name`,
      });
      continue;
    }
    for (const type of types) {
      const existing = owned.get(type)!.get(item.taskId);
      if (addressOf(item, type) === undefined) {
        // A dual-stack task without an IPv6 address (published with A only): a record of the type it no longer has goes.
        if (existing) {
          changes.push({ action: 'DELETE', hostedZoneId: service.hostedZoneId, record: existing, taskId: item.taskId, service });
          outcomes.push({ ...base, taskId: item.taskId, action: 'DELETE', ...typed(type), outcome: 'planned', reason: 'the task no longer has such an address', level: 'info' });
          count.set(type, count.get(type)! - 1);
        }
        continue;
      }
      if (existing && sameValues(existing, item, type)) {
        outcomes.push({ ...base, taskId: item.taskId, action: 'UPSERT', ...typed(type), outcome: 'unchanged', reason: 'record already up to date', level: 'info' });
        continue;
      }
      if (!existing && count.get(type)! >= capacity) {
        outcomes.push({
          ...base,
          taskId: item.taskId,
          action: 'SKIP',
          ...typed(type),
          outcome: 'capacity',
          level: 'warn',
          reason: `${fqdn} already holds ${capacity} ${type === 'A' ? '' : `${type} `}records, the most Route53 answers for one multi-value name; the task is published when a slot frees`,
        });
        continue;
      }
      changes.push({ action: 'UPSERT', hostedZoneId: service.hostedZoneId, record: desiredRecord(service, item, type), taskId: item.taskId, service });
      outcomes.push({
        ...base,
        taskId: item.taskId,
        action: 'UPSERT',
        ...typed(type),
        outcome: 'planned',
        level: 'info',
        reason: existing ? `record drifted (was ${describeValues(existing)})` : 'task running',
      });
      if (!existing) {
        count.set(type, count.get(type)! + 1);
      }
    }
  }
  return { changes, outcomes, ownedBefore, ownedAfter: Math.max(0, ...count.values()) };
}

function describeValues(r: RecordSet): string {
  return `${(r.ResourceRecords ?? []).map(v => v.Value).join(',')} TTL ${r.TTL}${r.HealthCheckId !== undefined ? ` health check ${String(r.HealthCheckId)}` : ''}`;
}

/** The records of a name once the planned changes are applied (DELETE removes, UPSERT replaces or adds). */
export function projectRecords(records: readonly RecordSet[], changes: ReadonlyArray<Pick<PlannedChange, 'action' | 'record'>>): RecordSet[] {
  const key = (r: RecordSet) => `${normalizeName(r.Name)}|${r.Type}|${r.SetIdentifier ?? ''}`;
  const byKey = new Map(records.map(r => [key(r), r] as const));
  for (const c of changes) {
    if (c.action === 'DELETE') {
      byKey.delete(key(c.record));
    } else {
      byKey.set(key(c.record), c.record);
    }
  }
  return [...byKey.values()];
}

/** Route53 counts an UPSERT as two changes against its per-request limit. */
export function changeWeight(c: Pick<PlannedChange, 'action'>): number {
  return c.action === 'UPSERT' ? 2 : 1;
}

/** Most changes (by Route53's weight) in one ChangeResourceRecordSets request. */
export const MAX_CHANGE_WEIGHT = 1000;
/**
 * Most characters of `Value` elements in one ChangeResourceRecordSets request; an UPSERT's count twice. 500 UPSERTs
 * of IPv6 addresses (up to 39 characters) or of SRV values already pass it, well below {@link MAX_CHANGE_WEIGHT}.
 */
export const MAX_CHANGE_VALUE_CHARS = 32000;

/** The characters a change adds to a request's total of `Value` elements (an UPSERT's count twice). */
export function changeValueChars(
  c: { readonly action: string; readonly record?: { readonly ResourceRecords?: ReadonlyArray<{ readonly Value: string }> } },
): number {
  const chars = (c.record?.ResourceRecords ?? []).reduce((n, v) => n + v.Value.length, 0);
  return chars * (c.action === 'UPSERT' ? 2 : 1);
}

/**
 * Groups changes per hosted zone and write group (the IAM policy that allows the name; one request may
 * only touch the names of one policy) and splits each group into as few requests as Route53's limits
 * allow (records and value characters). Order is kept, so a DELETE and a later UPSERT of the same name
 * stay in sequence.
 */
export function batchChanges<T extends Pick<PlannedChange, 'action' | 'hostedZoneId'> & {
  readonly service?: { readonly writeGroup?: number };
  readonly record?: { readonly ResourceRecords?: ReadonlyArray<{ readonly Value: string }> };
}>(
  changes: readonly T[], maxWeight = MAX_CHANGE_WEIGHT, maxChars = MAX_CHANGE_VALUE_CHARS,
): Array<{ hostedZoneId: string; changes: T[] }> {
  const batches: Array<{ hostedZoneId: string; changes: T[] }> = [];
  const open = new Map<string, { batch: { hostedZoneId: string; changes: T[] }; weight: number; chars: number }>();
  for (const change of changes) {
    const w = changeWeight(change);
    const c = changeValueChars(change);
    const key = `${change.hostedZoneId}|${change.service?.writeGroup ?? 0}`;
    let current = open.get(key);
    if (!current || current.weight + w > maxWeight || current.chars + c > maxChars) {
      current = { batch: { hostedZoneId: change.hostedZoneId, changes: [] }, weight: 0, chars: 0 };
      batches.push(current.batch);
      open.set(key, current);
    }
    current.batch.changes.push(change);
    current.weight += w;
    current.chars += c;
  }
  return batches;
}
