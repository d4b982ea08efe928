/**
 * End-to-end: one construct with 200 registrations, as a host of game servers has. The registrations no
 * longer fit Lambda's environment and live in SSM parameters; the names need several IAM write policies, so
 * each change request may only touch the names of one of them. The proxy evaluates the role's Route53
 * permissions from the template as IAM does, so a request that mixed write groups would be denied.
 */
import { iamAuthorizer, lifecycleRequest, lifecycleResource, ResponseCatcher, rolePolicies } from '../../emulator/cloudformation';
import { running } from '../../emulator/events';
import { buildManyServicesApp, manyServiceId, templateOf } from '../../emulator/example-app';
import { expectedRows, ownedAt, published } from '../../emulator/records';
import { useE2e } from '../support/e2e';

const COUNT = 200;
/** Long names, so that 200 of them need several write policies. */
const label = (i: number) => `srv${String(i).padStart(3, '0')}-${'x'.repeat(50)}`;
const serviceNames = Object.fromEntries(Array.from({ length: COUNT }, (_, i) => [manyServiceId(i + 1), `game-${i + 1}`]));

const e2e = useE2e({ synthesize: () => templateOf(buildManyServicesApp(COUNT, label).stack), serviceNames });
let catcher: ResponseCatcher;

beforeAll(async () => {
  catcher = await ResponseCatcher.start();
});
afterAll(async () => {
  await catcher.stop();
});

const service = (i: number) => e2e.config.services.find((s) => s.serviceName === `game-${i}`)!;

test('the registrations come from SSM parameters and span several write groups', () => {
  expect(JSON.parse(e2e.env.PUBLIC_DISCOVERY_CONFIG).servicesParameters.length).toBeGreaterThan(1);
  expect(e2e.config.services).toHaveLength(COUNT);
  expect(new Set(e2e.config.services.map((s) => s.writeGroup ?? 0)).size).toBeGreaterThan(1);
});

test('tasks of services in different write groups: published, one change request per group, every request allowed by IAM', async () => {
  e2e.proxy.authorizeRoute53Writes(iamAuthorizer(rolePolicies(e2e.template, e2e.deployed).values()));
  const picked = [1, 100, COUNT].map(service);
  const groups = new Set(picked.map((s) => s.writeGroup ?? 0));
  expect(groups.size).toBeGreaterThan(1);
  const tasks = [];
  for (const s of picked) {
    tasks.push(...(await e2e.world.startTasks(s.serviceName, 2)).map((t) => ({ t, s })));
  }

  const inv = await e2e.deliver(tasks.map(({ t }) => running(t)));

  expect(inv.result).toEqual({ batchItemFailures: [] });
  const records = await e2e.records();
  for (const s of picked) {
    const mine = tasks.filter((x) => x.s === s).map((x) => x.t);
    expect(published(records, s.fqdn)).toEqual(expectedRows(mine, s.fqdn, 30));
  }
  const changes = e2e.proxy.calls().filter((c) => c.action === 'ChangeResourceRecordSets');
  expect(changes).toHaveLength(groups.size);
  expect(changes.every((c) => c.status === 200)).toBe(true);
  // The registrations were read once, in as few requests as GetParameters allows (10 names each).
  const parameters = JSON.parse(e2e.env.PUBLIC_DISCOVERY_CONFIG).servicesParameters.length;
  expect(e2e.proxy.count('ssm', 'GetParameters')).toBeLessThanOrEqual(Math.ceil(parameters / 10));
});

test('the reconciler covers all 200 services in one run and repairs a missed start', async () => {
  e2e.proxy.authorizeRoute53Writes(iamAuthorizer(rolePolicies(e2e.template, e2e.deployed).values()));
  const s = service(150);
  const missed = await e2e.world.startTasks(s.serviceName, 1);

  const inv = await e2e.reconcile({ timeoutMs: 60_000 });

  expect(inv.error).toBeUndefined();
  expect(inv.result).toMatchObject({ services: COUNT, skipped: 0, upserted: 1, deleted: 0, failedServices: [] });
  expect(published(await e2e.records(), s.fqdn)).toEqual(expectedRows(missed, s.fqdn, 30));
  // Every registered name is read once; no other name is.
  expect(e2e.proxy.count('route53', 'ListResourceRecordSets')).toBe(COUNT);
});

test('stack deletion: the records at all 200 names go, within the invocation', async () => {
  e2e.proxy.authorizeRoute53Writes(iamAuthorizer(rolePolicies(e2e.template, e2e.deployed).values()));
  const picked = [2, 77, 199].map(service);
  for (const s of picked) {
    await e2e.startAndPublish(s, 1);
  }
  const resource = lifecycleResource(e2e.template, e2e.deployed);
  const { event, requestId } = lifecycleRequest(catcher, 'Delete', resource);

  const inv = await e2e.invoke(event, { timeoutMs: 60_000 });

  expect(inv.error).toBeUndefined();
  expect(catcher.answers.get(requestId)).toMatchObject({ Status: 'SUCCESS', Data: { Deleted: '3' } });
  const records = await e2e.records();
  for (const s of picked) {
    expect(ownedAt(records, s.fqdn)).toEqual([]);
  }
  // 200 names in one zone: the zone is read page by page (one page here), not name by name, twice: once to
  // delete, and once more after waiting for event invocations that were still running (no wait in the emulator).
  const listings = e2e.proxy.calls().filter((c) => c.action === 'ListResourceRecordSets').map((c) => new URL(c.path, 'http://x').searchParams.get('name'));
  expect(listings).toEqual([null, null]);
});

test('SSM throttled on the first read: retried by its error name (the bundle keeps no SSM error classes), then published', async () => {
  const s = service(42);
  const tasks = await e2e.world.startTasks(s.serviceName, 1);
  // A new execution environment: the registrations are read from SSM on its first invocation.
  await e2e.handler.stop();
  await e2e.restartHandler();
  e2e.proxy.failNext({ service: 'ssm', action: 'GetParameters' }, 1, 'Throttling');

  const inv = await e2e.deliver(tasks.map((t) => running(t)));

  expect(inv.result).toEqual({ batchItemFailures: [] });
  expect(inv.logs.filter((l) => l.message === 'retrying a throttled or failed AWS call').map((l) => [l.json?.operation, l.json?.error]))
    .toEqual([['ssm:GetParameters', 'ThrottlingException']]);
  expect(published(await e2e.records(), s.fqdn)).toEqual(expectedRows(tasks, s.fqdn, 30));
});
