/**
 * The custom resource that binds the records to the stack (`Custom::EcsPublicDiscovery`), served by the
 * discovery function itself:
 *
 * - Create and Update run one reconciliation, so tasks that started before the rule existed have their
 *   records when the deployment finishes;
 * - Update first deletes the records of the names that are no longer registered (renamed or removed
 *   registrations); the role still holds the write permission for them, because CloudFormation deletes
 *   the old permission only in its cleanup phase, after this update;
 * - Delete deletes every record the library owns at the registered names, before CloudFormation deletes
 *   the function, its role and policies, and the rule.
 *
 * Every path answers CloudFormation before the invocation's time runs out: a request never waits for
 * CloudFormation's one-hour timeout.
 */
import { CfnResponseBody } from './cfn-response';
import { countOwnedChecks, deleteOwnedChecks } from './health-checks';
import { PipelineDeps } from './model';
import { purgeNames, PurgeSummary } from './purge';
import { reconcile } from './reconcile';
import type { RecordOwner } from './task-names';
import { errorMessage, errorName } from './telemetry';
import { DiscoveryConfig, isObject, LIFECYCLE_RESOURCE_TYPE, LifecycleName, nameKey, readLifecycleNames, RECORD_TYPES, recordTypesOf, LIFECYCLE_OWNER_PROPERTY, TAG_OWNER } from '../shared/contract';

/** The fields of a CloudFormation custom resource request the handler uses. */
export interface CfnRequest {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly ResourceType: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties?: Record<string, unknown>;
  readonly OldResourceProperties?: Record<string, unknown>;
}

/** True for a CloudFormation custom resource request addressed to this library's resource type. */
export function isCfnRequest(event: unknown): event is CfnRequest {
  return isObject(event) && typeof event.RequestType === 'string' && typeof event.ResponseURL === 'string'
    && typeof event.StackId === 'string' && typeof event.RequestId === 'string' && typeof event.LogicalResourceId === 'string';
}

/** What the lifecycle needs besides the pipeline's clients. */
export interface LifecycleDeps extends Pick<PipelineDeps, 'api' | 'log' | 'metrics'> {
  /** Loads the configuration afresh (Create and Update reconcile with it). */
  readonly loadConfig: () => Promise<DiscoveryConfig>;
  /** Milliseconds left before the answer must be sent. */
  readonly remainingMs?: () => number;
  /**
   * When (epoch milliseconds) the purges may read their names a second time: by then, every event invocation
   * that was running when the request arrived has ended (see PURGE_SETTLE_MS in the contract).
   */
  readonly settleUntil?: number;
}

/**
 * The names in `before` that are not in `after` (same zone and record name), with all their record types; and
 * the names kept whose registration no longer publishes some type (a dual-stack service made IPv4 only), with
 * the types it dropped: the records of those types would no longer be owned, so they are deleted now.
 */
export function removedNames(before: readonly LifecycleName[], after: readonly LifecycleName[]): LifecycleName[] {
  const kept = new Map(after.map(n => [nameKey(n), n] as const));
  const out: LifecycleName[] = [];
  for (const n of before) {
    const now = kept.get(nameKey(n));
    if (!now) {
      out.push(n);
      continue;
    }
    const dropped = recordTypesOf(n).filter(t => !recordTypesOf(now).includes(t));
    // Task names or an SRV name the kept name no longer has: their records go, the name's address records stay.
    const taskNamesGone = n.taskNames === true && now.taskNames !== true;
    const srvGone = n.srvFqdn !== undefined && n.srvFqdn !== now.srvFqdn;
    if (dropped.length > 0 || taskNamesGone || srvGone) {
      const { srvFqdn: _srv, taskNames: _tasks, ...base } = n;
      const taskTypes = taskNamesGone ? recordTypesOf(n) : n.taskNames === true ? dropped : [];
      const purge: LifecycleName & RecordOwner = {
        ...base,
        recordTypes: dropped,
        ...(taskTypes.length > 0 ? { taskNames: true, ...(taskTypes.length !== dropped.length ? { taskRecordTypes: taskTypes } : {}) } : {}),
        ...(srvGone ? { srvFqdn: n.srvFqdn } : {}),
      };
      out.push(purge);
    }
  }
  return out;
}

/** The reason CloudFormation shows when records could not be deleted: what is left and how to finish by hand. */
export function purgeFailureReason(what: string, summary: PurgeSummary): string {
  const byZone = new Map<string, string[]>();
  for (const f of summary.failures) {
    byZone.set(f.hostedZoneId, [...(byZone.get(f.hostedZoneId) ?? []), f.fqdn]);
  }
  const where = [...byZone].map(([zone, fqdns]) => `${fqdns.join(', ')} in hosted zone ${zone}`).join('; ');
  const first = summary.failures[0]?.reason ?? 'unknown error';
  const types = RECORD_TYPES.filter(t => summary.failures.some(f => recordTypesOf(f).includes(t)));
  return `EcsPublicDiscovery could not delete the records ${what} (${first}). Delete by hand the ${(types.length > 0 ? types : ['A']).join(' and ')} records with a set identifier `
    + `and multi-value answer routing at ${where} (they point at ECS tasks), then retry; or retry once the cause is fixed `
    + '(the deletion is safe to repeat).';
}

/**
 * Handles one request and returns the response to send. Never throws: every failure becomes a FAILED
 * response whose reason says what to do.
 */
export async function handleLifecycle(request: CfnRequest, deps: LifecycleDeps): Promise<CfnResponseBody> {
  const physicalId = request.PhysicalResourceId ?? `${request.LogicalResourceId}-${shortId(request.StackId)}`;
  const base = {
    PhysicalResourceId: physicalId, StackId: request.StackId, RequestId: request.RequestId, LogicalResourceId: request.LogicalResourceId,
  };
  const log = deps.log.child({ requestType: request.RequestType, logicalResourceId: request.LogicalResourceId });
  const ok = (data: Record<string, string>): CfnResponseBody => ({ ...base, Status: 'SUCCESS', Data: data });
  const failed = (reason: string): CfnResponseBody => {
    log.error('custom resource request failed', { reason });
    return { ...base, Status: 'FAILED', Reason: reason };
  };

  if (request.ResourceType !== LIFECYCLE_RESOURCE_TYPE) {
    return failed(`the discovery function serves only ${LIFECYCLE_RESOURCE_TYPE}, not ${request.ResourceType}`);
  }
  // What the request is doing, for an answer when time runs out before the work ends.
  const progress = { phase: 'purge' as 'purge' | 'reconcile' | 'checks', data: {} as Record<string, string> };
  // The health checks' owner before an Update, and whether the Update drops it (checks turned off, owner changed).
  const previous = request.RequestType === 'Update' ? ownerProperty(request.OldResourceProperties) : undefined;
  const ownerDropped = previous !== undefined && previous !== ownerProperty(request.ResourceProperties);
  const work = async (): Promise<CfnResponseBody> => {
    try {
      if (request.RequestType === 'Delete') {
        const names = readNamesOrNone(request.ResourceProperties, 'ResourceProperties', log);
        const summary = await purgeNames({ ...deps, log }, names, { remainingMs: deps.remainingMs, settleUntil: deps.settleUntil });
        log.info('records of the stack deleted', { names: names.length, deleted: summary.deleted, failed: summary.failures.length });
        if (summary.failures.length > 0) {
          return failed(purgeFailureReason('of this stack before it is deleted', summary));
        }
        // The records are gone: now the health checks they named can go too.
        const checks = await purgeHealthChecks(request, { ...deps, log });
        return checks === undefined
          ? ok({ Deleted: String(summary.deleted) })
          : typeof checks === 'string' ? failed(checks) : ok({ Deleted: String(summary.deleted), HealthChecksDeleted: String(checks) });
      }

      const names = readLifecycleNames(request.ResourceProperties, 'ResourceProperties');
      let purged = 0;
      if (request.RequestType === 'Update') {
        const removed = removedNames(readNamesOrNone(request.OldResourceProperties, 'OldResourceProperties', log), names);
        if (removed.length > 0) {
          const summary = await purgeNames({ ...deps, log }, removed, { remainingMs: deps.remainingMs, settleUntil: deps.settleUntil });
          log.info('records of names no longer registered deleted', { names: removed.map(n => n.fqdn), deleted: summary.deleted, failed: summary.failures.length });
          if (summary.failures.length > 0) {
            return failed(purgeFailureReason('of the names no longer registered', summary));
          }
          purged = summary.deleted;
        }
      }

      // A reconciliation that fails does not fail the deployment: the scheduled reconciler repairs it. But when
      // the previous owner's health checks must go (health checks turned off, or the owner changed), nothing
      // later would delete them: an Update that could not answers FAILED naming them, and CloudFormation's
      // rollback attaches them again.
      let data: Record<string, string> = { Deleted: String(purged) };
      progress.phase = 'reconcile';
      progress.data = data;
      let checksLeft: string | undefined;
      try {
        const config = await deps.loadConfig();
        const summary = await reconcile({ ...deps, log, config }, config.services, { remainingMs: deps.remainingMs });
        data = {
          ...data,
          Upserted: String(summary.upserted),
          Removed: String(summary.deleted),
          Skipped: String(summary.skipped ?? 0),
          FailedServices: String(summary.failedServices.length),
        };
        // Health checks turned off (or the owner changed): once every record was reconciled without the old
        // owner's checks, they are deleted; a run that did not reach every service may leave a record naming one.
        if (previous !== undefined && previous !== config.owner) {
          progress.phase = 'checks';
          if (summary.failedServices.length > 0 || (summary.skipped ?? 0) > 0) {
            checksLeft = 'the reconciliation did not reach every service, so a record may still name one';
          } else {
            try {
              data = { ...data, HealthChecksDeleted: String(await deleteOwnedChecks({ ...deps, log }, previous)) };
            } catch (err) {
              checksLeft = `${errorName(err)}: ${errorMessage(err)}`;
            }
          }
        }
      } catch (err) {
        log.error('the reconciliation after the deployment failed; the scheduled reconciler will repair the records', { error: errorName(err), detail: errorMessage(err) });
        data = { ...data, ReconcileError: errorName(err) };
        checksLeft = ownerDropped ? `the reconciliation failed (${errorName(err)})` : undefined;
      }
      if (checksLeft !== undefined && await noChecksLeft({ ...deps, log }, previous!)) {
        // Nothing of the previous owner is left (a rollback of the Update that turned checks on, or checks deleted by hand).
        log.info('the previous owner has no health check left', { owner: previous, reason: checksLeft });
        checksLeft = undefined;
      }
      return checksLeft !== undefined ? failed(previousChecksReason(previous!, checksLeft)) : ok(data);
    } catch (err) {
      return failed(`${request.RequestType} of the EcsPublicDiscovery records failed: ${errorName(err)}: ${errorMessage(err)}`);
    }
  };
  if (!deps.remainingMs) {
    return work();
  }
  // Retries stop in time, but a first attempt, or a bisection's requests, may still run long: CloudFormation
  // gets an answer before the invocation ends whatever the work is doing, rather than waiting an hour.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<CfnResponseBody>(resolve => {
    timer = setTimeout(() => {
      log.warn('time ran out before the request\'s work ended; answering now', { phase: progress.phase });
      resolve(progress.phase === 'checks' || (progress.phase === 'reconcile' && ownerDropped)
        ? failed(previousChecksReason(previous ?? '', 'the function\'s time ran out'))
        : progress.phase === 'reconcile'
          ? ok({ ...progress.data, ReconcileError: 'Timeout' })
          : failed(`${request.RequestType}: the function's time ran out before every record could be deleted; retry (the deletion is safe to repeat)`));
    }, Math.max(0, deps.remainingMs!() - DEADLINE_MARGIN_MS));
  });
  try {
    return await Promise.race([work(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** True when the owner has no health check left; false when it has, or when that cannot be read. */
async function noChecksLeft(deps: Pick<LifecycleDeps, 'api' | 'log'>, owner: string): Promise<boolean> {
  try {
    return await countOwnedChecks(deps, owner) === 0;
  } catch (err) {
    deps.log.warn('could not read whether the previous owner has health checks left', { error: errorName(err), detail: errorMessage(err) });
    return false;
  }
}

/** Time kept between the deadline answer and the end of the time the caller gives. */
const DEADLINE_MARGIN_MS = 500;

/**
 * Deletes the construct's health checks (stack deletion, after its records): their number, undefined when the
 * construct has none (the request names no owner), or the reason to answer FAILED with.
 */
async function purgeHealthChecks(request: CfnRequest, deps: Pick<LifecycleDeps, 'api' | 'log'>): Promise<number | string | undefined> {
  const owner = ownerProperty(request.ResourceProperties);
  if (owner === undefined) {
    return undefined;
  }
  try {
    const deleted = await deleteOwnedChecks(deps, owner);
    deps.log.info('health checks of the stack deleted', { deleted });
    return deleted;
  } catch (err) {
    return `EcsPublicDiscovery could not delete its Route53 health checks (${errorName(err)}: ${errorMessage(err)}). Delete by hand the health `
      + `checks tagged ${TAG_OWNER}=${owner}, or retry the deletion.`;
  }
}

/** The reason of an Update that could not delete the health checks of the owner it removed. */
function previousChecksReason(owner: string, why: string): string {
  return `EcsPublicDiscovery could not delete the Route53 health checks of its previous owner (${why}). Retry the deployment, or `
    + `delete by hand the health checks tagged ${TAG_OWNER}=${owner} once no record names them.`;
}

/** The owner of the construct's health checks named by the resource's properties, if any. */
function ownerProperty(properties: Record<string, unknown> | undefined): string | undefined {
  const owner = properties?.[LIFECYCLE_OWNER_PROPERTY];
  return typeof owner === 'string' && owner !== '' ? owner : undefined;
}

/** Registered names of a request, or none (logged) when they cannot be read: a Delete must never be stuck. */
function readNamesOrNone(properties: unknown, where: string, log: LifecycleDeps['log']): LifecycleName[] {
  try {
    return readLifecycleNames(properties, where);
  } catch (err) {
    log.warn('the request carries no readable list of names; there is nothing to delete', { detail: errorMessage(err) });
    return [];
  }
}

/** A short stable id derived from a stack id (its UUID's first block). */
function shortId(stackId: string): string {
  const uuid = stackId.split('/').pop() ?? stackId;
  return uuid.split('-')[0] || 'stack';
}
