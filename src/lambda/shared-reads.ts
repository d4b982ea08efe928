/**
 * A service published in several zones has one registration per zone, and each is converged on the same
 * running tasks. The reconciler reads those tasks (ListTasks, DescribeTasks, DescribeNetworkInterfaces) once
 * per service rather than once per zone: it lists the records of every zone of the service first, then plans
 * each zone with the task reads remembered, so no zone's records are read after its tasks (see planService).
 */
import type { HealthCheckRun } from './health-checks';
import { DiscoveryApi, PipelineDeps, PlannedChange, RecordSet, TaskOutcome } from './model';
import { planService } from './plan-service';
import { readRegistrationRecords } from './task-names';
import { RegisteredService } from '../shared/contract';

/** The registrations in order, those of one ECS service together (in the order the service first appears). */
export function byService(services: readonly RegisteredService[]): RegisteredService[][] {
  const groups = new Map<string, RegisteredService[]>();
  for (const s of services) {
    groups.set(s.serviceName, [...(groups.get(s.serviceName) ?? []), s]);
  }
  return [...groups.values()];
}

/** The API with its task and ENI reads remembered, for one service's registrations; every other call goes through. */
export function rememberingTaskReads(api: DiscoveryApi): DiscoveryApi {
  const remembered = new Map<string, Promise<unknown>>();
  const once = <T>(key: string, read: () => Promise<T>): Promise<T> => {
    if (!remembered.has(key)) {
      remembered.set(key, read());
    }
    return remembered.get(key) as Promise<T>;
  };
  const wrapped = Object.create(api) as DiscoveryApi & Record<string, unknown>;
  wrapped.listServiceTasks = (clusterArn, serviceName) => once(`tasks|${clusterArn}|${serviceName}`, () => api.listServiceTasks(clusterArn, serviceName));
  wrapped.describeTasks = (clusterArn, arns) => once(`describe|${clusterArn}|${[...arns].sort().join(',')}`, () => api.describeTasks(clusterArn, arns));
  wrapped.describeNetworkInterfaces = ids => once(`enis|${[...ids].sort().join(',')}`, () => api.describeNetworkInterfaces(ids));
  return wrapped;
}

/** The plan of one registration, or why it could not be made. */
export type RegistrationPlan = { readonly service: RegisteredService } & (
  | { readonly plan: { changes: PlannedChange[]; outcomes: TaskOutcome[] } }
  | { readonly error: unknown });

/** Plans the registrations of one ECS service (see the module comment); a registration that fails does not stop the others. */
export async function planRegistrations(
  deps: PipelineDeps, registrations: readonly RegisteredService[], healthChecks?: HealthCheckRun,
): Promise<RegistrationPlan[]> {
  if (registrations.length === 1) {
    const [service] = registrations;
    try {
      return [{ service, plan: await planService(deps, service, undefined, false, healthChecks) }];
    } catch (error) {
      return [{ service, error }];
    }
  }
  const records = new Map<RegisteredService, RecordSet[] | { error: unknown }>();
  for (const service of registrations) {
    try {
      records.set(service, await readRegistrationRecords(deps.api, service));
    } catch (error) {
      records.set(service, { error });
    }
  }
  const shared = { ...deps, api: rememberingTaskReads(deps.api) };
  const plans: RegistrationPlan[] = [];
  for (const service of registrations) {
    const listed = records.get(service)!;
    if (!Array.isArray(listed)) {
      plans.push({ service, error: listed.error });
      continue;
    }
    try {
      plans.push({ service, plan: await planService(shared, service, listed, false, healthChecks) });
    } catch (error) {
      plans.push({ service, error });
    }
  }
  return plans;
}
