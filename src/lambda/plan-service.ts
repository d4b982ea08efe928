/**
 * One service's name converged on its running tasks: the step the reconciler runs for every service and
 * the batch pipeline runs when a removal frees slots at a full name. It reads what it needs through
 * {@link DiscoveryApi} and leaves the deciding to the planner.
 */
import { attachHealthChecks, HealthCheckRun } from './health-checks';
import { EniObservation, PipelineDeps, PlannedChange, PublishItem, RecordSet, TaskObservation, TaskOutcome } from './model';
import { healthWait, isOwned, Removal, resolvePublish, zonedOutcomes } from './planner';
import { ownedBy, planRegistration, readRegistrationRecords } from './task-names';
import { recordTypesOf, RegisteredService, taskIdFromArn } from '../shared/contract';

/**
 * Plans what converges one service's name on its running tasks: records for running tasks that
 * lack one (existing holders first, so a full name does not churn), deletions of owned records no
 * running task holds, corrections of wrong values. `records` are the name's records when the
 * caller already knows them (or knows what they will be); otherwise they are listed. With `fillOnly`,
 * only records for running tasks are planned, never a deletion. `healthChecks` is the reconciler's view of the
 * construct's health checks (see health-checks.ts), collected as the services are planned.
 */
export async function planService(
  deps: PipelineDeps, service: RegisteredService, records?: readonly RecordSet[], fillOnly = false, healthChecks?: HealthCheckRun,
): Promise<{ changes: PlannedChange[]; outcomes: TaskOutcome[] }> {
  const { config, api } = deps;
  // Records are read before the tasks: a record published after this listing is not seen, so it cannot be
  // mistaken for the record of a task that is not running yet when the tasks are read.
  const current = records ?? await readRegistrationRecords(api, service);
  const arns = await api.listServiceTasks(config.clusterArn, service.serviceName);
  const tasks = arns.length > 0 ? await api.describeTasks(config.clusterArn, arns) : new Map<string, TaskObservation>();
  const running = [...tasks.values()].filter(t => t.lastStatus === 'RUNNING' && t.desiredStatus === 'RUNNING'
    && t.group === `service:${service.serviceName}`);
  const eniIds = running.map(t => t.eniId).filter((id): id is string => id !== undefined);
  const enis = eniIds.length > 0 ? await api.describeNetworkInterfaces(eniIds) : new Map<string, EniObservation>();

  const outcomes: TaskOutcome[] = [];
  const publishes: PublishItem[] = [];
  // A gated service's running task that ECS does not report HEALTHY gets no record (and loses the one it has).
  const waiting = new Map<string, string>();
  for (const t of running) {
    const taskId = taskIdFromArn(t.taskArn);
    const wait = healthWait(service, t.healthStatus);
    if (wait !== undefined) {
      waiting.set(taskId, wait);
      continue;
    }
    const resolution = resolvePublish(service, taskId, t.eniId ? enis.get(t.eniId) : undefined, t.tags);
    if (resolution.ok) {
      publishes.push(resolution.item);
    } else {
      outcomes.push(...zonedOutcomes(config, service, [resolution.outcome]));
    }
  }
  const holding = new Set(current.filter(r => isOwned(r, service.fqdn, recordTypesOf(service))).map(r => r.SetIdentifier as string));
  publishes.sort((a, b) => Number(holding.has(b.taskId)) - Number(holding.has(a.taskId)) || a.taskId.localeCompare(b.taskId));
  const wanted = new Set(publishes.map(p => p.taskId));
  // A task holding only a task-name or SRV record (its name was full) goes too when it no longer runs.
  const holdingAny = new Set([...holding, ...current.filter(ownedBy(service)).map(r => r.SetIdentifier as string)]);
  // Filling freed slots only adds: deleting records is left to the events and the reconciler, so the fill
  // can never undo a change of the batch it joins (ListTasks may not list a task that just started).
  const removals: Removal[] = fillOnly ? [] : [...holdingAny].filter(id => !wanted.has(id))
    .map(taskId => (waiting.has(taskId)
      ? { taskId, reason: waiting.get(taskId), unhealthy: true }
      : { taskId, reason: 'no running task of the service holds it (reconciler)' }));
  // Each task's health check exists before its records name it; a task whose check failed keeps its records as they are.
  const attached = await attachHealthChecks(deps, service, current, publishes, healthChecks);
  outcomes.push(...attached.failed);
  const plan = planRegistration(service, current, attached.items, removals);
  outcomes.push(...zonedOutcomes(config, service, plan.outcomes.filter(o => o.outcome !== 'unchanged')));
  return { changes: plan.changes, outcomes };
}
