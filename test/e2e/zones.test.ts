/**
 * End-to-end: several hosted zones and split-horizon DNS. The example app's construct zone `example.com`
 * (public), a private zone of the same name associated with the world's VPC, and a second public zone
 * `example.net`:
 *
 * | service | example.com (public) | example.com (private, private IPs) | example.net (public) |
 * | ------- | -------------------- | ---------------------------------- | -------------------- |
 * | Web     | web                  | web                                | games                |
 * | Api     | api                  | api                                | -                    |
 * | Game    | play                 | play-internal                      | -                    |
 *
 * The proxy plays IAM from the template's record-write policies, so each zone's writes run under that
 * zone's own policy.
 */
import type { ResourceRecordSet } from '@aws-sdk/client-route-53';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { CfnAnswer, iamAuthorizer, lifecycleRequest, lifecycleResource, ResponseCatcher, rolePolicies, updateOrder } from '../../emulator/cloudformation';
import { running, sqsBatch, stopSequence } from '../../emulator/events';
import { buildManyServicesApp, CfnTemplate, templateOf } from '../../emulator/example-app';
import { logsWith, metricsOf } from '../../emulator/handler';
import { notOwned, ownedAt, published, snapshot } from '../../emulator/records';
import type { TaskInfo } from '../../emulator/world';
import { RecordAddress } from '../../src';
import { ENV, RegisteredService } from '../../src/shared/contract';
import { expectAcknowledged, expectCallsWithin, registrationIn } from '../support/assertions';
import { splitHorizonZones, useE2e } from '../support/e2e';

/** The app; `gameZone` moves Game's second publication from the private zone (play-internal) to example.net (play). */
function synthesize(gameZone: 'private' | 'other' = 'private') {
  const example = buildManyServicesApp(0);
  const privateZone = new route53.PrivateHostedZone(example.stack, 'PrivateZone', { zoneName: 'example.com', vpc: example.vpc });
  const otherZone = new route53.PublicHostedZone(example.stack, 'OtherZone', { zoneName: 'example.net' });
  example.addService('Web', 'web', { additionalZones: [{ hostedZone: privateZone }, { hostedZone: otherZone, name: 'games' }] });
  example.addService('Api', 'api', { serviceName: 'api', additionalZones: [{ hostedZone: privateZone, address: RecordAddress.PRIVATE }] });
  example.addService('Game', 'play', {
    additionalZones: [gameZone === 'private' ? { hostedZone: privateZone, name: 'play-internal' } : { hostedZone: otherZone, name: 'play' }],
  });
  return templateOf(example.stack);
}

/** The world's extra zones, by the construct id of their template resource. */
const zones = { private: '', other: '' };

const e2e = useE2e({
  synthesize: () => synthesize(),
  zones: splitHorizonZones(zones),
});

let catcher: ResponseCatcher;
let baselines: Record<string, string>;
beforeAll(async () => {
  catcher = await ResponseCatcher.start();
});
afterAll(async () => {
  await catcher.stop();
});
beforeEach(async () => {
  baselines = {};
  for (const zoneId of [zones.private, zones.other]) {
    baselines[zoneId] = snapshot(notOwned(await e2e.world.zoneRecords(zoneId), e2e.config.services));
  }
});

/** The registration of a service (by its name tag) in a zone. */
const reg = (name: string, zoneId: string): RegisteredService => registrationIn(e2e.config.services, name, zoneId);

/** `setIdentifier=address` of the owned A records of a registration, sorted. */
async function rows(s: RegisteredService): Promise<string[]> {
  return published(await e2e.world.zoneRecords(s.hostedZoneId), s.fqdn).map((r) => `${r.setIdentifier}=${r.address}`);
}
const publicRows = (tasks: readonly TaskInfo[]) => tasks.map((t) => `${t.taskId}=${t.publicIp}`).sort();
const privateRows = (tasks: readonly TaskInfo[]) => tasks.map((t) => `${t.taskId}=${t.privateIp}`).sort();

/** Every zone's foreign records are as they were after seeding. */
async function expectForeignUntouched(): Promise<void> {
  expect(snapshot(notOwned(await e2e.records(), e2e.config.services))).toBe(e2e.baseline);
  for (const zoneId of [zones.private, zones.other]) {
    expect(snapshot(notOwned(await e2e.world.zoneRecords(zoneId), e2e.config.services))).toBe(baselines[zoneId]);
  }
}

async function lifecycle(type: 'Create' | 'Update' | 'Delete', old?: CfnTemplate): Promise<CfnAnswer> {
  const { event, requestId } = lifecycleRequest(catcher, type, lifecycleResource(e2e.template, e2e.deployed),
    old ? lifecycleResource(old, e2e.deployed) : undefined);
  const inv = await e2e.invoke(event);
  expect(inv.error).toBeUndefined();
  return catcher.answers.get(requestId)!;
}

const webPublic = () => reg('web', e2e.deployed.zoneId);
const webPrivate = () => reg('web', zones.private);
const webOther = () => reg('web', zones.other);

test('one registration per zone: same service and name tag, own zone, name, write group and address scope', () => {
  const web = e2e.config.services.filter((s) => s.name === 'web');
  expect(web.map((s) => [s.hostedZoneId, s.fqdn, s.addressScope ?? 'public'])).toEqual([
    [e2e.deployed.zoneId, 'web.example.com.', 'public'],
    [zones.private, 'web.example.com.', 'private'],
    [zones.other, 'games.example.net.', 'public'],
  ]);
  expect(new Set(web.map((s) => s.serviceName)).size).toBe(1);
  // Each zone's names are in policies of their own: three zones, three write groups.
  expect(new Set(e2e.config.services.map((s) => s.writeGroup ?? 0)).size).toBe(3);
  expect(reg('play', zones.private).fqdn).toBe('play-internal.example.com.');
});

test('a start publishes the public IP in both public zones and the private IP in the private zone; a stop removes it from all', async () => {
  const tasks = await e2e.world.startTasks(e2e.web.serviceName, 2);
  expect(tasks.every((t) => t.privateIp && t.publicIp && t.privateIp !== t.publicIp)).toBe(true);
  e2e.proxy.authorizeRoute53Writes(iamAuthorizer(rolePolicies(e2e.template, e2e.deployed).values()));
  const start = await e2e.deliver(tasks.map((t) => running(t)));
  expectAcknowledged(start);
  expect(await rows(webPublic())).toEqual(publicRows(tasks));
  expect(await rows(webOther())).toEqual(publicRows(tasks));
  expect(await rows(webPrivate())).toEqual(privateRows(tasks));
  // The task and its ENI are read once, not once per zone; one listing and one change per zone.
  expectCallsWithin(e2e.proxy, { 'ecs:DescribeTasks': 2, 'ec2:DescribeNetworkInterfaces': 1, 'route53:ListResourceRecordSets': 3, 'route53:ChangeResourceRecordSets': 3 });
  expect(metricsOf(start.logs)).toMatchObject({ RecordsUpserted: 6, ChangesFailed: 0 });
  expect(logsWith(start.logs, { taskId: tasks[0].taskId, outcome: 'applied', hostedZoneId: zones.private })).toHaveLength(1);

  await e2e.world.stopTask(tasks[0]);
  const stop = await e2e.deliver(stopSequence(tasks[0]));
  expectAcknowledged(stop);
  expect(await rows(webPublic())).toEqual(publicRows([tasks[1]]));
  expect(await rows(webOther())).toEqual(publicRows([tasks[1]]));
  expect(await rows(webPrivate())).toEqual(privateRows([tasks[1]]));
  expect(metricsOf(stop.logs)).toMatchObject({ RecordsDeleted: 3 });
  await expectForeignUntouched();
});

test('the reconciler repairs each zone: a deleted private record, a wrong value in the second public zone, an orphan', async () => {
  const tasks = await e2e.world.startTasks(e2e.web.serviceName, 2);
  expectAcknowledged(await e2e.deliver(tasks.map((t) => running(t))));
  const privateRecords = ownedAt(await e2e.world.zoneRecords(zones.private), 'web.example.com.');
  await e2e.world.deleteRecords(privateRecords.filter((r) => r.SetIdentifier === tasks[0].taskId), zones.private);
  const wrong: ResourceRecordSet = { ...ownedAt(await e2e.world.zoneRecords(zones.other), 'games.example.net.')[0] };
  await e2e.world.putRecords([{ ...wrong, ResourceRecords: [{ Value: '198.51.100.250' }] }], 'UPSERT', zones.other);
  const orphan: ResourceRecordSet = {
    Name: 'play-internal.example.com.', Type: 'A', SetIdentifier: 'gone-task', MultiValueAnswer: true, TTL: 60, ResourceRecords: [{ Value: '10.0.9.9' }],
  };
  await e2e.world.putRecords([orphan], 'CREATE', zones.private);

  e2e.proxy.authorizeRoute53Writes(iamAuthorizer(rolePolicies(e2e.template, e2e.deployed).values()));
  const inv = await e2e.reconcile();
  expect(inv.error).toBeUndefined();
  expect(inv.result).toMatchObject({ upserted: 2, deleted: 1, failed: 0 });
  // Seven registrations of three services: each service's tasks (and web's ENIs) are read once, not once per zone;
  // DescribeTasks a second time to re-check the written records.
  expectCallsWithin(e2e.proxy, {
    'ecs:ListTasks': 3, 'ecs:DescribeTasks': 2, 'ec2:DescribeNetworkInterfaces': 1, 'route53:ListResourceRecordSets': 7, 'route53:ChangeResourceRecordSets': 3,
  });
  expect(await rows(webPrivate())).toEqual(privateRows(tasks));
  expect(await rows(webOther())).toEqual(publicRows(tasks));
  expect(await rows(webPublic())).toEqual(publicRows(tasks));
  expect(ownedAt(await e2e.world.zoneRecords(zones.private), 'play-internal.example.com.')).toEqual([]);
  await expectForeignUntouched();
});

test('stack deletion purges every zone under the template\'s own permissions', async () => {
  const web = await e2e.world.startTasks(e2e.web.serviceName, 2);
  const api = await e2e.world.startTasks(e2e.api.serviceName, 1);
  const play = await e2e.world.startTasks(e2e.play.serviceName, 1);
  expectAcknowledged(await e2e.deliver([...web, ...api, ...play].map((t) => running(t))));
  expect(await rows(reg('api', zones.private))).toEqual(privateRows(api));
  expect(await rows(reg('play', zones.private))).toEqual(privateRows(play));

  e2e.proxy.authorizeRoute53Writes(iamAuthorizer(rolePolicies(e2e.template, e2e.deployed).values()));
  const answer = await lifecycle('Delete');
  // web: 3 zones x 2 tasks, api: 2 zones, play: 2 zones.
  expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { Deleted: '10' } });
  for (const s of e2e.config.services) {
    expect(ownedAt(await e2e.world.zoneRecords(s.hostedZoneId), s.fqdn)).toEqual([]);
  }
  await expectForeignUntouched();
});

test('the role cannot write a name of one zone in another: the write is denied and the other zones\' changes still go', async () => {
  const authorize = iamAuthorizer(rolePolicies(e2e.template, e2e.deployed).values());
  const change = (zoneId: string, name: string) => authorize({ zoneId, names: [name], types: ['A'], actions: ['UPSERT'] });
  expect(change(zones.private, 'play-internal.example.com.')).toBeUndefined();
  expect(change(e2e.deployed.zoneId, 'play-internal.example.com.')).toMatch(/not authorized/);
  expect(change(zones.other, 'web.example.com.')).toMatch(/not authorized/);
  expect(change(e2e.deployed.zoneId, 'games.example.net.')).toMatch(/not authorized/);

  // The handler configured (wrongly) to write the private zone's name in the public zone is refused there.
  const config = JSON.parse(e2e.env[ENV.CONFIG]) as { services: RegisteredService[] };
  const forged = config.services.map((s) => (s.fqdn === 'play-internal.example.com.' ? { ...s, hostedZoneId: e2e.deployed.zoneId } : s));
  const env = { ...e2e.env, [ENV.CONFIG]: JSON.stringify({ ...config, services: forged }) };
  const [t] = await e2e.world.startTasks(e2e.play.serviceName, 1);
  e2e.proxy.authorizeRoute53Writes(authorize);
  const denied = await e2e.handler.invoke<{ batchItemFailures: unknown[] }>(
    sqsBatch([running(t)]), { env });
  expect(denied.result?.batchItemFailures).toHaveLength(1);
  expect(logsWith(denied.logs, { taskId: t.taskId, outcome: 'failed', reason: /AccessDenied/ })).toHaveLength(1);
  expect(ownedAt(await e2e.records(), 'play-internal.example.com.')).toEqual([]);
  // The task's own name in the public zone was written all the same.
  expect(await rows(e2e.play)).toEqual(publicRows([t]));
});

test('a failing zone does not hold back the others; the retried messages complete it', async () => {
  const tasks = await e2e.world.startTasks(e2e.web.serviceName, 2);
  e2e.proxy.failNext((c) => c.action === 'ChangeResourceRecordSets' && c.path.includes(zones.private), 20, 'InternalError');
  const first = await e2e.deliver(tasks.map((t) => running(t)));
  expect(first.result?.batchItemFailures).toHaveLength(2);
  expect(await rows(webPublic())).toEqual(publicRows(tasks));
  expect(await rows(webOther())).toEqual(publicRows(tasks));
  expect(await rows(webPrivate())).toEqual([]);
  // The changes of the zones that answered count as applied, the failed zone's as failed.
  expect(metricsOf(first.logs)).toMatchObject({ RecordsUpserted: 4, ChangesFailed: 2 });
  expect(logsWith(first.logs, { outcome: 'failed', hostedZoneId: zones.private })).toHaveLength(2);
  expect(logsWith(first.logs, { outcome: 'applied', hostedZoneId: zones.other })).toHaveLength(2);

  e2e.proxy.clearFaults();
  e2e.proxy.failNext((c) => c.action === 'ChangeResourceRecordSets' && c.path.includes(zones.other), 1, 'Throttling');
  const retry = await e2e.deliver(tasks.map((t) => running(t)));
  expectAcknowledged(retry);
  expect(await rows(webPrivate())).toEqual(privateRows(tasks));
  expect(await rows(webPublic())).toEqual(publicRows(tasks));
  await expectForeignUntouched();
});

test('moving a name to another zone: the update deletes the old zone\'s records under the old policy, which the cleanup drops after', async () => {
  const before = e2e.template;
  const after = synthesize('other');
  const [t] = await e2e.world.startTasks(e2e.play.serviceName, 1);
  expectAcknowledged(await e2e.deliver([running(t)]));
  expect(await rows(reg('play', zones.private))).toEqual(privateRows([t]));

  // The policies of both extra zones change names: new ones are created, the old ones deleted after the custom resource.
  const steps = updateOrder(before, after);
  const lifecycleStep = steps.findIndex((s) => s.type === 'Custom::EcsPublicDiscovery');
  const deleted = steps.filter((s) => s.type === 'AWS::IAM::ManagedPolicy' && s.action === 'delete');
  expect(deleted).toHaveLength(2);
  deleted.forEach((d) => expect(steps.indexOf(d)).toBeGreaterThan(lifecycleStep));

  const oldPolicies = rolePolicies(before, e2e.deployed);
  e2e.proxy.authorizeRoute53Writes(iamAuthorizer(new Map([...oldPolicies, ...rolePolicies(after, e2e.deployed)]).values()));
  await e2e.useTemplate(after);
  const answer = await lifecycle('Update', before);
  expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { Deleted: '1' } });
  expect(ownedAt(await e2e.world.zoneRecords(zones.private), 'play-internal.example.com.')).toEqual([]);
  // The Update's reconciliation published the task at its new name.
  expect(await rows(reg('play', zones.other))).toEqual(publicRows([t]));

  // After the cleanup only the new policies remain: the old name may no longer be written in the private zone.
  const cleaned = iamAuthorizer(rolePolicies(after, e2e.deployed).values());
  expect(cleaned({ zoneId: zones.private, names: ['play-internal.example.com.'], types: ['A'], actions: ['DELETE'] })).toMatch(/not authorized/);
  expect(cleaned({ zoneId: zones.other, names: ['play.example.net.'], types: ['A'], actions: ['UPSERT'] })).toBeUndefined();
  await expectForeignUntouched();
});

test('the same move without the old policies during the update: the purge is denied and the update FAILED', async () => {
  const before = e2e.template;
  const after = synthesize('other');
  const [t] = await e2e.world.startTasks(e2e.play.serviceName, 1);
  expectAcknowledged(await e2e.deliver([running(t)]));
  e2e.proxy.authorizeRoute53Writes(iamAuthorizer(rolePolicies(after, e2e.deployed).values()));
  await e2e.useTemplate(after);
  const answer = await lifecycle('Update', before);
  expect(answer.Status).toBe('FAILED');
  expect(ownedAt(await e2e.world.zoneRecords(zones.private), 'play-internal.example.com.')).toHaveLength(1);
});

test('a failed read of a service in several zones counts once: ListTasks failing is one failed service, not one per zone', async () => {
  await e2e.world.startTasks(e2e.web.serviceName, 1);
  // Every ListTasks fails, past the handler's retries: three services, seven registrations.
  e2e.proxy.failNext({ service: 'ecs', action: 'ListTasks' }, 100, 'InternalError');
  const inv = await e2e.reconcile();
  expect(String(inv.error)).toMatch(/reconciliation failed for/);
  expect(e2e.config.services).toHaveLength(7);
  const failedLine = logsWith(inv.logs, { message: 'reconciliation finished' });
  expect(failedLine).toHaveLength(1);
  const failedServices = failedLine[0].json!.failedServices as string[];
  expect([...failedServices].sort()).toEqual([e2e.api.serviceName, e2e.play.serviceName, e2e.web.serviceName].sort());
  expect(metricsOf(inv.logs)).toMatchObject({ ChangesFailed: 3 });
  // One line per service, naming the zones its failed read left unreconciled.
  const lines = logsWith(inv.logs, { level: 'error', message: 'reconciliation of a service failed; it is retried at the next run', service: e2e.web.serviceName });
  // The zones in any order: they are named as the failures are met.
  expect(lines.map((l) => [...(l.json!.hostedZoneIds as string[])].sort())).toEqual([[e2e.deployed.zoneId, zones.private, zones.other].sort()]);
});

test('a task of a service in several zones without a public IP is one refused task; each refusal names its zone', async () => {
  const [t] = await e2e.world.startTasks(e2e.web.serviceName, 1, { publicIp: false });
  const start = await e2e.deliver([running(t)]);
  expectAcknowledged(start);
  expect(await rows(webPrivate())).toEqual(privateRows([t]));
  expect(await rows(webPublic())).toEqual([]);
  expect(metricsOf(start.logs)).toMatchObject({ TasksRejected: 1, RecordsUpserted: 1 });
  expect(logsWith(start.logs, { taskId: t.taskId, outcome: 'rejected' }).map((l) => l.json!.hostedZoneId).sort()).toEqual([e2e.deployed.zoneId, zones.other].sort());
});
