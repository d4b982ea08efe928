/**
 * IPv6: AAAA records beside (dual stack) or instead of (IPv6 only) the A record, through the planner, the
 * batch pipeline, the reconciler, the purge and the lifecycle's removed names.
 */
import { CLUSTER_ARN, MC, ownedRecord, simpleRecord, startEvent, stopEvent, WEB, ZONE } from './fixtures';
import { pipelineHarness } from './pipeline-harness';
import { removedNames } from '../../src/lambda/lifecycle';
import type { RecordSet } from '../../src/lambda/model';
import { conflictOf, desiredRecord, isOwned, planName, resolvePublish } from '../../src/lambda/planner';
import { purgeNames } from '../../src/lambda/purge';
import { reconcile } from '../../src/lambda/reconcile';
import { ConfigError, DiscoveryConfig, ENV, LifecycleName, readConfig, readLifecycleNames, RegisteredService, TAG_NAME } from '../../src/shared/contract';

const DUAL: RegisteredService = { ...MC, recordTypes: ['A', 'AAAA'] };
const V6: RegisteredService = { ...WEB, recordTypes: ['AAAA'] };
const CONFIG: DiscoveryConfig = { clusterArn: CLUSTER_ARN, services: [DUAL, V6] };

const aaaa = (s: RegisteredService, taskId: string, ip: string, ttl = s.ttl): RecordSet => ({
  Name: s.fqdn, Type: 'AAAA', SetIdentifier: taskId, MultiValueAnswer: true, TTL: ttl, ResourceRecords: [{ Value: ip }],
});

const harness = (config: DiscoveryConfig = CONFIG) => pipelineHarness(config);

describe('contract', () => {
  const env = (services: unknown[]) => ({ [ENV.CONFIG]: JSON.stringify({ clusterArn: CLUSTER_ARN, services }) });

  test('recordTypes is read in A, AAAA order; absent stays absent (A only)', () => {
    const config = readConfig(env([{ ...MC, recordTypes: ['AAAA', 'A'] }, WEB]));
    expect(config.services[0].recordTypes).toEqual(['A', 'AAAA']);
    expect(config.services[1]).not.toHaveProperty('recordTypes');
  });

  test.each([[[]], [['A', 'A']], [['MX']], ['AAAA']])('recordTypes %j is refused', recordTypes => {
    expect(() => readConfig(env([{ ...MC, recordTypes }]))).toThrow(ConfigError);
    expect(() => readConfig(env([{ ...MC, recordTypes }]))).toThrow(/services\[0\]\.recordTypes must be a non-empty list of distinct record types among A, AAAA/);
  });

  test('the lifecycle names carry their record types', () => {
    const names = readLifecycleNames({ Names: [{ hostedZoneId: ZONE, fqdn: MC.fqdn, serviceName: 'minecraft', recordTypes: ['A', 'AAAA'] }] }, 'ResourceProperties');
    expect(names).toEqual([{ hostedZoneId: ZONE, fqdn: MC.fqdn, serviceName: 'minecraft', recordTypes: ['A', 'AAAA'] }]);
    expect(() => readLifecycleNames({ Names: [{ hostedZoneId: ZONE, fqdn: MC.fqdn, serviceName: 'm', recordTypes: ['TXT'] }] }, 'P')).toThrow(/P\.Names\[0\]\.recordTypes/);
  });
});

describe('planner', () => {
  const tags = { [TAG_NAME]: 'mc' };

  test('a dual-stack task resolves to both addresses', () => {
    expect(resolvePublish(DUAL, 't1', { eniId: 'eni-1', publicIp: '203.0.113.1', ipv6Address: '2001:db8::1' }, tags)).toEqual({
      ok: true, item: { taskId: 't1', publicIp: '203.0.113.1', ipv6Address: '2001:db8::1', ttl: 60 }, warnings: [],
    });
  });

  test('an IPv4-only service ignores the ENI\'s IPv6 address', () => {
    expect(resolvePublish(MC, 't1', { eniId: 'eni-1', publicIp: '203.0.113.1', ipv6Address: '2001:db8::1' }, tags)).toEqual({
      ok: true, item: { taskId: 't1', publicIp: '203.0.113.1', ttl: 60 }, warnings: [],
    });
  });

  test('a dual-stack task without IPv6 is published with A only, with a warning', () => {
    const r = resolvePublish(DUAL, 't1', { eniId: 'eni-1', publicIp: '203.0.113.1' }, tags);
    expect(r).toEqual({ ok: true, item: { taskId: 't1', publicIp: '203.0.113.1', ttl: 60 }, warnings: [expect.stringContaining('network interface eni-1 has no IPv6 address; the dual-stack task is published with its A record only')] });
  });

  test('a dual-stack task without public IPv4 is rejected as before', () => {
    const r = resolvePublish(DUAL, 't1', { eniId: 'eni-1', ipv6Address: '2001:db8::1' }, tags);
    expect(r).toMatchObject({ ok: false, outcome: { outcome: 'rejected', reason: expect.stringContaining('has no public IPv4 address') } });
  });

  test('an IPv6-only task needs no public IPv4, and is rejected without IPv6 with a clear reason', () => {
    const v6tags = { [TAG_NAME]: 'web' };
    expect(resolvePublish(V6, 't1', { eniId: 'eni-1', ipv6Address: '2001:db8::1' }, v6tags)).toEqual({
      ok: true, item: { taskId: 't1', ipv6Address: '2001:db8::1', ttl: 30 }, warnings: [],
    });
    expect(resolvePublish(V6, 't1', { eniId: 'eni-1', publicIp: '203.0.113.1' }, v6tags)).toMatchObject({
      ok: false,
      outcome: {
        outcome: 'rejected',
        level: 'error',
        action: 'SKIP',
        reason: 'network interface eni-1 has no IPv6 address, and the service publishes IPv6 only: place the service in subnets with an IPv6 CIDR block that assign IPv6 addresses on creation (AssignIpv6AddressOnCreation)',
      },
    });
  });

  test('ownership and conflicts follow the registered types', () => {
    expect(isOwned(aaaa(DUAL, 't1', '2001:db8::1'), DUAL.fqdn)).toBe(false);
    expect(isOwned(aaaa(DUAL, 't1', '2001:db8::1'), DUAL.fqdn, ['A', 'AAAA'])).toBe(true);
    expect(isOwned(ownedRecord(V6, 't1', '203.0.113.1'), V6.fqdn, ['AAAA'])).toBe(false);
    const foreignAaaa: RecordSet = { Name: DUAL.fqdn, Type: 'AAAA', TTL: 300, ResourceRecords: [{ Value: '2001:db8::99' }] };
    expect(conflictOf([foreignAaaa], DUAL.fqdn)).toBeUndefined();
    expect(conflictOf([foreignAaaa], DUAL.fqdn, ['A', 'AAAA'])).toBe(foreignAaaa);
    expect(conflictOf([simpleRecord(V6)], V6.fqdn, ['AAAA'])).toBeUndefined();
  });

  test('desiredRecord of type AAAA', () => {
    expect(desiredRecord(DUAL, { taskId: 't1', publicIp: '203.0.113.1', ipv6Address: '2001:db8::1', ttl: 60 }, 'AAAA')).toEqual(aaaa(DUAL, 't1', '2001:db8::1'));
  });

  test('a dual-stack start is an UPSERT of A and AAAA with the same name, set identifier and TTL', () => {
    const plan = planName(DUAL, [], [{ taskId: 't1', publicIp: '203.0.113.1', ipv6Address: '2001:db8::1', ttl: 60 }], []);
    expect(plan.changes.map(c => [c.action, c.record])).toEqual([
      ['UPSERT', ownedRecord(DUAL, 't1', '203.0.113.1')],
      ['UPSERT', aaaa(DUAL, 't1', '2001:db8::1')],
    ]);
    expect(plan.outcomes.map(o => [o.action, o.recordType, o.outcome])).toEqual([['UPSERT', undefined, 'planned'], ['UPSERT', 'AAAA', 'planned']]);
    expect([plan.ownedBefore, plan.ownedAfter]).toEqual([0, 1]);
  });

  test('a stop deletes both records with their exact values', () => {
    const records = [ownedRecord(DUAL, 't1', '203.0.113.1'), aaaa(DUAL, 't1', '2001:db8::1'), ownedRecord(DUAL, 't2', '203.0.113.2')];
    const plan = planName(DUAL, records, [], [{ taskId: 't1' }]);
    expect(plan.changes.map(c => [c.action, c.record])).toEqual([['DELETE', records[0]], ['DELETE', records[1]]]);
    expect([plan.ownedBefore, plan.ownedAfter]).toEqual([2, 1]);
  });

  test('a missing AAAA is added, an up-to-date A left alone, a wrong AAAA corrected', () => {
    const item = (id: string, n: number) => ({ taskId: id, publicIp: `203.0.113.${n}`, ipv6Address: `2001:db8::${n}`, ttl: 60 });
    const plan = planName(DUAL, [ownedRecord(DUAL, 't1', '203.0.113.1'), ownedRecord(DUAL, 't2', '203.0.113.2'), aaaa(DUAL, 't2', '2001:db8::99')],
      [item('t1', 1), item('t2', 2)], []);
    expect(plan.changes.map(c => [c.action, c.record.Type, c.taskId])).toEqual([['UPSERT', 'AAAA', 't1'], ['UPSERT', 'AAAA', 't2']]);
    expect(plan.outcomes.filter(o => o.outcome === 'unchanged').map(o => [o.taskId, o.recordType])).toEqual([['t1', undefined], ['t2', undefined]]);
  });

  test('an AAAA of a dual-stack task that no longer has an IPv6 address is deleted', () => {
    const stale = aaaa(DUAL, 't1', '2001:db8::1');
    const plan = planName(DUAL, [ownedRecord(DUAL, 't1', '203.0.113.1'), stale], [{ taskId: 't1', publicIp: '203.0.113.1', ttl: 60 }], []);
    expect(plan.changes).toEqual([{ action: 'DELETE', hostedZoneId: ZONE, record: stale, taskId: 't1', service: DUAL }]);
  });

  test('an IPv6-only service writes AAAA only and leaves A records at its name alone', () => {
    const foreignA = ownedRecord(V6, 'x', '198.51.100.1');
    const plan = planName(V6, [foreignA], [{ taskId: 't1', ipv6Address: '2001:db8::1', ttl: 30 }], [{ taskId: 'x' }]);
    expect(plan.changes.map(c => [c.action, c.record])).toEqual([['UPSERT', aaaa(V6, 't1', '2001:db8::1')]]);
  });

  test('capacity counts per type, as Route53 does', () => {
    const full = Array.from({ length: 3 }, (_v, i) => aaaa(DUAL, `o${i}`, `2001:db8::${i}`));
    const plan = planName(DUAL, full, [{ taskId: 't1', publicIp: '203.0.113.1', ipv6Address: '2001:db8::a', ttl: 60 }], [], 3);
    expect(plan.changes.map(c => c.record.Type)).toEqual(['A']);
    expect(plan.outcomes.find(o => o.outcome === 'capacity')).toMatchObject({ recordType: 'AAAA', reason: expect.stringContaining('already holds 3 AAAA records') });
  });

  test('a foreign AAAA record at a dual-stack name is a conflict', () => {
    const foreign: RecordSet = { Name: DUAL.fqdn, Type: 'AAAA', TTL: 300, ResourceRecords: [{ Value: '2001:db8::99' }] };
    const plan = planName(DUAL, [foreign], [{ taskId: 't1', publicIp: '203.0.113.1', ipv6Address: '2001:db8::1', ttl: 60 }], []);
    expect(plan.changes).toEqual([]);
    expect(plan.outcomes).toEqual([expect.objectContaining({ outcome: 'conflict', reason: expect.stringContaining('already holds a AAAA record') })]);
  });
});

describe('pipeline', () => {
  test('a dual-stack start publishes A and AAAA in one change request; its stop deletes both', async () => {
    const h = harness();
    h.api.addTask('t1', { service: DUAL, ip: '203.0.113.1', ipv6: '2001:db8::1' });
    const started = await h.run(['m1', startEvent('t1')]);
    expect(started.failedMessageIds).toEqual([]);
    expect(h.api.records(ZONE, DUAL.fqdn)).toEqual([ownedRecord(DUAL, 't1', '203.0.113.1'), aaaa(DUAL, 't1', '2001:db8::1')]);
    expect(h.api.appliedBatches).toHaveLength(1);
    expect(h.counted()).toEqual({ RecordsUpserted: 2 });
    expect(h.logs()).toContainEqual(expect.objectContaining({ message: 'task outcome', taskId: 't1', action: 'UPSERT', recordType: 'AAAA', outcome: 'applied' }));

    h.api.stopTask('t1');
    const stopped = await h.run(['m2', stopEvent('t1')]);
    expect(stopped.failedMessageIds).toEqual([]);
    expect(h.api.records(ZONE, DUAL.fqdn)).toEqual([]);
    expect(h.counted()).toEqual({ RecordsUpserted: 2, RecordsDeleted: 2 });
  });

  test('Route53 refusing only the AAAA change: the A record is applied and reported so, the AAAA failure retries the message', async () => {
    const h = harness();
    h.api.addTask('t1', { service: DUAL, ip: '203.0.113.1', ipv6: '2001:db8::1' });
    h.api.addTask('t2', { service: DUAL, ip: '203.0.113.2', ipv6: '2001:db8::2' });
    h.api.rejectChange = c => (c.record.Type === 'AAAA' && c.record.SetIdentifier === 't1' ? 'Invalid AAAA value' : undefined);
    const result = await h.run(['m1', startEvent('t1')], ['m2', startEvent('t2')]);
    expect(result.failedMessageIds).toEqual(['m1']);
    expect(h.api.records(ZONE, DUAL.fqdn).map(r => `${r.Type} ${r.SetIdentifier}`).sort()).toEqual(['A t1', 'A t2', 'AAAA t2']);
    expect(result.outcomes.filter(o => o.taskId === 't1').map(o => [o.recordType ?? 'A', o.outcome])).toEqual([['A', 'applied'], ['AAAA', 'failed']]);
    expect(h.counted()).toEqual({ RecordsUpserted: 3, ChangesFailed: 1 });
  });

  test('an IPv6-only start without public IPv4 publishes AAAA only', async () => {
    const h = harness();
    h.api.addTask('t1', { service: V6, ip: null, ipv6: '2001:db8::6' });
    await h.run(['m1', startEvent('t1', { group: `service:${V6.serviceName}` })]);
    expect(h.api.records(ZONE, V6.fqdn)).toEqual([aaaa(V6, 't1', '2001:db8::6')]);
  });

  test('an IPv6-only start without IPv6 is rejected and acknowledged', async () => {
    const h = harness();
    h.api.addTask('t1', { service: V6, ip: '203.0.113.1' });
    const result = await h.run(['m1', startEvent('t1', { group: `service:${V6.serviceName}` })]);
    expect(result.failedMessageIds).toEqual([]);
    expect(h.api.records(ZONE)).toEqual([]);
    expect(h.counted()).toEqual({ TasksRejected: 1 });
  });

  test('a dual-stack start without IPv6 publishes A with a warning', async () => {
    const h = harness();
    h.api.addTask('t1', { service: DUAL, ip: '203.0.113.1' });
    await h.run(['m1', startEvent('t1')]);
    expect(h.api.records(ZONE, DUAL.fqdn)).toEqual([ownedRecord(DUAL, 't1', '203.0.113.1')]);
    expect(h.logs()).toContainEqual(expect.objectContaining({ level: 'warn', taskId: 't1', reason: expect.stringContaining('no IPv6 address') }));
  });
});

describe('reconciler', () => {
  test('repairs a missing AAAA and deletes both records of a task that is gone', async () => {
    const h = harness();
    h.api.addTask('t1', { service: DUAL, ip: '203.0.113.1', ipv6: '2001:db8::1' });
    h.api.put(ZONE, ownedRecord(DUAL, 't1', '203.0.113.1'), ownedRecord(DUAL, 'gone', '203.0.113.9'), aaaa(DUAL, 'gone', '2001:db8::9'));
    const summary = await reconcile(h.deps);
    expect(summary).toMatchObject({ upserted: 1, deleted: 2, failed: 0 });
    expect(h.api.records(ZONE, DUAL.fqdn)).toEqual([ownedRecord(DUAL, 't1', '203.0.113.1'), aaaa(DUAL, 't1', '2001:db8::1')]);
  });
});

describe('purge and lifecycle', () => {
  const nameOf = (s: RegisteredService): LifecycleName => ({
    hostedZoneId: s.hostedZoneId, fqdn: s.fqdn, serviceName: s.serviceName, ...(s.recordTypes ? { recordTypes: s.recordTypes } : {}),
  });

  test('the purge deletes AAAA records of a name that publishes them, and only owned ones', async () => {
    const h = harness();
    const foreign: RecordSet = { Name: 'other.example.com.', Type: 'AAAA', SetIdentifier: 'x', MultiValueAnswer: true, TTL: 60, ResourceRecords: [{ Value: '2001:db8::7' }] };
    h.api.put(ZONE, ownedRecord(DUAL, 't1', '203.0.113.1'), aaaa(DUAL, 't1', '2001:db8::1'), aaaa(V6, 't2', '2001:db8::2'), foreign);
    const summary = await purgeNames(h.deps, [nameOf(DUAL), nameOf(V6)]);
    expect(summary).toEqual({ deleted: 3, failures: [] });
    expect(h.api.records(ZONE)).toEqual([foreign]);
  });

  test('a purge of an A-only name leaves AAAA records alone', async () => {
    const h = harness();
    h.api.put(ZONE, ownedRecord(MC, 't1', '203.0.113.1'), aaaa(MC, 't1', '2001:db8::1'));
    await purgeNames(h.deps, [nameOf(MC)]);
    expect(h.api.records(ZONE)).toEqual([aaaa(MC, 't1', '2001:db8::1')]);
  });

  test('removedNames: a renamed IPv6 name goes with its types; a kept name that drops AAAA purges its AAAA records', () => {
    expect(removedNames([nameOf(V6)], [])).toEqual([nameOf(V6)]);
    expect(removedNames([nameOf(DUAL)], [nameOf(MC)])).toEqual([{ ...nameOf(DUAL), recordTypes: ['AAAA'] }]);
    expect(removedNames([nameOf(MC)], [nameOf(DUAL)])).toEqual([]);
    expect(removedNames([nameOf(DUAL)], [nameOf(DUAL)])).toEqual([]);
  });
});
