import {
  API, CONFIG, cnameRecord, ipOf, MC, OTHER_CLUSTER_ARN, OTHER_ZONE, ownedRecord, simpleRecord, taskArn, taskEvent, WEB, weightedRecord, ZONE,
} from './fixtures';
import type { EniObservation, PlannedChange, TaskObservation, TaskWork } from '../../src/lambda/model';
import {
  batchChanges, changeValueChars,
  changeWeight, coalesce, confirmIntent, conflictOf, desiredRecord, intentOf, isOwned, MAX_CHANGE_VALUE_CHARS, MAX_CHANGE_WEIGHT, planName,
  projectRecords, resolvePublish, servicesOfGroup,
} from '../../src/lambda/planner';
import { MAX_TTL_SECONDS, TAG_NAME, TAG_TTL } from '../../src/shared/contract';

describe('intentOf', () => {
  const statuses = ['PROVISIONING', 'PENDING', 'ACTIVATING', 'RUNNING', 'DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED'];
  const expected = (last: string, desired: string) => {
    if (desired === 'STOPPED' || ['DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED'].includes(last)) {
      return 'remove';
    }
    return last === 'RUNNING' && desired === 'RUNNING' ? 'publish' : undefined;
  };
  const table = statuses.flatMap(last => ['RUNNING', 'STOPPED'].map(desired => [last, desired, expected(last, desired)] as const));

  test('the table covers every start, stop and neither', () => {
    expect(table.filter(([, , i]) => i === 'publish')).toEqual([['RUNNING', 'RUNNING', 'publish']]);
    expect(table.filter(([, , i]) => i === undefined).map(([l]) => l)).toEqual(['PROVISIONING', 'PENDING', 'ACTIVATING']);
  });

  test.each(table)('lastStatus %s, desiredStatus %s → %s', (last, desired, intent) => {
    expect(intentOf(last, desired)).toBe(intent);
  });

  test.each([
    ['RUNNING', 'PENDING', undefined],
    [undefined, 'STOPPED', 'remove'],
    ['STOPPED', undefined, 'remove'],
    ['RUNNING', undefined, undefined],
    [undefined, undefined, undefined],
    ['running', 'running', undefined],
  ])('lastStatus %s, desiredStatus %s → %s', (last, desired, intent) => {
    expect(intentOf(last, desired)).toBe(intent);
  });
});

describe('servicesOfGroup', () => {
  test.each([
    ['service:minecraft', [MC]],
    ['service:web', [WEB]],
    ['service:unknown', []],
    ['family:minecraft', []],
    ['minecraft', []],
    ['service:', []],
    [undefined, []],
  ])('%s', (group, services) => {
    const found = servicesOfGroup(CONFIG, group);
    expect(found).toHaveLength(services.length);
    found.forEach((s, i) => expect(s).toBe(services[i]));
  });
});

describe('coalesce', () => {
  test('keeps one work item per task in first-appearance order', () => {
    const events = [
      taskEvent({ id: 'a', messageId: 'm1' }),
      taskEvent({ id: 'b', messageId: 'm2', group: 'service:web', lastStatus: 'STOPPED', desiredStatus: 'STOPPED' }),
    ];
    const { work, ignored, orphanRemovals } = coalesce(CONFIG, events);
    expect(work).toEqual([
      { event: events[0], service: MC, intent: 'publish', messageIds: ['m1'] },
      { event: events[1], service: WEB, intent: 'remove', messageIds: ['m2'] },
    ]);
    expect(ignored).toEqual([]);
    expect(orphanRemovals).toEqual([]);
  });

  test('ignores tasks of another cluster', () => {
    const { work, ignored } = coalesce(CONFIG, [taskEvent({ id: 'a', clusterArn: OTHER_CLUSTER_ARN })]);
    expect(work).toEqual([]);
    expect(ignored).toEqual([{ taskId: 'a', action: 'SKIP', outcome: 'ignored', level: 'info', reason: expect.stringContaining(OTHER_CLUSTER_ARN) }]);
  });

  test('ignores tasks of an unregistered service with a warning', () => {
    const { work, ignored, orphanRemovals } = coalesce(CONFIG, [
      taskEvent({ id: 'a', group: 'service:unknown' }),
      taskEvent({ id: 'b', group: 'family:minecraft', lastStatus: 'STOPPED', desiredStatus: 'STOPPED' }),
    ]);
    expect(work).toEqual([]);
    expect(orphanRemovals).toEqual([]);
    expect(ignored).toEqual([
      expect.objectContaining({ taskId: 'a', outcome: 'ignored', level: 'warn', reason: expect.stringContaining('"service:unknown"') }),
      expect.objectContaining({ taskId: 'b', outcome: 'ignored', level: 'warn', reason: expect.stringContaining('"family:minecraft"') }),
    ]);
  });

  test('ignores statuses that are neither a start nor a stop', () => {
    const { work, ignored } = coalesce(CONFIG, [taskEvent({ id: 'a', lastStatus: 'PENDING', desiredStatus: 'RUNNING' })]);
    expect(work).toEqual([]);
    expect(ignored).toEqual([expect.objectContaining({ taskId: 'a', outcome: 'ignored', level: 'info', reason: expect.stringContaining('lastStatus PENDING') })]);
  });

  test('a standalone stop (no group) becomes an orphan removal; a standalone start is ignored', () => {
    const stop = taskEvent({ id: 'a', group: null, lastStatus: 'STOPPED', desiredStatus: 'STOPPED', messageId: 'm1' });
    const start = taskEvent({ id: 'b', group: null, messageId: 'm2' });
    const { work, ignored, orphanRemovals } = coalesce(CONFIG, [stop, start]);
    expect(work).toEqual([]);
    expect(orphanRemovals).toEqual([{ event: stop, messageIds: ['m1'] }]);
    expect(ignored).toEqual([expect.objectContaining({ taskId: 'b', outcome: 'ignored', level: 'warn', reason: expect.stringContaining('group null') })]);
  });

  const start = (version: number, messageId: string) => taskEvent({ id: 'a', version, messageId });
  const stop = (version: number, messageId: string) => taskEvent({ id: 'a', version, messageId, lastStatus: 'STOPPED', desiredStatus: 'STOPPED' });
  const stopping = (version: number, messageId: string) => taskEvent({ id: 'a', version, messageId, lastStatus: 'RUNNING', desiredStatus: 'STOPPED' });

  test.each([
    ['start then stop', [start(2, 'm1'), stop(5, 'm2')], 'remove', 'm2'],
    ['stop then a late start', [stop(5, 'm2'), start(2, 'm1')], 'remove', 'm2'],
    ['stop then a newer start', [stop(2, 'm1'), start(5, 'm2')], 'publish', 'm2'],
    ['a newer start then an older stop', [start(5, 'm2'), stop(2, 'm1')], 'publish', 'm2'],
    ['three versions shuffled', [stopping(4, 'm2'), start(2, 'm1'), stop(6, 'm3')], 'remove', 'm3'],
    ['tie, start first', [start(3, 'm1'), stopping(3, 'm2')], 'remove', 'm2'],
    ['tie, stop first', [stopping(3, 'm2'), start(3, 'm1')], 'remove', 'm2'],
    ['tie between two stops keeps the first', [stopping(3, 'm1'), stop(3, 'm2')], 'remove', 'm1'],
  ])('newest version wins: %s', (_what, events, intent, winner) => {
    const { work } = coalesce(CONFIG, events);
    expect(work).toHaveLength(1);
    expect(work[0].intent).toBe(intent);
    expect(work[0].event.messageId).toBe(winner);
    expect([...work[0].messageIds].sort()).toEqual(events.map(e => e.messageId).sort());
  });

  test('duplicate deliveries of one event coalesce into one item carrying every message id', () => {
    const events = [start(2, 'm1'), start(2, 'm2'), start(2, 'm3')];
    const { work } = coalesce(CONFIG, events);
    expect(work).toEqual([{ event: events[0], service: MC, intent: 'publish', messageIds: ['m1', 'm2', 'm3'] }]);
  });

  test('an orphan stop collects every message id too', () => {
    const a = taskEvent({ id: 'a', group: null, lastStatus: 'STOPPING', desiredStatus: 'STOPPED', version: 3, messageId: 'm1' });
    const b = taskEvent({ id: 'a', group: null, lastStatus: 'STOPPED', desiredStatus: 'STOPPED', version: 5, messageId: 'm2' });
    expect(coalesce(CONFIG, [b, a]).orphanRemovals).toEqual([{ event: b, messageIds: ['m2', 'm1'] }]);
  });
});

describe('confirmIntent', () => {
  const work = (intent: 'publish' | 'remove'): TaskWork => ({
    event: taskEvent({ id: 'a' }), service: MC, intent, messageIds: ['m1'],
  });
  const observed = (lastStatus?: string, desiredStatus?: string, group: string | null = 'service:minecraft'): TaskObservation => ({
    taskArn: taskArn('a'), lastStatus, desiredStatus, group: group ?? undefined, tags: {},
  });

  test.each([
    ['service:web', 'ECS reports the task in group "service:web", not service:minecraft'],
    ['family:minecraft', 'ECS reports the task in group "family:minecraft", not service:minecraft'],
    [null, 'ECS reports the task in group null, not service:minecraft'],
  ])('a running task whose group in ECS is %s is not published under the message\'s service', (group, reason) => {
    expect(confirmIntent(work('publish'), observed('RUNNING', 'RUNNING', group))).toEqual({ intent: 'remove', reason });
  });

  test('a removal stays a removal whatever ECS says', () => {
    expect(confirmIntent(work('remove'), observed('RUNNING', 'RUNNING'))).toEqual({ intent: 'remove' });
    expect(confirmIntent(work('remove'), undefined)).toEqual({ intent: 'remove' });
  });

  test('a task ECS no longer knows is removed', () => {
    expect(confirmIntent(work('publish'), undefined)).toEqual({ intent: 'remove', reason: 'ECS no longer knows the task' });
  });

  test.each([
    ['STOPPED', 'STOPPED'],
    ['RUNNING', 'STOPPED'],
    ['DEACTIVATING', 'STOPPED'],
    ['STOPPING', 'STOPPED'],
    ['DEPROVISIONING', 'STOPPED'],
  ])('a task ECS reports as %s/%s is removed', (last, desired) => {
    expect(confirmIntent(work('publish'), observed(last, desired))).toEqual({ intent: 'remove', reason: `ECS reports the task as ${last}/${desired}` });
  });

  test('a running task is published', () => {
    expect(confirmIntent(work('publish'), observed('RUNNING', 'RUNNING'))).toEqual({ intent: 'publish' });
  });
});

describe('resolvePublish', () => {
  const eni = (): EniObservation => ({ eniId: 'eni-1', publicIp: '203.0.113.10' });
  const nameTag = { [TAG_NAME]: 'mc' };

  test('a running task whose tags match is published with the registered values', () => {
    expect(resolvePublish(MC, 't1', eni(), nameTag)).toEqual({
      ok: true, item: { taskId: 't1', publicIp: '203.0.113.10', ttl: 60 }, warnings: [],
    });
  });

  test('no ENI: skipped as ignored, with a warning level', () => {
    expect(resolvePublish(MC, 't1', undefined, nameTag)).toEqual({
      ok: false,
      outcome: { taskId: 't1', service: 'minecraft', name: 'mc.example.com.', action: 'SKIP', outcome: 'ignored', level: 'warn', reason: expect.stringContaining('no longer exists') },
    });
  });

  test.each([undefined, ''])('no public IP (%p): rejected', publicIp => {
    const r = resolvePublish(MC, 't1', { eniId: 'eni-1', publicIp }, nameTag);
    expect(r).toEqual({
      ok: false,
      outcome: expect.objectContaining({ taskId: 't1', action: 'SKIP', outcome: 'rejected', level: 'error', reason: expect.stringContaining('eni-1 has no public IPv4 address') }),
    });
  });

  test('the ENI observation carries no tags: only the task\'s tags decide', () => {
    // An ENI observation is just the address; whatever was written on the ENI cannot reach the decision.
    const withEniTags = { ...eni(), tags: { [TAG_NAME]: 'spoofed', [TAG_TTL]: 'x' } } as EniObservation;
    expect(resolvePublish(MC, 't1', withEniTags, nameTag)).toEqual({
      ok: true, item: { taskId: 't1', publicIp: '203.0.113.10', ttl: 60 }, warnings: [],
    });
    expect(resolvePublish(MC, 't1', { ...withEniTags, tags: nameTag } as EniObservation, { [TAG_NAME]: 'other' }))
      .toMatchObject({ ok: false, outcome: { outcome: 'rejected' } });
  });

  test('no name tag on the task: published from the registration with a warning', () => {
    const r = resolvePublish(MC, 't1', eni(), { also: 'unrelated' });
    expect(r).toEqual({
      ok: true,
      item: { taskId: 't1', publicIp: '203.0.113.10', ttl: 60 },
      warnings: [expect.stringMatching(/^the task does not carry the public-discovery:name tag; published from the service registration/)],
    });
  });

  test.each(['*', 'admin.other', 'MC', 'Mc', 'mc.', 'mc.example.com', ' mc', ''])('a name tag %p that is not exactly the registered name is rejected', tag => {
    const r = resolvePublish(MC, 't1', eni(), { [TAG_NAME]: tag });
    expect(r).toEqual({
      ok: false,
      outcome: {
        taskId: 't1',
        service: 'minecraft',
        name: 'mc.example.com.',
        action: 'SKIP',
        outcome: 'rejected',
        level: 'error',
        reason: `${TAG_NAME} tag ${JSON.stringify(tag)} does not match the name registered for service minecraft ("mc")`,
      },
    });
  });

  test('the registered name is compared as given (upper case registration)', () => {
    const upper = { ...MC, name: 'MC.Example' };
    expect(resolvePublish(upper, 't1', eni(), { [TAG_NAME]: 'MC.Example' })).toMatchObject({ ok: true });
    expect(resolvePublish(upper, 't1', eni(), { [TAG_NAME]: 'mc.example' })).toMatchObject({ ok: false });
  });

  test.each(['abc', '-1', '1.5', '99999999999', '2147483648', '', ' 60', '6e1', '0x10', '+60'])('a TTL tag %p is rejected', ttl => {
    const r = resolvePublish(MC, 't1', eni(), { ...nameTag, [TAG_TTL]: ttl });
    expect(r).toEqual({
      ok: false,
      outcome: expect.objectContaining({
        outcome: 'rejected',
        level: 'error',
        reason: `${TAG_TTL} tag ${JSON.stringify(ttl)} is not a whole number of seconds in 0..${MAX_TTL_SECONDS}`,
      }),
    });
  });

  test.each([['0'], ['30'], ['2147483647'], ['0600']])('a valid TTL tag %p that differs from the registration: warning, registered TTL used', ttl => {
    const r = resolvePublish(MC, 't1', eni(), { ...nameTag, [TAG_TTL]: ttl });
    expect(r).toEqual({
      ok: true,
      item: { taskId: 't1', publicIp: '203.0.113.10', ttl: 60 },
      warnings: [`${TAG_TTL} tag ${ttl} differs from the registered TTL 60; the registered TTL is used`],
    });
  });

  test('a TTL tag equal to the registration gives no warning', () => {
    expect(resolvePublish(MC, 't1', eni(), { [TAG_NAME]: 'mc', [TAG_TTL]: '060' })).toMatchObject({ ok: true, warnings: [] });
    expect(resolvePublish(WEB, 't1', eni(), { [TAG_NAME]: 'web', [TAG_TTL]: '30' })).toEqual({
      ok: true, item: { taskId: 't1', publicIp: '203.0.113.10', ttl: 30 }, warnings: [],
    });
  });

  test('a TTL tag without a name tag: warned about the name, TTL checked', () => {
    expect(resolvePublish(MC, 't1', eni(), { [TAG_TTL]: 'x' })).toMatchObject({ ok: false, outcome: { outcome: 'rejected' } });
    const r = resolvePublish(MC, 't1', eni(), { [TAG_TTL]: '61' });
    expect(r).toMatchObject({ ok: true, item: { ttl: 60 } });
    expect((r as { warnings: string[] }).warnings).toHaveLength(2);
  });
});

describe('isOwned and conflictOf', () => {
  test.each<[string, Record<string, unknown>, boolean]>([
    ['an owned multi-value A record', ownedRecord(MC, 't1', '203.0.113.1'), true],
    ['an owned record read without the trailing dot, upper case', { ...ownedRecord(MC, 't1', '203.0.113.1'), Name: 'MC.example.com' }, true],
    ['a simple A record', simpleRecord(MC), false],
    ['a weighted A record', weightedRecord(MC), false],
    ['a multi-value record with MultiValueAnswer false', { ...ownedRecord(MC, 't1', '203.0.113.1'), MultiValueAnswer: false }, false],
    ['a multi-value record with an empty set identifier', { ...ownedRecord(MC, 't1', '203.0.113.1'), SetIdentifier: '' }, false],
    ['a CNAME', cnameRecord(MC), false],
    ['a multi-value AAAA record', { ...ownedRecord(MC, 't1', '2001:db8::1'), Type: 'AAAA' }, false],
    ['a multi-value A record at another name', ownedRecord(WEB, 't1', '203.0.113.1'), false],
  ])('isOwned: %s → %p', (_what, record, owned) => {
    expect(isOwned(record as never, MC.fqdn)).toBe(owned);
  });

  test.each<[string, Record<string, unknown>[], number | undefined]>([
    ['only owned records', [ownedRecord(MC, 't1', '1.1.1.1'), ownedRecord(MC, 't2', '1.1.1.2')], undefined],
    ['a simple A record', [ownedRecord(MC, 't1', '1.1.1.1'), simpleRecord(MC)], 1],
    ['a weighted A record', [weightedRecord(MC)], 0],
    ['a CNAME', [cnameRecord(MC)], 0],
    ['a TXT record (no conflict)', [{ Name: MC.fqdn, Type: 'TXT', TTL: 300, ResourceRecords: [{ Value: '"v=spf1"' }] }], undefined],
    ['an AAAA record (no conflict)', [{ Name: MC.fqdn, Type: 'AAAA', TTL: 300, ResourceRecords: [{ Value: '2001:db8::1' }] }], undefined],
    ['a simple A record at another name', [simpleRecord(WEB)], undefined],
    ['nothing', [], undefined],
  ])('conflictOf: %s', (_what, records, index) => {
    expect(conflictOf(records as never, MC.fqdn)).toBe(index === undefined ? undefined : records[index]);
  });
});

describe('desiredRecord', () => {
  test('is the documented UPSERT shape', () => {
    expect(desiredRecord(MC, { taskId: 't1', publicIp: '203.0.113.1', ttl: 60 })).toEqual({
      Name: 'mc.example.com.', Type: 'A', SetIdentifier: 't1', MultiValueAnswer: true, TTL: 60, ResourceRecords: [{ Value: '203.0.113.1' }],
    });
  });
});

describe('planName', () => {
  const publish = (taskId: string, publicIp = '203.0.113.1', ttl = 60) => ({ taskId, publicIp, ttl });

  test('a removal of a present record is a DELETE repeating the observed record object', () => {
    const observed = { ...ownedRecord(MC, 't1', '203.0.113.1'), HealthCheckId: 'hc-1' };
    const plan = planName(MC, [observed, ownedRecord(MC, 't2', '203.0.113.2')], [], [{ taskId: 't1', reason: 'because' }]);
    expect(plan.changes).toEqual([{ action: 'DELETE', hostedZoneId: ZONE, record: observed, taskId: 't1', service: MC }]);
    expect(plan.changes[0].record).toBe(observed);
    expect(plan.outcomes).toEqual([{
      taskId: 't1', service: 'minecraft', name: 'mc.example.com.', action: 'DELETE', outcome: 'planned', level: 'info', reason: 'task stopped (because)',
    }]);
    expect([plan.ownedBefore, plan.ownedAfter]).toEqual([2, 1]);
  });

  test('a removal of an absent record changes nothing', () => {
    const plan = planName(MC, [ownedRecord(MC, 't2', '203.0.113.2')], [], [{ taskId: 't1' }]);
    expect(plan.changes).toEqual([]);
    expect(plan.outcomes).toEqual([expect.objectContaining({ taskId: 't1', action: 'DELETE', outcome: 'unchanged', reason: 'record already absent' })]);
    expect([plan.ownedBefore, plan.ownedAfter]).toEqual([1, 1]);
  });

  test('a removal never deletes a record it does not own, even with the same set identifier', () => {
    const weighted = weightedRecord(MC, 't1');
    const plan = planName(MC, [weighted], [], [{ taskId: 't1' }]);
    expect(plan.changes).toEqual([]);
    expect(plan.outcomes[0]).toMatchObject({ outcome: 'unchanged' });
  });

  test('a new publication is an UPSERT of the documented shape', () => {
    const plan = planName(MC, [], [publish('t1')], []);
    expect(plan.changes).toEqual([{
      action: 'UPSERT',
      hostedZoneId: ZONE,
      taskId: 't1',
      service: MC,
      record: { Name: 'mc.example.com.', Type: 'A', SetIdentifier: 't1', MultiValueAnswer: true, TTL: 60, ResourceRecords: [{ Value: '203.0.113.1' }] },
    }]);
    expect(plan.outcomes).toEqual([expect.objectContaining({ taskId: 't1', action: 'UPSERT', outcome: 'planned', reason: 'task running' })]);
    expect([plan.ownedBefore, plan.ownedAfter]).toEqual([0, 1]);
  });

  test('an identical record is left unchanged', () => {
    const plan = planName(MC, [ownedRecord(MC, 't1', '203.0.113.1')], [publish('t1')], []);
    expect(plan.changes).toEqual([]);
    expect(plan.outcomes).toEqual([expect.objectContaining({ taskId: 't1', action: 'UPSERT', outcome: 'unchanged' })]);
    expect([plan.ownedBefore, plan.ownedAfter]).toEqual([1, 1]);
  });

  test.each<[string, Record<string, unknown>]>([
    ['another IP', ownedRecord(MC, 't1', '203.0.113.9')],
    ['another TTL', ownedRecord(MC, 't1', '203.0.113.1', 300)],
    ['two values', { ...ownedRecord(MC, 't1', '203.0.113.1'), ResourceRecords: [{ Value: '203.0.113.1' }, { Value: '203.0.113.2' }] }],
    ['no values', { ...ownedRecord(MC, 't1', '203.0.113.1'), ResourceRecords: undefined }],
  ])('a drifted record (%s) is upserted', (_what, existing) => {
    const plan = planName(MC, [existing as never], [publish('t1')], []);
    expect(plan.changes).toEqual([expect.objectContaining({ action: 'UPSERT', record: desiredRecord(MC, publish('t1')) })]);
    expect(plan.outcomes[0]).toMatchObject({ outcome: 'planned', reason: expect.stringMatching(/^record drifted \(was /) });
    expect([plan.ownedBefore, plan.ownedAfter]).toEqual([1, 1]);
  });

  test.each<[string, Record<string, unknown>, RegExp]>([
    ['a simple A record', simpleRecord(MC), /already holds a A record not managed by public discovery \(simple routing\)/],
    ['a weighted A record', weightedRecord(MC, 'blue'), /\(set identifier blue\)/],
    ['a CNAME', cnameRecord(MC), /already holds a CNAME record/],
  ])('a conflict with %s: no write for publications, removals still go', (_what, foreign, reason) => {
    const present = ownedRecord(MC, 't1', '203.0.113.1');
    const plan = planName(MC, [present, foreign as never], [publish('t2'), publish('t3', '203.0.113.3')], [{ taskId: 't1' }]);
    expect(plan.changes).toEqual([expect.objectContaining({ action: 'DELETE', record: present, taskId: 't1' })]);
    expect(plan.outcomes.filter(o => o.outcome === 'conflict')).toEqual(['t2', 't3'].map(taskId => ({
      taskId, service: 'minecraft', name: MC.fqdn, action: 'SKIP', outcome: 'conflict', level: 'error', reason: expect.stringMatching(reason),
    })));
    expect(plan.changes.every(c => c.record !== foreign)).toBe(true);
  });

  test('a conflict also blocks an update of a record the task already holds', () => {
    const plan = planName(MC, [ownedRecord(MC, 't1', '203.0.113.9'), simpleRecord(MC)], [publish('t1')], []);
    expect(plan.changes).toEqual([]);
    expect(plan.outcomes[0]).toMatchObject({ outcome: 'conflict' });
  });

  const full = Array.from({ length: 100 }, (_, i) => ownedRecord(MC, `r${i}`, ipOf(i)));

  test('capacity: a new publication at a name holding 100 owned records is refused', () => {
    const plan = planName(MC, full, [publish('new')], []);
    expect(plan.changes).toEqual([]);
    expect(plan.outcomes).toEqual([expect.objectContaining({ taskId: 'new', action: 'SKIP', outcome: 'capacity', level: 'warn', reason: expect.stringContaining('100 records') })]);
    expect([plan.ownedBefore, plan.ownedAfter]).toEqual([100, 100]);
  });

  test('capacity: an update of a record at a full name is still allowed', () => {
    const plan = planName(MC, full, [publish('r5', '198.51.100.5')], []);
    expect(plan.changes).toEqual([expect.objectContaining({ action: 'UPSERT', taskId: 'r5' })]);
    expect(plan.ownedAfter).toBe(100);
  });

  test('capacity: a removal frees a slot for a publication in the same plan', () => {
    const plan = planName(MC, full, [publish('new1'), publish('new2', '203.0.113.2')], [{ taskId: 'r0' }]);
    expect(plan.changes.map(c => [c.action, c.taskId])).toEqual([['DELETE', 'r0'], ['UPSERT', 'new1']]);
    expect(plan.outcomes.map(o => [o.taskId, o.outcome])).toEqual([['r0', 'planned'], ['new1', 'planned'], ['new2', 'capacity']]);
    expect([plan.ownedBefore, plan.ownedAfter]).toEqual([100, 100]);
  });

  test('capacity: an absent removal frees nothing', () => {
    const plan = planName(MC, full, [publish('new')], [{ taskId: 'gone' }]);
    expect(plan.changes).toEqual([]);
    expect(plan.outcomes.map(o => o.outcome)).toEqual(['unchanged', 'capacity']);
  });

  test('capacity: a custom limit fills up within one plan', () => {
    const plan = planName(MC, [ownedRecord(MC, 'r0', ipOf(0))], [publish('a'), publish('b'), publish('c')], [], 2);
    expect(plan.outcomes.map(o => [o.taskId, o.outcome])).toEqual([['a', 'planned'], ['b', 'capacity'], ['c', 'capacity']]);
    expect([plan.ownedBefore, plan.ownedAfter]).toEqual([1, 2]);
  });

  test('foreign records do not count toward the owned records', () => {
    const plan = planName(MC, [ownedRecord(MC, 'r0', ipOf(0)), { Name: MC.fqdn, Type: 'TXT', ResourceRecords: [{ Value: '"x"' }] }], [], []);
    expect([plan.ownedBefore, plan.ownedAfter]).toEqual([1, 1]);
  });
});

describe('batchChanges', () => {
  const change = (action: 'UPSERT' | 'DELETE', hostedZoneId = ZONE, n = 0) => ({ action, hostedZoneId, n });
  const upserts = (count: number, zone = ZONE) => Array.from({ length: count }, (_, n) => change('UPSERT', zone, n));

  test('an UPSERT weighs 2 and a DELETE 1', () => {
    expect(changeWeight({ action: 'UPSERT' })).toBe(2);
    expect(changeWeight({ action: 'DELETE' })).toBe(1);
    expect(MAX_CHANGE_WEIGHT).toBe(1000);
  });

  test('nothing to send: no batch', () => {
    expect(batchChanges([])).toEqual([]);
  });

  test('500 UPSERTs fit one batch', () => {
    const batches = batchChanges(upserts(500));
    expect(batches).toHaveLength(1);
    expect(batches[0].changes).toHaveLength(500);
  });

  test('501 UPSERTs need two batches, order kept', () => {
    const changes = upserts(501);
    const batches = batchChanges(changes);
    expect(batches.map(b => b.changes.length)).toEqual([500, 1]);
    expect(batches.flatMap(b => b.changes)).toEqual(changes);
  });

  test('1000 DELETEs fit one batch, 1001 do not', () => {
    expect(batchChanges(Array.from({ length: 1000 }, () => change('DELETE'))).map(b => b.changes.length)).toEqual([1000]);
    expect(batchChanges(Array.from({ length: 1001 }, () => change('DELETE'))).map(b => b.changes.length)).toEqual([1000, 1]);
  });

  test('499 UPSERTs and 2 DELETEs weigh exactly 1000; one more DELETE opens a batch', () => {
    const changes = [...upserts(499), change('DELETE'), change('DELETE')];
    expect(batchChanges(changes).map(b => b.changes.length)).toEqual([501]);
    expect(batchChanges([...changes, change('DELETE')]).map(b => b.changes.length)).toEqual([501, 1]);
  });

  test('value characters: 500 UPSERTs of 39-character IPv6 addresses (39,000 characters counted twice) need two requests', () => {
    const v6 = (n: number) => ({ ...change('UPSERT', ZONE, n), record: { ResourceRecords: [{ Value: `2001:0db8:0000:0000:0000:0000:0000:${String(n).padStart(4, '0')}` }] } });
    expect(changeValueChars(v6(1))).toBe(78);
    expect(MAX_CHANGE_VALUE_CHARS).toBe(32000);
    const changes = Array.from({ length: 500 }, (_, n) => v6(n));
    const batches = batchChanges(changes);
    // 32,000 / 78 = 410 changes fit the first request.
    expect(batches.map(b => b.changes.length)).toEqual([410, 90]);
    expect(batches.flatMap(b => b.changes)).toEqual(changes);
  });

  test('value characters of a DELETE count once', () => {
    const del = { ...change('DELETE'), record: { ResourceRecords: [{ Value: 'x'.repeat(100) }] } };
    expect(changeValueChars(del)).toBe(100);
    expect(batchChanges(Array.from({ length: 321 }, () => del)).map(b => b.changes.length)).toEqual([320, 1]);
  });

  test('an UPSERT that would exceed the limit by one opens a new batch', () => {
    const changes = [...upserts(499), change('DELETE'), change('UPSERT')];
    expect(batchChanges(changes).map(b => b.changes.length)).toEqual([500, 1]);
  });

  test('changes are grouped per hosted zone, order kept within each', () => {
    const a1 = change('DELETE', ZONE, 1);
    const b1 = change('UPSERT', OTHER_ZONE, 2);
    const a2 = change('UPSERT', ZONE, 3);
    const b2 = change('DELETE', OTHER_ZONE, 4);
    expect(batchChanges([a1, b1, a2, b2])).toEqual([
      { hostedZoneId: ZONE, changes: [a1, a2] },
      { hostedZoneId: OTHER_ZONE, changes: [b1, b2] },
    ]);
  });

  test('a custom weight limit splits per zone independently', () => {
    const changes = [change('UPSERT', ZONE, 1), change('UPSERT', OTHER_ZONE, 2), change('UPSERT', ZONE, 3), change('DELETE', OTHER_ZONE, 4)];
    const batches = batchChanges(changes, 3);
    expect(batches.map(b => [b.hostedZoneId, b.changes.map(c => c.n)])).toEqual([
      [ZONE, [1]], [OTHER_ZONE, [2, 4]], [ZONE, [3]],
    ]);
  });

  test('works on planned changes', () => {
    const planned: PlannedChange[] = [
      ...planName(MC, [], [{ taskId: 't1', publicIp: '1.1.1.1', ttl: 60 }], []).changes,
      ...planName(API, [], [{ taskId: 't2', publicIp: '1.1.1.2', ttl: 300 }], []).changes,
    ];
    expect(batchChanges(planned).map(b => [b.hostedZoneId, b.changes.map(c => c.taskId)])).toEqual([[ZONE, ['t1']], [OTHER_ZONE, ['t2']]]);
  });
});

describe('projectRecords', () => {
  test('a DELETE removes the record with the same name, type and set identifier; others stay', () => {
    const a = ownedRecord(MC, 'a', '203.0.113.1');
    const b = ownedRecord(MC, 'b', '203.0.113.2');
    const simple = simpleRecord(WEB);
    expect(projectRecords([a, b, simple], [{ action: 'DELETE', record: a }])).toEqual([b, simple]);
  });

  test('an UPSERT replaces a record with the same key, whatever the case of its name, or adds it', () => {
    const a = ownedRecord(MC, 'a', '203.0.113.1');
    const moved = { ...ownedRecord(MC, 'a', '203.0.113.9'), Name: MC.fqdn.toUpperCase() };
    const c = ownedRecord(MC, 'c', '203.0.113.3');
    const projected = projectRecords([a], [{ action: 'UPSERT', record: moved }, { action: 'UPSERT', record: c }]);
    expect(projected).toEqual([moved, c]);
  });

  test('changes apply in order: an UPSERT after a DELETE of the same record brings it back', () => {
    const a = ownedRecord(MC, 'a', '203.0.113.1');
    expect(projectRecords([a], [{ action: 'DELETE', record: a }, { action: 'UPSERT', record: a }])).toEqual([a]);
    expect(projectRecords([a], [{ action: 'UPSERT', record: a }, { action: 'DELETE', record: a }])).toEqual([]);
  });
});
