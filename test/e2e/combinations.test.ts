/**
 * End-to-end: the three opt-in features of issue 10 together (several hosted zones, task names and SRV records,
 * Route53 health checks per task). The construct zone `example.com` (public), a private zone of the same name
 * associated with the world's VPC, and a second public zone `example.net`:
 *
 * | service | options | example.com (public) | example.com (private) | example.net (public) |
 * | ------- | ------- | -------------------- | --------------------- | -------------------- |
 * | Web     | healthCheck, srv `_http._tcp` | web, its task names and SRV | - | - |
 * | Api     | healthCheck | api | api (private IPs) | api |
 * | Game    | healthCheck, srv `_minecraft._tcp` | play, task names, SRV | play-internal, task names, SRV (private IPs) | - |
 *
 * The proxy plays IAM for the record writes and the health check calls from the synthesized template. The
 * checks are read from moto directly.
 */
import { DeleteHealthCheckCommand, HealthCheck, ResourceRecordSet, Route53Client } from '@aws-sdk/client-route-53';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { CfnAnswer, healthCheckAuthorizer, iamAuthorizer, lifecycleRequest, lifecycleResource, ResponseCatcher, rolePolicies } from '../../emulator/cloudformation';
import { running, stopSequence } from '../../emulator/events';
import { buildManyServicesApp, EXAMPLE_PORT, templateOf } from '../../emulator/example-app';
import { metricsOf } from '../../emulator/handler';
import type { CallRecord } from '../../emulator/proxy';
import { canonicalName, isOwnedRecord, notOwned, snapshot } from '../../emulator/records';
import type { TaskInfo } from '../../emulator/world';
import { SrvProtocol, TaskHealthCheckType } from '../../src';
import { RegisteredService, TAG_OWNER, TAG_TASK } from '../../src/shared/contract';
import { expectAcknowledged, registrationIn } from '../support/assertions';
import { splitHorizonZones, useE2e } from '../support/e2e';

function synthesize() {
  const example = buildManyServicesApp(0);
  const privateZone = new route53.PrivateHostedZone(example.stack, 'PrivateZone', { zoneName: 'example.com', vpc: example.vpc });
  const otherZone = new route53.PublicHostedZone(example.stack, 'OtherZone', { zoneName: 'example.net' });
  const healthCheck = { type: TaskHealthCheckType.TCP };
  example.addService('Web', 'web', { healthCheck, names: { srv: { service: 'http', protocol: SrvProtocol.TCP } } });
  example.addService('Api', 'api', { serviceName: 'api', healthCheck, additionalZones: [{ hostedZone: privateZone }, { hostedZone: otherZone }] });
  example.addService('Game', 'play', {
    healthCheck, names: { srv: { service: 'minecraft', protocol: SrvProtocol.TCP } }, additionalZones: [{ hostedZone: privateZone, name: 'play-internal' }],
  });
  return templateOf(example.stack);
}

const zones = { private: '', other: '' };

const e2e = useE2e({
  synthesize,
  zones: splitHorizonZones(zones),
});

let route53Client: Route53Client;
let catcher: ResponseCatcher;
let baselines: Record<string, string>;
beforeAll(async () => {
  route53Client = new Route53Client({
    endpoint: e2e.moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1,
  });
  catcher = await ResponseCatcher.start();
});
afterAll(async () => {
  route53Client.destroy();
  await catcher.stop();
});
beforeEach(async () => {
  const policies = [...rolePolicies(e2e.template, e2e.deployed).values()];
  e2e.proxy.authorizeRoute53Writes(iamAuthorizer(policies));
  e2e.proxy.authorizeHealthChecks(healthCheckAuthorizer(policies));
  baselines = {};
  for (const zoneId of [zones.private, zones.other]) {
    baselines[zoneId] = snapshot(notOwned(await e2e.world.zoneRecords(zoneId), e2e.config.services));
  }
});

/** The registration of a service (by its name tag) in a zone. */
const reg = (name: string, zoneId: string): RegisteredService => registrationIn(e2e.config.services, name, zoneId);

/** Every health check moto holds, with its tags. */
const healthChecks = () => e2e.world.healthChecks();

/** The check of a task (by its task tag); fails unless there is exactly one. */
async function checkOf(t: TaskInfo): Promise<HealthCheck> {
  const checks = (await healthChecks()).filter((c) => c.tags[TAG_TASK] === t.taskArn);
  expect(checks).toHaveLength(1);
  expect(checks[0].tags[TAG_OWNER]).toBe(e2e.config.owner);
  return checks[0];
}

/** A task's records in a zone (its set identifier), as `name type value healthCheckId`, sorted. */
async function taskRows(zoneId: string, t: TaskInfo): Promise<string[]> {
  return (await e2e.world.zoneRecords(zoneId))
    .filter((r) => r.SetIdentifier === t.taskId && r.MultiValueAnswer === true)
    .map((r) => `${canonicalName(r.Name ?? '')} ${r.Type} ${(r.ResourceRecords ?? []).map((v) => v.Value).join(',')} ${r.HealthCheckId ?? '-'}`)
    .sort();
}

/** The records a task should have for a registration: A at the name and at its task name, and its SRV value when the registration has one. */
function expectedRows(s: RegisteredService, t: TaskInfo, address: string, checkId?: string): string[] {
  const hc = checkId ?? '-';
  const taskName = `${t.taskId}.${s.fqdn}`;
  return [
    `${s.fqdn} A ${address} ${hc}`,
    ...(s.taskNames ? [`${taskName} A ${address} ${hc}`] : []),
    ...(s.srv ? [`${s.srv.fqdn} SRV ${s.srv.priority} ${s.srv.weight} ${s.srv.port} ${taskName} ${hc}`] : []),
  ].sort();
}

/** Sequence numbers of the matching Route53 calls in the proxy's log. */
function seqsOf(calls: CallRecord[], action: string): number[] {
  return calls.filter((x) => x.service === 'route53' && x.action === action).map((c) => c.seq);
}

/** Every zone's foreign records are as they were after seeding. */
async function expectForeignUntouched(): Promise<void> {
  expect(snapshot(notOwned(await e2e.records(), e2e.config.services))).toBe(e2e.baseline);
  for (const zoneId of [zones.private, zones.other]) {
    expect(snapshot(notOwned(await e2e.world.zoneRecords(zoneId), e2e.config.services))).toBe(baselines[zoneId]);
  }
}

const web = () => reg('web', e2e.deployed.zoneId);

test('the registrations carry the combined options', () => {
  expect(web()).toMatchObject({ taskNames: true, srv: { fqdn: `_http._tcp.${web().fqdn}`, port: EXAMPLE_PORT }, healthCheck: { type: 'TCP' } });
  expect(reg('api', zones.private)).toMatchObject({ addressScope: 'private', healthCheck: { type: 'TCP' } });
  expect(reg('play', zones.private)).toMatchObject({
    fqdn: 'play-internal.example.com.', addressScope: 'private', taskNames: true, srv: { fqdn: '_minecraft._tcp.play-internal.example.com.' },
  });
});

describe('health checks with task names and SRV records', () => {
  test('start: the check is created and tagged before any record; the name, task-name and SRV records all carry it; stop: records, then check', async () => {
    const t = await e2e.world.startTask(web().serviceName);
    const started = await e2e.deliver([running(t)]);
    expectAcknowledged(started);
    const check = await checkOf(t);
    expect(check.HealthCheckConfig).toMatchObject({ Type: 'TCP', IPAddress: t.publicIp, Port: EXAMPLE_PORT });
    expect(await taskRows(e2e.deployed.zoneId, t)).toEqual(expectedRows(web(), t, t.publicIp!, check.Id));
    expect(e2e.proxy.count('route53', 'CreateHealthCheck')).toBe(1);
    const calls = e2e.proxy.calls();
    const [created] = seqsOf(calls, 'CreateHealthCheck');
    const [tagged] = seqsOf(calls, 'ChangeTagsForResource');
    expect(created).toBeLessThan(tagged);
    expect(Math.min(...seqsOf(calls, 'ChangeResourceRecordSets'))).toBeGreaterThan(tagged);

    await e2e.world.stopTask(t);
    const stopped = await e2e.deliver(stopSequence(t));
    expectAcknowledged(stopped);
    expect(await taskRows(e2e.deployed.zoneId, t)).toEqual([]);
    expect(await healthChecks()).toEqual([]);
    const stopCalls = e2e.proxy.calls();
    expect(Math.max(...seqsOf(stopCalls, 'ChangeResourceRecordSets'))).toBeLessThan(Math.min(...seqsOf(stopCalls, 'DeleteHealthCheck')));
    expect(metricsOf(stopped.logs)).toMatchObject({ RecordsDeleted: 3 });
  });

  test('the reconciler repairs a task-name record whose HealthCheckId was removed by hand, with the same check', async () => {
    const t = await e2e.world.startTask(web().serviceName);
    expectAcknowledged(await e2e.deliver([running(t)]));
    const check = await checkOf(t);
    const taskName = `${t.taskId}.${web().fqdn}`;
    const record = (await e2e.records()).find((r) => canonicalName(r.Name ?? '') === taskName && r.SetIdentifier === t.taskId)!;
    expect(record.HealthCheckId).toBe(check.Id);
    const { HealthCheckId: _removed, ...withoutCheck } = record;
    await e2e.world.putRecords([withoutCheck as ResourceRecordSet], 'UPSERT');
    expect(await taskRows(e2e.deployed.zoneId, t)).toContain(`${taskName} A ${t.publicIp} -`);

    const inv = await e2e.reconcile();
    expect(inv.error).toBeUndefined();
    expect(inv.result).toMatchObject({ upserted: 1, deleted: 0, failed: 0, healthChecksDeleted: 0 });
    expect(await taskRows(e2e.deployed.zoneId, t)).toEqual(expectedRows(web(), t, t.publicIp!, check.Id));
    expect(e2e.proxy.count('route53', 'CreateHealthCheck')).toBe(0);
    expect((await healthChecks()).map((c) => c.Id)).toEqual([check.Id]);
  });
});

describe('health checks in several zones (split-horizon)', () => {
  test('one check per task; both public zones\' records carry it, the private zone\'s holds the private IP without; stop: all records, then the check', async () => {
    const api = reg('api', e2e.deployed.zoneId);
    const tasks = await e2e.world.startTasks(api.serviceName, 2);
    const started = await e2e.deliver(tasks.map((t) => running(t)));
    expectAcknowledged(started);
    expect(await healthChecks()).toHaveLength(2);
    // Created and tagged once per task, not once per public zone.
    expect(e2e.proxy.count('route53', 'CreateHealthCheck')).toBe(2);
    expect(e2e.proxy.count('route53', 'ChangeTagsForResource')).toBe(2);
    for (const t of tasks) {
      const check = await checkOf(t);
      expect(check.HealthCheckConfig).toMatchObject({ IPAddress: t.publicIp });
      expect(await taskRows(e2e.deployed.zoneId, t)).toEqual(expectedRows(api, t, t.publicIp!, check.Id));
      expect(await taskRows(zones.other, t)).toEqual(expectedRows(reg('api', zones.other), t, t.publicIp!, check.Id));
      expect(await taskRows(zones.private, t)).toEqual(expectedRows(reg('api', zones.private), t, t.privateIp));
    }

    const [gone, kept] = tasks;
    const keptCheck = await checkOf(kept);
    // The reconciler finds every zone up to date: no drift, no new check, no check swept.
    e2e.proxy.resetCounts();
    const inv = await e2e.reconcile();
    expect(inv.result).toMatchObject({ upserted: 0, deleted: 0, failed: 0, healthChecksDeleted: 0 });
    expect(e2e.proxy.count('route53', 'CreateHealthCheck')).toBe(0);
    expect(await healthChecks()).toHaveLength(2);

    await e2e.world.stopTask(gone);
    const stopped = await e2e.deliver(stopSequence(gone));
    expectAcknowledged(stopped);
    for (const zoneId of [e2e.deployed.zoneId, zones.private, zones.other]) {
      expect(await taskRows(zoneId, gone)).toEqual([]);
    }
    expect((await healthChecks()).map((c) => c.Id)).toEqual([keptCheck.Id]);
    const calls = e2e.proxy.calls();
    expect(seqsOf(calls, 'DeleteHealthCheck')).toHaveLength(1);
    expect(Math.max(...seqsOf(calls, 'ChangeResourceRecordSets'))).toBeLessThan(seqsOf(calls, 'DeleteHealthCheck')[0]);
    expect(metricsOf(stopped.logs)).toMatchObject({ RecordsDeleted: 3 });
    await expectForeignUntouched();
  });
});

test('a check deleted just before the reconciler rewrites a drifted record: Route53 refuses, a new check on the public address is written', async () => {
  const api = reg('api', e2e.deployed.zoneId);
  const t = await e2e.world.startTask(api.serviceName);
  expectAcknowledged(await e2e.deliver([running(t)]));
  const check = await checkOf(t);
  // The record drifts (its TTL), and the check it names is deleted just before the reconciler's write.
  const record = (await e2e.records()).find((r) => canonicalName(r.Name ?? '') === api.fqdn && r.SetIdentifier === t.taskId)!;
  await e2e.world.putRecords([{ ...record, TTL: 999 } as ResourceRecordSet], 'UPSERT');
  e2e.proxy.beforeNext({ service: 'route53', action: 'ChangeResourceRecordSets' }, async () => {
    await route53Client.send(new DeleteHealthCheckCommand({ HealthCheckId: check.Id }));
  });
  const inv = await e2e.reconcile();
  expect(inv.error).toBeUndefined();
  // The proxy refused the write as Route53 does (moto would have accepted a record naming a missing check).
  expect(e2e.proxy.calls().some((c) => c.action === 'ChangeResourceRecordSets' && c.status === 404)).toBe(true);
  const [replacement] = await healthChecks();
  expect(replacement.Id).not.toBe(check.Id);
  expect(replacement.HealthCheckConfig).toMatchObject({ IPAddress: t.publicIp });
  expect(await taskRows(e2e.deployed.zoneId, t)).toEqual(expectedRows(api, t, t.publicIp!, replacement.Id));
  // The other public zone's record still named the deleted check: the next run gives it the same new one.
  expectAcknowledged(await e2e.deliver([running(t)]));
  await e2e.reconcile();
  expect(await taskRows(zones.other, t)).toEqual(expectedRows(reg('api', zones.other), t, t.publicIp!, replacement.Id));
  expect((await healthChecks()).map((c) => c.Id)).toEqual([replacement.Id]);
  expect(await taskRows(zones.private, t)).toEqual(expectedRows(reg('api', zones.private), t, t.privateIp));
});

test('a stop whose second public zone cannot be read keeps the check until the retried message clears that zone', async () => {
  const api = reg('api', e2e.deployed.zoneId);
  const t = await e2e.world.startTask(api.serviceName);
  expectAcknowledged(await e2e.deliver([running(t)]));
  const check = await checkOf(t);
  expect(await taskRows(zones.other, t)).toEqual(expectedRows(reg('api', zones.other), t, t.publicIp!, check.Id));

  await e2e.world.stopTask(t);
  // The second public zone's listing fails past the retries: its record, naming the check, stays for now.
  e2e.proxy.failNext((c) => c.action === 'ListResourceRecordSets' && c.path.includes(zones.other), 20, 'InternalError');
  const first = await e2e.deliver(stopSequence(t));
  expect(first.result?.batchItemFailures.length).toBeGreaterThan(0);
  expect(await taskRows(e2e.deployed.zoneId, t)).toEqual([]);
  expect(await taskRows(zones.other, t)).toHaveLength(1);
  expect((await healthChecks()).map((c) => c.Id)).toEqual([check.Id]);
  expect(e2e.proxy.count('route53', 'DeleteHealthCheck')).toBe(0);

  e2e.proxy.clearFaults();
  const retried = await e2e.deliver(stopSequence(t));
  expectAcknowledged(retried);
  for (const zoneId of [e2e.deployed.zoneId, zones.private, zones.other]) {
    expect(await taskRows(zoneId, t)).toEqual([]);
  }
  expect(await healthChecks()).toEqual([]);
  await expectForeignUntouched();
});

test('SRV records in a private zone: its task names hold the private IP and its SRV values point at its own task names', async () => {
  const play = reg('play', e2e.deployed.zoneId);
  const playPrivate = reg('play', zones.private);
  const t = await e2e.world.startTask(play.serviceName);
  expectAcknowledged(await e2e.deliver([running(t)]));
  const check = await checkOf(t);
  expect(await taskRows(zones.private, t)).toEqual(expectedRows(playPrivate, t, t.privateIp));
  expect(await taskRows(zones.private, t)).toContain(
    `_minecraft._tcp.play-internal.example.com. SRV 0 1 ${EXAMPLE_PORT} ${t.taskId}.play-internal.example.com. -`);
  expect(await taskRows(e2e.deployed.zoneId, t)).toEqual(expectedRows(play, t, t.publicIp!, check.Id));

  // The reconciler finds both zones' subtrees up to date.
  const inv = await e2e.reconcile();
  expect(inv.result).toMatchObject({ upserted: 0, deleted: 0, failed: 0, healthChecksDeleted: 0 });

  await e2e.world.stopTask(t);
  expectAcknowledged(await e2e.deliver(stopSequence(t)));
  expect(await taskRows(zones.private, t)).toEqual([]);
  expect(await taskRows(e2e.deployed.zoneId, t)).toEqual([]);
  expect(await healthChecks()).toEqual([]);
});

test('stack deletion with all three features removes every record in every zone, then the checks', async () => {
  const [w] = await e2e.world.startTasks(web().serviceName, 1);
  const [a] = await e2e.world.startTasks(reg('api', e2e.deployed.zoneId).serviceName, 1);
  const [p] = await e2e.world.startTasks(reg('play', e2e.deployed.zoneId).serviceName, 1);
  expectAcknowledged(await e2e.deliver([w, a, p].map((t) => running(t))));
  expect(await healthChecks()).toHaveLength(3);

  const resource = lifecycleResource(e2e.template, e2e.deployed);
  const { event, requestId } = lifecycleRequest(catcher, 'Delete', resource);
  const inv = await e2e.invoke(event);
  expect(inv.error).toBeUndefined();
  const answer = catcher.answers.get(requestId) as CfnAnswer;
  // web: 3 records; api: 3 zones; play: 3 records in each of 2 zones.
  expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { Deleted: '12', HealthChecksDeleted: '3' } });
  for (const zoneId of [e2e.deployed.zoneId, zones.private, zones.other]) {
    expect((await e2e.world.zoneRecords(zoneId)).filter((r) => isOwnedRecord(r, e2e.config.services))).toEqual([]);
    for (const t of [w, a, p]) {
      expect(await taskRows(zoneId, t)).toEqual([]);
    }
  }
  expect(await healthChecks()).toEqual([]);
  const calls = e2e.proxy.calls();
  expect(Math.max(...seqsOf(calls, 'ChangeResourceRecordSets'))).toBeLessThan(Math.min(...seqsOf(calls, 'DeleteHealthCheck')));
  await expectForeignUntouched();
});
