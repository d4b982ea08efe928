/**
 * Route53 health checks per task (src/lambda/health-checks.ts): the pure helpers, then the batch pipeline, the
 * reconciler and the lifecycle's Delete over the in-memory API, whose health checks behave as Route53's
 * (idempotent caller reference, deleted references refused, quota).
 */
import { awsError, FakeDiscoveryApi } from './fake-api';
import { CLUSTER_ARN, MC, ownedRecord, startEvent, stopEvent, taskArn, WEB, ZONE } from './fixtures';
import { pipelineHarness } from './pipeline-harness';
import { healthCheckSettings, ownerPrefix, taskIdOfReference, taskPrefix } from '../../src/lambda/health-checks';
import { handleLifecycle } from '../../src/lambda/lifecycle';
import { reconcile } from '../../src/lambda/reconcile';
import { Logger, Metrics } from '../../src/lambda/telemetry';
import { DiscoveryConfig, RegisteredService, TAG_OWNER, TAG_TASK } from '../../src/shared/contract';

const OWNER = '123456789012/eu-west-1/c8aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const CHECKED: RegisteredService = {
  ...MC, healthCheck: { type: 'HTTP', port: 25565, path: '/ping', intervalSeconds: 30, failureThreshold: 3 },
};
const CONFIG: DiscoveryConfig = { clusterArn: CLUSTER_ARN, services: [CHECKED, WEB], owner: OWNER };
const TASK_ID = '0123456789abcdef0123456789abcdef';

/** A harness whose api has the task running in the checked service. */
function setup(config: DiscoveryConfig = CONFIG, ip = '203.0.113.10') {
  const h = pipelineHarness(config);
  h.api.addTask(TASK_ID, { service: config.services[0], ip });
  return h;
}

/** Serves a lifecycle request over the fake with the given configuration, without the settle wait. */
function lifecycle(api: FakeDiscoveryApi, request: Parameters<typeof handleLifecycle>[0], config: DiscoveryConfig) {
  return handleLifecycle(request, { api, log: new Logger(() => undefined), metrics: new Metrics(), loadConfig: async () => config, settleUntil: 0 });
}

/** Index of the first call of a method in the fake's call log. */
const firstCall = (api: FakeDiscoveryApi, method: string) => api.calls.findIndex(c => c.method === method);
const lastCall = (api: FakeDiscoveryApi, method: string) => api.calls.map(c => c.method as string).lastIndexOf(method);

describe('caller references and settings', () => {
  const settings = healthCheckSettings(CHECKED, { taskId: TASK_ID, publicIp: '203.0.113.10', ttl: 60 })!;

  test('a reference names the owner (hashed), the task, the settings (hashed) and a generation, within Route53\'s 64 characters', () => {
    const reference = `${taskPrefix(OWNER, TASK_ID, settings)}0`;
    expect(reference).toMatch(new RegExp(`^pd1-[0-9a-f]{8}-${TASK_ID}-[0-9a-f]{6}-0$`));
    expect(reference.length).toBeLessThanOrEqual(64);
    // The longest: a task id of the old ARN format (a UUID) and a generation from the time (7 base-36 digits until 2080).
    const uuid = '01234567-89ab-cdef-0123-456789abcdef';
    expect(`${taskPrefix(OWNER, uuid, settings)}${(36 ** 7 - 1).toString(36)}`.length).toBeLessThanOrEqual(64);
    expect(taskIdOfReference(OWNER, `${taskPrefix(OWNER, uuid, settings)}${Math.floor(Date.now() / 1000).toString(36)}`)).toBe(uuid);
    expect(reference.startsWith(ownerPrefix(OWNER))).toBe(true);
    expect(taskIdOfReference(OWNER, reference)).toBe(TASK_ID);
    expect(taskIdOfReference(`${OWNER}x`, reference)).toBeUndefined();
    expect(taskIdOfReference(OWNER, 'someone-else')).toBeUndefined();
  });

  test('other settings or another address make another reference; another owner another prefix', () => {
    const base = taskPrefix(OWNER, TASK_ID, settings);
    expect(taskPrefix(OWNER, TASK_ID, { ...settings, port: 80 })).not.toBe(base);
    expect(taskPrefix(OWNER, TASK_ID, { ...settings, ipAddress: '203.0.113.11' })).not.toBe(base);
    expect(ownerPrefix('111122223333/eu-west-1/c8aaaa')).not.toBe(ownerPrefix('123456789012/eu-west-1/c8aaaa'));
  });

  test.each([
    ['TCP: no path', { ...MC, healthCheck: { type: 'TCP', port: 80, intervalSeconds: 10, failureThreshold: 1 } }, { publicIp: '203.0.113.1' },
      { type: 'TCP', ipAddress: '203.0.113.1', port: 80, intervalSeconds: 10, failureThreshold: 1 }],
    ['HTTP without a path: /', { ...MC, healthCheck: { type: 'HTTP', port: 80, intervalSeconds: 30, failureThreshold: 3 } }, { publicIp: '203.0.113.1' },
      { type: 'HTTP', ipAddress: '203.0.113.1', port: 80, path: '/', intervalSeconds: 30, failureThreshold: 3 }],
    ['dual stack: the IPv4 address', CHECKED, { publicIp: '203.0.113.1', ipv6Address: '2001:db8::1' },
      { type: 'HTTP', ipAddress: '203.0.113.1', port: 25565, path: '/ping', intervalSeconds: 30, failureThreshold: 3 }],
    ['IPv6 only: the IPv6 address', { ...CHECKED, recordTypes: ['AAAA'] }, { ipv6Address: '2001:db8::1' },
      { type: 'HTTP', ipAddress: '2001:db8::1', port: 25565, path: '/ping', intervalSeconds: 30, failureThreshold: 3 }],
  ] as Array<[string, RegisteredService, object, object]>)('%s', (_what, service, addresses, expected) => {
    expect(healthCheckSettings(service, { taskId: TASK_ID, ttl: 60, ...addresses })).toEqual(expected);
  });

  test('no check without the option, nor for a private address (Route53 cannot probe it)', () => {
    expect(healthCheckSettings(MC, { taskId: TASK_ID, publicIp: '203.0.113.1', ttl: 60 })).toBeUndefined();
    expect(healthCheckSettings({ ...CHECKED, addressScope: 'private' }, { taskId: TASK_ID, publicIp: '10.0.0.1', ttl: 60 })).toBeUndefined();
  });
});

describe('the batch pipeline', () => {
  test('start: the check is created and tagged, then the record carries its id', async () => {
    const h = setup();
    const result = await h.run(['m1', startEvent(TASK_ID)]);
    expect(result.failedMessageIds).toEqual([]);
    const [check] = [...h.api.healthChecks.values()];
    expect(check.spec).toMatchObject({ type: 'HTTP', ipAddress: '203.0.113.10', port: 25565, path: '/ping', intervalSeconds: 30, failureThreshold: 3 });
    expect(check.tags).toEqual({ [TAG_OWNER]: OWNER, [TAG_TASK]: taskArn(TASK_ID) });
    expect(h.api.records(ZONE, MC.fqdn)).toEqual([{ ...ownedRecord(MC, TASK_ID, '203.0.113.10'), HealthCheckId: check.id }]);
    expect(firstCall(h.api, 'createHealthCheck')).toBeLessThan(firstCall(h.api, 'tagHealthCheck'));
    expect(firstCall(h.api, 'tagHealthCheck')).toBeLessThan(firstCall(h.api, 'changeRecords'));
  });

  test('stop: the record is deleted, then the check (its owner tag checked first)', async () => {
    const h = setup();
    await h.run(['m1', startEvent(TASK_ID)]);
    h.api.stopTask(TASK_ID);
    h.api.calls.length = 0;
    const result = await h.run(['m2', stopEvent(TASK_ID)]);
    expect(result.failedMessageIds).toEqual([]);
    expect(h.api.records(ZONE, MC.fqdn)).toEqual([]);
    expect(h.api.healthChecks.size).toBe(0);
    expect(firstCall(h.api, 'changeRecords')).toBeLessThan(firstCall(h.api, 'listHealthCheckTags'));
    expect(firstCall(h.api, 'listHealthCheckTags')).toBeLessThan(firstCall(h.api, 'deleteHealthCheck'));
  });

  test('a check the record names but another construct owns is never deleted', async () => {
    const h = setup();
    await h.run(['m1', startEvent(TASK_ID)]);
    const [check] = [...h.api.healthChecks.values()];
    check.tags[TAG_OWNER] = 'someone-else';
    h.api.stopTask(TASK_ID);
    await h.run(['m2', stopEvent(TASK_ID)]);
    expect(h.api.records(ZONE, MC.fqdn)).toEqual([]);
    expect(h.api.healthChecks.has(check.id)).toBe(true);
    expect(h.api.count('deleteHealthCheck')).toBe(0);
  });

  test('a replayed start makes no health check call; a retried one after a failed write finds the same check', async () => {
    const h = setup();
    h.api.fail('changeRecords', awsError('ServiceUnavailable', 'down', 503));
    const failed = await h.run(['m1', startEvent(TASK_ID)]);
    expect(failed.failedMessageIds).toEqual(['m1']);
    expect(h.api.healthChecks.size).toBe(1);
    const [check] = [...h.api.healthChecks.values()];

    const retried = await h.run(['m1', startEvent(TASK_ID)]);
    expect(retried.failedMessageIds).toEqual([]);
    expect(h.api.healthChecks.size).toBe(1);
    expect(h.api.records(ZONE, MC.fqdn)[0].HealthCheckId).toBe(check.id);

    h.api.calls.length = 0;
    await h.run(['m1', startEvent(TASK_ID)]);
    expect(h.api.count('createHealthCheck') + h.api.count('tagHealthCheck') + h.api.count('listHealthChecks')).toBe(0);
  });

  test('a reference of a deleted check (the check was deleted while its task runs): a new generation from the time, no probing', async () => {
    const h = setup();
    await h.run(['m1', startEvent(TASK_ID)]);
    const [first] = [...h.api.healthChecks.values()];
    // Its records and check went (deleted by hand, say); now it is published again.
    h.api.zones.set(ZONE, []);
    await h.api.deleteHealthCheck(first.id);
    h.api.calls.length = 0;
    await h.run(['m2', startEvent(TASK_ID, { version: 3 })]);
    const [second] = [...h.api.healthChecks.values()];
    expect(second.id).not.toBe(first.id);
    expect(first.spec.callerReference.endsWith('-0')).toBe(true);
    expect(second.spec.callerReference).toMatch(new RegExp(`^${first.spec.callerReference.slice(0, -1)}[0-9a-z]{6,7}$`));
    expect(h.api.records(ZONE, MC.fqdn)[0].HealthCheckId).toBe(second.id);
    expect(h.api.count('createHealthCheck')).toBe(2);
    expect(h.api.count('listHealthChecks')).toBe(1);
  });

  test('a gated task that flaps UNHEALTHY and HEALTHY 12 times keeps its one check and is published every time', async () => {
    const gated: RegisteredService = { ...CHECKED, publishWhenHealthy: true };
    const h = pipelineHarness({ ...CONFIG, services: [gated, WEB] });
    h.api.addTask(TASK_ID, { service: gated, ip: '203.0.113.10', healthStatus: 'HEALTHY' });
    await h.run(['m0', startEvent(TASK_ID)]);
    const [check] = [...h.api.healthChecks.values()];
    for (let i = 1; i <= 12; i++) {
      h.api.setHealth(TASK_ID, 'UNHEALTHY');
      expect((await h.run([`u${i}`, startEvent(TASK_ID, { version: 2 * i + 1 })])).failedMessageIds).toEqual([]);
      expect(h.api.records(ZONE, MC.fqdn)).toEqual([]);
      expect([...h.api.healthChecks.keys()]).toEqual([check.id]);
      h.api.setHealth(TASK_ID, 'HEALTHY');
      expect((await h.run([`h${i}`, startEvent(TASK_ID, { version: 2 * i + 2 })])).failedMessageIds).toEqual([]);
      expect(h.api.records(ZONE, MC.fqdn)).toEqual([{ ...ownedRecord(MC, TASK_ID, '203.0.113.10'), HealthCheckId: check.id }]);
    }
    // One CreateHealthCheck per publication, each answered with the same check; no reference was used up.
    expect(h.api.count('createHealthCheck')).toBe(13);
    expect(h.api.count('listHealthChecks')).toBe(0);
    expect(h.api.count('deleteHealthCheck')).toBe(0);
    expect((await reconcile(h.deps)).healthChecksDeleted ?? 0).toBe(0);
    expect([...h.api.healthChecks.keys()]).toEqual([check.id]);

    // The task stops while unpublished: no record names the check; the reconciler's sweep deletes it.
    h.api.setHealth(TASK_ID, 'UNHEALTHY');
    await h.run(['u', startEvent(TASK_ID, { version: 99 })]);
    h.api.stopTask(TASK_ID);
    await h.run(['s', stopEvent(TASK_ID, { version: 100 })]);
    expect((await reconcile(h.deps)).healthChecksDeleted).toBe(1);
    expect(h.api.healthChecks.size).toBe(0);
  });

  test('quota reached: published without a check, an error naming the quota and the metric; the reconciler attaches one later', async () => {
    const h = setup();
    h.api.healthCheckQuota = 0;
    const result = await h.run(['m1', startEvent(TASK_ID)]);
    expect(result.failedMessageIds).toEqual([]);
    expect(h.api.records(ZONE, MC.fqdn)).toEqual([ownedRecord(MC, TASK_ID, '203.0.113.10')]);
    expect(h.counted()).toMatchObject({ HealthCheckQuotaExceeded: 1, RecordsUpserted: 1 });
    const errors = h.logs().filter(l => l.level === 'error' && l.error === 'TooManyHealthChecks');
    expect(errors).toEqual([expect.objectContaining({
      taskId: TASK_ID, metric: 'HealthCheckQuotaExceeded', message: expect.stringMatching(/Route53 health checks per account, 200 by default/),
    })]);

    h.api.healthCheckQuota = 200;
    const summary = await reconcile(h.deps);
    expect(summary).toMatchObject({ upserted: 1, failed: 0 });
    const [check] = [...h.api.healthChecks.values()];
    expect(h.api.records(ZONE, MC.fqdn)[0].HealthCheckId).toBe(check.id);
  });

  test('quota reached: one CreateHealthCheck per invocation, whatever the number of tasks; each task counted', async () => {
    const h = pipelineHarness(CONFIG);
    const ids = ['a1', 'a2', 'a3'].map(p => p.padEnd(32, '0'));
    ids.forEach((id, i) => h.api.addTask(id, { service: CHECKED, ip: `203.0.113.${i + 1}` }));
    h.api.healthCheckQuota = 0;
    const result = await h.run(...ids.map((id, i) => [`m${i}`, startEvent(id)] as [string, Record<string, unknown>]));
    expect(result.failedMessageIds).toEqual([]);
    expect(h.api.count('createHealthCheck')).toBe(1);
    expect(h.counted()).toMatchObject({ HealthCheckQuotaExceeded: 3, RecordsUpserted: 3 });

    // The reconciler too: one refused creation per run, not one per task.
    h.api.calls.length = 0;
    await reconcile({ ...h.deps, metrics: new Metrics('Test', 'fn') });
    expect(h.api.count('createHealthCheck')).toBe(1);
    expect(h.api.records(ZONE, MC.fqdn)).toHaveLength(3);
  });

  test('quota reached when the settings change: the records keep their existing check rather than none', async () => {
    const h = setup();
    await h.run(['m1', startEvent(TASK_ID)]);
    const [check] = [...h.api.healthChecks.values()];
    const changed: DiscoveryConfig = { ...CONFIG, services: [{ ...CHECKED, healthCheck: { ...CHECKED.healthCheck!, port: 8080 } }, WEB] };
    h.api.healthCheckQuota = 1;
    const summary = await reconcile({ ...h.deps, config: changed, metrics: new Metrics('Test', 'fn') }, changed.services);
    expect(summary.failed).toBe(0);
    expect(h.api.records(ZONE, MC.fqdn)).toEqual([{ ...ownedRecord(MC, TASK_ID, '203.0.113.10'), HealthCheckId: check.id }]);
    expect([...h.api.healthChecks.keys()]).toEqual([check.id]);
  });

  test('a check that cannot be created for another reason: nothing is published and the message is retried', async () => {
    const h = setup();
    h.api.fail('createHealthCheck', awsError('InternalFailure', 'boom', 500));
    const result = await h.run(['m1', startEvent(TASK_ID)]);
    expect(result.failedMessageIds).toEqual(['m1']);
    expect(h.api.records(ZONE, MC.fqdn)).toEqual([]);
    expect(h.counted()).toMatchObject({ ChangesFailed: 1 });
  });

  test('dual stack: both records carry the one check of the task; losing the IPv6 address keeps it', async () => {
    const dual: RegisteredService = { ...CHECKED, recordTypes: ['A', 'AAAA'] };
    const h = pipelineHarness({ ...CONFIG, services: [dual] });
    h.api.addTask(TASK_ID, { service: dual, ip: '203.0.113.10', ipv6: '2001:db8::10' });
    await h.run(['m1', startEvent(TASK_ID)]);
    const [check] = [...h.api.healthChecks.values()];
    expect(h.api.records(ZONE, MC.fqdn).map(r => [r.Type, r.HealthCheckId])).toEqual([['A', check.id], ['AAAA', check.id]]);

    h.api.enis.set(`eni-${TASK_ID}`, { eniId: `eni-${TASK_ID}`, publicIp: '203.0.113.10' });
    await h.run(['m2', startEvent(TASK_ID, { version: 3 })]);
    expect(h.api.records(ZONE, MC.fqdn).map(r => [r.Type, r.HealthCheckId])).toEqual([['A', check.id]]);
    expect(h.api.healthChecks.has(check.id)).toBe(true);
  });

  test('a service without the option: no health check call, records as before', async () => {
    const h = pipelineHarness({ clusterArn: CLUSTER_ARN, services: [MC] });
    h.api.addTask(TASK_ID, { service: MC });
    await h.run(['m1', startEvent(TASK_ID)]);
    h.api.stopTask(TASK_ID);
    await h.run(['m2', stopEvent(TASK_ID)]);
    expect(h.api.calls.filter(c => /HealthCheck/.test(c.method))).toEqual([]);
    await reconcile(h.deps);
    expect(h.api.calls.filter(c => /HealthCheck/.test(c.method))).toEqual([]);
  });
});

describe('the reconciler', () => {
  test('deletes the orphans of this owner (task stopped or unknown, no record), keeps another owner\'s and the running task\'s', async () => {
    const h = setup();
    await h.run(['m1', startEvent(TASK_ID)]);
    const [live] = [...h.api.healthChecks.values()];
    const settings = { type: 'TCP' as const, ipAddress: '198.51.100.1', port: 80, intervalSeconds: 30, failureThreshold: 3 };
    h.api.addTask('stopped1', { service: CHECKED, desiredStatus: 'STOPPED', lastStatus: 'STOPPED' });
    const orphan = await h.api.createHealthCheck({ ...settings, callerReference: `${ownerPrefix(OWNER)}stopped1-000000-0` });
    await h.api.tagHealthCheck(orphan, { [TAG_OWNER]: OWNER, [TAG_TASK]: taskArn('stopped1') });
    // Its creator stopped before tagging it: recognised by its reference, tagged, deleted (ECS no longer knows the task).
    const untaggedOurs = await h.api.createHealthCheck({ ...settings, callerReference: `${ownerPrefix(OWNER)}gone-000000-0` });
    const foreign = await h.api.createHealthCheck({ ...settings, callerReference: 'other-1' });
    await h.api.tagHealthCheck(foreign, { [TAG_OWNER]: 'other-owner', [TAG_TASK]: taskArn('stopped1') });
    const untagged = await h.api.createHealthCheck({ ...settings, callerReference: 'other-2' });

    const summary = await reconcile(h.deps);
    expect(summary.healthChecksDeleted).toBe(2);
    expect([...h.api.healthChecks.keys()].sort()).toEqual([live.id, foreign, untagged].sort());
    expect(h.api.callsOf('tagHealthCheck')).toContainEqual([untaggedOurs, { [TAG_OWNER]: OWNER, [TAG_TASK]: taskArn('gone') }]);
  });

  test('a record naming another check than the task\'s is drift: the task\'s check is attached', async () => {
    const h = setup();
    h.api.put(ZONE, { ...ownedRecord(MC, TASK_ID, '203.0.113.10'), HealthCheckId: 'not-the-tasks' });
    const summary = await reconcile(h.deps);
    expect(summary.upserted).toBe(1);
    const [check] = [...h.api.healthChecks.values()];
    expect(h.api.records(ZONE, MC.fqdn)[0].HealthCheckId).toBe(check.id);
  });

  test('a check deleted after the listing (a concurrent invocation): the refused drift repair gets a new check and is retried', async () => {
    const h = setup();
    await h.run(['m1', startEvent(TASK_ID)]);
    const [check] = [...h.api.healthChecks.values()];
    // The record drifted (its TTL), so the reconciler rewrites it with the check its listing knows...
    h.api.zones.set(ZONE, [{ ...ownedRecord(MC, TASK_ID, '203.0.113.10', 999), HealthCheckId: check.id }]);
    let deleted = false;
    h.api.beforeChange = () => {
      // ...which another invocation deletes just before the write.
      if (!deleted) {
        deleted = true;
        h.api.healthChecks.delete(check.id);
      }
    };
    const summary = await reconcile(h.deps);
    expect(summary).toMatchObject({ upserted: 1, failed: 0 });
    const [replacement] = [...h.api.healthChecks.values()];
    expect(replacement.id).not.toBe(check.id);
    expect(replacement.tags).toEqual({ [TAG_OWNER]: OWNER, [TAG_TASK]: taskArn(TASK_ID) });
    expect(h.api.records(ZONE, MC.fqdn)).toEqual([{ ...ownedRecord(MC, TASK_ID, '203.0.113.10'), HealthCheckId: replacement.id }]);
  });

  test('a check deleted meanwhile, for a service whose private zone comes first: the new check probes the public address', async () => {
    const PRIVATE_ZONE = 'ZPRIVATE';
    const inPrivate: RegisteredService = { ...CHECKED, hostedZoneId: PRIVATE_ZONE, addressScope: 'private' };
    const config: DiscoveryConfig = { clusterArn: CLUSTER_ARN, services: [inPrivate, CHECKED], owner: OWNER };
    const h = pipelineHarness(config);
    h.api.addTask(TASK_ID, { service: CHECKED, ip: '203.0.113.10', privateIp: '10.0.1.5' });
    await h.run(['m1', startEvent(TASK_ID)]);
    const [check] = [...h.api.healthChecks.values()];
    expect(check.spec.ipAddress).toBe('203.0.113.10');
    // Both records drift (TTL); the public one is rewritten with the check, deleted just before the write.
    h.api.zones.set(PRIVATE_ZONE, [ownedRecord(inPrivate, TASK_ID, '10.0.1.5', 999)]);
    h.api.zones.set(ZONE, [{ ...ownedRecord(CHECKED, TASK_ID, '203.0.113.10', 999), HealthCheckId: check.id }]);
    let deleted = false;
    h.api.beforeChange = () => {
      if (!deleted) {
        deleted = true;
        h.api.healthChecks.delete(check.id);
      }
    };
    await reconcile(h.deps);
    const [replacement] = [...h.api.healthChecks.values()];
    expect(replacement.id).not.toBe(check.id);
    // Not the private zone's 10.0.1.5: Route53 cannot probe a private address.
    expect(replacement.spec.ipAddress).toBe('203.0.113.10');
    expect(h.api.records(ZONE, CHECKED.fqdn)).toEqual([{ ...ownedRecord(CHECKED, TASK_ID, '203.0.113.10'), HealthCheckId: replacement.id }]);
  });

  test('a stop whose second zone could not be read keeps the check: that zone\'s record still names it', async () => {
    const OTHER_ZONE = 'ZOTHER';
    const other: RegisteredService = { ...CHECKED, hostedZoneId: OTHER_ZONE };
    const config: DiscoveryConfig = { clusterArn: CLUSTER_ARN, services: [CHECKED, other], owner: OWNER };
    const h = pipelineHarness(config);
    h.api.addTask(TASK_ID, { service: CHECKED, ip: '203.0.113.10' });
    await h.run(['m1', startEvent(TASK_ID)]);
    expect(h.api.healthChecks.size).toBe(1);
    expect(h.api.records(OTHER_ZONE, CHECKED.fqdn)).toHaveLength(1);
    h.api.stopTask(TASK_ID);
    h.api.fail('listRecordsAt', awsError('Throttling', 'slow down', 400), 1, args => args[0] === OTHER_ZONE);
    const result = await h.run(['m2', stopEvent(TASK_ID)]);
    expect(result.failedMessageIds).toEqual(['m2']);
    expect(h.api.records(ZONE, CHECKED.fqdn)).toEqual([]);
    expect(h.api.records(OTHER_ZONE, CHECKED.fqdn)).toHaveLength(1);
    expect(h.api.healthChecks.size).toBe(1);
    // The retried message clears the other zone, then the check.
    const retried = await h.run(['m2', stopEvent(TASK_ID)]);
    expect(retried.failedMessageIds).toEqual([]);
    expect(h.api.records(OTHER_ZONE, CHECKED.fqdn)).toEqual([]);
    expect(h.api.healthChecks.size).toBe(0);
  });

  test('the refused change of a task whose check was deleted because it stopped: the record written again is removed, its new check at the next run', async () => {
    const h = setup();
    await h.run(['m1', startEvent(TASK_ID)]);
    const [check] = [...h.api.healthChecks.values()];
    h.api.zones.set(ZONE, [{ ...ownedRecord(MC, TASK_ID, '203.0.113.10', 999), HealthCheckId: check.id }]);
    let stopped = false;
    h.api.beforeChange = () => {
      if (!stopped) {
        stopped = true;
        h.api.stopTask(TASK_ID);
        h.api.healthChecks.delete(check.id);
      }
    };
    await reconcile(h.deps);
    expect(h.api.records(ZONE, MC.fqdn)).toEqual([]);
    // The new check, created after this run's listing, is an orphan for the next run's sweep.
    expect((await reconcile(h.deps)).healthChecksDeleted).toBe(1);
    expect(h.api.healthChecks.size).toBe(0);
  });

  test('a run cut short sweeps nothing (a record it did not read may name a check)', async () => {
    const h = setup();
    const orphan = await h.api.createHealthCheck({
      type: 'TCP', ipAddress: '198.51.100.1', port: 80, intervalSeconds: 30, failureThreshold: 3, callerReference: `${ownerPrefix(OWNER)}gone-000000-0`,
    });
    await h.api.tagHealthCheck(orphan, { [TAG_OWNER]: OWNER, [TAG_TASK]: taskArn('gone') });
    await reconcile(h.deps, CONFIG.services, { remainingMs: () => 0 });
    expect(h.api.healthChecks.has(orphan)).toBe(true);
  });
});

describe('stack deletion', () => {
  const request = (properties: Record<string, unknown>) => ({
    RequestType: 'Delete' as const,
    ResponseURL: 'https://example.invalid/r',
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/s/1',
    RequestId: 'r1',
    LogicalResourceId: 'Lifecycle',
    ResourceType: 'Custom::EcsPublicDiscovery',
    PhysicalResourceId: 'p',
    ResourceProperties: { Names: [{ hostedZoneId: ZONE, fqdn: MC.fqdn, serviceName: MC.serviceName }], ...properties },
  });

  test('after the records, every check of the owner named by the resource is deleted; others stay', async () => {
    const h = setup();
    await h.run(['m1', startEvent(TASK_ID)]);
    const foreign = await h.api.createHealthCheck({ type: 'TCP', ipAddress: '198.51.100.1', port: 80, intervalSeconds: 30, failureThreshold: 3, callerReference: 'x' });
    await h.api.tagHealthCheck(foreign, { [TAG_OWNER]: 'other' });
    h.api.calls.length = 0;
    const answer = await lifecycle(h.api, request({ HealthCheckOwner: OWNER }), CONFIG);
    expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { Deleted: '1', HealthChecksDeleted: '1' } });
    expect([...h.api.healthChecks.keys()]).toEqual([foreign]);
    expect(lastCall(h.api, 'changeRecords')).toBeLessThan(firstCall(h.api, 'deleteHealthCheck'));
  });

  test('a check that cannot be deleted answers FAILED naming the owner tag to clear by hand', async () => {
    const h = setup();
    await h.run(['m1', startEvent(TASK_ID)]);
    h.api.failAlways('deleteHealthCheck', awsError('InternalFailure', 'boom', 500));
    const answer = await lifecycle(h.api, request({ HealthCheckOwner: OWNER }), CONFIG);
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toContain(`health checks tagged ${TAG_OWNER}=${OWNER}`);
  });
});

describe('an Update that turns health checks off', () => {
  const update = (oldProperties: Record<string, unknown>) => ({
    RequestType: 'Update' as const,
    ResponseURL: 'https://example.invalid/r',
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/s/1',
    RequestId: 'r2',
    LogicalResourceId: 'Lifecycle',
    ResourceType: 'Custom::EcsPublicDiscovery',
    PhysicalResourceId: 'p',
    ResourceProperties: { Names: [{ hostedZoneId: ZONE, fqdn: MC.fqdn, serviceName: MC.serviceName }] },
    OldResourceProperties: { Names: [{ hostedZoneId: ZONE, fqdn: MC.fqdn, serviceName: MC.serviceName }], ...oldProperties },
  });
  const without: DiscoveryConfig = { clusterArn: CLUSTER_ARN, services: [MC] };

  test('reconciles the records without their checks, then deletes the previous owner\'s checks', async () => {
    const h = setup();
    await h.run(['m1', startEvent(TASK_ID)]);
    expect(h.api.healthChecks.size).toBe(1);
    h.api.calls.length = 0;
    const answer = await lifecycle(h.api, update({ HealthCheckOwner: OWNER }), without);
    expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { Upserted: '1', HealthChecksDeleted: '1' } });
    expect(h.api.records(ZONE, MC.fqdn)).toEqual([ownedRecord(MC, TASK_ID, '203.0.113.10')]);
    expect(h.api.healthChecks.size).toBe(0);
    expect(lastCall(h.api, 'changeRecords')).toBeLessThan(firstCall(h.api, 'deleteHealthCheck'));
  });

  test('a reconciliation that did not reach every service keeps them (a record may still name one) and answers FAILED', async () => {
    const h = setup();
    await h.run(['m1', startEvent(TASK_ID)]);
    h.api.failAlways('listServiceTasks', awsError('ServerException', 'boom', 500));
    const answer = await lifecycle(h.api, update({ HealthCheckOwner: OWNER }), without);
    // No later run would delete them (the configuration names no owner any more): the rollback keeps them in use.
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toContain(`health checks tagged ${TAG_OWNER}=${OWNER}`);
    expect(answer.Reason).toMatch(/did not reach every service/);
    expect(h.api.healthChecks.size).toBe(1);
  });

  test('checks that cannot be deleted (the permission already gone): FAILED naming them and the owner tag, not a silent SUCCESS', async () => {
    const h = setup();
    await h.run(['m1', startEvent(TASK_ID)]);
    const [check] = [...h.api.healthChecks.values()];
    h.api.failAlways('deleteHealthCheck', awsError('AccessDenied', 'not authorized to perform: route53:DeleteHealthCheck', 403));
    const answer = await lifecycle(h.api, update({ HealthCheckOwner: OWNER }), without);
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toContain('AccessDenied');
    expect(answer.Reason).toContain(check.id);
    expect(answer.Reason).toContain(`health checks tagged ${TAG_OWNER}=${OWNER}`);
    expect(h.api.healthChecks.size).toBe(1);
  });

  test('the reconciler keeps the check of a stopped task when another zone of its service could not be read', async () => {
    const OTHER_ZONE = 'ZOTHER';
    const other: RegisteredService = { ...CHECKED, hostedZoneId: OTHER_ZONE };
    const config: DiscoveryConfig = { clusterArn: CLUSTER_ARN, services: [CHECKED, other], owner: OWNER };
    const h = pipelineHarness(config);
    h.api.addTask(TASK_ID, { service: CHECKED, ip: '203.0.113.10' });
    await h.run(['m1', startEvent(TASK_ID)]);
    h.api.stopTask(TASK_ID);
    h.api.fail('listRecordsAt', awsError('Throttling', 'slow down', 400), 1, args => args[0] === OTHER_ZONE);
    const summary = await reconcile(h.deps);
    expect(summary.failedServices).toEqual([CHECKED.serviceName]);
    expect(h.api.records(ZONE, CHECKED.fqdn)).toEqual([]);
    expect(h.api.records(OTHER_ZONE, CHECKED.fqdn)).toHaveLength(1);
    expect(h.api.healthChecks.size).toBe(1);
    // The next run clears the other zone; its sweep then deletes the check no record names.
    await reconcile(h.deps);
    expect(h.api.records(OTHER_ZONE, CHECKED.fqdn)).toEqual([]);
    await reconcile(h.deps);
    expect(h.api.healthChecks.size).toBe(0);
  });

  test('the rollback of an Update that had just turned checks on: the reconciliation fails, but no check is left, so SUCCESS', async () => {
    const h = pipelineHarness(without);
    h.api.addTask(TASK_ID, { service: MC, ip: '203.0.113.10' });
    h.api.failAlways('listServiceTasks', awsError('ServerException', 'boom', 500));
    const answer = await lifecycle(h.api, update({ HealthCheckOwner: OWNER }), without);
    expect(answer.Status).toBe('SUCCESS');
  });

  test('an Update that keeps the owner deletes nothing and answers SUCCESS', async () => {
    const h = setup();
    await h.run(['m1', startEvent(TASK_ID)]);
    const kept = { ...update({ HealthCheckOwner: OWNER }), ResourceProperties: { ...update({}).ResourceProperties, HealthCheckOwner: OWNER } };
    const answer = await lifecycle(h.api, kept, CONFIG);
    expect(answer.Status).toBe('SUCCESS');
    expect(h.api.healthChecks.size).toBe(1);
  });
});
