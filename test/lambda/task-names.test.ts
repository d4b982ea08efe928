/**
 * Per-task host names and SRV records: ownership, planning (pure) and the workflows over the in-memory API.
 */
import { FakeDiscoveryApi } from './fake-api';
import { CLUSTER_ARN, ecsEvent, MC, ownedRecord, WEB, ZONE } from './fixtures';
import { pipelineHarness } from './pipeline-harness';
import { removedNames } from '../../src/lambda/lifecycle';
import type { PublishItem, RecordSet } from '../../src/lambda/model';
import { purgeNames } from '../../src/lambda/purge';
import { reconcile } from '../../src/lambda/reconcile';
import { kindOf, ownerOf, planRegistration, planTaskRecords, srvValue, taskHostName } from '../../src/lambda/task-names';
import { Logger, Metrics } from '../../src/lambda/telemetry';
import type { DiscoveryConfig, LifecycleName, RegisteredService } from '../../src/shared/contract';

const SRV_FQDN = `_minecraft._tcp.${MC.fqdn}`;
const GAME: RegisteredService = { ...MC, taskNames: true, srv: { fqdn: SRV_FQDN, priority: 0, weight: 1, port: 25565 } };
const DUAL: RegisteredService = { ...WEB, recordTypes: ['A', 'AAAA'], taskNames: true };
const T1 = '1'.repeat(32);
const T2 = '2'.repeat(32);

const hostRecord = (service: RegisteredService, id: string, ip: string, type = 'A', ttl = service.ttl): RecordSet => ({
  Name: taskHostName(service.fqdn, id), Type: type, SetIdentifier: id, MultiValueAnswer: true, TTL: ttl, ResourceRecords: [{ Value: ip }],
});
const srvRecord = (id: string, value = srvValue(GAME.srv!, GAME.fqdn, id), ttl = GAME.ttl): RecordSet => ({
  Name: SRV_FQDN, Type: 'SRV', SetIdentifier: id, MultiValueAnswer: true, TTL: ttl, ResourceRecords: [{ Value: value }],
});
const item = (taskId: string, publicIp: string, ipv6Address?: string, ttl = 60): PublishItem =>
  ({ taskId, publicIp, ...(ipv6Address ? { ipv6Address } : {}), ttl });
const summary = (changes: ReadonlyArray<{ action: string; record: RecordSet }>) =>
  changes.map(c => `${c.action} ${c.record.Name} ${c.record.Type} ${c.record.SetIdentifier} ${c.record.ResourceRecords?.[0]?.Value}`);

describe('ownership', () => {
  const owner = ownerOf(GAME);
  test.each<[string, RecordSet, string | undefined]>([
    ['the service name', ownedRecord(MC, T1, '203.0.113.1'), 'name'],
    ['a task name', hostRecord(GAME, T1, '203.0.113.1'), 'task'],
    ['the SRV name', srvRecord(T1), 'srv'],
    ['a task name whose first label is not its set identifier', { ...hostRecord(GAME, T1, '203.0.113.1'), SetIdentifier: T2 }, undefined],
    ['a name below with a short set identifier', { ...hostRecord(GAME, 'x', '203.0.113.1') }, undefined],
    ['a task name without multi-value routing', { ...hostRecord(GAME, T1, '203.0.113.1'), MultiValueAnswer: undefined }, undefined],
    ['an AAAA task name of an IPv4 registration', hostRecord(GAME, T1, '2001:db8::1', 'AAAA'), undefined],
    ['a TXT at the SRV name', { ...srvRecord(T1), Type: 'TXT' }, undefined],
    ['an SRV record whose set identifier is not a task id', { ...srvRecord(T1), SetIdentifier: 'not-ours' }, undefined],
    ['an SRV record at the service name', { ...srvRecord(T1), Name: MC.fqdn }, undefined],
  ])('%s', (_what, record, kind) => {
    expect(kindOf(owner, record)).toBe(kind);
  });

  test('a registration without task names or SRV owns only its name\'s records', () => {
    expect(kindOf(ownerOf(MC), hostRecord(GAME, T1, '203.0.113.1'))).toBeUndefined();
    expect(kindOf(ownerOf(MC), srvRecord(T1))).toBeUndefined();
    expect(kindOf(ownerOf(MC), ownedRecord(MC, T1, '203.0.113.1'))).toBe('name');
  });
});

describe('planTaskRecords', () => {
  test('a start writes the task name and the SRV value; identical records are left alone', () => {
    const plan = planTaskRecords(GAME, [], [item(T1, '203.0.113.1')], []);
    expect(summary(plan.changes)).toEqual([
      `UPSERT ${T1}.${MC.fqdn} A ${T1} 203.0.113.1`,
      `UPSERT ${SRV_FQDN} SRV ${T1} 0 1 25565 ${T1}.${MC.fqdn}`,
    ]);
    expect(plan.outcomes.map(o => [o.recordName, o.recordType, o.outcome])).toEqual([
      [`${T1}.${MC.fqdn}`, undefined, 'planned'], [SRV_FQDN, 'SRV', 'planned'],
    ]);
    const again = planTaskRecords(GAME, [hostRecord(GAME, T1, '203.0.113.1'), srvRecord(T1)], [item(T1, '203.0.113.1')], []);
    expect(again.changes).toEqual([]);
  });

  test('a stop deletes the task\'s own records with their exact values, and nothing of another task', () => {
    const drifted = srvRecord(T1, 'stale value', 5);
    const records = [hostRecord(GAME, T1, '203.0.113.1'), drifted, hostRecord(GAME, T2, '203.0.113.2'), srvRecord(T2)];
    const plan = planTaskRecords(GAME, records, [], [{ taskId: T1 }]);
    expect(plan.changes.map(c => [c.action, c.record])).toEqual([['DELETE', records[0]], ['DELETE', drifted]]);
  });

  test('a drifted SRV value (another port) is upserted with the reason', () => {
    const plan = planTaskRecords(GAME, [hostRecord(GAME, T1, '203.0.113.1'), srvRecord(T1, `0 1 80 ${T1}.${MC.fqdn}`)], [item(T1, '203.0.113.1')], []);
    expect(summary(plan.changes)).toEqual([`UPSERT ${SRV_FQDN} SRV ${T1} 0 1 25565 ${T1}.${MC.fqdn}`]);
    expect(plan.outcomes[0].reason).toMatch(/record drifted \(was 0 1 80 /);
  });

  test('dual stack: A and AAAA at the task name; the AAAA record goes when the address does', () => {
    const plan = planTaskRecords(DUAL, [], [item(T1, '203.0.113.1', '2001:db8::1', 30)], []);
    expect(summary(plan.changes)).toEqual([`UPSERT ${T1}.${WEB.fqdn} A ${T1} 203.0.113.1`, `UPSERT ${T1}.${WEB.fqdn} AAAA ${T1} 2001:db8::1`]);
    const lost = planTaskRecords(DUAL, [hostRecord(DUAL, T1, '203.0.113.1'), hostRecord(DUAL, T1, '2001:db8::1', 'AAAA')], [item(T1, '203.0.113.1', undefined, 30)], []);
    expect(summary(lost.changes)).toEqual([`DELETE ${T1}.${WEB.fqdn} AAAA ${T1} 2001:db8::1`]);
  });

  test('IPv6 only: AAAA at the task name, and the SRV value points at it', () => {
    const v6: RegisteredService = { ...GAME, recordTypes: ['AAAA'] };
    const plan = planTaskRecords(v6, [], [{ taskId: T1, ipv6Address: '2001:db8::1', ttl: 60 }], []);
    expect(summary(plan.changes)).toEqual([`UPSERT ${T1}.${MC.fqdn} AAAA ${T1} 2001:db8::1`, `UPSERT ${SRV_FQDN} SRV ${T1} 0 1 25565 ${T1}.${MC.fqdn}`]);
  });

  test('the SRV name is full: no new value (capacity), an existing one is kept up to date', () => {
    const full = [srvRecord(T2)];
    const plan = planTaskRecords(GAME, full, [item(T1, '203.0.113.1')], [], 1);
    expect(summary(plan.changes)).toEqual([`UPSERT ${T1}.${MC.fqdn} A ${T1} 203.0.113.1`]);
    expect(plan.outcomes.find(o => o.outcome === 'capacity')).toMatchObject({ taskId: T1, recordType: 'SRV', level: 'warn' });
  });

  test('a foreign record at the task name or the SRV name: nothing written there, the conflict named', () => {
    const foreignHost: RecordSet = { Name: taskHostName(MC.fqdn, T1), Type: 'A', TTL: 300, ResourceRecords: [{ Value: '192.0.2.1' }] };
    const plan = planTaskRecords(GAME, [foreignHost], [item(T1, '203.0.113.1')], []);
    expect(plan.changes).toEqual([]);
    expect(plan.outcomes.map(o => o.outcome)).toEqual(['conflict', 'conflict']);
    expect(plan.outcomes[0].reason).toMatch(/already holds a A record not managed by public discovery \(simple routing\)/);
    const foreignSrv: RecordSet = { Name: SRV_FQDN, Type: 'SRV', TTL: 300, ResourceRecords: [{ Value: '0 0 1 other.' }] };
    const other = planTaskRecords(GAME, [foreignSrv, { ...foreignSrv, Type: 'TXT' }], [item(T1, '203.0.113.1')], []);
    expect(summary(other.changes)).toEqual([`UPSERT ${T1}.${MC.fqdn} A ${T1} 203.0.113.1`]);
    expect(other.outcomes[1]).toMatchObject({ outcome: 'conflict', recordName: SRV_FQDN });
  });

  test('a task id that is not 32 hexadecimal characters gets no host name nor SRV value', () => {
    const plan = planTaskRecords(GAME, [], [item('0123abcd-0000-1111-2222-333344445555', '203.0.113.1')], []);
    expect(plan.changes).toEqual([]);
    expect(plan.outcomes[0]).toMatchObject({ outcome: 'ignored', reason: /not 32 hexadecimal characters/ });
  });

  test('planRegistration adds them to the name\'s plan, and leaves a registration without them as planName does', () => {
    expect(summary(planRegistration(GAME, [], [item(T1, '203.0.113.1')], []).changes)).toHaveLength(3);
    expect(summary(planRegistration(MC, [], [item(T1, '203.0.113.1')], []).changes)).toEqual([`UPSERT ${MC.fqdn} A ${T1} 203.0.113.1`]);
  });
});

describe('workflows over the in-memory API', () => {
  const config: DiscoveryConfig = { clusterArn: CLUSTER_ARN, services: [GAME, WEB] };


  test('a start reads the subtree in one listing and writes all three records in one request; a stop deletes them', async () => {
    const h = pipelineHarness(config);
    h.api.addTask(T1, { service: GAME, ip: '203.0.113.1' });
    h.api.put(ZONE, ...[{ Name: `www.${MC.fqdn}`, Type: 'A', TTL: 300, ResourceRecords: [{ Value: '192.0.2.9' }] }]);
    const start = await h.run(['m1', ecsEvent({ id: T1, group: `service:${GAME.serviceName}` })]);
    expect(start.failedMessageIds).toEqual([]);
    expect(h.api.callsOf('listRecordsAt')).toEqual([[ZONE, MC.fqdn, true]]);
    expect(h.api.count('changeRecords')).toBe(1);
    expect(h.api.records(ZONE).filter(r => r.SetIdentifier === T1)).toHaveLength(3);

    h.api.stopTask(T1);
    const stop = await h.run(['m2', ecsEvent({ id: T1, group: `service:${GAME.serviceName}`, lastStatus: 'STOPPED', desiredStatus: 'STOPPED', version: 3 })]);
    expect(stop.failedMessageIds).toEqual([]);
    expect(h.api.records(ZONE).filter(r => r.SetIdentifier === T1)).toEqual([]);
    expect(h.api.records(ZONE).map(r => r.Name)).toEqual([`www.${MC.fqdn}`]);
  });

  test('a task that stops while its records are written: the re-check deletes all three again, each settled on its own', async () => {
    const h = pipelineHarness(config);
    h.api.addTask(T1, { service: GAME, ip: '203.0.113.1' });
    h.api.beforeChange = () => {
      if (h.api.count('changeRecords') === 1) {
        h.api.stopTask(T1);
      }
    };
    const result = await h.run(['m1', ecsEvent({ id: T1, group: `service:${GAME.serviceName}` })]);
    expect(result.failedMessageIds).toEqual([]);
    expect(h.api.appliedBatches.map(b => b.changes.map(c => c.action))).toEqual([['UPSERT', 'UPSERT', 'UPSERT'], ['DELETE', 'DELETE', 'DELETE']]);
    expect(h.api.records(ZONE)).toEqual([]);
    const rechecked = result.outcomes.filter(o => o.action === 'DELETE');
    expect(rechecked.map(o => [o.recordName, o.recordType, o.outcome])).toEqual([
      [undefined, undefined, 'applied'], [`${T1}.${MC.fqdn}`, undefined, 'applied'], [SRV_FQDN, 'SRV', 'applied'],
    ]);
  });

  test('Route53 refuses the SRV change only: the name and the task name are applied, the SRV change fails and is retried', async () => {
    const h = pipelineHarness(config);
    h.api.addTask(T1, { service: GAME, ip: '203.0.113.1' });
    h.api.rejectChange = change => (change.record.Type === 'SRV' ? 'Invalid SRV value (fake)' : undefined);
    const result = await h.run(['m1', ecsEvent({ id: T1, group: `service:${GAME.serviceName}` })]);
    expect(result.failedMessageIds).toEqual(['m1']);
    expect(result.outcomes.filter(o => o.action === 'UPSERT').map(o => [o.recordName, o.outcome])).toEqual([
      [undefined, 'applied'], [`${T1}.${MC.fqdn}`, 'applied'], [SRV_FQDN, 'failed'],
    ]);
    expect(h.api.records(ZONE).map(r => r.Name).sort()).toEqual([MC.fqdn, `${T1}.${MC.fqdn}`].sort());
  });

  test('the reconciler removes a task holding only an SRV value (no running task)', async () => {
    const api = new FakeDiscoveryApi();
    api.put(ZONE, srvRecord(T2));
    const deps = { config, api, log: new Logger(() => undefined), metrics: new Metrics('Test', 'fn') };
    const result = await reconcile(deps, [GAME]);
    expect(result).toMatchObject({ upserted: 0, deleted: 1, failed: 0 });
    expect(api.records(ZONE)).toEqual([]);
  });

  test('the purge of a name with task names and an SRV name deletes them, and a foreign record below stays', async () => {
    const api = new FakeDiscoveryApi();
    const foreign: RecordSet = { Name: `www.${MC.fqdn}`, Type: 'A', TTL: 300, ResourceRecords: [{ Value: '192.0.2.9' }] };
    api.put(ZONE, ownedRecord(MC, T1, '203.0.113.1'), hostRecord(GAME, T1, '203.0.113.1'), srvRecord(T1), foreign);
    const name: LifecycleName = { hostedZoneId: ZONE, fqdn: MC.fqdn, serviceName: GAME.serviceName, taskNames: true, srvFqdn: SRV_FQDN };
    const result = await purgeNames({ api, log: new Logger(() => undefined), metrics: new Metrics('Test', 'fn') }, [name]);
    expect(result).toEqual({ deleted: 3, failures: [] });
    expect(api.records(ZONE)).toEqual([foreign]);
    expect(api.callsOf('listRecordsAt')[0]).toEqual([ZONE, MC.fqdn, true]);
  });

  test('a kept name that drops a record type keeps its SRV records out of the purge', () => {
    const before: LifecycleName = { hostedZoneId: ZONE, fqdn: MC.fqdn, serviceName: 's', recordTypes: ['A', 'AAAA'], taskNames: true, srvFqdn: SRV_FQDN };
    const after: LifecycleName = { ...before, recordTypes: ['A'] };
    expect(removedNames([before], [after])).toEqual([{ hostedZoneId: ZONE, fqdn: MC.fqdn, serviceName: 's', recordTypes: ['AAAA'], taskNames: true }]);
  });
  test('an update that drops the task names or changes the SRV name purges those records only, not the name\'s', async () => {
    const before: LifecycleName = { hostedZoneId: ZONE, fqdn: MC.fqdn, serviceName: 's', taskNames: true, srvFqdn: SRV_FQDN };
    const after: LifecycleName = { hostedZoneId: ZONE, fqdn: MC.fqdn, serviceName: 's', taskNames: true, srvFqdn: `_minecraft._udp.${MC.fqdn}` };
    const plain: LifecycleName = { hostedZoneId: ZONE, fqdn: MC.fqdn, serviceName: 's' };
    expect(removedNames([before], [before])).toEqual([]);
    const api = new FakeDiscoveryApi();
    const deps = { api, log: new Logger(() => undefined), metrics: new Metrics('Test', 'fn') };
    const name = ownedRecord(MC, T1, '203.0.113.1');
    api.put(ZONE, name, hostRecord(GAME, T1, '203.0.113.1'), srvRecord(T1));
    expect(await purgeNames(deps, removedNames([before], [after]))).toEqual({ deleted: 1, failures: [] });
    expect(api.records(ZONE).map(r => r.Type).sort()).toEqual(['A', 'A']);
    expect(await purgeNames(deps, removedNames([before], [plain]))).toEqual({ deleted: 1, failures: [] });
    expect(api.records(ZONE)).toEqual([name]);
  });
});
