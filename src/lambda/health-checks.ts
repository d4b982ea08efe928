/**
 * Route53 health checks per task (a registration's `healthCheck`): one check per task, keyed by the task (so
 * every public record of the task, in any zone, carries the same check), created before the task's records
 * are written and deleted after the last of them is gone.
 *
 * - {@link attachHealthChecks}: before a name is planned, each task to publish gets its check's id: the one its
 *   record already carries (the event path), or the one ensured now (create → tag). The planner then writes
 *   the id into the records (`HealthCheckId`) and sees a record with another id as drift.
 * - {@link releaseHealthChecks}: after the changes applied, the check of a task whose records were all deleted
 *   is deleted, once its owner tag says it is ours and ECS no longer reports the task running (a task
 *   unpublished while not HEALTHY keeps its check and gets it back when it is published again).
 * - {@link listOwnedChecks} and {@link sweepOrphans}: the reconciler deletes the checks tagged with this
 *   construct's owner whose task ECS does not report running and that no owned record references.
 *
 * Creation is idempotent: the caller reference is derived from the owner, the task and the settings, so a
 * retried or concurrent invocation gets the same check back. Route53 refuses a reference for days once its
 * check was deleted; a task whose check was deleted while it runs (by hand, the stack's owner going) gets a new
 * generation derived from the time (see ensureHealthCheck).
 */
import { createHash } from 'node:crypto';
import { HealthCheckApi, HealthCheckSpec, PipelineDeps, PlannedChange, PublishItem, RecordSet, TaskOutcome } from './model';
import { intentOf } from './planner';
import { ownedBy } from './task-names';
import { errorMessage, errorName } from './telemetry';
import { FEATURE_METRIC, RegisteredService, TAG_OWNER, TAG_TASK, taskIdFromArn } from '../shared/contract';
import { normalizeName } from '../shared/dns-name';

/** Route53's quota that `TooManyHealthChecks` reports, named in the error line. */
export const HEALTH_CHECK_QUOTA = 'Route53 health checks per account, 200 by default; request an increase in Service Quotas '
  + '(service Route 53, quota "Health checks per account")';
/** ListTagsForResources takes at most 10 resource ids per request. */
export const TAGS_PER_REQUEST = 10;

/** Caller references of this library start so; the owner's hash follows. */
const REFERENCE_VERSION = 'pd1';

function hash(value: string, length: number): string {
  return createHash('sha256').update(value).digest('hex').slice(0, length);
}

/**
 * The start of every caller reference of one owner: it tells the checks of this construct apart before their
 * tags are read (and finds a check whose tagging was interrupted).
 */
export function ownerPrefix(owner: string): string {
  return `${REFERENCE_VERSION}-${hash(owner, 8)}-`;
}

/** The start of the caller references of one task's check with given settings (all generations). */
export function taskPrefix(owner: string, taskId: string, settings: Omit<HealthCheckSpec, 'callerReference'>): string {
  const { type, ipAddress, port, path, intervalSeconds, failureThreshold } = settings;
  return `${ownerPrefix(owner)}${taskId}-${hash(JSON.stringify([type, ipAddress, port, path ?? null, intervalSeconds, failureThreshold]), 6)}-`;
}

/** The task id a caller reference of this owner names, or undefined when the reference is not one of ours. */
export function taskIdOfReference(owner: string, reference: string): string | undefined {
  const prefix = ownerPrefix(owner);
  if (!reference.startsWith(prefix)) {
    return undefined;
  }
  const m = /^(.+)-[0-9a-f]{6}-[0-9a-z]+$/.exec(reference.slice(prefix.length));
  return m ? m[1] : undefined;
}

/**
 * The check a task's public records get under a registration, or undefined when they get none: no
 * `healthCheck`, a private address (Route53's checkers cannot reach it), or no address to probe. The public
 * IPv4 address is probed; for an IPv6-only service, the IPv6 address.
 */
export function healthCheckSettings(service: RegisteredService, item: PublishItem): Omit<HealthCheckSpec, 'callerReference'> | undefined {
  const hc = service.healthCheck;
  if (hc === undefined || service.addressScope === 'private') {
    return undefined;
  }
  const ipAddress = item.publicIp ?? item.ipv6Address;
  if (ipAddress === undefined) {
    return undefined;
  }
  return {
    type: hc.type,
    ipAddress,
    port: hc.port,
    ...(hc.type !== 'TCP' ? { path: hc.path ?? '/' } : {}),
    intervalSeconds: hc.intervalSeconds,
    failureThreshold: hc.failureThreshold,
  };
}

/** A health check tagged with this construct's owner. */
export interface OwnedCheck {
  readonly id: string;
  readonly callerReference: string;
  /** The task ARN of its `public-discovery:task` tag. */
  readonly taskArn?: string;
}

/** What one reconciliation knows of the health checks: the owned ones, and those owned records reference. */
export interface HealthCheckRun {
  readonly owned: Map<string, OwnedCheck>;
  readonly referenced: Set<string>;
  /** The tasks published in this run (whose checks stay, whatever else of theirs is deleted). */
  readonly publishing: Set<string>;
  /** Set once CreateHealthCheck was refused for the quota: the run creates no more. */
  quotaReached?: boolean;
}

/** The invocations (by their metrics, one per invocation) in which CreateHealthCheck was refused for the quota. */
const quotaReached = new WeakSet<object>();

/** The health check calls of the API; a fake without them cannot serve a registration with `healthCheck`. */
function checks(deps: Pick<PipelineDeps, 'api'>): HealthCheckApi {
  const api = deps.api;
  if (!api.createHealthCheck || !api.tagHealthCheck || !api.listHealthChecks || !api.listHealthCheckTags || !api.deleteHealthCheck) {
    throw new Error('this DiscoveryApi implements no health check calls');
  }
  return api as HealthCheckApi;
}

/** The ARN of a task of the configured cluster, from its id. */
function taskArnOf(clusterArn: string, taskId: string): string {
  return `${clusterArn.replace(':cluster/', ':task/')}/${taskId}`;
}

/** Result of {@link attachHealthChecks}. */
export interface Attached {
  /** The items to publish, each with the id of its check where it has one. */
  readonly items: PublishItem[];
  /** Tasks whose check could not be ensured for another reason than the quota (retried: event again, or next run). */
  readonly failed: TaskOutcome[];
}

/**
 * Gives each task to publish at the service's name the id of its health check, ensuring the check exists
 * first. `records` are the name's records now: a task whose owned record already carries a check keeps it
 * (a replayed start makes no call), unless `run` (the reconciler's listing) says that check is not the task's
 * current one. A check that cannot be created for the quota leaves the task published without one (logged at
 * error level, counted in `HealthCheckQuotaExceeded`; the reconciler retries); any other failure is returned.
 */
export async function attachHealthChecks(
  deps: PipelineDeps, service: RegisteredService, records: readonly RecordSet[], publishes: readonly PublishItem[], run?: HealthCheckRun,
): Promise<Attached> {
  // Every owned record of the registration names the task's check: at its name, its task names and its SRV name.
  const owned = records.filter(ownedBy(service));
  if (run) {
    owned.forEach(r => typeof r.HealthCheckId === 'string' && run.referenced.add(r.HealthCheckId));
    publishes.forEach(p => run.publishing.add(p.taskId));
  }
  const owner = deps.config.owner;
  if (service.healthCheck === undefined) {
    return { items: [...publishes], failed: [] };
  }
  const items: PublishItem[] = [];
  const failed: TaskOutcome[] = [];
  for (const item of publishes) {
    const settings = healthCheckSettings(service, item);
    if (settings === undefined) {
      items.push(item);
      continue;
    }
    if (owner === undefined) {
      deps.log.error('the registration has a health check but the configuration names no owner; the task is published without one', {
        taskId: item.taskId, service: service.serviceName,
      });
      items.push(item);
      continue;
    }
    const prefix = taskPrefix(owner, item.taskId, settings);
    const current = owned.find(r => r.SetIdentifier === item.taskId && typeof r.HealthCheckId === 'string')?.HealthCheckId as string | undefined;
    const known = current !== undefined && (run === undefined || run.owned.get(current)?.callerReference.startsWith(prefix) === true);
    if (known) {
      items.push({ ...item, healthCheckId: current });
      continue;
    }
    try {
      // Past the first refusal for the quota, this invocation (or reconciliation) creates no more checks.
      if (run ? run.quotaReached : quotaReached.has(deps.metrics)) {
        throw Object.assign(new Error('not tried: the quota was reached earlier in this invocation'), { name: 'TooManyHealthChecks' });
      }
      const id = await ensureOnce(deps, owner, taskArnOf(deps.config.clusterArn, item.taskId), prefix, settings);
      run?.referenced.add(id);
      run?.owned.set(id, { id, callerReference: prefix, taskArn: taskArnOf(deps.config.clusterArn, item.taskId) });
      items.push({ ...item, healthCheckId: id });
    } catch (err) {
      if (errorName(err) === 'TooManyHealthChecks') {
        if (run) {
          run.quotaReached = true;
        } else {
          quotaReached.add(deps.metrics);
        }
        // A check the task's records already name (settings changed) stays attached rather than none.
        const kept = current !== undefined && (run === undefined || run.owned.has(current)) ? current : undefined;
        deps.metrics.add(FEATURE_METRIC.HEALTH_CHECK_QUOTA_EXCEEDED);
        deps.log.error(`the account reached its quota of ${HEALTH_CHECK_QUOTA}; the task ${kept ? 'keeps its previous' : 'is published without its'} health check `
          + `(metric ${FEATURE_METRIC.HEALTH_CHECK_QUOTA_EXCEEDED}), and the reconciler attaches one once the quota allows`, {
          keptHealthCheckId: kept,
          taskId: item.taskId,
          service: service.serviceName,
          name: service.fqdn,
          error: errorName(err),
          quota: HEALTH_CHECK_QUOTA,
          metric: FEATURE_METRIC.HEALTH_CHECK_QUOTA_EXCEEDED,
        });
        items.push(kept !== undefined ? { ...item, healthCheckId: kept } : item);
        continue;
      }
      failed.push({
        taskId: item.taskId,
        service: service.serviceName,
        name: service.fqdn,
        action: 'UPSERT',
        outcome: 'failed',
        level: 'error',
        reason: `the task's Route53 health check could not be created: ${errorName(err)}: ${errorMessage(err)}`,
      });
    }
  }
  return { items, failed };
}

/**
 * {@link ensureHealthCheck} once per task in one batch or reconciliation (`deps.ensuredChecks`): a task published
 * in several public zones (one registration each) shares one check, so the other zones reuse the answer instead of
 * creating and tagging it again.
 */
function ensureOnce(
  deps: PipelineDeps, owner: string, taskArn: string, prefix: string, settings: Omit<HealthCheckSpec, 'callerReference'>,
): Promise<string> {
  const ensured = deps.ensuredChecks;
  if (ensured === undefined) {
    return ensureHealthCheck(deps, owner, taskArn, prefix, settings);
  }
  if (!ensured.has(prefix)) {
    ensured.set(prefix, ensureHealthCheck(deps, owner, taskArn, prefix, settings));
  }
  return ensured.get(prefix)!;
}

/**
 * Creates (or finds) the task's check and tags it with the owner and the task. The first reference of a task's
 * check (generation `0`) is tried first: Route53 returns the existing check for it, so a retried or concurrent
 * invocation gets the same check, in one request. Route53 refuses it when its check was deleted (for days), or
 * exists with other settings: then the account's checks are listed and the task's existing check with these
 * settings is reused, else the check is created under a generation that is new by construction (the time, in
 * seconds, base 36), so no reference is ever probed and none is used up by a flapping task.
 */
async function ensureHealthCheck(
  deps: PipelineDeps, owner: string, taskArn: string, prefix: string, settings: Omit<HealthCheckSpec, 'callerReference'>,
): Promise<string> {
  let callerReference = `${prefix}0`;
  let id: string;
  try {
    id = await checks(deps).createHealthCheck({ callerReference, ...settings });
  } catch (err) {
    if (errorName(err) !== 'HealthCheckAlreadyExists') {
      throw err;
    }
    const existing = (await checks(deps).listHealthChecks()).filter(c => c.callerReference.startsWith(prefix))
      .sort((a, b) => b.callerReference.localeCompare(a.callerReference))[0];
    if (existing !== undefined) {
      ({ id, callerReference } = existing);
    } else {
      callerReference = `${prefix}${Math.floor(Date.now() / 1000).toString(36)}`;
      id = await checks(deps).createHealthCheck({ callerReference, ...settings });
    }
  }
  await checks(deps).tagHealthCheck(id, { [TAG_OWNER]: owner, [TAG_TASK]: taskArn });
  deps.log.info('health check ready', { taskId: taskIdFromArn(taskArn), healthCheckId: id, callerReference });
  return id;
}

/**
 * For UPSERTs Route53 refused because the check they name no longer exists (deleted since the record or the
 * listing was read): the task's check ensured again (a new one, the reference of the deleted one being refused),
 * with the settings of the task's addresses among `all`. Returns each change that gets a check with its new id.
 */
export async function replaceDeletedChecks(
  deps: PipelineDeps, stale: readonly PlannedChange[], all: readonly PlannedChange[],
): Promise<Map<PlannedChange, PlannedChange>> {
  const owner = deps.config.owner;
  const ids = new Map<string, string | undefined>();
  const out = new Map<PlannedChange, PlannedChange>();
  for (const c of stale) {
    const key = `${c.taskId}|${c.record.HealthCheckId}`;
    if (!ids.has(key)) {
      // The addresses of the same registration (zone and name): another zone's A record may hold the private address.
      const value = (type: string) => all.find(x => x.taskId === c.taskId && x.hostedZoneId === c.hostedZoneId && x.service === c.service
        && x.record.Type === type && normalizeName(x.record.Name) === normalizeName(c.record.Name))?.record.ResourceRecords?.[0]?.Value
        ?? all.find(x => x.taskId === c.taskId && x.hostedZoneId === c.hostedZoneId && x.service === c.service && x.record.Type === type)
          ?.record.ResourceRecords?.[0]?.Value;
      const settings = healthCheckSettings(c.service, { taskId: c.taskId, ttl: 0, publicIp: value('A'), ipv6Address: value('AAAA') });
      let id: string | undefined;
      if (settings !== undefined && owner !== undefined) {
        deps.log.warn('a record named a health check deleted meanwhile; the task\'s check is created again', { taskId: c.taskId, healthCheckId: c.record.HealthCheckId });
        try {
          id = await ensureHealthCheck(deps, owner, taskArnOf(deps.config.clusterArn, c.taskId), taskPrefix(owner, c.taskId, settings), settings);
        } catch (err) {
          deps.log.warn('the task\'s health check could not be created again; the change is retried later', { taskId: c.taskId, error: errorName(err) });
        }
      }
      ids.set(key, id);
    }
    const id = ids.get(key);
    if (id !== undefined) {
      out.set(c, { ...c, record: { ...c.record, HealthCheckId: id } });
    }
  }
  return out;
}

/** A change as {@link releaseHealthChecks} reads it. */
interface AppliedChange {
  readonly action: 'UPSERT' | 'DELETE';
  readonly taskId: string;
  readonly record: RecordSet;
  readonly hostedZoneId?: string;
}

/**
 * Deletes the check of each task whose records the changes deleted, that keeps none (no UPSERT of the task
 * was applied, no record of it was found up to date) and that ECS no longer reports running. `failed(change)` tells the changes Route53 did not apply.
 * A check is only deleted when its owner tag is this construct's. Failures are logged: the reconciler's sweep
 * deletes the check later.
 */
export async function releaseHealthChecks<C extends AppliedChange>(
  deps: PipelineDeps, changes: readonly C[], failed: (c: C) => boolean, outcomes: readonly TaskOutcome[],
  publishing: ReadonlySet<string> = new Set(),
): Promise<number> {
  const owner = deps.config.owner;
  if (owner === undefined) {
    return 0;
  }
  // A task keeps a record when one of its records was found up to date, or an UPSERT of it applied and was not
  // deleted again (the re-check after a write deletes the records of a task that stopped meanwhile).
  const unchanged = new Set(outcomes.filter(o => o.action === 'UPSERT' && o.outcome === 'unchanged').map(o => o.taskId));
  // One record: a task has records at several names (task names, SRV) and in several zones.
  const key = (c: AppliedChange) => `${c.taskId}|${c.record.Type}|${normalizeName(c.record.Name)}|${c.hostedZoneId ?? ''}`;
  const redeleted = new Set(changes.filter(c => c.action === 'DELETE' && !failed(c)).map(key));
  const keeps = (taskId: string) => unchanged.has(taskId) || publishing.has(taskId)
    || changes.some(c => c.taskId === taskId && c.action === 'UPSERT' && !failed(c) && !redeleted.has(key(c)))
    // A change Route53 did not apply may leave a record of the task behind.
    || changes.some(c => c.taskId === taskId && failed(c))
    // So may a zone whose records could not be read (the task's work there failed and is retried).
    || outcomes.some(o => o.taskId === taskId && o.outcome === 'failed');
  const candidates = new Map<string, string>();
  for (const c of changes) {
    const id = c.record.HealthCheckId;
    if (c.action === 'DELETE' && !failed(c) && typeof id === 'string' && !keeps(c.taskId)) {
      candidates.set(id, c.taskId);
    }
  }
  if (candidates.size === 0) {
    return 0;
  }
  let deleted = 0;
  try {
    const tags = await checks(deps).listHealthCheckTags([...candidates.keys()]);
    // A task that still runs (unpublished while not HEALTHY) keeps its check, to get it back when it is published again.
    const arns = [...new Set(candidates.values())].map(t => taskArnOf(deps.config.clusterArn, t));
    const observed = await deps.api.describeTasks(deps.config.clusterArn, arns);
    const runs = new Set([...observed.values()].filter(t => intentOf(t.lastStatus, t.desiredStatus) !== 'remove').map(t => taskIdFromArn(t.taskArn)));
    for (const [id, taskId] of candidates) {
      if (tags.get(id)?.[TAG_OWNER] !== owner) {
        deps.log.warn('a deleted record carried a health check this construct does not own; it is left alone', { taskId, healthCheckId: id });
        continue;
      }
      if (runs.has(taskId)) {
        deps.log.info('health check kept: its task still runs', { taskId, healthCheckId: id });
        continue;
      }
      await checks(deps).deleteHealthCheck(id);
      deleted++;
      deps.log.info('health check deleted after the task\'s records', { taskId, healthCheckId: id });
    }
  } catch (err) {
    deps.log.warn('could not delete a health check after its records; the reconciler will', { error: errorName(err), detail: errorMessage(err) });
  }
  return deleted;
}

/**
 * The health checks of this construct: those tagged with its owner. A check with this owner's caller reference
 * but without the tag (an invocation stopped between creating and tagging it) is tagged now, from the task id
 * its reference names.
 */
export async function listOwnedChecks(deps: Pick<PipelineDeps, 'api' | 'log'> & { readonly config: Pick<PipelineDeps['config'], 'owner' | 'clusterArn'> }, repairTags = true): Promise<HealthCheckRun> {
  const owner = deps.config.owner!;
  const prefix = ownerPrefix(owner);
  const ours = (await checks(deps).listHealthChecks()).filter(c => c.callerReference.startsWith(prefix));
  const owned = new Map<string, OwnedCheck>();
  for (let i = 0; i < ours.length; i += TAGS_PER_REQUEST) {
    const part = ours.slice(i, i + TAGS_PER_REQUEST);
    const tags = await checks(deps).listHealthCheckTags(part.map(c => c.id));
    for (const c of part) {
      const t = tags.get(c.id);
      if (t === undefined) {
        continue;
      }
      let taskArn = t[TAG_TASK];
      if (t[TAG_OWNER] === undefined) {
        const taskId = taskIdOfReference(owner, c.callerReference);
        if (taskId === undefined) {
          continue;
        }
        taskArn = taskArnOf(deps.config.clusterArn, taskId);
        if (repairTags) {
          await checks(deps).tagHealthCheck(c.id, { [TAG_OWNER]: owner, [TAG_TASK]: taskArn });
          deps.log.warn('health check found untagged (its creation was interrupted); tagged now', { healthCheckId: c.id, taskArn });
        }
      } else if (t[TAG_OWNER] !== owner) {
        continue;
      }
      owned.set(c.id, { id: c.id, callerReference: c.callerReference, ...(taskArn !== undefined ? { taskArn } : {}) });
    }
  }
  return { owned, referenced: new Set(), publishing: new Set() };
}

/**
 * Deletes the owned checks no owned record references whose task ECS does not report running (stopped, or
 * long gone). Returns how many were deleted.
 */
export async function sweepOrphans(deps: PipelineDeps, run: HealthCheckRun): Promise<number> {
  const candidates = [...run.owned.values()].filter(c => !run.referenced.has(c.id));
  if (candidates.length === 0) {
    return 0;
  }
  const arns = candidates.map(c => c.taskArn).filter((a): a is string => a !== undefined);
  const tasks = arns.length > 0 ? await deps.api.describeTasks(deps.config.clusterArn, arns) : new Map();
  let deleted = 0;
  for (const c of candidates) {
    const task = c.taskArn !== undefined ? tasks.get(c.taskArn) : undefined;
    if (task !== undefined && intentOf(task.lastStatus, task.desiredStatus) !== 'remove') {
      continue;
    }
    await checks(deps).deleteHealthCheck(c.id);
    deleted++;
    deps.log.info('orphaned health check deleted', { healthCheckId: c.id, taskArn: c.taskArn, reason: 'its task is not running and no record references it' });
  }
  return deleted;
}

/**
 * Deletes every check of `owner` (the stack is being deleted; its records are gone): those tagged with it, and
 * those with its caller reference whose tagging was interrupted.
 */
/**
 * How many health checks an owner still has (tagged with it, or carrying its caller reference), read without
 * repairing tags. A lifecycle Update that could not delete a previous owner's checks answers SUCCESS when there
 * are none (a rollback of an Update that had just turned them on; checks deleted by hand).
 */
export async function countOwnedChecks(deps: Pick<PipelineDeps, 'api' | 'log'>, owner: string): Promise<number> {
  return (await listOwnedChecks({ ...deps, config: { owner, clusterArn: '' } }, false)).owned.size;
}

export async function deleteOwnedChecks(deps: Pick<PipelineDeps, 'api' | 'log'>, owner: string): Promise<number> {
  const run = await listOwnedChecks({ ...deps, config: { owner, clusterArn: '' } }, false);
  const left: string[] = [];
  let first: unknown;
  for (const id of run.owned.keys()) {
    try {
      await checks(deps).deleteHealthCheck(id);
    } catch (err) {
      left.push(id);
      first ??= err;
    }
  }
  if (first !== undefined) {
    // Every check is tried; the error names those left.
    throw Object.assign(new Error(`${errorMessage(first)} (health checks not deleted: ${left.join(', ')})`), { name: errorName(first) });
  }
  return run.owned.size;
}
