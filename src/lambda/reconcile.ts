/**
 * The reconciler (the schedule, and every Create and Update of the custom resource): converges the
 * records of the registered services on their running tasks, service by service while time allows.
 */
import { applyAndReport } from './apply';
import { HealthCheckRun, listOwnedChecks, sweepOrphans } from './health-checks';
import { PipelineDeps, PlannedChange, TaskOutcome } from './model';
import { byService, planRegistrations } from './shared-reads';
import { errorMessage, errorName } from './telemetry';
import { METRIC, RegisteredService } from '../shared/contract';

/** Result of {@link reconcile}. */
export interface ReconcileSummary {
  /**
   * Registrations given (one per zone and name: a service published in 3 zones counts 3); `skipped` counts them
   * too, so the caller's cursor over the registrations resumes at the first one not reached.
   */
  readonly services: number;
  /** Registrations left for a later run because the invocation's time ran short. */
  readonly skipped?: number;
  readonly upserted: number;
  readonly deleted: number;
  readonly failed: number;
  /** ECS services that could not be read, each once however many zones it is published in (`ChangesFailed` counts them). */
  readonly failedServices: string[];
  /** Orphaned health checks deleted (present when the construct has health checks). */
  readonly healthChecksDeleted?: number;
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
  runDeps: PipelineDeps, services: readonly RegisteredService[] = runDeps.config.services, options: ReconcileOptions = {},
): Promise<ReconcileSummary> {
  // A task published in several zones gets its one health check ensured once in the run.
  const deps = { ...runDeps, ensuredChecks: new Map<string, Promise<string>>() };
  const { log, metrics } = deps;
  const changes: PlannedChange[] = [];
  const outcomes: TaskOutcome[] = [];
  const failedServices: string[] = [];
  const reachedServices: RegisteredService[] = [];
  const healthChecks = await readOwnedChecks(deps);
  // The registrations of a service published in several zones are planned together: its tasks are read once.
  for (const group of byService(services)) {
    if (options.remainingMs && options.remainingMs() < (options.reserveMs ?? 15_000)) {
      break;
    }
    reachedServices.push(...group);
    const refused: TaskOutcome[] = [];
    const errors = new Map<unknown, RegisteredService[]>();
    for (const result of await planRegistrations(deps, group, healthChecks)) {
      if ('error' in result) {
        errors.set(result.error, [...(errors.get(result.error) ?? []), result.service]);
        continue;
      }
      const plan = result.plan;
      changes.push(...plan.changes);
      // A refused task is refused again at every run for as long as it runs: its start event logged it at
      // error level once; here it is counted and summed up in one warning per service instead of one line per task.
      refused.push(...plan.outcomes.filter(o => o.outcome === 'rejected'));
      outcomes.push(...plan.outcomes.filter(o => o.outcome !== 'rejected'));
    }
    reportRefused(deps, group, refused);
    // A service fails once however many of its zones a failed read (shared by them, or a zone's own) left unreconciled.
    if (errors.size > 0) {
      failedServices.push(group[0].serviceName);
    }
    for (const [err, failed] of errors) {
      log.error('reconciliation of a service failed; it is retried at the next run', {
        service: group[0].serviceName,
        ...(group.length > 1 ? { hostedZoneIds: failed.map(s => s.hostedZoneId) } : {}),
        error: errorName(err),
        detail: errorMessage(err),
      });
    }
  }
  // Counted from the first registration not reached, in the order given: the next run starts there.
  const firstMissed = services.findIndex(s => !reachedServices.includes(s));
  const skipped = firstMissed < 0 ? 0 : services.length - firstMissed;
  if (skipped > 0) {
    log.warn('time ran short: services left for the next reconciliation', { skipped, services: services.slice(firstMissed).map(s => s.serviceName).slice(0, 20) });
  }

  // The health checks of a service whose reading failed in some zone stay: a record there may still name one.
  const keep = new Set(healthChecks?.publishing ?? []);
  changes.filter(c => failedServices.includes(c.service.serviceName)).forEach(c => keep.add(c.taskId));
  const final = await applyAndReport(deps, changes, outcomes, 'reconciler outcome', healthChecks ? keep : undefined);
  // Only once every service was read are the checks no record references known: a run cut short sweeps nothing.
  const healthChecksDeleted = healthChecks && skipped === 0 && failedServices.length === 0
    && services.length === deps.config.services.length ? await sweep(deps, healthChecks) : undefined;
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
  const checks = healthChecks ? { healthChecksDeleted: healthChecksDeleted ?? 0 } : {};
  const summary = { services: services.length, skipped, upserted, deleted, failed, failedServices, ...checks };
  log.log(failedServices.length > 0 ? 'error' : 'info', 'reconciliation finished', { ...summary });
  return summary;
}

/**
 * The construct's health checks, when it has an owner (some registration has `healthCheck`); undefined, logged,
 * when they cannot be read: the run then attaches checks without knowing them, and sweeps nothing.
 */
async function readOwnedChecks(deps: PipelineDeps): Promise<HealthCheckRun | undefined> {
  if (deps.config.owner === undefined) {
    return undefined;
  }
  try {
    return await listOwnedChecks(deps);
  } catch (err) {
    deps.log.error('could not list the health checks; orphaned checks are deleted at a later run', { error: errorName(err), detail: errorMessage(err) });
    return undefined;
  }
}

/** Deletes the orphaned health checks; a failure is logged and left for the next run. */
async function sweep(deps: PipelineDeps, run: HealthCheckRun): Promise<number> {
  try {
    return await sweepOrphans(deps, run);
  } catch (err) {
    deps.log.error('could not delete orphaned health checks; the next run retries', { error: errorName(err), detail: errorMessage(err) });
    return 0;
  }
}

/** Most refused tasks named in the reconciler's summary line; the count covers them all. */
export const REFUSED_TASKS_LOGGED = 20;

/**
 * Counts the tasks the reconciler refused (`TasksRejected`, a task once however many of the service's zones refused
 * it) and logs them as one warning line per service; with several zones, each refusal names its zone.
 */
function reportRefused(deps: PipelineDeps, group: readonly RegisteredService[], refused: readonly TaskOutcome[]): void {
  if (refused.length === 0) {
    return;
  }
  const count = new Set(refused.map(o => o.taskId)).size;
  deps.metrics.add(METRIC.TASKS_REJECTED, count);
  deps.log.warn('tasks refused by the registration', {
    service: group[0].serviceName,
    name: group[0].fqdn,
    count,
    tasks: refused.slice(0, REFUSED_TASKS_LOGGED)
      .map(o => ({ taskId: o.taskId, reason: o.reason, ...(o.hostedZoneId ? { hostedZoneId: o.hostedZoneId } : {}) })),
    ...(refused.length > REFUSED_TASKS_LOGGED ? { tasksNotListed: refused.length - REFUSED_TASKS_LOGGED } : {}),
  });
}
