/**
 * Health gating (`publishWhenHealthy`): the contract field, the planner's gate, and the batch pipeline and
 * reconciler over the in-memory API. A gated service's running task is published only while DescribeTasks
 * reports it HEALTHY; an ungated service is not affected by health at all.
 */
import { CLUSTER_ARN, MC, ownedRecord, startEvent, stopEvent, WEB, ZONE } from './fixtures';
import { pipelineHarness } from './pipeline-harness';
import { parseTaskEvent } from '../../src/lambda/parse';
import { confirmIntent, healthWait } from '../../src/lambda/planner';
import { reconcile } from '../../src/lambda/reconcile';
import { ConfigError, DiscoveryConfig, ENV, readConfig, RegisteredService } from '../../src/shared/contract';

const GATED: RegisteredService = { ...MC, publishWhenHealthy: true };
const CONFIG: DiscoveryConfig = { clusterArn: CLUSTER_ARN, services: [GATED, WEB] };

const harness = (config: DiscoveryConfig = CONFIG) => pipelineHarness(config);

/** A RUNNING task's health change, as ECS sends it: a Task State Change with a newer version and `healthStatus`. */
function healthEvent(id: string, healthStatus: string, version: number, service: RegisteredService = GATED) {
  const e = startEvent(id, { version, group: `service:${service.serviceName}` });
  (e.detail as Record<string, unknown>).healthStatus = healthStatus;
  return e;
}

describe('contract', () => {
  const envOf = (service: Record<string, unknown>) => ({
    [ENV.CONFIG]: JSON.stringify({ clusterArn: CLUSTER_ARN, services: [{ ...MC, ...service }] }),
  });

  test('publishWhenHealthy is read; absent stays absent (false)', () => {
    expect(readConfig(envOf({ publishWhenHealthy: true })).services[0].publishWhenHealthy).toBe(true);
    expect(readConfig(envOf({})).services[0]).not.toHaveProperty('publishWhenHealthy');
  });

  test('a publishWhenHealthy that is not a boolean is refused', () => {
    expect(() => readConfig(envOf({ publishWhenHealthy: 'yes' }))).toThrow(ConfigError);
    expect(() => readConfig(envOf({ publishWhenHealthy: 'yes' }))).toThrow(/publishWhenHealthy must be true or false/);
  });
});

describe('parse', () => {
  test('the event\'s healthStatus is read; an event without it has none', () => {
    expect(parseTaskEvent('m', healthEvent('t1', 'HEALTHY', 3))).toMatchObject({ healthStatus: 'HEALTHY', version: 3 });
    expect(parseTaskEvent('m', startEvent('t1'))).not.toHaveProperty('healthStatus');
  });
});

describe('planner', () => {
  test('the gate: only HEALTHY passes for a gated service; an ungated service always passes', () => {
    expect(healthWait(GATED, 'HEALTHY')).toBeUndefined();
    expect(healthWait(GATED, 'UNKNOWN')).toBe('waiting for ECS to report the task HEALTHY (healthStatus UNKNOWN)');
    expect(healthWait(GATED, undefined)).toBe('waiting for ECS to report the task HEALTHY (healthStatus UNKNOWN)');
    expect(healthWait(GATED, 'UNHEALTHY')).toBe('waiting for ECS to report the task HEALTHY (healthStatus UNHEALTHY)');
    expect(healthWait(MC, 'UNHEALTHY')).toBeUndefined();
    expect(healthWait({ ...MC, publishWhenHealthy: false }, 'UNKNOWN')).toBeUndefined();
  });

  test('a start is confirmed by DescribeTasks\' healthStatus, not the event\'s', () => {
    const work = { event: { ...parseTaskEvent('m', healthEvent('t1', 'HEALTHY', 3)) } as never, service: GATED, intent: 'publish' as const, messageIds: ['m'] };
    const observed = { taskArn: 'x', lastStatus: 'RUNNING', desiredStatus: 'RUNNING', group: `service:${GATED.serviceName}`, tags: {} };
    expect(confirmIntent(work, { ...observed, healthStatus: 'UNKNOWN' })).toEqual({
      intent: 'remove', reason: 'waiting for ECS to report the task HEALTHY (healthStatus UNKNOWN)', unhealthy: true,
    });
    expect(confirmIntent(work, { ...observed, healthStatus: 'HEALTHY' })).toEqual({ intent: 'publish' });
  });
});

describe('pipeline', () => {
  test('UNKNOWN: nothing, counted as ignored with the reason; HEALTHY: published; UNHEALTHY: deleted; HEALTHY again: back; stop: gone', async () => {
    const h = harness();
    h.api.addTask('t1', { service: GATED, ip: '203.0.113.1', healthStatus: 'UNKNOWN' });

    const unknown = await h.run(['m1', startEvent('t1')]);
    expect(unknown.failedMessageIds).toEqual([]);
    expect(h.api.records(ZONE)).toEqual([]);
    expect(unknown.outcomes).toEqual([expect.objectContaining({
      taskId: 't1', action: 'SKIP', outcome: 'ignored', reason: 'waiting for ECS to report the task HEALTHY (healthStatus UNKNOWN)',
    })]);
    expect(h.counted()).toEqual({ EventsIgnored: 1 });
    expect(h.api.count('changeRecords')).toBe(0);

    h.api.setHealth('t1', 'HEALTHY');
    await h.run(['m2', healthEvent('t1', 'HEALTHY', 3)]);
    expect(h.api.records(ZONE, GATED.fqdn)).toEqual([ownedRecord(GATED, 't1', '203.0.113.1')]);

    h.api.setHealth('t1', 'UNHEALTHY');
    const unhealthy = await h.run(['m3', healthEvent('t1', 'UNHEALTHY', 4)]);
    expect(h.api.records(ZONE, GATED.fqdn)).toEqual([]);
    expect(unhealthy.outcomes).toEqual([expect.objectContaining({
      taskId: 't1', action: 'DELETE', outcome: 'applied', reason: 'task not HEALTHY (waiting for ECS to report the task HEALTHY (healthStatus UNHEALTHY))',
    })]);

    h.api.setHealth('t1', 'HEALTHY');
    await h.run(['m4', healthEvent('t1', 'HEALTHY', 5)]);
    expect(h.api.records(ZONE, GATED.fqdn)).toEqual([ownedRecord(GATED, 't1', '203.0.113.1')]);

    h.api.stopTask('t1');
    await h.run(['m5', stopEvent('t1', { version: 7 })]);
    expect(h.api.records(ZONE)).toEqual([]);
    expect(h.counted()).toEqual({ EventsIgnored: 1, RecordsUpserted: 2, RecordsDeleted: 2 });
    expect(h.counted()).not.toHaveProperty('TasksRejected');
  });

  test('flapping in one batch: the newest event wins, and DescribeTasks decides', async () => {
    const h = harness();
    h.api.addTask('t1', { service: GATED, ip: '203.0.113.1', healthStatus: 'UNHEALTHY' });
    // A late HEALTHY event beside the newer UNHEALTHY one; ECS now says UNHEALTHY: no record.
    await h.run(['m1', healthEvent('t1', 'UNHEALTHY', 5)], ['m2', healthEvent('t1', 'HEALTHY', 4)]);
    expect(h.api.records(ZONE)).toEqual([]);
    // A replayed HEALTHY event while ECS says UNHEALTHY does not publish either.
    await h.run(['m3', healthEvent('t1', 'HEALTHY', 4)]);
    expect(h.api.records(ZONE)).toEqual([]);
    h.api.setHealth('t1', 'HEALTHY');
    await h.run(['m4', healthEvent('t1', 'HEALTHY', 6)], ['m5', healthEvent('t1', 'UNHEALTHY', 5)]);
    expect(h.api.records(ZONE, GATED.fqdn)).toEqual([ownedRecord(GATED, 't1', '203.0.113.1')]);
  });

  test('a task that turns UNHEALTHY while its record is written has the record removed again', async () => {
    const h = harness();
    h.api.addTask('t1', { service: GATED, ip: '203.0.113.1', healthStatus: 'HEALTHY' });
    h.api.beforeChange = () => {
      h.api.setHealth('t1', 'UNHEALTHY');
      h.api.beforeChange = undefined;
    };
    const result = await h.run(['m1', healthEvent('t1', 'HEALTHY', 3)]);
    expect(h.api.records(ZONE)).toEqual([]);
    expect(result.outcomes).toContainEqual(expect.objectContaining({
      taskId: 't1', action: 'DELETE', outcome: 'applied', reason: expect.stringContaining('stopped being HEALTHY'),
    }));
  });

  test('an ungated service is unaffected: UNKNOWN and UNHEALTHY tasks are published', async () => {
    const h = harness();
    h.api.addTask('w1', { service: WEB, ip: '203.0.113.5', healthStatus: 'UNKNOWN' });
    h.api.addTask('w2', { service: WEB, ip: '203.0.113.6', healthStatus: 'UNHEALTHY' });
    await h.run(['m1', startEvent('w1', { group: 'service:web' })], ['m2', healthEvent('w2', 'UNHEALTHY', 4, WEB)]);
    expect(h.api.addresses(ZONE, WEB.fqdn)).toEqual({ w1: '203.0.113.5', w2: '203.0.113.6' });
  });
});

describe('reconciler', () => {
  test('publishes a gated service\'s HEALTHY tasks only and deletes the record of one that is not; an ungated service is unchanged', async () => {
    const h = harness();
    h.api.addTask('h1', { service: GATED, ip: '203.0.113.1', healthStatus: 'HEALTHY' });
    h.api.addTask('u1', { service: GATED, ip: '203.0.113.2', healthStatus: 'UNKNOWN' });
    h.api.addTask('s1', { service: GATED, ip: '203.0.113.3', healthStatus: 'UNHEALTHY' });
    h.api.addTask('w1', { service: WEB, ip: '203.0.113.5', healthStatus: 'UNHEALTHY' });
    h.api.put(ZONE, ownedRecord(GATED, 's1', '203.0.113.3'));
    const summary = await reconcile(h.deps);
    expect(summary).toMatchObject({ upserted: 2, deleted: 1, failed: 0 });
    expect(h.api.addresses(ZONE, GATED.fqdn)).toEqual({ h1: '203.0.113.1' });
    expect(h.api.addresses(ZONE, WEB.fqdn)).toEqual({ w1: '203.0.113.5' });
    expect(h.logs()).toContainEqual(expect.objectContaining({
      taskId: 's1', action: 'DELETE', reason: 'task not HEALTHY (waiting for ECS to report the task HEALTHY (healthStatus UNHEALTHY))',
    }));
    expect(h.counted()).not.toHaveProperty('TasksRejected');
  });
});
