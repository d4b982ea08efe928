/**
 * End-to-end: Route53 health checks per task. The example app with its Web service registered with an HTTP
 * health check (path /health, 10 s, threshold 2; the port from the container's port mapping), Api and Game
 * without. moto 5.2.5 creates a new health check for every CreateHealthCheck and has no quota: the proxy makes
 * the caller reference idempotent, refuses a deleted one, and refuses past a quota a test sets
 * (`route53HealthChecks` in emulator/moto-gaps.ts). The checks are read from moto directly.
 */
import { ChangeTagsForResourceCommand, CreateHealthCheckCommand, GetHealthCheckCommand, Route53Client } from '@aws-sdk/client-route-53';
import { Duration } from 'aws-cdk-lib';
import {
  CfnAnswer, healthCheckAuthorizer, iamAuthorizer, lifecycleRequest, lifecycleResource, ResponseCatcher, rolePolicies,
  rolePoliciesDuringUpdate, updateOrder,
} from '../../emulator/cloudformation';
import { running, stopSequence } from '../../emulator/events';
import { buildExampleStack, EXAMPLE_PORT, STACK_NAME, synthesizeExampleTemplate, templateOf } from '../../emulator/example-app';
import { logsWith, metricsOf } from '../../emulator/handler';
import type { CallRecord } from '../../emulator/proxy';
import type { TaskInfo } from '../../emulator/world';
import { TaskHealthCheckType } from '../../src';
import { ownerPrefix } from '../../src/lambda/health-checks';
import { TAG_OWNER, TAG_TASK } from '../../src/shared/contract';
import { expectAcknowledged } from '../support/assertions';
import { useE2e } from '../support/e2e';

const synthesize = () => templateOf(buildExampleStack({
  healthChecks: { Web: { type: TaskHealthCheckType.HTTP, path: '/health', interval: Duration.seconds(10), failureThreshold: 2 } },
}).stack);
const e2e = useE2e({ synthesize });

let route53: Route53Client;
let catcher: ResponseCatcher;
beforeAll(async () => {
  route53 = new Route53Client({
    endpoint: e2e.moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1,
  });
  catcher = await ResponseCatcher.start();
});
afterAll(async () => {
  route53.destroy();
  await catcher.stop();
});

/** Every health check moto holds, with its tags. */
const healthChecks = () => e2e.world.healthChecks();

/** The Web records of a task (A), as moto lists them. */
async function webRecordsOf(t: TaskInfo) {
  return (await e2e.records()).filter((r) => r.Name === e2e.web.fqdn && r.SetIdentifier === t.taskId);
}

/** Sequence number of the first matching call in the proxy's log. */
function seqOf(calls: CallRecord[], action: string, where: (c: CallRecord) => boolean = () => true): number {
  const c = calls.find((x) => x.service === 'route53' && x.action === action && where(x));
  if (!c) {
    throw new Error(`no ${action} call; calls: ${calls.map((x) => `${x.service}:${x.action}`).join(', ')}`);
  }
  return c.seq;
}

/** A health check created in moto as another actor (or a crashed invocation) would, with tags. */
async function createCheck(callerReference: string, tags: Record<string, string>): Promise<string> {
  const res = await route53.send(new CreateHealthCheckCommand({
    CallerReference: callerReference, HealthCheckConfig: { Type: 'TCP', IPAddress: '198.51.100.7', Port: 80 },
  }));
  const id = res.HealthCheck!.Id!;
  if (Object.keys(tags).length > 0) {
    await route53.send(new ChangeTagsForResourceCommand({
      ResourceType: 'healthcheck', ResourceId: id, AddTags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    }));
  }
  return id;
}

const HEALTH_CHECK_ACTIONS = ['CreateHealthCheck', 'ListHealthChecks', 'DeleteHealthCheck', 'GetHealthCheck', 'ChangeTagsForResource', 'ListTagsForResources'];
const healthCheckCalls = () => HEALTH_CHECK_ACTIONS.reduce((n, a) => n + e2e.proxy.count('route53', a), 0);

test('the registration carries the settings, the port from the container, and the configuration an owner', () => {
  expect(e2e.web.healthCheck).toEqual({ type: 'HTTP', port: EXAMPLE_PORT, path: '/health', intervalSeconds: 10, failureThreshold: 2 });
  expect(e2e.play).not.toHaveProperty('healthCheck');
  expect(e2e.config.owner).toMatch(new RegExp(`^123456789012/us-east-1/${STACK_NAME}/c8[0-9a-f]{40}$`));
});

test('start: the check is created with the settings and tags, then the record carries its id; stop: record gone, then check deleted', async () => {
  const t = await e2e.world.startTask(e2e.web.serviceName);
  const started = await e2e.deliver([running(t)]);
  expectAcknowledged(started);

  const checks = await healthChecks();
  expect(checks).toHaveLength(1);
  const [check] = checks;
  expect(check.HealthCheckConfig).toMatchObject({
    Type: 'HTTP', IPAddress: t.publicIp, Port: EXAMPLE_PORT, ResourcePath: '/health', RequestInterval: 10, FailureThreshold: 2,
  });
  expect(check.CallerReference!.startsWith(`${ownerPrefix(e2e.config.owner!)}${t.taskId}-`)).toBe(true);
  expect(check.tags).toEqual({ [TAG_OWNER]: e2e.config.owner, [TAG_TASK]: t.taskArn });
  const records = await webRecordsOf(t);
  expect(records).toEqual([expect.objectContaining({ Type: 'A', HealthCheckId: check.Id, ResourceRecords: [{ Value: t.publicIp }] })]);
  // Order: created, tagged, and only then named by the record.
  const calls = e2e.proxy.calls();
  expect(seqOf(calls, 'CreateHealthCheck')).toBeLessThan(seqOf(calls, 'ChangeTagsForResource'));
  expect(seqOf(calls, 'ChangeTagsForResource')).toBeLessThan(seqOf(calls, 'ChangeResourceRecordSets'));
  expect(e2e.proxy.count('route53', 'CreateHealthCheck')).toBe(1);

  await e2e.world.stopTask(t);
  const stopped = await e2e.deliver(stopSequence(t));
  expectAcknowledged(stopped);
  expect(await webRecordsOf(t)).toEqual([]);
  expect(await healthChecks()).toEqual([]);
  const stopCalls = e2e.proxy.calls();
  expect(seqOf(stopCalls, 'ChangeResourceRecordSets')).toBeLessThan(seqOf(stopCalls, 'DeleteHealthCheck'));
  expect(logsWith(stopped.logs, { message: 'health check deleted after the task\'s records', healthCheckId: check.Id })).toHaveLength(1);
});

test('a retried start makes no second check: after a failed write the same check is found again; a replayed start makes no call', async () => {
  const t = await e2e.world.startTask(e2e.web.serviceName);
  // The first attempt creates the check, then its record write keeps failing: the message goes back to the queue.
  e2e.proxy.failNext({ service: 'route53', action: 'ChangeResourceRecordSets' }, 20, 'InternalError');
  const first = await e2e.deliver([running(t)]);
  expect(first.result?.batchItemFailures).toHaveLength(1);
  const [check] = await healthChecks();
  expect(check).toBeDefined();
  e2e.proxy.clearFaults();

  const retried = await e2e.deliver([running(t)]);
  expectAcknowledged(retried);
  expect(await healthChecks()).toEqual([expect.objectContaining({ Id: check.Id })]);
  expect(await webRecordsOf(t)).toEqual([expect.objectContaining({ HealthCheckId: check.Id })]);

  const replayed = await e2e.deliver([running(t)]);
  expectAcknowledged(replayed);
  expect(healthCheckCalls()).toBe(0);
  expect(await healthChecks()).toHaveLength(1);
});

test('the reconciler deletes an orphan of this construct (a stopped task\'s check left by a crash), never a check of another owner or an untagged one', async () => {
  const live = await e2e.world.startTask(e2e.web.serviceName);
  expectAcknowledged(await e2e.deliver([running(live)]));
  const [liveCheck] = await healthChecks();
  const gone = await e2e.world.startTask(e2e.web.serviceName);
  await e2e.world.stopTask(gone);
  const owner = e2e.config.owner!;
  const orphan = await createCheck(`${ownerPrefix(owner)}${gone.taskId}-0badc0-0`, { [TAG_OWNER]: owner, [TAG_TASK]: gone.taskArn });
  // Created by an invocation that stopped before tagging it: found by its caller reference, tagged, then deleted.
  const untaggedOurs = await createCheck(`${ownerPrefix(owner)}${'f'.repeat(32)}-0badc0-0`, {});
  const otherOwner = await createCheck('someone-else-1', { [TAG_OWNER]: `${owner}-other`, [TAG_TASK]: gone.taskArn });
  const untagged = await createCheck('someone-else-2', {});

  const inv = await e2e.reconcile();
  expect(inv.error).toBeUndefined();
  const ids = (await healthChecks()).map((c) => c.Id).sort();
  expect(ids).toEqual([liveCheck.Id, otherOwner, untagged].sort());
  expect(ids).not.toContain(orphan);
  expect(ids).not.toContain(untaggedOurs);
  expect(inv.result).toMatchObject({ healthChecksDeleted: 2 });
  expect(await webRecordsOf(live)).toEqual([expect.objectContaining({ HealthCheckId: liveCheck.Id })]);
});

test('quota reached: the task is published without a check, an error names the quota and the metric; the reconciler attaches one later', async () => {
  e2e.proxy.setHealthCheckQuota(0);
  const t = await e2e.world.startTask(e2e.web.serviceName);
  const started = await e2e.deliver([running(t)]);
  expectAcknowledged(started);
  const [record] = await webRecordsOf(t);
  expect(record.ResourceRecords).toEqual([{ Value: t.publicIp }]);
  expect(record.HealthCheckId).toBeUndefined();
  const errors = logsWith(started.logs, { level: 'error', taskId: t.taskId, error: 'TooManyHealthChecks' });
  expect(errors).toHaveLength(1);
  expect(errors[0].message).toMatch(/Route53 health checks per account, 200 by default; request an increase in Service Quotas/);
  expect(errors[0].message).toMatch(/HealthCheckQuotaExceeded/);
  expect(metricsOf(started.logs)).toMatchObject({ HealthCheckQuotaExceeded: 1, RecordsUpserted: 1 });

  e2e.proxy.setHealthCheckQuota(undefined);
  const inv = await e2e.reconcile();
  expect(inv.error).toBeUndefined();
  const [check] = await healthChecks();
  expect(check).toBeDefined();
  expect(await webRecordsOf(t)).toEqual([expect.objectContaining({ HealthCheckId: check.Id })]);
});

test('a service without the option makes no health check call at all', async () => {
  const p = await e2e.world.startTask(e2e.play.serviceName);
  expectAcknowledged(await e2e.deliver([running(p)]));
  expect(healthCheckCalls()).toBe(0);
  await e2e.world.stopTask(p);
  expectAcknowledged(await e2e.deliver(stopSequence(p)));
  expect(healthCheckCalls()).toBe(0);
  expect((await e2e.records()).filter((r) => r.Name === e2e.play.fqdn && r.HealthCheckId !== undefined)).toEqual([]);
});

test('stack deletion deletes the records, then the construct\'s checks; another owner\'s check stays', async () => {
  const tasks = await e2e.world.startTasks(e2e.web.serviceName, 2);
  expectAcknowledged(await e2e.deliver(tasks.map((t) => running(t))));
  expect(await healthChecks()).toHaveLength(2);
  const foreign = await createCheck('someone-else-3', { [TAG_OWNER]: 'another-construct' });

  const resource = lifecycleResource(e2e.template, e2e.deployed);
  expect(resource.properties.HealthCheckOwner).toBe(e2e.config.owner);
  const { event, requestId } = lifecycleRequest(catcher, 'Delete', resource);
  const inv = await e2e.invoke(event);
  expect(inv.error).toBeUndefined();
  const answer = catcher.answers.get(requestId) as CfnAnswer;
  expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { Deleted: '2', HealthChecksDeleted: '2' } });
  expect((await e2e.records()).filter((r) => r.Name === e2e.web.fqdn && r.SetIdentifier)).toEqual([]);
  expect((await healthChecks()).map((c) => c.Id)).toEqual([foreign]);
  const calls = e2e.proxy.calls();
  expect(seqOf(calls, 'ChangeResourceRecordSets')).toBeLessThan(seqOf(calls, 'DeleteHealthCheck'));
  await expect(route53.send(new GetHealthCheckCommand({ HealthCheckId: foreign }))).resolves.toBeDefined();
});

describe('IAM, played by the proxy from the synthesized role policies', () => {
  test('the role allows every health check call of a task\'s life and of the reconciler\'s sweep', async () => {
    const policies = [...rolePolicies(e2e.template, e2e.deployed).values()];
    e2e.proxy.authorizeRoute53Writes(iamAuthorizer(policies));
    e2e.proxy.authorizeHealthChecks(healthCheckAuthorizer(policies));
    const t = await e2e.world.startTask(e2e.web.serviceName);
    expectAcknowledged(await e2e.deliver([running(t)]));
    const gone = await e2e.world.startTask(e2e.web.serviceName);
    await e2e.world.stopTask(gone);
    await createCheck(`${ownerPrefix(e2e.config.owner!)}${gone.taskId}-0badc0-0`, { [TAG_OWNER]: e2e.config.owner!, [TAG_TASK]: gone.taskArn });
    expect((await e2e.reconcile()).result).toMatchObject({ failed: 0, healthChecksDeleted: 1 });
    await e2e.world.stopTask(t);
    expectAcknowledged(await e2e.deliver(stopSequence(t)));
    expect(await healthChecks()).toEqual([]);
    expect(e2e.proxy.calls().filter((c) => c.rejected?.some((r) => r.includes('not authorized')))).toEqual([]);
  });

  test('a role without the health check permissions is refused (the evaluation can fail): the start is retried, nothing published', async () => {
    const withoutChecks = [...rolePolicies(synthesizeExampleTemplate(), e2e.deployed).values()];
    e2e.proxy.authorizeHealthChecks(healthCheckAuthorizer(withoutChecks));
    const t = await e2e.world.startTask(e2e.web.serviceName);
    const inv = await e2e.deliver([running(t)]);
    expect(inv.result?.batchItemFailures).toHaveLength(1);
    expect(e2e.proxy.calls().find((c) => c.action === 'CreateHealthCheck')?.status).toBe(403);
    expect(await webRecordsOf(t)).toEqual([]);
  });
});

describe('turning healthCheck off, replayed in CloudFormation\'s update order with the proxy playing IAM', () => {
  /** Sends the lifecycle resource's Update from `before` to `after` and returns CloudFormation's answer. */
  async function update(before: typeof e2e.template, after: typeof e2e.template): Promise<CfnAnswer> {
    await e2e.useTemplate(after);
    const { event, requestId } = lifecycleRequest(catcher, 'Update', lifecycleResource(after, e2e.deployed), lifecycleResource(before, e2e.deployed));
    const inv = await e2e.invoke(event);
    expect(inv.error).toBeUndefined();
    return catcher.answers.get(requestId) as CfnAnswer;
  }

  test('the health check policy goes only in the cleanup phase: the Update reconciles the records without checks, then deletes them', async () => {
    const before = e2e.template;
    const after = synthesizeExampleTemplate();
    const tasks = await e2e.world.startTasks(e2e.web.serviceName, 2);
    expectAcknowledged(await e2e.deliver(tasks.map((t) => running(t))));
    expect(await healthChecks()).toHaveLength(2);

    const steps = updateOrder(before, after);
    const lifecycleStep = steps.findIndex((s) => s.type === 'Custom::EcsPublicDiscovery');
    expect(steps[lifecycleStep].action).toBe('update');
    const policySteps = steps.filter((s) => s.type === 'AWS::IAM::Policy' && s.logicalId.startsWith('DiscoveryHealthChecks'));
    expect(policySteps).toEqual([expect.objectContaining({ phase: 'cleanup', action: 'delete' })]);
    expect(steps.indexOf(policySteps[0])).toBeGreaterThan(lifecycleStep);

    const during = [...rolePoliciesDuringUpdate(before, after, e2e.deployed).values()];
    e2e.proxy.authorizeRoute53Writes(iamAuthorizer(during));
    e2e.proxy.authorizeHealthChecks(healthCheckAuthorizer(during));
    const answer = await update(before, after);
    expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { HealthChecksDeleted: '2' } });
    expect(await healthChecks()).toEqual([]);
    for (const t of tasks) {
      expect(await webRecordsOf(t)).toEqual([expect.objectContaining({ ResourceRecords: [{ Value: t.publicIp }] })]);
      expect((await webRecordsOf(t))[0].HealthCheckId).toBeUndefined();
    }
    expect(e2e.proxy.calls().filter((c) => c.rejected?.some((r) => r.includes('not authorized')))).toEqual([]);
  });

  test('the rollback of the Update that had just turned checks on: its reconciliation fails, but no check exists, so SUCCESS', async () => {
    // CloudFormation rolls back to the template without checks right after the one that added them: no task was
    // published with a check yet. The reconciliation fails (ListTasks throttled past the retries), which would
    // otherwise answer FAILED and leave the stack in UPDATE_ROLLBACK_FAILED.
    const before = e2e.template;
    const after = synthesizeExampleTemplate();
    expect(await healthChecks()).toEqual([]);
    const during = [...rolePoliciesDuringUpdate(before, after, e2e.deployed).values()];
    e2e.proxy.authorizeRoute53Writes(iamAuthorizer(during));
    e2e.proxy.authorizeHealthChecks(healthCheckAuthorizer(during));
    e2e.proxy.failNext({ service: 'ecs', action: 'ListTasks' }, 100, 'InternalError');
    const answer = await update(before, after);
    expect(answer.Status).toBe('SUCCESS');
    expect(answer.Data).toMatchObject({ FailedServices: '3' });
  });

  test('without the old policy during the Update (the evaluation can fail): the deletion is denied and the Update FAILED, naming the owner tag', async () => {
    const before = e2e.template;
    const after = synthesizeExampleTemplate();
    const [t] = await e2e.world.startTasks(e2e.web.serviceName, 1);
    expectAcknowledged(await e2e.deliver([running(t)]));
    const [check] = await healthChecks();
    const owner = e2e.config.owner!;

    const cleaned = [...rolePolicies(after, e2e.deployed).values()];
    e2e.proxy.authorizeRoute53Writes(iamAuthorizer(cleaned));
    e2e.proxy.authorizeHealthChecks(healthCheckAuthorizer(cleaned));
    const answer = await update(before, after);
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toContain(`health checks tagged ${TAG_OWNER}=${owner}`);
    expect(answer.Reason).toMatch(/not authorized/);
    // Nothing was lost: the check is still there for the rollback to attach again.
    expect((await healthChecks()).map((c) => c.Id)).toEqual([check.Id]);
  });
});
