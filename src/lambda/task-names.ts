/**
 * Per-task host names and SRV records (`taskNames`, `srv` of a registration): which records below a
 * registered name the library owns, how they are read (the name's subtree in one listing), and what one
 * registration's task-name and SRV records should become. Pure, except {@link readRegistrationRecords}, which
 * reads through {@link DiscoveryApi}.
 *
 * A task's records all share its set identifier (the task id):
 *
 * - at the service's name, its A/AAAA records (planned by `planName` in planner.ts);
 * - at `<task id>.<fqdn>`, the same A/AAAA records, when the registration has task names;
 * - at the SRV name `_<service>._<proto>.<fqdn>`, one SRV record `<priority> <weight> <port> <task id>.<fqdn>.`.
 */
import { DiscoveryApi, PlannedChange, PublishItem, RecordSet, TaskOutcome } from './model';
import { addressOf, NamePlan, planName, Removal } from './planner';
import { MAX_RECORDS_PER_NAME, RecordType, recordTypesOf, RegisteredService, SrvConfig } from '../shared/contract';
import { normalizeName } from '../shared/dns-name';

/** The record type of the SRV records. */
export const SRV_TYPE = 'SRV';

/** What decides ownership of a registration's records: a registration, or a lifecycle name. */
export interface RecordOwner {
  /** The service's name: lower case, with a trailing dot. */
  readonly fqdn: string;
  /** The address record types published (absent means `["A"]`). */
  readonly recordTypes?: readonly RecordType[];
  /** Whether tasks are published at `<task id>.<fqdn>` too. */
  readonly taskNames?: boolean;
  /** The SRV name, when the registration publishes SRV records. */
  readonly srvFqdn?: string;
  /**
   * The address types of the task-name records, when they differ from `recordTypes`: only in what an update
   * purges from a kept name (its task names went, but its address records stay). Absent means `recordTypes`.
   */
  readonly taskRecordTypes?: readonly RecordType[];
}

/** The ownership-relevant part of a registration. */
export function ownerOf(service: RegisteredService): RecordOwner {
  return {
    fqdn: service.fqdn,
    ...(service.recordTypes ? { recordTypes: service.recordTypes } : {}),
    ...(service.taskNames ? { taskNames: true } : {}),
    ...(service.srv ? { srvFqdn: service.srv.fqdn } : {}),
  };
}

/** True when the registration has records below its name (task names or an SRV name), read with the name's subtree. */
export function hasSubtree(owner: RecordOwner): boolean {
  return owner.taskNames === true || owner.srvFqdn !== undefined;
}

/**
 * A task id as ECS writes it in a task ARN: 32 hexadecimal characters. Only such ids get host names: the IAM
 * pattern of the task names matches a 32-character label, and a record at a name like `x.<fqdn>` with set
 * identifier `x` is someone else's.
 */
export const TASK_ID_PATTERN = /^[0-9a-f]{32}$/;

/** The host name of a task: `<task id>.<fqdn>`. */
export function taskHostName(fqdn: string, taskId: string): string {
  return `${taskId}.${fqdn}`;
}

/** The value of a task's SRV record: `<priority> <weight> <port> <task id>.<fqdn>`. */
export function srvValue(srv: SrvConfig, fqdn: string, taskId: string): string {
  return `${srv.priority} ${srv.weight} ${srv.port} ${taskHostName(fqdn, taskId)}`;
}

/** Which of a registration's names a record is at. */
export type RecordKind = 'name' | 'task' | 'srv';

/**
 * The kind of an owned record (see "Ownership" in docs/design.md), or undefined when the library does not own
 * it: every owned record has a set identifier and multi-value answer routing; at the service's name it has a
 * published address type; at a task name (`<set identifier>.<fqdn>`, only when the registration has task names)
 * too; at the SRV name (only when the registration has one) it is of type SRV. At a task name and at the SRV name
 * the set identifier must be a task id ({@link TASK_ID_PATTERN}): those records only ever come from tasks.
 */
export function kindOf(owner: RecordOwner, record: RecordSet): RecordKind | undefined {
  const id = record.SetIdentifier;
  if (typeof id !== 'string' || id === '' || record.MultiValueAnswer !== true) {
    return undefined;
  }
  const name = normalizeName(record.Name);
  if (name === owner.fqdn) {
    return (recordTypesOf(owner) as readonly string[]).includes(record.Type) ? 'name' : undefined;
  }
  const taskType = ((owner.taskRecordTypes ?? recordTypesOf(owner)) as readonly string[]).includes(record.Type);
  if (owner.taskNames === true && taskType && TASK_ID_PATTERN.test(id) && name === taskHostName(owner.fqdn, id)) {
    return 'task';
  }
  if (owner.srvFqdn !== undefined && name === owner.srvFqdn && record.Type === SRV_TYPE && TASK_ID_PATTERN.test(id)) {
    return 'srv';
  }
  return undefined;
}

/** True when the library owns the record under the registration (any of its names). */
export function ownsRecord(owner: RecordOwner, record: RecordSet): boolean {
  return kindOf(owner, record) !== undefined;
}

/** {@link ownsRecord} for one registration, its owner derived once: a filter over the records it reads. */
export function ownedBy(service: RegisteredService): (record: RecordSet) => boolean {
  const owner = ownerOf(service);
  return record => ownsRecord(owner, record);
}

/**
 * Reads the records a registration may own: its name only (as before task names and SRV records), or, when it
 * has task names or an SRV name, its name's whole subtree in one listing (the names below it follow it in
 * Route53's order).
 */
export function readRegistrationRecords(api: DiscoveryApi, service: RegisteredService): Promise<RecordSet[]> {
  return hasSubtree(ownerOf(service))
    ? api.listRecordsAt(service.hostedZoneId, service.fqdn, true)
    : api.listRecordsAt(service.hostedZoneId, service.fqdn);
}

/**
 * Plans one registration's records: its name's (see `planName` in planner.ts), then its task names' and its SRV
 * records ({@link planTaskRecords}). The counts of the plan are those of the service's name.
 */
export function planRegistration(
  service: RegisteredService,
  records: readonly RecordSet[],
  publishes: readonly PublishItem[],
  removals: ReadonlyArray<Removal>,
  capacity: number = MAX_RECORDS_PER_NAME,
): NamePlan {
  const plan = planName(service, records, publishes, removals, capacity);
  if (!hasSubtree(ownerOf(service))) {
    return plan;
  }
  const extra = planTaskRecords(service, records, publishes, removals, capacity);
  return { ...plan, changes: [...plan.changes, ...extra.changes], outcomes: [...plan.outcomes, ...extra.outcomes] };
}

/**
 * Plans the task-name and SRV records of one registration from the records of its subtree:
 *
 * - a removal deletes the task's owned task-name and SRV records with their exact values;
 * - a publication upserts the task's task-name records (one per address it has; a record of a type it no longer
 *   has goes) and its SRV record unless identical ones exist. A task name holds one record per type, so no
 *   capacity applies to it; a new SRV record is only added while the SRV name holds fewer than `capacity`;
 * - a task name, or the SRV name, holding a record of a type we write (or a CNAME) that we do not own is never
 *   written to; the task's SRV record, whose target would be someone else's, is not written either.
 */
export function planTaskRecords(
  service: RegisteredService,
  records: readonly RecordSet[],
  publishes: readonly PublishItem[],
  removals: ReadonlyArray<Removal>,
  capacity: number = MAX_RECORDS_PER_NAME,
): { changes: PlannedChange[]; outcomes: TaskOutcome[] } {
  const owner = ownerOf(service);
  const types = recordTypesOf(service);
  const taskRecords = new Map<string, RecordSet>();
  const srvRecords = new Map<string, RecordSet>();
  for (const r of records) {
    const kind = kindOf(owner, r);
    if (kind === 'task') {
      taskRecords.set(`${r.SetIdentifier}|${r.Type}`, r);
    } else if (kind === 'srv') {
      srvRecords.set(r.SetIdentifier as string, r);
    }
  }
  const changes: PlannedChange[] = [];
  const outcomes: TaskOutcome[] = [];
  const base = { service: service.serviceName, name: service.fqdn };
  const about = (record: RecordSet) => ({
    recordName: normalizeName(record.Name),
    ...(record.Type === 'A' ? {} : { recordType: record.Type as 'AAAA' | 'SRV' }),
  });
  const change = (action: 'UPSERT' | 'DELETE', record: RecordSet, taskId: string, reason: string) => {
    changes.push({ action, hostedZoneId: service.hostedZoneId, record, taskId, service });
    outcomes.push({ ...base, ...about(record), taskId, action, outcome: 'planned', reason, level: 'info' });
  };

  for (const removal of removals) {
    const why = removal.reason ? ` (${removal.reason})` : '';
    const reason = removal.unhealthy ? `task not HEALTHY${why}` : `task stopped${why}`;
    for (const type of types) {
      const record = taskRecords.get(`${removal.taskId}|${type}`);
      if (record) {
        change('DELETE', record, removal.taskId, reason);
        taskRecords.delete(`${removal.taskId}|${type}`);
      }
    }
    const srv = srvRecords.get(removal.taskId);
    if (srv) {
      change('DELETE', srv, removal.taskId, reason);
      srvRecords.delete(removal.taskId);
    }
  }

  const srvConflict = service.srv ? foreignAt(records, owner, service.srv.fqdn, [SRV_TYPE]) : undefined;
  let srvCount = srvRecords.size;
  for (const item of publishes) {
    const hostName = taskHostName(service.fqdn, item.taskId);
    let hostWritten = true;
    if (!TASK_ID_PATTERN.test(item.taskId)) {
      // A task ARN of the old format (its id a UUID with dashes): no host name the IAM pattern allows.
      outcomes.push({
        ...base,
        taskId: item.taskId,
        recordName: hostName,
        action: 'SKIP',
        outcome: 'ignored',
        level: 'warn',
        reason: 'the task id is not 32 hexadecimal characters (an ECS task ARN of the old format): the task gets no host name nor SRV value',
      });
      continue;
    }
    if (service.taskNames) {
      const conflict = foreignAt(records, owner, hostName, types);
      if (conflict) {
        hostWritten = false;
        outcomes.push(conflictOutcome(base, item.taskId, hostName, conflict));
      } else {
        for (const type of types) {
          const key = `${item.taskId}|${type}`;
          const existing = taskRecords.get(key);
          const value = addressOf(item, type);
          if (value === undefined) {
            if (existing) {
              change('DELETE', existing, item.taskId, 'the task no longer has such an address');
            }
            continue;
          }
          const desired = routed(hostName, type, item.taskId, item.ttl, value, item.healthCheckId);
          if (!existing || !sameRecord(existing, desired)) {
            change('UPSERT', desired, item.taskId, existing ? `record drifted (was ${describe(existing)})` : 'task running');
          }
        }
      }
    }
    if (!service.srv) {
      continue;
    }
    const existing = srvRecords.get(item.taskId);
    const desired = routed(service.srv.fqdn, SRV_TYPE, item.taskId, item.ttl, srvValue(service.srv, service.fqdn, item.taskId), item.healthCheckId);
    if (srvConflict || !hostWritten) {
      outcomes.push(conflictOutcome(base, item.taskId, service.srv.fqdn, srvConflict
        ?? { Name: hostName, Type: 'target', SetIdentifier: undefined }));
      continue;
    }
    if (existing && sameRecord(existing, desired)) {
      continue;
    }
    if (!existing && srvCount >= capacity) {
      outcomes.push({
        ...base,
        ...about(desired),
        taskId: item.taskId,
        action: 'SKIP',
        outcome: 'capacity',
        level: 'warn',
        reason: `${service.srv.fqdn} already holds ${capacity} SRV records, the most Route53 answers for one multi-value name; the task is added when a slot frees`,
      });
      continue;
    }
    change('UPSERT', desired, item.taskId, existing ? `record drifted (was ${describe(existing)})` : 'task running');
    srvCount += existing ? 0 : 1;
  }
  return { changes, outcomes };
}

/** A multi-value record with one value, carrying the task's health check when it has one. */
function routed(name: string, type: string, taskId: string, ttl: number, value: string, healthCheckId?: string): RecordSet {
  return {
    Name: name,
    Type: type,
    SetIdentifier: taskId,
    MultiValueAnswer: true,
    TTL: ttl,
    ResourceRecords: [{ Value: value }],
    ...(healthCheckId !== undefined ? { HealthCheckId: healthCheckId } : {}),
  };
}

/** Same values, TTL and health check (a record without the task's check, or with another, has drifted). */
function sameRecord(a: RecordSet, b: RecordSet): boolean {
  const values = a.ResourceRecords ?? [];
  return a.TTL === b.TTL && values.length === 1 && values[0].Value === b.ResourceRecords![0].Value && a.HealthCheckId === b.HealthCheckId;
}

function describe(r: RecordSet): string {
  return `${(r.ResourceRecords ?? []).map(v => v.Value).join(',')} TTL ${r.TTL}`;
}

/** A record at `name` that we do not own, of one of `types` or a CNAME: writing there would fail or be shadowed. */
function foreignAt(records: readonly RecordSet[], owner: RecordOwner, name: string, types: readonly string[]): RecordSet | undefined {
  return records.find(r => normalizeName(r.Name) === name && (types.includes(r.Type) || r.Type === 'CNAME') && !ownsRecord(owner, r));
}

function conflictOutcome(base: { service: string; name: string }, taskId: string, recordName: string, conflict: RecordSet): TaskOutcome {
  const held = conflict.Type === 'target'
    ? `the task's host name ${conflict.Name} cannot be published`
    : `${recordName} already holds a ${conflict.Type} record not managed by public discovery`
      + `${conflict.SetIdentifier ? ` (set identifier ${conflict.SetIdentifier})` : ' (simple routing)'}`;
  return {
    ...base,
    taskId,
    recordName,
    action: 'SKIP',
    outcome: 'conflict',
    level: 'error',
    reason: `${held}: remove it or register another name`,
  };
}
