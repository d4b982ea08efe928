/**
 * End-to-end: per-task host names and SRV records. The example app with its Game service (play) publishing SRV
 * records `_minecraft._tcp.play.<zone>` (so task names too, IPv4), its Web service (web) dual stack with task
 * names, and Api left as before. Foreign records sit in the subtrees (`www.play`, a TXT at the SRV name, an SRV
 * record of another protocol, the neighbours `a.web` and `_acme-challenge.web`) and beside the names
 * (`play-old`, `web-old`, which moto 5.2.5 sorts inside the subtree: see `route53ListOrder` in
 * emulator/moto-gaps.ts), and must survive everything. Every write goes through the proxy's IAM evaluation of
 * the template's policies.
 */
import { ChangeResourceRecordSetsCommand, ResourceRecordSet, Route53Client } from '@aws-sdk/client-route-53';
import { CfnAnswer, iamAuthorizer, lifecycleRequest, lifecycleResource, ResponseCatcher, rolePolicies } from '../../emulator/cloudformation';
import { running, stopSequence } from '../../emulator/events';
import { buildExampleStack, EXAMPLE_PORT, templateOf } from '../../emulator/example-app';
import { logsWith, metricsOf } from '../../emulator/handler';
import { canonicalName, isOwnedRecord, notOwned, snapshot } from '../../emulator/records';
import type { TaskInfo } from '../../emulator/world';
import { IpAddressType, SrvProtocol } from '../../src';
import type { RegisteredService } from '../../src/shared/contract';
import { expectAcknowledged, expectCallsWithin } from '../support/assertions';
import { useE2e } from '../support/e2e';

const synthesize = (protocol = SrvProtocol.TCP, webTaskNames = true) => templateOf(buildExampleStack({
  ipAddressTypes: { Web: IpAddressType.DUAL_STACK },
  taskNames: { Game: { srv: { service: 'minecraft', protocol } }, Web: { taskNames: webTaskNames } },
}).stack);

/** Foreign records in and beside the subtrees of the names with task names or SRV records. */
function foreignRecords(zoneName: string): ResourceRecordSet[] {
  const z = zoneName.endsWith('.') ? zoneName : `${zoneName}.`;
  return [
    { Name: `www.play.${z}`, Type: 'A', TTL: 300, ResourceRecords: [{ Value: '192.0.2.50' }] },
    { Name: `_minecraft._tcp.play.${z}`, Type: 'TXT', TTL: 300, ResourceRecords: [{ Value: '"v=foreign"' }] },
    { Name: `_minecraft._udp.play.${z}`, Type: 'SRV', SetIdentifier: 'not-ours', MultiValueAnswer: true, TTL: 60, ResourceRecords: [{ Value: '0 1 19132 bedrock.example.net.' }] },
    { Name: `play-old.${z}`, Type: 'A', TTL: 300, ResourceRecords: [{ Value: '192.0.2.51' }] },
    // A name of a task id's length below play, with a set identifier that is not its first label: not ours.
    { Name: `${'f'.repeat(32)}.play.${z}`, Type: 'A', SetIdentifier: 'other', MultiValueAnswer: true, TTL: 60, ResourceRecords: [{ Value: '192.0.2.52' }] },
  ];
}

const e2e = useE2e({ synthesize: () => synthesize(), seed: (world) => world.putRecords(foreignRecords(world.zoneName)) });

let catcher: ResponseCatcher;
beforeAll(async () => {
  catcher = await ResponseCatcher.start();
});
afterAll(async () => {
  await catcher.stop();
});
beforeEach(() => {
  // Every write of the handler is evaluated against the template's record-write policies, as IAM would.
  e2e.proxy.authorizeRoute53Writes(iamAuthorizer(rolePolicies(e2e.template, e2e.deployed).values()));
});

/** The records a registration owns (by the ownership rule restated in emulator/records.ts), as `name type setId value ttl`, sorted. */
async function subtree(service: RegisteredService): Promise<string[]> {
  const records = await e2e.records();
  return records
    .filter((r) => isOwnedRecord(r, [service]))
    .map((r) => `${canonicalName(r.Name ?? '')} ${r.Type} ${r.SetIdentifier} ${(r.ResourceRecords ?? []).map((v) => v.Value).join(',')} ${r.TTL}`)
    .sort();
}

/** What a Game task should have: its A record at play, at its host name, and its SRV value. */
function gameRows(tasks: readonly TaskInfo[], srv = { priority: 0, weight: 1, port: EXAMPLE_PORT }): string[] {
  const play = e2e.play;
  return tasks.flatMap((t) => [
    `${play.fqdn} A ${t.taskId} ${t.publicIp} ${play.ttl}`,
    `${t.taskId}.${play.fqdn} A ${t.taskId} ${t.publicIp} ${play.ttl}`,
    `_minecraft._tcp.${play.fqdn} SRV ${t.taskId} ${srv.priority} ${srv.weight} ${srv.port} ${t.taskId}.${play.fqdn} ${play.ttl}`,
  ]).sort();
}

async function expectForeignUntouched(): Promise<void> {
  expect(snapshot(notOwned(await e2e.records(), e2e.config.services))).toBe(e2e.baseline);
}

async function lifecycle(type: 'Create' | 'Update' | 'Delete', template = e2e.template, old?: typeof template): Promise<CfnAnswer> {
  const { event, requestId } = lifecycleRequest(catcher, type, lifecycleResource(template, e2e.deployed),
    old ? lifecycleResource(old, e2e.deployed) : undefined);
  const inv = await e2e.invoke(event);
  expect(inv.error).toBeUndefined();
  return catcher.answers.get(requestId)!;
}

test('the registrations carry their task names and SRV settings; the others read as before', () => {
  expect(e2e.play.taskNames).toBe(true);
  expect(e2e.play.srv).toEqual({ fqdn: `_minecraft._tcp.${e2e.play.fqdn}`, priority: 0, weight: 1, port: EXAMPLE_PORT });
  expect(e2e.web.taskNames).toBe(true);
  expect(e2e.web.srv).toBeUndefined();
  expect(e2e.api.taskNames).toBeUndefined();
  expect(e2e.api.srv).toBeUndefined();
});

test('starts publish the name, the task names and the SRV values; a stop removes exactly the stopped task\'s records', async () => {
  const [first] = await e2e.world.startTasks(e2e.play.serviceName, 1);
  // Task ids have ECS's form, 32 hexadecimal characters (moto's own are UUIDs; see awsTaskArns in moto-gaps.ts).
  expect(first.taskId).toMatch(/^[0-9a-f]{32}$/);
  const start = await e2e.deliver([running(first)]);
  expectAcknowledged(start);
  expect(await subtree(e2e.play)).toEqual(gameRows([first]));
  // The subtree is read in one listing, written in one request.
  expectCallsWithin(e2e.proxy, { 'ecs:DescribeTasks': 2, 'ec2:DescribeNetworkInterfaces': 1, 'route53:ListResourceRecordSets': 1, 'route53:ChangeResourceRecordSets': 1 });
  expect(metricsOf(start.logs)).toMatchObject({ RecordsUpserted: 3, ChangesFailed: 0 });

  const [second] = await e2e.world.startTasks(e2e.play.serviceName, 1);
  expectAcknowledged(await e2e.deliver([running(second)]));
  expect(await subtree(e2e.play)).toEqual(gameRows([first, second]));

  await e2e.world.stopTask(first);
  const stop = await e2e.deliver(stopSequence(first));
  expectAcknowledged(stop);
  expect(await subtree(e2e.play)).toEqual(gameRows([second]));
  expect(metricsOf(stop.logs)).toMatchObject({ RecordsDeleted: 3, ChangesFailed: 0 });
  expect(logsWith(stop.logs, { taskId: first.taskId, action: 'DELETE', recordType: 'SRV', outcome: 'applied' })).toHaveLength(1);
  await expectForeignUntouched();
});

test('a stop event without a group finds the task\'s records by set identifier, the task names and SRV value too', async () => {
  const [t] = await e2e.world.startTasks(e2e.play.serviceName, 1);
  expectAcknowledged(await e2e.deliver([running(t)]));
  await e2e.world.stopTask(t);
  // The event names no group (JSON drops the undefined value): the handler looks under every registered name.
  const orphan = stopSequence({ ...t, group: undefined as unknown as string });
  expect(JSON.stringify(orphan)).not.toContain('"group"');
  expectAcknowledged(await e2e.deliver(orphan));
  expect(await subtree(e2e.play)).toEqual([]);
  await expectForeignUntouched();
});

test('dual stack: the task names carry A and AAAA; the stop deletes all four records', async () => {
  const [t] = await e2e.world.startTasks(e2e.web.serviceName, 1, { ipv6: true });
  expectAcknowledged(await e2e.deliver([running(t)]));
  const web = e2e.web;
  expect(await subtree(web)).toEqual([
    `${web.fqdn} A ${t.taskId} ${t.publicIp} ${web.ttl}`,
    `${web.fqdn} AAAA ${t.taskId} ${t.ipv6Address} ${web.ttl}`,
    `${t.taskId}.${web.fqdn} A ${t.taskId} ${t.publicIp} ${web.ttl}`,
    `${t.taskId}.${web.fqdn} AAAA ${t.taskId} ${t.ipv6Address} ${web.ttl}`,
  ].sort());
  await e2e.world.stopTask(t);
  const stop = await e2e.deliver(stopSequence(t));
  expectAcknowledged(stop);
  expect(metricsOf(stop.logs)).toMatchObject({ RecordsDeleted: 4 });
  expect(await subtree(web)).toEqual([]);
  await expectForeignUntouched();
});

test('the reconciler recreates a deleted task name and SRV value, fixes a drifted SRV value and removes orphans', async () => {
  const [kept, drifted] = await e2e.world.startTasks(e2e.play.serviceName, 2);
  expectAcknowledged(await e2e.deliver([running(kept), running(drifted)]));
  const play = e2e.play;
  const records = await e2e.records();
  const ofTask = (t: TaskInfo) => records.filter((r) => r.SetIdentifier === t.taskId);
  // moto's DELETE with a set identifier takes every record of it (see moto-gaps.ts): the service-name record is put back.
  await e2e.world.deleteRecords(ofTask(kept).filter((r) => canonicalName(r.Name ?? '') !== play.fqdn));
  await e2e.world.putRecords(ofTask(kept).filter((r) => canonicalName(r.Name ?? '') === play.fqdn));
  const srvOfDrifted = ofTask(drifted).find((r) => r.Type === 'SRV')!;
  await e2e.world.putRecords([{ ...srvOfDrifted, ResourceRecords: [{ Value: `0 1 25565 ${drifted.taskId}.${play.fqdn}` }] }], 'UPSERT');
  const gone = 'a'.repeat(32);
  await e2e.world.putRecords([
    { Name: `_minecraft._tcp.${play.fqdn}`, Type: 'SRV', SetIdentifier: gone, MultiValueAnswer: true, TTL: 60, ResourceRecords: [{ Value: `0 1 80 ${gone}.${play.fqdn}` }] },
    { Name: `${gone}.${play.fqdn}`, Type: 'A', SetIdentifier: gone, MultiValueAnswer: true, TTL: 60, ResourceRecords: [{ Value: '192.0.2.99' }] },
  ]);
  expect(await subtree(play)).not.toEqual(gameRows([kept, drifted]));

  const inv = await e2e.reconcile();
  expect(inv.error).toBeUndefined();
  expect(inv.result).toMatchObject({ upserted: 3, deleted: 2, failed: 0 });
  expect(await subtree(play)).toEqual(gameRows([kept, drifted]));
  expect(logsWith(inv.logs, { taskId: drifted.taskId, recordType: 'SRV', reason: /record drifted \(was 0 1 25565/ })).toHaveLength(1);
  await expectForeignUntouched();
});

test('stack deletion purges the task names and SRV values under the template\'s permissions; foreign records stay', async () => {
  const game = await e2e.world.startTasks(e2e.play.serviceName, 2);
  const web = await e2e.world.startTasks(e2e.web.serviceName, 1, { ipv6: true });
  expectAcknowledged(await e2e.deliver([...game, ...web].map((t) => running(t))));
  expect(await subtree(e2e.play)).toHaveLength(6);
  expect(await subtree(e2e.web)).toHaveLength(4);

  const answer = await lifecycle('Delete');
  expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { Deleted: '10' } });
  expect(await subtree(e2e.play)).toEqual([]);
  expect(await subtree(e2e.web)).toEqual([]);
  await expectForeignUntouched();
});

test('an update that changes the SRV protocol and drops task names: the old SRV values and task names go, '
  + 'under the old policy; the name records stay and the new SRV values are written', async () => {
  const before = e2e.template;
  const after = synthesize(SrvProtocol.TLS, false);
  const game = await e2e.world.startTasks(e2e.play.serviceName, 2);
  const [web] = await e2e.world.startTasks(e2e.web.serviceName, 1, { ipv6: true });
  expectAcknowledged(await e2e.deliver([...game, web].map((t) => running(t))));
  const oldPlay = e2e.play;
  const oldWeb = e2e.web;
  expect(await subtree(oldPlay)).toEqual(gameRows(game));
  expect(await subtree(oldWeb)).toHaveLength(4);

  // The role holds the old and the new policies during the update; the old one goes in the cleanup phase.
  e2e.proxy.authorizeRoute53Writes(iamAuthorizer(new Map([...rolePolicies(before, e2e.deployed), ...rolePolicies(after, e2e.deployed)]).values()));
  await e2e.useTemplate(after);
  expect(e2e.play.srv?.fqdn).toBe(`_minecraft._tls.${e2e.play.fqdn}`);
  expect(e2e.web.taskNames).toBeUndefined();
  const answer = await lifecycle('Update', after, before);
  // Two SRV values at the old name and the web task's two host-name records.
  expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { Deleted: '4' } });
  const records = await e2e.records();
  expect(records.filter((r) => canonicalName(r.Name ?? '') === `_minecraft._tcp.${e2e.play.fqdn}` && r.Type === 'SRV')).toEqual([]);
  expect(await subtree(e2e.play)).toEqual(gameRows(game).map((row) => row.replace('_minecraft._tcp.', '_minecraft._tls.')).sort());
  expect(await subtree(e2e.web)).toEqual([
    `${oldWeb.fqdn} A ${web.taskId} ${web.publicIp} ${oldWeb.ttl}`,
    `${oldWeb.fqdn} AAAA ${web.taskId} ${web.ipv6Address} ${oldWeb.ttl}`,
  ].sort());
  expect(records.filter((r) => canonicalName(r.Name ?? '') === `${web.taskId}.${oldWeb.fqdn}`)).toEqual([]);
  await expectForeignUntouched();
});

describe('the IAM pattern of the task names, evaluated by the proxy from the template', () => {
  const change = async (name: string, type: string, value: string) => {
    const client = new Route53Client({
      endpoint: e2e.proxy.endpoint,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: { accessKeyId: 'AKIAEMULATOR000000', secretAccessKey: 'emulator' },
    });
    try {
      await client.send(new ChangeResourceRecordSetsCommand({
        HostedZoneId: e2e.world.zoneId,
        ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: name, Type: type as 'A', SetIdentifier: 'probe', MultiValueAnswer: true, TTL: 60, ResourceRecords: [{ Value: value }] } }] },
      }));
      return 'allowed';
    } catch (err) {
      return (err as Error).name;
    } finally {
      client.destroy();
    }
  };

  test.each([
    ['a 32-character label below play', `${'b'.repeat(32)}.play`, 'A', '192.0.2.60', 'allowed'],
    ['the SRV name', '_minecraft._tcp.play', 'SRV', '0 1 80 x.play.example.com.', 'allowed'],
    ['www below play', 'www.play', 'A', '192.0.2.61', 'AccessDenied'],
    ['a 31-character label below play', `${'b'.repeat(31)}.play`, 'A', '192.0.2.62', 'AccessDenied'],
    ['a 33-character label below play', `${'b'.repeat(33)}.play`, 'A', '192.0.2.63', 'AccessDenied'],
    ['two labels of 32 below play', `${'b'.repeat(32)}.${'c'.repeat(32)}.play`, 'A', '192.0.2.64', 'AccessDenied'],
    ['a 32-character label below api (no task names)', `${'b'.repeat(32)}.api`, 'A', '192.0.2.65', 'AccessDenied'],
    ['an SRV name of another service', '_other._tcp.play', 'SRV', '0 1 80 x.play.example.com.', 'AccessDenied'],
  ])('%s: %s', async (_what, label, type, value, expected) => {
    expect(await change(`${label}.${e2e.world.zoneName}`, type, value)).toBe(expected);
  });
});
