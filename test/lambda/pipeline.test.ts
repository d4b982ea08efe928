import { awsError, FakeDiscoveryApi } from './fake-api';
import {
  API, CLUSTER_ARN, CONFIG, ecsEvent, ipOf, MC, OTHER_CLUSTER_ARN, OTHER_ZONE, ownedRecord, simpleRecord, startEvent, stopEvent, taskArn, WEB,
  weightedRecord, ZONE,
} from './fixtures';
import { Harness, pipelineHarness } from './pipeline-harness';
import { applyChanges } from '../../src/lambda/apply';
import type { DiscoveryApi, EniObservation, RecordSet, TaskOutcome } from '../../src/lambda/model';
import { reconcile } from '../../src/lambda/reconcile';
import { DiscoveryConfig, METRIC, TAG_NAME } from '../../src/shared/contract';

/** The pipeline over the in-memory API, with this file's default configuration. */
const harness = (config: DiscoveryConfig = CONFIG, api = new FakeDiscoveryApi()) => pipelineHarness(config, api);

const outcomeOf = (outcomes: readonly TaskOutcome[], taskId: string) => outcomes.filter(o => o.taskId === taskId);

describe('processMessages', () => {
  test('one start publishes one record', async () => {
    const h = harness();
    h.api.addTask('t1', { service: MC, ip: '203.0.113.1' });
    const result = await h.run(['m1', startEvent('t1')]);
    expect(result.failedMessageIds).toEqual([]);
    expect(h.api.records(ZONE, MC.fqdn)).toEqual([ownedRecord(MC, 't1', '203.0.113.1')]);
    expect(result.outcomes).toEqual([{
      taskId: 't1', service: 'minecraft', name: 'mc.example.com.', action: 'UPSERT', outcome: 'applied', level: 'info', reason: 'task running',
    }]);
    // The second DescribeTasks checks, after the write, that the task did not stop meanwhile.
    expect(h.api.calls.map(c => c.method)).toEqual(['describeTasks', 'describeNetworkInterfaces', 'listRecordsAt', 'changeRecords', 'describeTasks']);
    expect(h.api.callsOf('describeTasks')).toEqual([[CLUSTER_ARN, [taskArn('t1')]], [CLUSTER_ARN, [taskArn('t1')]]]);
    expect(h.api.callsOf('describeNetworkInterfaces')).toEqual([[['eni-t1']]]);
    expect(h.api.callsOf('listRecordsAt')).toEqual([[ZONE, MC.fqdn]]);
    expect(h.counted()).toEqual({ RecordsUpserted: 1 });
    expect(h.logs()).toContainEqual({
      level: 'info', message: 'task outcome', taskId: 't1', service: 'minecraft', name: 'mc.example.com.', action: 'UPSERT', outcome: 'applied', reason: 'task running',
    });
  });

  test('the ENI id from DescribeTasks is preferred, the event\'s is the fallback', async () => {
    const h = harness();
    h.api.addTask('t1', { service: MC, eniId: 'eni-real', ip: '203.0.113.1' });
    h.api.addTask('t2', { service: MC, eniId: null });
    h.api.enis.set('eni-from-event', { eniId: 'eni-from-event', publicIp: '203.0.113.2' });
    await h.run(['m1', startEvent('t1', { eniId: 'eni-stale' })], ['m2', startEvent('t2', { eniId: 'eni-from-event' })]);
    expect(h.api.callsOf('describeNetworkInterfaces')).toEqual([[['eni-real', 'eni-from-event']]]);
    expect(h.api.addresses(ZONE, MC.fqdn)).toEqual({ t1: '203.0.113.1', t2: '203.0.113.2' });
  });

  test('a stop handled while the record is being written: the record is removed again with the values written', async () => {
    const h = harness();
    h.api.addTask('t1', { service: MC, ip: '203.0.113.1' });
    // A concurrent invocation handles the task's stop between this one's confirmation and its write.
    h.api.beforeChange = () => {
      h.api.beforeChange = undefined;
      h.api.stopTask('t1');
    };
    const result = await h.run(['m1', startEvent('t1')]);
    expect(result.failedMessageIds).toEqual([]);
    expect(h.api.records(ZONE, MC.fqdn)).toEqual([]);
    expect(h.api.appliedBatches.map(b => b.changes)).toEqual([
      [{ action: 'UPSERT', record: ownedRecord(MC, 't1', '203.0.113.1') }],
      [{ action: 'DELETE', record: ownedRecord(MC, 't1', '203.0.113.1') }],
    ]);
    expect(outcomeOf(result.outcomes, 't1')).toEqual([
      expect.objectContaining({ action: 'UPSERT', outcome: 'applied' }),
      expect.objectContaining({ action: 'DELETE', outcome: 'applied', level: 'warn', reason: expect.stringContaining('stopped while its record was being written') }),
    ]);
  });

  test('when the re-check after the write fails, the record stays and the message is still acknowledged', async () => {
    const h = harness();
    h.api.addTask('t1', { service: MC, ip: '203.0.113.1' });
    h.api.fail('describeTasks', awsError('Throttling'), 10, () => h.api.count('changeRecords') > 0);
    const result = await h.run(['m1', startEvent('t1')]);
    expect(result.failedMessageIds).toEqual([]);
    expect(h.api.addresses(ZONE, MC.fqdn)).toEqual({ t1: '203.0.113.1' });
    expect(h.logs()).toContainEqual(expect.objectContaining({ level: 'warn', message: expect.stringContaining('the reconciler will'), error: 'Throttling' }));
  });

  test('three starts in one batch: one call of each API (DescribeTasks before and after the write)', async () => {
    const h = harness();
    ['a', 'b', 'c'].forEach((id, i) => h.api.addTask(id, { service: MC, ip: ipOf(i) }));
    const result = await h.run(['m1', startEvent('a')], ['m2', startEvent('b')], ['m3', startEvent('c')]);
    expect(result.failedMessageIds).toEqual([]);
    expect(h.api.count('describeTasks')).toBe(2);
    expect(h.api.count('describeNetworkInterfaces')).toBe(1);
    expect(h.api.count('listRecordsAt')).toBe(1);
    expect(h.api.count('changeRecords')).toBe(1);
    expect(h.api.appliedBatches[0].changes.map(c => [c.action, c.record.SetIdentifier])).toEqual([['UPSERT', 'a'], ['UPSERT', 'b'], ['UPSERT', 'c']]);
    expect(h.api.addresses(ZONE, MC.fqdn)).toEqual({ a: ipOf(0), b: ipOf(1), c: ipOf(2) });
    expect(h.counted()).toEqual({ RecordsUpserted: 3 });
  });

  test('starts of services in two zones: one change call per zone, one listing per name', async () => {
    const h = harness();
    h.api.addTask('a', { service: MC, ip: ipOf(1) });
    h.api.addTask('b', { service: WEB, ip: ipOf(2) });
    h.api.addTask('c', { service: API, ip: ipOf(3) });
    await h.run(['m1', startEvent('a')], ['m2', startEvent('b', { group: 'service:web' })], ['m3', startEvent('c', { group: 'service:api' })]);
    expect(h.api.callsOf('listRecordsAt').map(a => a[1]).sort()).toEqual([API.fqdn, MC.fqdn, WEB.fqdn].sort());
    expect(h.api.appliedBatches.map(b => [b.hostedZoneId, b.changes.length])).toEqual([[ZONE, 2], [OTHER_ZONE, 1]]);
    expect(h.api.addresses(OTHER_ZONE, API.fqdn)).toEqual({ c: ipOf(3) });
    expect(h.api.records(OTHER_ZONE)[0].TTL).toBe(300);
  });

  test('a stop deletes the record with its exact current values, without asking ECS or EC2', async () => {
    const h = harness();
    const existing: RecordSet = { ...ownedRecord(MC, 't1', '203.0.113.1', 45) };
    h.api.put(ZONE, existing, ownedRecord(MC, 't2', '203.0.113.2'));
    const result = await h.run(['m1', stopEvent('t1')]);
    expect(result.failedMessageIds).toEqual([]);
    expect(h.api.callsOf('changeRecords')).toEqual([[ZONE, [{ action: 'DELETE', record: existing }]]]);
    expect(h.api.addresses(ZONE, MC.fqdn)).toEqual({ t2: '203.0.113.2' });
    expect(h.api.count('describeTasks')).toBe(0);
    expect(h.api.count('describeNetworkInterfaces')).toBe(0);
    expect(outcomeOf(result.outcomes, 't1')).toEqual([expect.objectContaining({ action: 'DELETE', outcome: 'applied' })]);
    expect(h.counted()).toEqual({ RecordsDeleted: 1 });
  });

  test.each([
    ['DEACTIVATING', 'STOPPED'],
    ['STOPPING', 'STOPPED'],
    ['DEPROVISIONING', 'STOPPED'],
    ['RUNNING', 'STOPPED'],
  ])('a %s/%s event removes the record too', async (lastStatus, desiredStatus) => {
    const h = harness();
    h.api.put(ZONE, ownedRecord(MC, 't1', '203.0.113.1'));
    await h.run(['m1', ecsEvent({ id: 't1', lastStatus, desiredStatus, version: 4 })]);
    expect(h.api.records(ZONE)).toEqual([]);
  });

  test('a stop of a task without a record changes nothing', async () => {
    const h = harness();
    const result = await h.run(['m1', stopEvent('t1')]);
    expect(h.api.count('changeRecords')).toBe(0);
    expect(result).toEqual({ failedMessageIds: [], outcomes: [expect.objectContaining({ taskId: 't1', action: 'DELETE', outcome: 'unchanged' })] });
  });

  test('a duplicate event changes nothing the second time', async () => {
    const h = harness();
    h.api.addTask('t1', { service: MC, ip: '203.0.113.1' });
    await h.run(['m1', startEvent('t1')]);
    const again = await h.run(['m1-redelivered', startEvent('t1')]);
    expect(h.api.count('changeRecords')).toBe(1);
    expect(again.failedMessageIds).toEqual([]);
    expect(again.outcomes).toEqual([expect.objectContaining({ taskId: 't1', action: 'UPSERT', outcome: 'unchanged' })]);
    expect(h.metrics.get(METRIC.RECORDS_UPSERTED)).toBe(1);
  });

  test('duplicates within a batch make one change', async () => {
    const h = harness();
    h.api.addTask('t1', { service: MC });
    const result = await h.run(['m1', startEvent('t1')], ['m2', startEvent('t1')], ['m3', startEvent('t1')]);
    expect(h.api.appliedBatches).toHaveLength(1);
    expect(h.api.appliedBatches[0].changes).toHaveLength(1);
    expect(result.failedMessageIds).toEqual([]);
  });

  test('a late RUNNING event of a task ECS reports STOPPED publishes nothing', async () => {
    const h = harness();
    h.api.addTask('t1', { service: MC });
    h.api.stopTask('t1');
    const result = await h.run(['m1', startEvent('t1')]);
    expect(h.api.records(ZONE)).toEqual([]);
    expect(h.api.count('changeRecords')).toBe(0);
    expect(h.api.count('describeNetworkInterfaces')).toBe(0);
    expect(result.failedMessageIds).toEqual([]);
    expect(result.outcomes).toEqual([expect.objectContaining({
      taskId: 't1', action: 'DELETE', outcome: 'unchanged', reason: expect.stringContaining('ECS reports the task as STOPPED/STOPPED'),
    })]);
  });

  test('a replayed RUNNING event of a stopped task deletes a leftover record', async () => {
    const h = harness();
    h.api.addTask('t1', { service: MC, ip: '203.0.113.1' });
    h.api.put(ZONE, ownedRecord(MC, 't1', '203.0.113.1'));
    h.api.stopTask('t1');
    await h.run(['m1', startEvent('t1')]);
    expect(h.api.records(ZONE)).toEqual([]);
  });

  test('a RUNNING event of a task ECS no longer knows publishes nothing', async () => {
    const h = harness();
    const result = await h.run(['m1', startEvent('ghost')]);
    expect(h.api.count('changeRecords')).toBe(0);
    expect(result.outcomes).toEqual([expect.objectContaining({ taskId: 'ghost', reason: expect.stringContaining('ECS no longer knows the task') })]);
  });

  test('stop and late start in one batch, in any order: no record', async () => {
    const h = harness();
    h.api.addTask('t1', { service: MC });
    h.api.stopTask('t1');
    const result = await h.run(['m2', stopEvent('t1')], ['m1', startEvent('t1')]);
    expect(h.api.records(ZONE)).toEqual([]);
    expect(h.api.count('describeTasks')).toBe(0);
    expect(result.failedMessageIds).toEqual([]);
  });

  test('a start whose ENI is gone publishes nothing and is acknowledged', async () => {
    const h = harness();
    h.api.addTask('t1', { service: MC, withoutEni: true });
    const result = await h.run(['m1', startEvent('t1')]);
    expect(h.api.count('changeRecords')).toBe(0);
    expect(result.failedMessageIds).toEqual([]);
    expect(result.outcomes).toEqual([expect.objectContaining({ taskId: 't1', outcome: 'ignored', level: 'warn' })]);
    expect(h.counted()).toEqual({ EventsIgnored: 1 });
  });

  test('a start without any ENI attachment publishes nothing and asks EC2 nothing', async () => {
    const h = harness();
    h.api.addTask('t1', { service: MC, eniId: null });
    const result = await h.run(['m1', startEvent('t1', { eniId: null })]);
    expect(h.api.count('describeNetworkInterfaces')).toBe(0);
    expect(result.outcomes).toEqual([expect.objectContaining({ taskId: 't1', outcome: 'ignored' })]);
  });

  test('a task without a public IP is rejected and acknowledged', async () => {
    const h = harness();
    h.api.addTask('t1', { service: MC, ip: null });
    const result = await h.run(['m1', startEvent('t1')]);
    expect(h.api.count('changeRecords')).toBe(0);
    expect(result.failedMessageIds).toEqual([]);
    expect(h.counted()).toEqual({ TasksRejected: 1 });
    expect(h.logs()).toContainEqual(expect.objectContaining({
      level: 'error', message: 'task outcome', taskId: 't1', outcome: 'rejected', reason: expect.stringContaining('no public IPv4 address'),
    }));
  });

  test.each([
    ['a spoofed name tag', { tags: { [TAG_NAME]: 'admin' } }],
    ['a bad TTL tag', { tags: { [TAG_NAME]: 'mc', 'public-discovery:ttl': '1.5' } }],
  ])('a task with %s is rejected and nothing reaches Route53', async (_what, options) => {
    const h = harness();
    h.api.addTask('t1', { service: MC, ...options });
    const result = await h.run(['m1', startEvent('t1')]);
    expect(h.api.count('changeRecords')).toBe(0);
    expect(result.outcomes).toEqual([expect.objectContaining({ outcome: 'rejected' })]);
    expect(h.counted()).toEqual({ TasksRejected: 1 });
  });

  test('the task\'s tags decide, whatever an ENI observation might carry', async () => {
    const h = harness();
    h.api.addTask('genuine', { service: MC, ip: '203.0.113.1' });
    h.api.addTask('spoofed', { service: MC, ip: '203.0.113.2', tags: { [TAG_NAME]: 'other' } });
    // Even an adapter that leaked the ENI's tags (here: the opposite verdicts) could not change the outcome.
    h.api.enis.set('eni-genuine', { eniId: 'eni-genuine', publicIp: '203.0.113.1', tags: { [TAG_NAME]: 'other' } } as EniObservation);
    h.api.enis.set('eni-spoofed', { eniId: 'eni-spoofed', publicIp: '203.0.113.2', tags: { [TAG_NAME]: 'mc' } } as EniObservation);
    const result = await h.run(['m1', startEvent('genuine')], ['m2', startEvent('spoofed')]);
    expect(h.api.addresses(ZONE, MC.fqdn)).toEqual({ genuine: '203.0.113.1' });
    expect(outcomeOf(result.outcomes, 'spoofed')).toEqual([expect.objectContaining({ outcome: 'rejected', reason: expect.stringContaining('"other"') })]);
    expect(h.counted()).toEqual({ RecordsUpserted: 1, TasksRejected: 1 });
  });

  test('a refused task delivered several times in one batch is logged once, at error level', async () => {
    const h = harness();
    h.api.addTask('t1', { service: MC, tags: { [TAG_NAME]: 'admin' } });
    // SQS delivered the start twice, and ECS sent a newer RUNNING event of the same task in the same batch.
    const result = await h.run(['m1', startEvent('t1')], ['m1-again', startEvent('t1')], ['m2', startEvent('t1', { version: 3 })]);
    expect(result.failedMessageIds).toEqual([]);
    expect(h.logs().filter(l => l.taskId === 't1')).toEqual([{
      level: 'error',
      message: 'task outcome',
      taskId: 't1',
      service: 'minecraft',
      name: 'mc.example.com.',
      action: 'SKIP',
      outcome: 'rejected',
      reason: 'public-discovery:name tag "admin" does not match the name registered for service minecraft ("mc")',
    }]);
    expect(h.logs().filter(l => l.level === 'error')).toHaveLength(1);
    expect(h.counted()).toEqual({ TasksRejected: 1 });
  });

  test('a task without tags is published from its registration, with a warning', async () => {
    const h = harness();
    h.api.addTask('t1', { service: MC, tags: {}, ip: '203.0.113.1' });
    const result = await h.run(['m1', startEvent('t1')]);
    expect(h.api.addresses(ZONE, MC.fqdn)).toEqual({ t1: '203.0.113.1' });
    expect(result.outcomes[0]).toMatchObject({ outcome: 'applied' });
    expect(h.logs()).toContainEqual(expect.objectContaining({ level: 'warn', taskId: 't1', service: 'minecraft', reason: expect.stringContaining(TAG_NAME) }));
  });

  test('a task of an unregistered service or another cluster is ignored without any AWS call', async () => {
    const h = harness();
    const result = await h.run(
      ['m1', startEvent('t1', { group: 'service:unknown' })],
      ['m2', startEvent('t2', { clusterArn: OTHER_CLUSTER_ARN })],
      ['m3', ecsEvent({ id: 't3', lastStatus: 'PENDING', desiredStatus: 'RUNNING' })],
    );
    expect(h.api.count()).toBe(0);
    expect(result.failedMessageIds).toEqual([]);
    expect(result.outcomes.map(o => [o.taskId, o.outcome])).toEqual([['t2', 'ignored'], ['t1', 'ignored'], ['t3', 'ignored']]);
    expect(h.counted()).toEqual({ EventsIgnored: 3 });
  });

  test('a malformed message is logged and acknowledged; the rest of the batch goes on', async () => {
    const h = harness();
    h.api.addTask('t1', { service: MC });
    const result = await h.run(['bad1', 'not json'], ['bad2', { source: 'aws.ec2' }], ['m1', startEvent('t1')]);
    expect(result.failedMessageIds).toEqual([]);
    expect(h.api.addresses(ZONE, MC.fqdn)).toHaveProperty('t1');
    expect(h.logs().filter(l => l.message === 'malformed message acknowledged without action')).toEqual([
      { level: 'error', message: 'malformed message acknowledged without action', messageId: 'bad1', reason: 'body is not JSON' },
      { level: 'error', message: 'malformed message acknowledged without action', messageId: 'bad2', reason: expect.stringContaining('not an ECS Task State Change') },
    ]);
    expect(h.counted()).toEqual({ EventsIgnored: 2, RecordsUpserted: 1 });
  });

  test('an empty batch does nothing', async () => {
    const h = harness();
    expect(await h.run()).toEqual({ failedMessageIds: [], outcomes: [] });
    expect(h.api.count()).toBe(0);
  });

  test.each([
    ['a simple A record', simpleRecord(MC)],
    ['a weighted A record', weightedRecord(MC)],
  ])('a name holding %s is never written', async (_what, foreign) => {
    const h = harness();
    h.api.put(ZONE, foreign);
    h.api.addTask('t1', { service: MC });
    const result = await h.run(['m1', startEvent('t1')]);
    expect(h.api.count('changeRecords')).toBe(0);
    expect(h.api.records(ZONE)).toEqual([foreign]);
    expect(result.failedMessageIds).toEqual([]);
    expect(result.outcomes).toEqual([expect.objectContaining({ taskId: 't1', outcome: 'conflict', level: 'error' })]);
    expect(h.counted()).toEqual({ TasksRejected: 1 });
  });

  test('DescribeTasks failing fails only the start events; stops are still applied', async () => {
    const h = harness();
    h.api.addTask('a', { service: MC });
    h.api.addTask('b', { service: WEB });
    h.api.put(ZONE, ownedRecord(MC, 'c', '203.0.113.3'));
    h.api.fail('describeTasks', awsError('Throttling', 'Rate exceeded'));
    const result = await h.run(
      ['m1', startEvent('a')], ['m2', startEvent('b', { group: 'service:web' })], ['m3', stopEvent('c')], ['m4', startEvent('a', { version: 1 })],
    );
    expect(result.failedMessageIds.sort()).toEqual(['m1', 'm2', 'm4']);
    expect(h.api.records(ZONE)).toEqual([]);
    expect(h.api.count('describeNetworkInterfaces')).toBe(0);
    expect(outcomeOf(result.outcomes, 'a')).toEqual([expect.objectContaining({ outcome: 'failed', reason: 'DescribeTasks failed: Throttling' })]);
    expect(h.counted()).toEqual({ RecordsDeleted: 1, ChangesFailed: 2 });
    expect(h.logs()).toContainEqual(expect.objectContaining({ level: 'error', error: 'Throttling', detail: 'Rate exceeded' }));
  });

  test('DescribeNetworkInterfaces failing fails the confirmed starts only', async () => {
    const h = harness();
    h.api.addTask('a', { service: MC });
    h.api.addTask('gone', { service: MC });
    h.api.stopTask('gone');
    h.api.put(ZONE, ownedRecord(MC, 'c', '203.0.113.3'), ownedRecord(MC, 'gone', '203.0.113.4'));
    h.api.fail('describeNetworkInterfaces', awsError('RequestLimitExceeded'));
    const result = await h.run(['m1', startEvent('a')], ['m2', startEvent('gone')], ['m3', stopEvent('c')]);
    expect(result.failedMessageIds).toEqual(['m1']);
    expect(h.api.records(ZONE)).toEqual([]);
  });

  test('a listing failure fails only the tasks of that name', async () => {
    const h = harness();
    h.api.addTask('a', { service: MC });
    h.api.addTask('b', { service: WEB });
    h.api.put(ZONE, ownedRecord(MC, 'c', '203.0.113.3'));
    h.api.fail('listRecordsAt', awsError('Throttling'), 1, args => args[1] === MC.fqdn);
    const result = await h.run(['m1', startEvent('a')], ['m2', startEvent('b', { group: 'service:web' })], ['m3', stopEvent('c')]);
    expect(result.failedMessageIds.sort()).toEqual(['m1', 'm3']);
    expect(h.api.addresses(ZONE, WEB.fqdn)).toHaveProperty('b');
    expect(h.api.addresses(ZONE, MC.fqdn)).toEqual({ c: '203.0.113.3' });
  });

  test('Route53 rejecting one change: the batch is bisected, the others applied, only that task\'s messages fail', async () => {
    const h = harness();
    ['a', 'b', 'c', 'd'].forEach((id, i) => h.api.addTask(id, { service: MC, ip: ipOf(i) }));
    h.api.rejectChange = c => (c.record.SetIdentifier === 'b' ? `RRSet ${c.record.SetIdentifier} refused` : undefined);
    const result = await h.run(
      ['m1', startEvent('a')], ['m2', startEvent('b')], ['m2-again', startEvent('b')], ['m3', startEvent('c')], ['m4', startEvent('d')],
    );
    expect(result.failedMessageIds.sort()).toEqual(['m2', 'm2-again']);
    expect(h.api.addresses(ZONE, MC.fqdn)).toEqual({ a: ipOf(0), c: ipOf(2), d: ipOf(3) });
    expect(outcomeOf(result.outcomes, 'b')).toEqual([expect.objectContaining({
      outcome: 'failed', level: 'error', reason: 'Route53 did not apply the change: InvalidChangeBatch: [RRSet b refused]',
    })]);
    // [a b c d] ✗ → [a b] ✗ → [a] ✓ [b] ✗ → [c d] ✓
    expect(h.api.callsOf('changeRecords').map(([, changes]) => (changes as Array<{ record: RecordSet }>).map(c => c.record.SetIdentifier).join(''))).toEqual([
      'abcd', 'ab', 'a', 'b', 'cd',
    ]);
    expect(h.counted()).toEqual({ RecordsUpserted: 3, ChangesFailed: 1 });
    expect(h.logs()).toContainEqual(expect.objectContaining({ level: 'warn', message: expect.stringContaining('isolating'), changes: 4 }));
  });

  test('a batch Route53 refuses for throttling is not bisected: all its tasks fail', async () => {
    const h = harness();
    ['a', 'b'].forEach((id, i) => h.api.addTask(id, { service: MC, ip: ipOf(i) }));
    h.api.addTask('z', { service: API, ip: ipOf(9) });
    h.api.fail('changeRecords', awsError('Throttling'), 1, args => args[0] === ZONE);
    const result = await h.run(['m1', startEvent('a')], ['m2', startEvent('b')], ['m3', startEvent('z', { group: 'service:api' })]);
    expect(result.failedMessageIds.sort()).toEqual(['m1', 'm2']);
    expect(h.api.count('changeRecords')).toBe(2);
    expect(h.api.addresses(OTHER_ZONE, API.fqdn)).toEqual({ z: ipOf(9) });
    expect(h.counted()).toEqual({ RecordsUpserted: 1, ChangesFailed: 2 });
  });

  test('a DELETE of a record deleted meanwhile counts as done', async () => {
    const h = harness();
    h.api.addTask('b', { service: MC, ip: '203.0.113.2' });
    h.api.put(ZONE, ownedRecord(MC, 'a', '203.0.113.1'));
    let raced = false;
    h.api.beforeChange = () => {
      if (!raced) {
        raced = true;
        h.api.zones.set(ZONE, []);
      }
    };
    const result = await h.run(['m1', stopEvent('a')], ['m2', startEvent('b')]);
    expect(result.failedMessageIds).toEqual([]);
    expect(h.api.addresses(ZONE, MC.fqdn)).toEqual({ b: '203.0.113.2' });
    expect(outcomeOf(result.outcomes, 'a')).toEqual([expect.objectContaining({ action: 'DELETE', outcome: 'applied' })]);
    expect(h.logs()).toContainEqual(expect.objectContaining({ message: 'record was already deleted', taskId: 'a' }));
    expect(h.counted()).toEqual({ RecordsDeleted: 1, RecordsUpserted: 1 });
  });

  test('a DELETE of a record changed meanwhile fails and its message is retried', async () => {
    const h = harness();
    h.api.put(ZONE, ownedRecord(MC, 'a', '203.0.113.1'));
    h.api.beforeChange = () => h.api.zones.set(ZONE, [ownedRecord(MC, 'a', '203.0.113.9')]);
    const result = await h.run(['m1', stopEvent('a')]);
    expect(result.failedMessageIds).toEqual(['m1']);
    expect(h.counted()).toEqual({ ChangesFailed: 1 });
  });

  describe('capacity', () => {
    function fullName(h: Harness): void {
      for (let i = 0; i < 100; i++) {
        h.api.addTask(`r${i}`, { service: MC, ip: ipOf(i) });
        h.api.put(ZONE, ownedRecord(MC, `r${i}`, ipOf(i)));
      }
    }

    test('a start at a full name is left unpublished and acknowledged', async () => {
      const h = harness();
      fullName(h);
      h.api.addTask('extra', { service: MC, ip: ipOf(200) });
      const result = await h.run(['m1', startEvent('extra')]);
      expect(result.failedMessageIds).toEqual([]);
      expect(h.api.count('changeRecords')).toBe(0);
      expect(result.outcomes).toEqual([expect.objectContaining({ taskId: 'extra', outcome: 'capacity', level: 'warn' })]);
      expect(h.counted()).toEqual({ CapacityExceeded: 1 });
    });

    test('a removal at a full name fills the slot with a waiting task in the same change request', async () => {
      const h = harness();
      fullName(h);
      h.api.addTask('waiting', { service: MC, ip: ipOf(200) });
      h.api.stopTask('r7');
      const result = await h.run(['m1', stopEvent('r7')]);
      expect(result.failedMessageIds).toEqual([]);
      const ids = Object.keys(h.api.addresses(ZONE, MC.fqdn));
      expect(ids).toHaveLength(100);
      expect(ids).toContain('waiting');
      expect(ids).not.toContain('r7');
      expect(h.api.callsOf('listServiceTasks')).toEqual([[CLUSTER_ARN, 'minecraft']]);
      expect(h.api.appliedBatches.map(b => b.changes.map(c => `${c.action} ${c.record.SetIdentifier}`))).toEqual([['DELETE r7', 'UPSERT waiting']]);
      expect(h.api.count('changeRecords')).toBe(1);
      expect(h.logs()).toContainEqual(expect.objectContaining({ message: expect.stringContaining('slots free at a full name'), service: 'minecraft' }));
      expect(h.counted()).toEqual({ RecordsDeleted: 1, RecordsUpserted: 1 });
    });

    test('with more waiting tasks than freed slots, the fill publishes one and reports only that one', async () => {
      const h = harness();
      fullName(h);
      h.api.addTask('waiting-a', { service: MC, ip: ipOf(201) });
      h.api.addTask('waiting-b', { service: MC, ip: ipOf(202) });
      h.api.stopTask('r7');
      const result = await h.run(['m1', stopEvent('r7')]);
      expect(result.failedMessageIds).toEqual([]);
      const ids = Object.keys(h.api.addresses(ZONE, MC.fqdn));
      expect(ids).toHaveLength(100);
      expect(ids).toContain('waiting-a');
      expect(ids).not.toContain('waiting-b');
      expect(result.outcomes.filter(o => o.taskId.startsWith('waiting'))).toEqual([
        expect.objectContaining({ taskId: 'waiting-a', action: 'UPSERT', outcome: 'applied' }),
      ]);
      expect(h.counted()).toEqual({ RecordsDeleted: 1, RecordsUpserted: 1 });
    });

    test('filling freed slots never deletes: a record whose task ListTasks does not (yet) list is kept', async () => {
      const h = harness();
      fullName(h);
      h.api.tasks.delete(taskArn('r3'));
      h.api.addTask('waiting', { service: MC, ip: ipOf(200) });
      h.api.stopTask('r7');
      const result = await h.run(['m1', stopEvent('r7')]);
      expect(result.failedMessageIds).toEqual([]);
      const ids = Object.keys(h.api.addresses(ZONE, MC.fqdn));
      expect(ids).toContain('r3');
      expect(ids).toContain('waiting');
      expect(ids).not.toContain('r7');
      expect(h.api.appliedBatches.map(b => b.changes.map(c => `${c.action} ${c.record.SetIdentifier}`))).toEqual([['DELETE r7', 'UPSERT waiting']]);
    });

    test('when the waiting tasks cannot be read, the removal still applies and the reconciler is left to fill the slot', async () => {
      const h = harness();
      fullName(h);
      h.api.addTask('waiting', { service: MC, ip: ipOf(200) });
      h.api.stopTask('r7');
      h.api.fail('listServiceTasks', awsError('Throttling', 'Rate exceeded'), 10);
      const result = await h.run(['m1', stopEvent('r7')]);
      expect(result.failedMessageIds).toEqual([]);
      const ids = Object.keys(h.api.addresses(ZONE, MC.fqdn));
      expect(ids).toHaveLength(99);
      expect(ids).not.toContain('r7');
      expect(ids).not.toContain('waiting');
      expect(h.logs()).toContainEqual(expect.objectContaining({ level: 'warn', message: expect.stringContaining('reconciler will'), error: 'Throttling' }));
    });

    test('a removal below capacity does not reconcile', async () => {
      const h = harness();
      h.api.put(ZONE, ownedRecord(MC, 'a', '203.0.113.1'));
      await h.run(['m1', stopEvent('a')]);
      expect(h.api.count('listServiceTasks')).toBe(0);
    });
  });

  describe('orphan stops (no group)', () => {
    test('the record is found under a registered name and deleted; the whole zone is never listed', async () => {
      const h = harness();
      const record = ownedRecord(WEB, 'o1', '203.0.113.5', 30);
      h.api.put(ZONE, ownedRecord(MC, 'other', '203.0.113.6'), record);
      const result = await h.run(['m1', stopEvent('o1', { group: null })]);
      expect(result.failedMessageIds).toEqual([]);
      expect(h.api.callsOf('listRecordsAt').map(a => a[1]).sort()).toEqual([API.fqdn, MC.fqdn, WEB.fqdn].sort());
      expect(h.api.callsOf('changeRecords')).toEqual([[ZONE, [{ action: 'DELETE', record }]]]);
      expect(h.api.records(ZONE)).toEqual([ownedRecord(MC, 'other', '203.0.113.6')]);
      expect(outcomeOf(result.outcomes, 'o1')).toEqual([expect.objectContaining({
        action: 'DELETE', outcome: 'applied', service: 'web', reason: expect.stringContaining('found by set identifier'),
      })]);
    });

    test('no record under any registered name: nothing to do', async () => {
      const h = harness();
      h.api.put(ZONE, weightedRecord(MC, 'o1'));
      const result = await h.run(['m1', stopEvent('o1', { group: null })]);
      expect(h.api.count('changeRecords')).toBe(0);
      expect(result).toEqual({
        failedMessageIds: [],
        outcomes: [expect.objectContaining({ taskId: 'o1', action: 'DELETE', outcome: 'unchanged', reason: 'no record under any registered name' })],
      });
    });

    test('a listing failure retries the orphan stop instead of acknowledging it', async () => {
      const h = harness();
      h.api.put(ZONE, ownedRecord(WEB, 'o1', '203.0.113.5', 30));
      h.api.fail('listRecordsAt', awsError('Throttling'), 1, args => args[1] === WEB.fqdn);
      const result = await h.run(['m1', stopEvent('o1', { group: null })]);
      expect(result.failedMessageIds).toEqual(['m1']);
      expect(h.api.records(ZONE)).toHaveLength(1);
      expect(outcomeOf(result.outcomes, 'o1')).toEqual([expect.objectContaining({ outcome: 'failed' })]);
    });

    test('a record found under one name is deleted even when another name\'s listing fails; the message is still retried', async () => {
      const h = harness();
      h.api.put(ZONE, ownedRecord(WEB, 'o1', '203.0.113.5', 30));
      h.api.fail('listRecordsAt', awsError('Throttling'), 1, args => args[1] === MC.fqdn);
      const result = await h.run(['m1', stopEvent('o1', { group: null })]);
      expect(h.api.records(ZONE)).toEqual([]);
      expect(result.failedMessageIds).toEqual(['m1']);
      const again = await h.run(['m1', stopEvent('o1', { group: null })]);
      expect(again.failedMessageIds).toEqual([]);
    });
  });

  test('every log line is one JSON object with a level and a message', async () => {
    const h = harness();
    h.api.addTask('a', { service: MC, ip: null });
    h.api.put(ZONE, ownedRecord(MC, 'b', '203.0.113.1'));
    await h.run(['x', '{'], ['m1', startEvent('a')], ['m2', stopEvent('b')], ['m3', startEvent('c', { group: 'service:nope' })]);
    const logs = h.logs();
    expect(logs.length).toBeGreaterThanOrEqual(4);
    for (const line of logs) {
      expect(['debug', 'info', 'warn', 'error']).toContain(line.level);
      expect(typeof line.message).toBe('string');
    }
  });
});

describe('reconcile', () => {
  function drifted(h: Harness): void {
    h.api.addTask('ok', { service: MC, ip: '203.0.113.1' });
    h.api.addTask('missed-start', { service: MC, ip: '203.0.113.2' });
    h.api.addTask('wrong-ip', { service: MC, ip: '203.0.113.3' });
    h.api.addTask('wrong-ttl', { service: MC, ip: '203.0.113.4' });
    h.api.addTask('missed-stop', { service: MC, ip: '203.0.113.5' });
    h.api.stopTask('missed-stop');
    h.api.put(ZONE,
      ownedRecord(MC, 'ok', '203.0.113.1'),
      ownedRecord(MC, 'wrong-ip', '198.51.100.3'),
      ownedRecord(MC, 'wrong-ttl', '203.0.113.4', 3600),
      ownedRecord(MC, 'missed-stop', '203.0.113.5'),
      ownedRecord(MC, 'never-existed', '203.0.113.6'),
    );
  }
  const foreign: RecordSet[] = [
    { Name: MC.fqdn, Type: 'TXT', TTL: 300, ResourceRecords: [{ Value: '"keep me"' }] },
    { Name: MC.fqdn, Type: 'AAAA', SetIdentifier: 'ok', MultiValueAnswer: true, TTL: 60, ResourceRecords: [{ Value: '2001:db8::1' }] },
    { Name: 'unregistered.example.com.', Type: 'A', SetIdentifier: 'missed-stop', MultiValueAnswer: true, TTL: 60, ResourceRecords: [{ Value: '203.0.113.5' }] },
    simpleRecord(WEB),
  ];

  test('a task that stops while the reconciler writes its record loses the record again', async () => {
    const h = harness();
    h.api.addTask('brief', { service: MC, ip: '203.0.113.8' });
    h.api.beforeChange = () => {
      h.api.beforeChange = undefined;
      h.api.stopTask('brief');
    };
    const summary = await reconcile(h.deps, [MC]);
    expect(h.api.records(ZONE, MC.fqdn)).toEqual([]);
    expect(h.api.appliedBatches.map(b => b.changes.map(c => `${c.action} ${c.record.SetIdentifier}`))).toEqual([['UPSERT brief'], ['DELETE brief']]);
    expect(summary).toMatchObject({ upserted: 1, deleted: 1, failed: 0 });
  });

  test('a task published by an event while the reconciler runs keeps its record', async () => {
    const h = harness();
    h.api.addTask('late', { service: MC, ip: '203.0.113.7', lastStatus: 'PENDING' });
    const describe = h.api.describeTasks.bind(h.api);
    // The reconciler sees the task still PENDING; right after, the event path publishes it.
    h.api.describeTasks = async (clusterArn, taskArns) => {
      const seen = await describe(clusterArn, taskArns);
      h.api.tasks.get(taskArn('late'))!.lastStatus = 'RUNNING';
      h.api.put(ZONE, ownedRecord(MC, 'late', '203.0.113.7'));
      return seen;
    };
    const summary = await reconcile(h.deps, [MC]);
    expect(summary).toMatchObject({ deleted: 0, failed: 0 });
    expect(h.api.addresses(ZONE, MC.fqdn)).toEqual({ late: '203.0.113.7' });
  });

  test('converges: missed stops removed, missed starts added, wrong IP and TTL fixed, foreign records untouched', async () => {
    const h = harness();
    drifted(h);
    h.api.put(ZONE, ...foreign);
    const summary = await reconcile(h.deps);
    expect(summary).toEqual({ services: 3, skipped: 0, upserted: 3, deleted: 2, failed: 0, failedServices: [] });
    expect(h.api.addresses(ZONE, MC.fqdn)).toEqual({
      'ok': '203.0.113.1', 'missed-start': '203.0.113.2', 'wrong-ip': '203.0.113.3', 'wrong-ttl': '203.0.113.4',
    });
    const mc = h.api.records(ZONE, MC.fqdn).filter(r => r.Type === 'A');
    expect(mc.every(r => r.TTL === 60)).toBe(true);
    for (const r of foreign) {
      expect(h.api.records(ZONE)).toContainEqual(r);
    }
    expect(h.counted()).toEqual({ RecordsUpserted: 3, RecordsDeleted: 2, DriftRepaired: 5 });
    expect(h.api.count('changeRecords')).toBe(1);
    expect(h.logs()).toContainEqual({ level: 'info', message: 'reconciliation finished', services: 3, skipped: 0, upserted: 3, deleted: 2, failed: 0, failedServices: [] });
  });

  test('a second run changes nothing', async () => {
    const h = harness();
    drifted(h);
    await reconcile(h.deps);
    const calls = h.api.count('changeRecords');
    const before = h.logs().length;
    const summary = await reconcile(h.deps);
    expect(h.api.count('changeRecords')).toBe(calls);
    expect(summary).toEqual({ services: 3, skipped: 0, upserted: 0, deleted: 0, failed: 0, failedServices: [] });
    // up-to-date records are not logged one by one at every scheduled run
    expect(h.logs().slice(before).map(l => l.message)).toEqual(['reconciliation finished']);
  });

  test('lists only the registered names and the services\' tasks', async () => {
    const h = harness();
    drifted(h);
    await reconcile(h.deps);
    expect(h.api.callsOf('listServiceTasks')).toEqual([[CLUSTER_ARN, 'minecraft'], [CLUSTER_ARN, 'web'], [CLUSTER_ARN, 'api']]);
    expect(h.api.callsOf('listRecordsAt')).toEqual([[ZONE, MC.fqdn], [ZONE, WEB.fqdn], [OTHER_ZONE, API.fqdn]]);
    // a service without tasks asks neither DescribeTasks nor EC2; the second DescribeTasks re-checks the written records' tasks
    expect(h.api.count('describeTasks')).toBe(2);
    expect(h.api.count('describeNetworkInterfaces')).toBe(1);
  });

  test('a service with no tasks (as the adapter reads a deleted one) loses its owned records; others stay; the run succeeds', async () => {
    const h = harness({ ...CONFIG, services: [MC, WEB] });
    h.api.addTask('m', { service: MC, ip: ipOf(1) });
    h.api.put(ZONE, ownedRecord(MC, 'm', ipOf(1)), ownedRecord(WEB, 'w1', ipOf(2)), ownedRecord(WEB, 'w2', ipOf(3)), simpleRecord({ ...WEB, fqdn: 'www.example.com.' }));
    const kept = h.api.records(ZONE).filter(r => r.Name === 'www.example.com.');
    const summary = await reconcile(h.deps);
    expect(summary).toEqual({ services: 2, skipped: 0, upserted: 0, deleted: 2, failed: 0, failedServices: [] });
    expect(h.api.records(ZONE, WEB.fqdn)).toEqual([]);
    expect(h.api.addresses(ZONE, MC.fqdn)).toEqual({ m: ipOf(1) });
    expect(h.api.records(ZONE).filter(r => r.Name === 'www.example.com.')).toEqual(kept);
    expect(kept).toHaveLength(1);
  });

  test('a failing service does not stop the others', async () => {
    const h = harness();
    h.api.addTask('m', { service: MC, ip: ipOf(1) });
    h.api.addTask('w', { service: WEB, ip: ipOf(2) });
    h.api.addTask('a', { service: API, ip: ipOf(3) });
    h.api.fail('listServiceTasks', awsError('ThrottlingException'), 1, args => args[1] === 'web');
    const summary = await reconcile(h.deps);
    expect(summary).toEqual({ services: 3, skipped: 0, upserted: 2, deleted: 0, failed: 0, failedServices: ['web'] });
    expect(h.api.addresses(ZONE, MC.fqdn)).toEqual({ m: ipOf(1) });
    expect(h.api.addresses(OTHER_ZONE, API.fqdn)).toEqual({ a: ipOf(3) });
    expect(h.api.records(ZONE, WEB.fqdn)).toEqual([]);
    expect(h.logs()).toContainEqual(expect.objectContaining({ level: 'error', service: 'web', error: 'ThrottlingException' }));
    expect(h.logs()).toContainEqual(expect.objectContaining({ level: 'error', message: 'reconciliation finished', failedServices: ['web'] }));
    expect(h.counted()).toMatchObject({ ChangesFailed: 1 });
  });

  test.each<[string, 'describeTasks' | 'describeNetworkInterfaces' | 'listRecordsAt']>([
    ['DescribeTasks', 'describeTasks'],
    ['DescribeNetworkInterfaces', 'describeNetworkInterfaces'],
    ['ListResourceRecordSets', 'listRecordsAt'],
  ])('%s failing fails that service only', async (_what, method) => {
    const h = harness({ ...CONFIG, services: [MC, API] });
    h.api.addTask('m', { service: MC, ip: ipOf(1) });
    h.api.addTask('a', { service: API, ip: ipOf(3) });
    h.api.fail(method, awsError('InternalError', 'x', 500));
    const summary = await reconcile(h.deps);
    expect(summary.failedServices).toEqual(['minecraft']);
    expect(h.api.addresses(OTHER_ZONE, API.fqdn)).toEqual({ a: ipOf(3) });
  });

  test('a change Route53 refuses is counted as failed', async () => {
    const h = harness({ ...CONFIG, services: [MC] });
    h.api.addTask('m', { service: MC, ip: ipOf(1) });
    h.api.addTask('n', { service: MC, ip: ipOf(2) });
    h.api.rejectChange = c => (c.record.SetIdentifier === 'n' ? 'no' : undefined);
    const summary = await reconcile(h.deps);
    expect(summary).toEqual({ services: 1, skipped: 0, upserted: 1, deleted: 0, failed: 1, failedServices: [] });
    expect(h.counted()).toEqual({ RecordsUpserted: 1, DriftRepaired: 1, ChangesFailed: 1 });
  });

  test('tasks not yet running, of another group or rejected get no record', async () => {
    const h = harness({ ...CONFIG, services: [MC] });
    h.api.addTask('pending', { service: MC, lastStatus: 'PENDING' });
    h.api.addTask('stopping', { service: MC, lastStatus: 'RUNNING', desiredStatus: 'STOPPED' });
    h.api.addTask('spoofed', { service: MC, tags: { [TAG_NAME]: 'other' } });
    h.api.addTask('no-ip', { service: MC, ip: null });
    h.api.addTask('good', { service: MC, ip: ipOf(5) });
    const summary = await reconcile(h.deps);
    expect(h.api.addresses(ZONE, MC.fqdn)).toEqual({ good: ipOf(5) });
    expect(summary.upserted).toBe(1);
    expect(h.counted()).toEqual({ RecordsUpserted: 1, DriftRepaired: 1, TasksRejected: 2 });
  });

  test('refused tasks: no line per task, one warning per service and run, counted at every run', async () => {
    const h = harness({ ...CONFIG, services: [MC, WEB] });
    h.api.addTask('spoofed', { service: MC, tags: { [TAG_NAME]: 'other' } });
    h.api.addTask('no-ip', { service: MC, ip: null });
    h.api.addTask('good', { service: MC, ip: ipOf(5) });
    h.api.addTask('bad-ttl', { service: WEB, tags: { [TAG_NAME]: 'web', 'public-discovery:ttl': 'abc' } });
    for (let run = 1; run <= 3; run++) {
      const before = h.logs().length;
      await reconcile(h.deps);
      const lines = h.logs().slice(before);
      expect(lines.filter(l => l.level === 'error')).toEqual([]);
      expect(lines.filter(l => l.level === 'warn')).toEqual([
        {
          level: 'warn',
          message: 'tasks refused by the registration',
          service: 'minecraft',
          name: MC.fqdn,
          count: 2,
          tasks: [
            { taskId: 'spoofed', reason: 'public-discovery:name tag "other" does not match the name registered for service minecraft ("mc")' },
            { taskId: 'no-ip', reason: expect.stringContaining('has no public IPv4 address') },
          ],
        },
        {
          level: 'warn',
          message: 'tasks refused by the registration',
          service: 'web',
          name: WEB.fqdn,
          count: 1,
          tasks: [{ taskId: 'bad-ttl', reason: 'public-discovery:ttl tag "abc" is not a whole number of seconds in 0..2147483647' }],
        },
      ]);
      expect(lines.some(l => l.taskId !== undefined && l.taskId !== 'good')).toBe(false);
      expect(h.metrics.get(METRIC.TASKS_REJECTED)).toBe(3 * run);
    }
    expect(h.api.addresses(ZONE, MC.fqdn)).toEqual({ good: ipOf(5) });
    expect(h.api.records(ZONE, WEB.fqdn)).toEqual([]);
  });

  test('the summary of refused tasks names at most 20 of them and counts them all', async () => {
    const h = harness({ ...CONFIG, services: [MC] });
    for (let i = 0; i < 25; i++) {
      h.api.addTask(`bad-${String(i).padStart(2, '0')}`, { service: MC, tags: { [TAG_NAME]: 'other' } });
    }
    await reconcile(h.deps);
    const summaries = h.logs().filter(l => l.message === 'tasks refused by the registration');
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({ level: 'warn', count: 25, tasksNotListed: 5 });
    expect((summaries[0].tasks as Array<{ taskId: string }>).map(t => t.taskId)).toEqual(Array.from({ length: 20 }, (_, i) => `bad-${String(i).padStart(2, '0')}`));
    expect(h.counted()).toEqual({ TasksRejected: 25 });
  });

  test('a running task without a network interface loses its record', async () => {
    const h = harness({ ...CONFIG, services: [MC] });
    h.api.addTask('bridge', { service: MC, eniId: null });
    h.api.put(ZONE, ownedRecord(MC, 'bridge', '203.0.113.1'));
    const summary = await reconcile(h.deps);
    expect(h.api.count('describeNetworkInterfaces')).toBe(0);
    expect(h.api.records(ZONE)).toEqual([]);
    expect(summary.deleted).toBe(1);
    expect(h.counted()).toEqual({ RecordsDeleted: 1, DriftRepaired: 1, EventsIgnored: 1 });
  });

  test('a conflict at a name: nothing published, owned records of gone tasks still removed', async () => {
    const h = harness({ ...CONFIG, services: [MC] });
    h.api.addTask('m', { service: MC });
    h.api.put(ZONE, simpleRecord(MC));
    const stale = ownedRecord(MC, 'stale', '203.0.113.9');
    h.api.zones.get(ZONE)!.push(stale);
    const summary = await reconcile(h.deps);
    expect(summary).toEqual({ services: 1, skipped: 0, upserted: 0, deleted: 1, failed: 0, failedServices: [] });
    expect(h.api.records(ZONE)).toEqual([simpleRecord(MC)]);
    expect(h.counted()).toEqual({ RecordsDeleted: 1, DriftRepaired: 1, TasksRejected: 1 });
  });

  test('at capacity, tasks holding a record keep it and the rest wait', async () => {
    const h = harness({ ...CONFIG, services: [MC] });
    for (let i = 0; i < 100; i++) {
      h.api.addTask(`z${String(i).padStart(3, '0')}`, { service: MC, ip: ipOf(i) });
      h.api.put(ZONE, ownedRecord(MC, `z${String(i).padStart(3, '0')}`, ipOf(i)));
    }
    h.api.addTask('a-first-alphabetically', { service: MC, ip: ipOf(150) });
    const summary = await reconcile(h.deps);
    expect(summary).toEqual({ services: 1, skipped: 0, upserted: 0, deleted: 0, failed: 0, failedServices: [] });
    expect(h.api.count('changeRecords')).toBe(0);
    expect(Object.keys(h.api.addresses(ZONE, MC.fqdn))).not.toContain('a-first-alphabetically');
    expect(h.counted()).toEqual({ CapacityExceeded: 1 });
  });

  test('reconciles only the services given', async () => {
    const h = harness();
    h.api.addTask('m', { service: MC });
    h.api.addTask('w', { service: WEB });
    const summary = await reconcile(h.deps, [WEB]);
    expect(summary.services).toBe(1);
    expect(h.api.callsOf('listServiceTasks')).toEqual([[CLUSTER_ARN, 'web']]);
    expect(h.api.records(ZONE, MC.fqdn)).toEqual([]);
  });
});

describe('applyChanges', () => {
  test('nothing to apply makes no call', async () => {
    const h = harness();
    expect(await applyChanges(h.deps, [])).toEqual(new Map());
    expect(h.api.count()).toBe(0);
  });

  test('more than 500 UPSERTs in one zone are split into two requests', async () => {
    const api: DiscoveryApi & { sizes: number[] } = {
      sizes: [],
      describeTasks: jest.fn(),
      listServiceTasks: jest.fn(),
      describeNetworkInterfaces: jest.fn(),
      listRecordsAt: jest.fn(),
      listZoneRecords: jest.fn(),
      getParameters: jest.fn(),
      changeRecords: async (_zone, changes) => {
        api.sizes.push(changes.length);
      },
    };
    const h = harness(CONFIG);
    const changes = Array.from({ length: 501 }, (_, i) => ({
      action: 'UPSERT' as const, hostedZoneId: ZONE, taskId: `t${i}`, service: MC, record: ownedRecord(MC, `t${i}`, ipOf(i)),
    }));
    const failures = await applyChanges({ ...h.deps, api }, changes);
    expect(failures).toEqual(new Map());
    expect(api.sizes).toEqual([500, 1]);
  });

  test('a rejected single change of a batch of one is a failure keyed by task id', async () => {
    const h = harness();
    h.api.rejectChange = () => 'bad';
    const failures = await applyChanges(h.deps, [{ action: 'UPSERT', hostedZoneId: ZONE, taskId: 't1', service: MC, record: ownedRecord(MC, 't1', '203.0.113.1') }]);
    expect(failures).toEqual(new Map([['t1', 'InvalidChangeBatch: [bad]']]));
    expect(h.api.count('changeRecords')).toBe(1);
  });

  test('an InvalidChangeBatch for a DELETE that is not "not found" is a failure', async () => {
    const h = harness();
    h.api.put(ZONE, ownedRecord(MC, 't1', '203.0.113.1'));
    const failures = await applyChanges(h.deps, [{ action: 'DELETE', hostedZoneId: ZONE, taskId: 't1', service: MC, record: ownedRecord(MC, 't1', '203.0.113.2') }]);
    expect([...failures.keys()]).toEqual(['t1']);
    expect(failures.get('t1')).toMatch(/do not match the current values/);
  });
});
