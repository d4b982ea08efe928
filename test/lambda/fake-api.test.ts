/**
 * The fake must refuse what Route53 refuses, or the pipeline tests prove nothing.
 */
import { awsError, FakeDiscoveryApi } from './fake-api';
import { CLUSTER_ARN, cnameRecord, MC, ownedRecord, simpleRecord, taskArn, WEB, weightedRecord, ZONE } from './fixtures';

describe('FakeDiscoveryApi', () => {
  test('describes known tasks of the cluster and lists a service\'s tasks that should run', async () => {
    const api = new FakeDiscoveryApi();
    api.addTask('a', { service: MC });
    api.addTask('b', { service: MC, lastStatus: 'STOPPED', desiredStatus: 'STOPPED' });
    api.addTask('c', { service: WEB });
    const tasks = await api.describeTasks(CLUSTER_ARN, [taskArn('a'), taskArn('missing')]);
    expect([...tasks.keys()]).toEqual([taskArn('a')]);
    expect(tasks.get(taskArn('a'))).toEqual({
      taskArn: taskArn('a'), lastStatus: 'RUNNING', desiredStatus: 'RUNNING', group: 'service:minecraft', eniId: 'eni-a', tags: { 'public-discovery:name': 'mc' },
    });
    expect(await api.describeTasks('arn:aws:ecs:eu-west-1:123456789012:cluster/x', [taskArn('a')])).toEqual(new Map());
    expect(await api.listServiceTasks(CLUSTER_ARN, 'minecraft')).toEqual([taskArn('a')]);
    expect(api.count('describeTasks')).toBe(2);
    expect(api.count()).toBe(3);
  });

  test('a stopped task loses its ENI', async () => {
    const api = new FakeDiscoveryApi();
    api.addTask('a', { service: MC, ip: '203.0.113.1' });
    // An ENI observation is the address only, as the adapter reads it: no tags.
    expect((await api.describeNetworkInterfaces(['eni-a'])).get('eni-a')).toStrictEqual({ eniId: 'eni-a', publicIp: '203.0.113.1' });
    api.stopTask('a');
    expect(await api.describeNetworkInterfaces(['eni-a'])).toEqual(new Map());
  });

  test('UPSERT adds and replaces; DELETE needs the exact record', async () => {
    const api = new FakeDiscoveryApi();
    await api.changeRecords(ZONE, [{ action: 'UPSERT', record: ownedRecord(MC, 't1', '203.0.113.1') }]);
    await api.changeRecords(ZONE, [{ action: 'UPSERT', record: ownedRecord(MC, 't1', '203.0.113.2') }]);
    expect(await api.listRecordsAt(ZONE, MC.fqdn)).toEqual([ownedRecord(MC, 't1', '203.0.113.2')]);
    await expect(api.changeRecords(ZONE, [{ action: 'DELETE', record: ownedRecord(MC, 't1', '203.0.113.1') }]))
      .rejects.toMatchObject({ name: 'InvalidChangeBatch', message: expect.stringContaining('do not match the current values') });
    await expect(api.changeRecords(ZONE, [{ action: 'DELETE', record: ownedRecord(MC, 't1', '203.0.113.2', 61) }]))
      .rejects.toMatchObject({ name: 'InvalidChangeBatch' });
    await expect(api.changeRecords(ZONE, [{ action: 'DELETE', record: ownedRecord(MC, 't9', '203.0.113.2') }]))
      .rejects.toMatchObject({ name: 'InvalidChangeBatch', message: expect.stringContaining('but it was not found') });
    await api.changeRecords(ZONE, [{ action: 'DELETE', record: ownedRecord(MC, 't1', '203.0.113.2') }]);
    expect(api.records(ZONE)).toEqual([]);
    expect(api.appliedBatches).toHaveLength(3);
  });

  test('a batch is atomic', async () => {
    const api = new FakeDiscoveryApi();
    await expect(api.changeRecords(ZONE, [
      { action: 'UPSERT', record: ownedRecord(MC, 't1', '203.0.113.1') },
      { action: 'DELETE', record: ownedRecord(MC, 'gone', '203.0.113.2') },
    ])).rejects.toMatchObject({ name: 'InvalidChangeBatch' });
    expect(api.records(ZONE)).toEqual([]);
  });

  test.each([
    ['a simple A record', simpleRecord(MC)],
    ['a weighted A record', weightedRecord(MC)],
    ['a CNAME', cnameRecord(MC)],
  ])('refuses a multi-value record next to %s', async (_what, foreign) => {
    const api = new FakeDiscoveryApi();
    api.put(ZONE, foreign);
    await expect(api.changeRecords(ZONE, [{ action: 'UPSERT', record: ownedRecord(MC, 't1', '203.0.113.1') }]))
      .rejects.toMatchObject({ name: 'InvalidChangeBatch' });
  });

  test('refuses a 101st record at a name, a duplicate in a batch and an empty batch', async () => {
    const api = new FakeDiscoveryApi();
    api.put(ZONE, ...Array.from({ length: 100 }, (_, i) => ownedRecord(MC, `r${i}`, `203.0.113.${i}`)));
    await expect(api.changeRecords(ZONE, [{ action: 'UPSERT', record: ownedRecord(MC, 'new', '203.0.113.200') }]))
      .rejects.toThrow(/already holds 100/);
    await api.changeRecords(ZONE, [{ action: 'UPSERT', record: ownedRecord(MC, 'r0', '203.0.113.201') }]);
    const r = ownedRecord(WEB, 'x', '203.0.113.1');
    await expect(api.changeRecords(ZONE, [{ action: 'UPSERT', record: r }, { action: 'UPSERT', record: r }])).rejects.toThrow(/Duplicate/);
    await expect(api.changeRecords(ZONE, [])).rejects.toMatchObject({ name: 'InvalidInput' });
  });

  test('can be told to fail calls, a number of times or always, optionally by argument', async () => {
    const api = new FakeDiscoveryApi();
    api.fail('listRecordsAt', awsError('Throttling'), 2);
    api.failAlways('describeNetworkInterfaces', awsError('InternalError', 'x', 500), args => (args[0] as string[]).includes('eni-bad'));
    await expect(api.listRecordsAt(ZONE, MC.fqdn)).rejects.toMatchObject({ name: 'Throttling', $metadata: { httpStatusCode: 400 } });
    await expect(api.listRecordsAt(ZONE, MC.fqdn)).rejects.toMatchObject({ name: 'Throttling' });
    await expect(api.listRecordsAt(ZONE, MC.fqdn)).resolves.toEqual([]);
    await expect(api.describeNetworkInterfaces(['eni-ok'])).resolves.toEqual(new Map());
    await expect(api.describeNetworkInterfaces(['eni-bad'])).rejects.toMatchObject({ name: 'InternalError' });
    await expect(api.describeNetworkInterfaces(['eni-bad'])).rejects.toMatchObject({ name: 'InternalError' });
  });

  test('rejectChange refuses the whole batch holding the change', async () => {
    const api = new FakeDiscoveryApi();
    api.rejectChange = c => (c.record.SetIdentifier === 'bad' ? 'refused' : undefined);
    await expect(api.changeRecords(ZONE, [
      { action: 'UPSERT', record: ownedRecord(MC, 'ok', '203.0.113.1') },
      { action: 'UPSERT', record: ownedRecord(MC, 'bad', '203.0.113.2') },
    ])).rejects.toMatchObject({ name: 'InvalidChangeBatch', message: '[refused]' });
    expect(api.records(ZONE)).toEqual([]);
  });
});
