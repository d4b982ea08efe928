/**
 * End-to-end: IPv6. The example app with its Web service dual stack (A and AAAA) and its Game service IPv6
 * only (AAAA, no public IPv4), Api left IPv4. Tasks get IPv6 addresses from a dual-stack subnet of the world
 * (moto gives none by itself: see `assignIpv6OnCreation` in emulator/moto-gaps.ts). Foreign AAAA records sit
 * beside the registered names, one of them at the IPv4-only name, and must survive everything.
 */
import { UnassignIpv6AddressesCommand } from '@aws-sdk/client-ec2';
import type { ResourceRecordSet } from '@aws-sdk/client-route-53';
import { CfnAnswer, iamAuthorizer, lifecycleRequest, lifecycleResource, ResponseCatcher, rolePolicies, updateOrder } from '../../emulator/cloudformation';
import { running, stopSequence } from '../../emulator/events';
import { buildExampleStack, ExampleNames, templateOf } from '../../emulator/example-app';
import { logsWith, metricsOf } from '../../emulator/handler';
import { notOwned, ownedAt, published, snapshot } from '../../emulator/records';
import type { TaskInfo } from '../../emulator/world';
import { IpAddressType } from '../../src';
import type { RegisteredService } from '../../src/shared/contract';
import { expectAcknowledged, expectCallsWithin } from '../support/assertions';
import { useE2e } from '../support/e2e';

const TYPES = { Web: IpAddressType.DUAL_STACK, Game: IpAddressType.IPV6 } as const;
const synthesize = (names: ExampleNames = {}) => templateOf(buildExampleStack({ names, ipAddressTypes: TYPES }).stack);

/** Foreign records: AAAA beside the names (a sub-name, the IPv4-only name with a set identifier, simple routing). */
function foreignRecords(zoneName: string): ResourceRecordSet[] {
  return [
    { Name: `a.web.${zoneName}`, Type: 'AAAA', SetIdentifier: 'neighbour', MultiValueAnswer: true, TTL: 60, ResourceRecords: [{ Value: '2001:db8:ff::1' }] },
    { Name: `api.${zoneName}`, Type: 'AAAA', SetIdentifier: 'not-ours', MultiValueAnswer: true, TTL: 60, ResourceRecords: [{ Value: '2001:db8:ff::2' }] },
    { Name: `play-old.${zoneName}`, Type: 'AAAA', TTL: 300, ResourceRecords: [{ Value: '2001:db8:ff::3' }] },
  ];
}

const e2e = useE2e({ synthesize, seed: (world) => world.putRecords(foreignRecords(world.zoneName)) });

let catcher: ResponseCatcher;
beforeAll(async () => {
  catcher = await ResponseCatcher.start();
});
afterAll(async () => {
  await catcher.stop();
});

/** The owned records of a name, per type, as `setIdentifier=value` sorted. */
async function rows(service: RegisteredService): Promise<{ A: string[]; AAAA: string[] }> {
  const records = await e2e.records();
  const of = (type: string) => published(records, service.fqdn, type).map((r) => `${r.setIdentifier}=${r.address}/${r.ttl}`);
  return { A: of('A'), AAAA: of('AAAA') };
}

const expected = (tasks: readonly TaskInfo[], service: RegisteredService, types: { A?: boolean; AAAA?: boolean }) => ({
  A: types.A ? tasks.map((t) => `${t.taskId}=${t.publicIp}/${service.ttl}`).sort() : [],
  AAAA: types.AAAA ? tasks.map((t) => `${t.taskId}=${t.ipv6Address}/${service.ttl}`).sort() : [],
});

/** Every record the handler must leave alone is as it was after seeding. */
async function expectForeignUntouched(): Promise<void> {
  expect(snapshot(notOwned(await e2e.records(), e2e.config.services))).toBe(e2e.baseline);
}

async function lifecycle(type: 'Create' | 'Update' | 'Delete', template = e2e.template, old?: typeof template, timeoutMs?: number): Promise<CfnAnswer> {
  const { event, requestId } = lifecycleRequest(catcher, type, lifecycleResource(template, e2e.deployed),
    old ? lifecycleResource(old, e2e.deployed) : undefined);
  const inv = await e2e.invoke(event, { timeoutMs });
  expect(inv.error).toBeUndefined();
  return catcher.answers.get(requestId)!;
}

test('the registrations carry their record types', () => {
  expect(e2e.web.recordTypes).toEqual(['A', 'AAAA']);
  expect(e2e.play.recordTypes).toEqual(['AAAA']);
  expect(e2e.api.recordTypes).toBeUndefined();
});

test('dual stack: a start publishes A and AAAA in one change request; the stop deletes both', async () => {
  const tasks = await e2e.world.startTasks(e2e.web.serviceName, 2, { ipv6: true });
  expect(tasks.every((t) => t.publicIp && t.ipv6Address)).toBe(true);
  const start = await e2e.deliver(tasks.map((t) => running(t)));
  expectAcknowledged(start);
  expect(await rows(e2e.web)).toEqual(expected(tasks, e2e.web, { A: true, AAAA: true }));
  expectCallsWithin(e2e.proxy, { 'ecs:DescribeTasks': 2, 'ec2:DescribeNetworkInterfaces': 1, 'route53:ListResourceRecordSets': 1, 'route53:ChangeResourceRecordSets': 1 });
  expect(e2e.proxy.calls().find((c) => c.action === 'ChangeResourceRecordSets')?.changes).toMatchObject({ total: 4, upserts: 4 });
  expect(metricsOf(start.logs)).toMatchObject({ RecordsUpserted: 4, ChangesFailed: 0 });

  await e2e.world.stopTask(tasks[0]);
  const stop = await e2e.deliver(stopSequence(tasks[0]));
  expectAcknowledged(stop);
  expect(await rows(e2e.web)).toEqual(expected([tasks[1]], e2e.web, { A: true, AAAA: true }));
  expect(metricsOf(stop.logs)).toMatchObject({ RecordsDeleted: 2 });
  await expectForeignUntouched();
});

test('dual stack without an IPv6 address: the A record only, with a warning', async () => {
  const t = await e2e.world.startTask(e2e.web.serviceName);
  const inv = await e2e.deliver([running(t)]);
  expectAcknowledged(inv);
  expect(await rows(e2e.web)).toEqual(expected([t], e2e.web, { A: true }));
  expect(logsWith(inv.logs, { level: 'warn', taskId: t.taskId, reason: /no IPv6 address; the dual-stack task is published with its A record only/ })).toHaveLength(1);
});

test('IPv6 only, no public IPv4: AAAA only; a task without IPv6 is rejected and named', async () => {
  const [good] = await e2e.world.startTasks(e2e.play.serviceName, 1, { ipv6: true, publicIp: false });
  const bad = await e2e.world.startTask(e2e.play.serviceName, { publicIp: false });
  expect(good.publicIp).toBeUndefined();
  const inv = await e2e.deliver([running(good), running(bad)]);
  expectAcknowledged(inv);
  expect(await rows(e2e.play)).toEqual(expected([good], e2e.play, { AAAA: true }));
  expect(logsWith(inv.logs, { level: 'error', taskId: bad.taskId, outcome: 'rejected', reason: /has no IPv6 address, and the service publishes IPv6 only/ })).toHaveLength(1);
  expect(metricsOf(inv.logs)).toMatchObject({ RecordsUpserted: 1, TasksRejected: 1 });
  await expectForeignUntouched();
});

test('the reconciler repairs a missing AAAA and removes both records of a task gone unseen', async () => {
  const [kept, gone] = await e2e.world.startTasks(e2e.web.serviceName, 2, { ipv6: true });
  expectAcknowledged(await e2e.deliver([running(kept), running(gone)]));
  const keptRecords = ownedAt(await e2e.records(), e2e.web.fqdn, ['A', 'AAAA']).filter((r) => r.SetIdentifier === kept.taskId);
  // The world talks to moto directly, whose DELETE takes every record of the set identifier (see moto-gaps.ts):
  // the A record is put back, so that only the AAAA record is missing.
  await e2e.world.deleteRecords(keptRecords.filter((r) => r.Type === 'AAAA'));
  await e2e.world.putRecords(keptRecords.filter((r) => r.Type === 'A'));
  expect(ownedAt(await e2e.records(), e2e.web.fqdn, ['AAAA']).map((r) => r.SetIdentifier)).toEqual([gone.taskId]);
  await e2e.world.stopTask(gone);
  const inv = await e2e.reconcile();
  expect(inv.error).toBeUndefined();
  expect(inv.result).toMatchObject({ upserted: 1, deleted: 2, failed: 0 });
  expect(await rows(e2e.web)).toEqual(expected([kept], e2e.web, { A: true, AAAA: true }));
  await expectForeignUntouched();
});

test('a dual-stack task whose IPv6 address went away: the reconciler deletes its AAAA record and keeps its A record', async () => {
  const [t] = await e2e.world.startTasks(e2e.web.serviceName, 1, { ipv6: true });
  expectAcknowledged(await e2e.deliver([running(t)]));
  await e2e.world.clients.ec2.send(new UnassignIpv6AddressesCommand({ NetworkInterfaceId: t.eniId, Ipv6Addresses: [t.ipv6Address!] }));
  const inv = await e2e.reconcile();
  expect(inv.result).toMatchObject({ upserted: 0, deleted: 1, failed: 0 });
  // The proxy keeps moto from deleting the A record with the AAAA record (same set identifier; see moto-gaps.ts).
  expect(await rows(e2e.web)).toEqual(expected([t], e2e.web, { A: true }));
  expect(logsWith(inv.logs, { taskId: t.taskId, action: 'DELETE', recordType: 'AAAA', outcome: 'applied' })).toHaveLength(1);
});

test('stack deletion purges the AAAA records too, under the template\'s own permissions; foreign AAAA records stay', async () => {
  const web = await e2e.world.startTasks(e2e.web.serviceName, 2, { ipv6: true });
  const play = await e2e.world.startTasks(e2e.play.serviceName, 1, { ipv6: true, publicIp: false });
  const api = await e2e.world.startTasks(e2e.api.serviceName, 1);
  expectAcknowledged(await e2e.deliver([...web, ...play, ...api].map((t) => running(t))));
  expect(ownedAt(await e2e.records(), e2e.web.fqdn, ['A', 'AAAA'])).toHaveLength(4);

  e2e.proxy.authorizeRoute53Writes(iamAuthorizer(rolePolicies(e2e.template, e2e.deployed).values()));
  const answer = await lifecycle('Delete');
  expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { Deleted: '6' } });
  const after = await e2e.records();
  for (const s of e2e.config.services) {
    expect(ownedAt(after, s.fqdn, ['A', 'AAAA']).filter((r) => !(s === e2e.api && r.Type === 'AAAA'))).toEqual([]);
  }
  await expectForeignUntouched();
});

describe('renamed IPv6 registration, replayed in CloudFormation\'s order', () => {
  test('the update deletes the old name\'s AAAA records under the old policy, which the cleanup drops after', async () => {
    const before = e2e.template;
    const after = synthesize({ Game: 'arena' });
    const oldPlay = e2e.play;
    const tasks = await e2e.world.startTasks(oldPlay.serviceName, 2, { ipv6: true, publicIp: false });
    expectAcknowledged(await e2e.deliver(tasks.map((t) => running(t))));
    expect(ownedAt(await e2e.records(), oldPlay.fqdn, ['AAAA'])).toHaveLength(2);

    const steps = updateOrder(before, after);
    const lifecycleStep = steps.findIndex((s) => s.type === 'Custom::EcsPublicDiscovery');
    const deleted = steps.filter((s) => s.type === 'AWS::IAM::ManagedPolicy' && s.action === 'delete');
    expect(deleted).toHaveLength(1);
    expect(steps.indexOf(deleted[0])).toBeGreaterThan(lifecycleStep);

    e2e.proxy.authorizeRoute53Writes(iamAuthorizer(new Map([...rolePolicies(before, e2e.deployed), ...rolePolicies(after, e2e.deployed)]).values()));
    await e2e.useTemplate(after);
    const answer = await lifecycle('Update', after, before);
    expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { Deleted: '2' } });
    expect(ownedAt(await e2e.records(), oldPlay.fqdn, ['A', 'AAAA'])).toEqual([]);
  });

  test('without the old policy the AAAA purge is denied and the update FAILED, naming the records to delete', async () => {
    const before = e2e.template;
    const after = synthesize({ Game: 'arena' });
    const oldPlay = e2e.play;
    const tasks = await e2e.world.startTasks(oldPlay.serviceName, 1, { ipv6: true, publicIp: false });
    expectAcknowledged(await e2e.deliver(tasks.map((t) => running(t))));
    e2e.proxy.authorizeRoute53Writes(iamAuthorizer(rolePolicies(after, e2e.deployed).values()));
    await e2e.useTemplate(after);
    const answer = await lifecycle('Update', after, before, 20_000);
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toContain(oldPlay.fqdn);
    expect(answer.Reason).toMatch(/Delete by hand the AAAA records/);
    expect(ownedAt(await e2e.records(), oldPlay.fqdn, ['AAAA'])).toHaveLength(1);
  });
});

test('a dual-stack service made IPv4 only: the update deletes its AAAA records and keeps its A records', async () => {
  const before = e2e.template;
  const after = templateOf(buildExampleStack({ ipAddressTypes: { Game: IpAddressType.IPV6 } }).stack);
  const tasks = await e2e.world.startTasks(e2e.web.serviceName, 2, { ipv6: true });
  expectAcknowledged(await e2e.deliver(tasks.map((t) => running(t))));
  e2e.proxy.authorizeRoute53Writes(iamAuthorizer(new Map([...rolePolicies(before, e2e.deployed), ...rolePolicies(after, e2e.deployed)]).values()));
  await e2e.useTemplate(after);
  expect(e2e.web.recordTypes).toBeUndefined();
  const answer = await lifecycle('Update', after, before);
  expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { Deleted: '2' } });
  expect(await rows(e2e.web)).toEqual(expected(tasks, e2e.web, { A: true }));
  expect(ownedAt(await e2e.records(), e2e.web.fqdn, ['AAAA'])).toEqual([]);
});
