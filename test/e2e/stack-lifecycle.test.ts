/**
 * End-to-end: the records live and die with their registration. The custom resource requests
 * CloudFormation sends the bundled handler (Create, Update, Delete) are built from the synthesized
 * templates, answered to a loopback "response URL", and replayed in CloudFormation's order, with the
 * proxy evaluating the role's Route53 write permissions as IAM does at each step.
 */
import {
  CfnAnswer, iamAuthorizer, lifecycleRequest, lifecycleResource, ResponseCatcher, rolePolicies, updateOrder,
} from '../../emulator/cloudformation';
import { running } from '../../emulator/events';
import { synthesizeExampleTemplate } from '../../emulator/example-app';
import { logsWith, metricsOf } from '../../emulator/handler';
import { expectedRows, ownedAt, published, snapshot, notOwned } from '../../emulator/records';
import { useE2e } from '../support/e2e';

const e2e = useE2e();
let catcher: ResponseCatcher;

beforeAll(async () => {
  catcher = await ResponseCatcher.start();
});
afterAll(async () => {
  await catcher.stop();
});

/** Sends one custom resource request and returns the answer CloudFormation would receive. */
async function request(
  type: 'Create' | 'Update' | 'Delete',
  template = e2e.template,
  old?: typeof template,
  timeoutMs?: number,
): Promise<{ answer: CfnAnswer; logs: Awaited<ReturnType<typeof e2e.invoke>>['logs'] }> {
  const resource = lifecycleResource(template, e2e.deployed);
  const { event, requestId } = lifecycleRequest(catcher, type, resource, old ? lifecycleResource(old, e2e.deployed) : undefined);
  const inv = await e2e.invoke(event, { timeoutMs });
  expect(inv.error).toBeUndefined();
  const answer = catcher.answers.get(requestId);
  if (!answer) {
    throw new Error(`no answer reached CloudFormation; handler logs:\n${inv.logs.map((l) => l.raw).join('\n')}`);
  }
  return { answer, logs: inv.logs };
}

/** Every record of the zone that is not at one of the given names, as a comparable snapshot. */
async function othersThan(fqdns: string[]): Promise<string> {
  return snapshot(notOwned(await e2e.records(), fqdns));
}

test('stack deletion with running tasks: every owned record goes, foreign records stay byte-identical', async () => {
  const web = await e2e.startAndPublish(e2e.web, 3);
  const play = await e2e.startAndPublish(e2e.play, 2);
  const api = await e2e.startAndPublish(e2e.api, 1);
  const before = await e2e.records();
  expect(published(before, e2e.web.fqdn)).toEqual(expectedRows(web, e2e.web.fqdn, e2e.web.ttl));
  expect(published(before, e2e.play.fqdn)).toHaveLength(play.length);
  expect(published(before, e2e.api.fqdn)).toHaveLength(api.length);
  // A record at a registered name that the library does not own (no set identifier) must survive too.
  await e2e.world.putRecords([{ Name: e2e.web.fqdn, Type: 'TXT', TTL: 300, ResourceRecords: [{ Value: '"kept"' }] }]);
  const foreign = await othersThan(e2e.fqdns);

  e2e.proxy.authorizeRoute53Writes(iamAuthorizer(rolePolicies(e2e.template, e2e.deployed).values()));
  const { answer, logs } = await request('Delete');

  expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { Deleted: '6' } });
  const after = await e2e.records();
  for (const fqdn of e2e.fqdns) {
    expect(ownedAt(after, fqdn)).toEqual([]);
  }
  expect(await othersThan(e2e.fqdns)).toBe(foreign);
  expect(metricsOf(logs)).toMatchObject({ RecordsDeleted: 6 });
  // Every name is read, its records deleted in one request per zone, and read again to catch a late write.
  expect(e2e.proxy.count('route53', 'ChangeResourceRecordSets')).toBe(1);
  expect(e2e.proxy.count('route53', 'ListResourceRecordSets')).toBe(6);
});

test('stack deletion with no record: SUCCESS and nothing written', async () => {
  const { answer } = await request('Delete');
  expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { Deleted: '0' } });
  expect(e2e.proxy.count('route53', 'ChangeResourceRecordSets')).toBe(0);
});

test('right after the first deployment: tasks already running get their records from Create', async () => {
  // Tasks started before the rule existed: no event ever reaches the function for them.
  const web = await e2e.world.startTasks(e2e.web.serviceName, 2);
  const play = await e2e.world.startTasks(e2e.play.serviceName, 1);

  const { answer } = await request('Create');

  expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { Upserted: '3', FailedServices: '0' } });
  expect(answer.PhysicalResourceId).toMatch(/^DiscoveryLifecycle/);
  const records = await e2e.records();
  expect(published(records, e2e.web.fqdn)).toEqual(expectedRows(web, e2e.web.fqdn, e2e.web.ttl));
  expect(published(records, e2e.play.fqdn)).toEqual(expectedRows(play, e2e.play.fqdn, e2e.play.ttl));
  expect(await othersThan(e2e.fqdns)).toBe(e2e.baseline);
});

test('a failing reconciliation does not fail the deployment; the answer still reaches CloudFormation', async () => {
  await e2e.world.startTasks(e2e.web.serviceName, 1);
  e2e.proxy.failNext({ service: 'ecs', action: 'ListTasks' }, 100, 'InternalError');
  const { answer, logs } = await request('Create', e2e.template, undefined, 25_000);
  expect(answer.Status).toBe('SUCCESS');
  expect(Number(answer.Data?.FailedServices)).toBeGreaterThan(0);
  expect(logsWith(logs, { level: 'error', message: 'reconciliation of a service failed; it is retried at the next run' }).length).toBeGreaterThan(0);
});

describe('registration renamed or removed, replayed in CloudFormation\'s order', () => {
  test('rename: the update deletes the old name\'s records while the old permission still exists; cleanup then drops it', async () => {
    const before = e2e.template;
    const after = synthesizeExampleTemplate({ Game: 'arena' });
    const oldPlay = e2e.play;
    const tasks = await e2e.startAndPublish(oldPlay, 2);
    expect(published(await e2e.records(), oldPlay.fqdn)).toHaveLength(2);

    const steps = updateOrder(before, after);
    const lifecycleStep = steps.findIndex((s) => s.type === 'Custom::EcsPublicDiscovery');
    const createdPolicies = steps.filter((s) => s.type === 'AWS::IAM::ManagedPolicy' && s.action === 'create');
    const deletedPolicies = steps.filter((s) => s.type === 'AWS::IAM::ManagedPolicy' && s.action === 'delete');
    // CloudFormation's order: the new permission and the function's configuration before the custom
    // resource's update; the old permission only in the cleanup phase, after it.
    expect(createdPolicies).toHaveLength(1);
    expect(deletedPolicies).toHaveLength(1);
    expect(steps.findIndex((s) => s === createdPolicies[0])).toBeLessThan(lifecycleStep);
    const functionStep = steps.findIndex((s) => s.type === 'AWS::Lambda::Function');
    expect(functionStep).toBeGreaterThanOrEqual(0);
    expect(functionStep).toBeLessThan(lifecycleStep);
    expect(steps[lifecycleStep].action).toBe('update');
    expect(steps.findIndex((s) => s === deletedPolicies[0])).toBeGreaterThan(lifecycleStep);
    expect(deletedPolicies[0].phase).toBe('cleanup');

    // Update phase: the role holds the old and the new policies; the function runs the new configuration.
    const policiesDuringUpdate = new Map([...rolePolicies(before, e2e.deployed), ...rolePolicies(after, e2e.deployed)]);
    e2e.proxy.authorizeRoute53Writes(iamAuthorizer(policiesDuringUpdate.values()));
    await e2e.useTemplate(after);
    expect(e2e.config.services.map((s) => s.fqdn)).toContain('arena.example.com.');
    const { answer } = await request('Update', after, before);
    expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { Deleted: '2' } });
    expect(ownedAt(await e2e.records(), oldPlay.fqdn)).toEqual([]);

    // Cleanup phase: only the new policies are left, and the system keeps working under them.
    e2e.proxy.authorizeRoute53Writes(iamAuthorizer(rolePolicies(after, e2e.deployed).values()));
    // Tasks keep the tags they started with: the running ones carry the old name and are refused; a new
    // deployment of the service replaces them with tasks tagged with the new name.
    const arena = e2e.config.services.find((s) => s.name === 'arena')!;
    const replacements = await e2e.world.startTasks(arena.serviceName, 2);
    await e2e.world.stopTasks(tasks);
    const inv = await e2e.deliver(replacements.map((t) => running(t)));
    expect(inv.result).toEqual({ batchItemFailures: [] });
    const records = await e2e.records();
    expect(published(records, arena.fqdn)).toEqual(expectedRows(replacements, arena.fqdn, arena.ttl));
    expect(ownedAt(records, oldPlay.fqdn)).toEqual([]);
  });

  test('the order matters: had the old permission gone before the update, the purge would be denied and the update FAILED', async () => {
    const before = e2e.template;
    const after = synthesizeExampleTemplate({ Game: 'arena' });
    const oldPlay = e2e.play;
    await e2e.startAndPublish(oldPlay, 1);
    e2e.proxy.authorizeRoute53Writes(iamAuthorizer(rolePolicies(after, e2e.deployed).values()));
    await e2e.useTemplate(after);
    const { answer } = await request('Update', after, before, 20_000);
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toContain(oldPlay.fqdn);
    expect(answer.Reason).toMatch(/Delete by hand/);
    // Nothing was lost: the record is still there for the rollback to keep.
    expect(ownedAt(await e2e.records(), oldPlay.fqdn)).toHaveLength(1);
  });

  test('rollback of a rename: CloudFormation updates back with the properties swapped; the new name is purged, the old one republished', async () => {
    const before = e2e.template;
    const after = synthesizeExampleTemplate({ Game: 'arena' });
    const oldPlay = e2e.play;
    const tasks = await e2e.startAndPublish(oldPlay, 2);
    // The update ran (old name purged) and a later resource failed: both policy sets are still attached while
    // CloudFormation rolls back, and the function's configuration is the old one again.
    const both = iamAuthorizer(new Map([...rolePolicies(before, e2e.deployed), ...rolePolicies(after, e2e.deployed)]).values());
    e2e.proxy.authorizeRoute53Writes(both);
    await e2e.useTemplate(after);
    expect((await request('Update', after, before)).answer.Status).toBe('SUCCESS');
    await e2e.useTemplate(before);

    const { answer } = await request('Update', before, after);

    expect(answer.Status).toBe('SUCCESS');
    const records = await e2e.records();
    expect(ownedAt(records, 'arena.example.com.')).toEqual([]);
    // The running tasks still carry the old name's tag: the rollback's reconciliation publishes them again.
    expect(published(records, oldPlay.fqdn)).toEqual(expectedRows(tasks, oldPlay.fqdn, oldPlay.ttl));
  });

  test('a failed first deployment: CloudFormation deletes the resource, and everything it published goes', async () => {
    const tasks = await e2e.world.startTasks(e2e.web.serviceName, 2);
    expect((await request('Create')).answer.Status).toBe('SUCCESS');
    expect(published(await e2e.records(), e2e.web.fqdn)).toHaveLength(tasks.length);
    const { answer } = await request('Delete');
    expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { Deleted: '2' } });
    expect(ownedAt(await e2e.records(), e2e.web.fqdn)).toEqual([]);
  });

  test('reading the zone rides with the record-write policies: the default policy alone may not list it', async () => {
    await e2e.startAndPublish(e2e.web, 1);
    const defaultOnly = [...rolePolicies(e2e.template, e2e.deployed)].filter(([id]) => !id.includes('RecordWrites')).map(([, p]) => p);
    e2e.proxy.authorizeRoute53Writes(iamAuthorizer(defaultOnly));
    const { answer } = await request('Delete', e2e.template, undefined, 20_000);
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(/AccessDenied/);
    expect(published(await e2e.records(), e2e.web.fqdn)).toHaveLength(1);
  });

  test('removal: the removed registration\'s records go, the others stay', async () => {
    const before = e2e.template;
    const after = synthesizeExampleTemplate({ Api: null });
    const web = await e2e.startAndPublish(e2e.web, 2);
    const api = await e2e.startAndPublish(e2e.api, 2);
    const apiFqdn = e2e.api.fqdn;
    expect(published(await e2e.records(), apiFqdn)).toHaveLength(api.length);

    const steps = updateOrder(before, after);
    const lifecycleStep = steps.findIndex((s) => s.type === 'Custom::EcsPublicDiscovery');
    expect(steps.filter((s) => s.action === 'delete').every((s) => steps.indexOf(s) > lifecycleStep)).toBe(true);

    e2e.proxy.authorizeRoute53Writes(iamAuthorizer(new Map([...rolePolicies(before, e2e.deployed), ...rolePolicies(after, e2e.deployed)]).values()));
    await e2e.useTemplate(after);
    const { answer } = await request('Update', after, before);
    expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { Deleted: '2' } });
    const records = await e2e.records();
    expect(ownedAt(records, apiFqdn)).toEqual([]);
    expect(published(records, e2e.web.fqdn)).toEqual(expectedRows(web, e2e.web.fqdn, e2e.web.ttl));
  });
});

describe('a purge that cannot finish does not hang the stack', () => {
  test('Route53 throttling without end: FAILED within the invocation, naming what to delete by hand', async () => {
    await e2e.startAndPublish(e2e.web, 1);
    e2e.proxy.failRandomly({ service: 'route53', action: 'ChangeResourceRecordSets' }, 1, 'Throttling');
    const started = Date.now();
    const { answer } = await request('Delete', e2e.template, undefined, 20_000);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toContain(e2e.web.fqdn);
    expect(answer.Reason).toContain(e2e.world.zoneId.replace(/^\/hostedzone\//, ''));
    expect(answer.Reason).toMatch(/Throttling/);
    expect(published(await e2e.records(), e2e.web.fqdn)).toHaveLength(1);
  });

  test('once the cause is gone, CloudFormation\'s retry of the deletion succeeds', async () => {
    await e2e.startAndPublish(e2e.web, 2);
    e2e.proxy.failNext({ service: 'route53', action: 'ChangeResourceRecordSets' }, 100, 'Throttling');
    expect((await request('Delete', e2e.template, undefined, 15_000)).answer.Status).toBe('FAILED');
    e2e.proxy.clearFaults();
    const { answer } = await request('Delete');
    expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { Deleted: '2' } });
    expect(ownedAt(await e2e.records(), e2e.web.fqdn)).toEqual([]);
  });
});

test('a record written by an event invocation still running during the purge is found by its second reading, after the wait', async () => {
  const [task] = await e2e.startAndPublish(e2e.web, 1);
  const resource = lifecycleResource(e2e.template, e2e.deployed);
  const { event, requestId } = lifecycleRequest(catcher, 'Delete', resource);
  const [late] = await e2e.world.startTasks(e2e.play.serviceName, 1);
  // The purge waits 1.5 s before its second reading; meanwhile an invocation that started before the event source
  // went away writes a record (played here by writing it straight into the zone, as that invocation would).
  const writeLate = new Promise<void>((resolve, reject) => setTimeout(() => {
    e2e.world.putRecords([{
      Name: e2e.play.fqdn, Type: 'A', SetIdentifier: late.taskId, MultiValueAnswer: true, TTL: 60, ResourceRecords: [{ Value: late.publicIp! }],
    }]).then(resolve, reject);
  }, 500));

  const inv = await e2e.handler.invoke(event, { env: { ...e2e.env, PUBLIC_DISCOVERY_PURGE_SETTLE_MS: '1500' }, timeoutMs: 150_000 });
  await writeLate;

  expect(inv.error).toBeUndefined();
  expect(catcher.answers.get(requestId)).toMatchObject({ Status: 'SUCCESS', Data: { Deleted: '2' } });
  const records = await e2e.records();
  expect(ownedAt(records, e2e.web.fqdn)).toEqual([]);
  expect(ownedAt(records, e2e.play.fqdn)).toEqual([]);
  expect(task.taskId).not.toBe(late.taskId);
  expect(logsWith(inv.logs, { message: 'waiting for event invocations that were already running before reading the names again' })).toHaveLength(1);
});
