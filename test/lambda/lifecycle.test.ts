import { awsError, FakeDiscoveryApi } from './fake-api';
import { API, CLUSTER_ARN, MC, OTHER_ZONE, ownedRecord, simpleRecord, WEB, weightedRecord, ZONE } from './fixtures';
import type { CfnResponseBody } from '../../src/lambda/cfn-response';
import { CfnRequest, handleLifecycle, isCfnRequest, LifecycleDeps, purgeFailureReason, removedNames } from '../../src/lambda/lifecycle';
import type { RecordSet } from '../../src/lambda/model';
import { purgeNames } from '../../src/lambda/purge';
import { Logger, Metrics } from '../../src/lambda/telemetry';
import { ConfigError, DiscoveryConfig, LIFECYCLE_RESOURCE_TYPE, LifecycleName, RegisteredService } from '../../src/shared/contract';

const STACK_ID = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/S/1a2b3c4d-5e6f-7a8b-9c0d-112233445566';

/** A registered name as CloudFormation passes it: every value a string. */
function cfnName(s: RegisteredService, writeGroup?: number): Record<string, string> {
  return {
    hostedZoneId: s.hostedZoneId, fqdn: s.fqdn, serviceName: s.serviceName, ...(writeGroup !== undefined ? { writeGroup: String(writeGroup) } : {}),
  };
}

function nameOf(s: RegisteredService, writeGroup?: number): LifecycleName {
  return { hostedZoneId: s.hostedZoneId, fqdn: s.fqdn, serviceName: s.serviceName, ...(writeGroup !== undefined ? { writeGroup } : {}) };
}

function request(over: Partial<CfnRequest> & Pick<CfnRequest, 'RequestType'>): CfnRequest {
  return {
    ResponseURL: 'https://cloudformation-custom-resource-response.example/abc',
    StackId: STACK_ID,
    RequestId: 'req-1',
    LogicalResourceId: 'DiscoveryLifecycle',
    ResourceType: LIFECYCLE_RESOURCE_TYPE,
    ...over,
  };
}

interface Harness {
  readonly api: FakeDiscoveryApi;
  readonly deps: LifecycleDeps;
  readonly loadConfig: jest.Mock<Promise<DiscoveryConfig>, []>;
  logs(): Array<Record<string, unknown>>;
}

function harness(config: DiscoveryConfig = { clusterArn: CLUSTER_ARN, services: [] }): Harness {
  const api = new FakeDiscoveryApi();
  const lines: string[] = [];
  const loadConfig = jest.fn(async () => config);
  return {
    api,
    loadConfig,
    deps: { api, log: new Logger(l => lines.push(l)), metrics: new Metrics('Test', 'fn'), loadConfig },
    logs: () => lines.map(l => JSON.parse(l)),
  };
}

const TXT_AT_MC: RecordSet = { Name: MC.fqdn, Type: 'TXT', TTL: 300, ResourceRecords: [{ Value: '"v=spf1 -all"' }] };
const OWNED_ELSEWHERE: RecordSet = {
  Name: 'other.example.com.', Type: 'A', SetIdentifier: 't9', MultiValueAnswer: true, TTL: 60, ResourceRecords: [{ Value: '203.0.113.9' }],
};

describe('isCfnRequest', () => {
  const full = request({ RequestType: 'Create' });

  test('a CloudFormation request is recognised', () => {
    expect(isCfnRequest(full)).toBe(true);
  });

  test.each(['RequestType', 'ResponseURL', 'StackId', 'RequestId', 'LogicalResourceId'])('without %s it is not one', (key) => {
    const { [key as keyof CfnRequest]: _dropped, ...rest } = full;
    expect(isCfnRequest(rest)).toBe(false);
    expect(isCfnRequest({ ...full, [key]: 42 })).toBe(false);
  });

  test.each([
    ['null', null],
    ['a list', [full]],
    ['a string', 'Create'],
    ['an SQS batch', { Records: [{ eventSource: 'aws:sqs', body: '{}' }] }],
    ['the reconcile action', { action: 'reconcile' }],
  ])('%s is not one', (_what, event) => {
    expect(isCfnRequest(event)).toBe(false);
  });
});

describe('removedNames', () => {
  test('keeps the names of before that are not in after, compared by zone and record name, with their write group', () => {
    const before = [nameOf(MC), nameOf(WEB, 2), nameOf(API, 1)];
    // MC kept under another service name; WEB moved to another zone; API gone.
    const after = [{ ...nameOf(MC), serviceName: 'renamed-service' }, { ...nameOf(WEB), hostedZoneId: OTHER_ZONE }];
    expect(removedNames(before, after)).toEqual([nameOf(WEB, 2), nameOf(API, 1)]);
  });

  test('nothing is removed when every name is kept, whatever its write group now', () => {
    expect(removedNames([nameOf(MC, 1), nameOf(WEB)], [nameOf(WEB, 3), nameOf(MC)])).toEqual([]);
  });
});

describe('purgeFailureReason', () => {
  test('names every fqdn with its zone, the first reason and how to finish by hand', () => {
    const reason = purgeFailureReason('of this stack', {
      deleted: 1,
      failures: [
        { ...nameOf(MC), reason: 'ChangeResourceRecordSets failed: Throttling: Rate exceeded' },
        { ...nameOf(API), reason: 'second reason' },
        { ...nameOf(WEB), reason: 'third reason' },
      ],
    });
    expect(reason).toContain('could not delete the records of this stack (ChangeResourceRecordSets failed: Throttling: Rate exceeded)');
    expect(reason).toContain(`at mc.example.com., web.example.com. in hosted zone ${ZONE}; api.other.net. in hosted zone ${OTHER_ZONE} (`);
    expect(reason).toContain('Delete by hand the A records with a set identifier and multi-value answer routing');
    expect(reason).not.toContain('second reason');
  });

  test('without failures the reason says the error is unknown', () => {
    expect(purgeFailureReason('x', { deleted: 0, failures: [] })).toContain('(unknown error)');
  });
});

describe('purgeNames', () => {
  test('deletes only the owned records at the names', async () => {
    const h = harness();
    h.api.put(ZONE, ownedRecord(MC, 't1', '203.0.113.1'), ownedRecord(MC, 't2', '203.0.113.2'), TXT_AT_MC, simpleRecord(WEB), OWNED_ELSEWHERE);
    h.api.put(OTHER_ZONE, weightedRecord(API), ownedRecord(API, 't3', '203.0.113.3'));
    const summary = await purgeNames(h.deps, [nameOf(MC), nameOf(WEB), nameOf(API)]);
    expect(summary).toEqual({ deleted: 3, failures: [] });
    expect(h.api.records(ZONE)).toEqual([TXT_AT_MC, simpleRecord(WEB), OWNED_ELSEWHERE]);
    expect(h.api.records(OTHER_ZONE)).toEqual([weightedRecord(API)]);
    expect(h.deps.metrics.get('RecordsDeleted')).toBe(3);
  });

  test('a name given twice is listed once per pass', async () => {
    const h = harness();
    h.api.put(ZONE, ownedRecord(MC, 't1', '203.0.113.1'));
    const summary = await purgeNames(h.deps, [nameOf(MC), nameOf(MC, 1)]);
    expect(summary.deleted).toBe(1);
    // First pass, then the second listing that finds the name empty.
    expect(h.api.callsOf('listRecordsAt')).toEqual([[ZONE, MC.fqdn], [ZONE, MC.fqdn]]);
  });

  test('one ChangeResourceRecordSets per zone and write group', async () => {
    const h = harness();
    const other: RegisteredService = { ...MC, serviceName: 'other', name: 'other', fqdn: 'other.example.com.' };
    h.api.put(ZONE, ownedRecord(MC, 't1', '203.0.113.1'), ownedRecord(WEB, 't2', '203.0.113.2'), ownedRecord(other, 't4', '203.0.113.4'));
    h.api.put(OTHER_ZONE, ownedRecord(API, 't3', '203.0.113.3'));
    await purgeNames(h.deps, [nameOf(MC), nameOf(WEB, 1), nameOf(other), nameOf(API, 1)]);
    const batches = h.api.appliedBatches.map(b => [b.hostedZoneId, b.changes.map(c => `${c.action} ${c.record.SetIdentifier}`)]);
    expect(batches).toEqual([
      [ZONE, ['DELETE t1', 'DELETE t4']],
      [ZONE, ['DELETE t2']],
      [OTHER_ZONE, ['DELETE t3']],
    ]);
    expect(h.api.records(ZONE)).toEqual([]);
    expect(h.api.records(OTHER_ZONE)).toEqual([]);
  });

  test('the second pass deletes a record written between the first listing and the change', async () => {
    const h = harness();
    h.api.put(ZONE, ownedRecord(MC, 't1', '203.0.113.1'));
    h.api.beforeChange = () => {
      h.api.beforeChange = undefined;
      h.api.put(ZONE, ownedRecord(MC, 'late', '203.0.113.7'));
    };
    const summary = await purgeNames(h.deps, [nameOf(MC)]);
    expect(summary).toEqual({ deleted: 2, failures: [] });
    expect(h.api.records(ZONE)).toEqual([]);
    expect(h.api.appliedBatches.map(b => b.changes.map(c => c.record.SetIdentifier))).toEqual([['t1'], ['late']]);
  });

  test('a name without owned records is listed once and never changed', async () => {
    const h = harness();
    h.api.put(ZONE, simpleRecord(MC));
    const summary = await purgeNames(h.deps, [nameOf(MC)]);
    expect(summary).toEqual({ deleted: 0, failures: [] });
    expect(h.api.count('listRecordsAt')).toBe(1);
    expect(h.api.count('changeRecords')).toBe(0);
  });

  test('a change that keeps failing is reported per name with its write group', async () => {
    const h = harness();
    h.api.put(ZONE, ownedRecord(MC, 't1', '203.0.113.1'));
    h.api.failAlways('changeRecords', awsError('Throttling', 'Rate exceeded'));
    const summary = await purgeNames(h.deps, [nameOf(MC, 2)]);
    expect(summary).toEqual({
      deleted: 0,
      failures: [{ ...nameOf(MC, 2), reason: 'ChangeResourceRecordSets failed: Throttling: Rate exceeded' }],
    });
    expect(h.api.records(ZONE)).toEqual([ownedRecord(MC, 't1', '203.0.113.1')]);
    // The second pass reads the name again and tries once more: two failed changes.
    expect(h.api.count('listRecordsAt')).toBe(2);
    expect(h.deps.metrics.get('ChangesFailed')).toBe(2);
  });

  test('a DELETE refused because the record changed after it was read: the second pass reads it again and deletes it', async () => {
    const h = harness();
    h.api.put(ZONE, ownedRecord(MC, 't1', '203.0.113.1'));
    let moved = false;
    h.api.beforeChange = () => {
      if (!moved) {
        moved = true;
        h.api.zones.set(ZONE, [{ ...ownedRecord(MC, 't1', '203.0.113.1'), TTL: 30 }]);
      }
    };
    const summary = await purgeNames(h.deps, [nameOf(MC)]);
    expect(summary).toEqual({ deleted: 1, failures: [] });
    expect(h.api.records(ZONE)).toEqual([]);
  });

  test('a hosted zone deleted by hand: nothing is left to delete, so the purge succeeds instead of blocking the stack', async () => {
    const h = harness();
    h.api.failAlways('listRecordsAt', awsError('NoSuchHostedZone', `No hosted zone found with ID: ${ZONE}`));
    const summary = await purgeNames(h.deps, [nameOf(MC), nameOf(WEB)]);
    expect(summary).toEqual({ deleted: 0, failures: [] });
    expect(h.api.count('changeRecords')).toBe(0);
  });

  test('names not reached before the time runs out are reported, not skipped', async () => {
    const h = harness();
    h.api.put(ZONE, ownedRecord(MC, 't1', '203.0.113.1'));
    h.api.put(ZONE, ownedRecord(WEB, 't2', '203.0.113.2'));
    // Time runs out once the first name has been read.
    const summary = await purgeNames(h.deps, [nameOf(MC), nameOf(WEB)], { remainingMs: () => (h.api.count('listRecordsAt') >= 1 ? 5_000 : 60_000) });
    expect(summary.failures.map(f => [f.fqdn, f.reason])).toEqual([[WEB.fqdn, 'not reached before the function\'s time ran out']]);
    expect(summary.deleted).toBe(1);
  });

  test('many names in one zone: the zone is read page by page instead of name by name', async () => {
    const h = harness();
    const many = Array.from({ length: 12 }, (_, i) => ({ ...nameOf(MC), fqdn: `n${i}.example.com.` }));
    for (const [i, n] of many.entries()) {
      h.api.put(ZONE, { ...ownedRecord(MC, `t${i}`, `203.0.113.${i + 1}`), Name: n.fqdn });
    }
    h.api.put(ZONE, simpleRecord(WEB));
    const summary = await purgeNames(h.deps, many);
    expect(summary).toEqual({ deleted: 12, failures: [] });
    expect(h.api.count('listRecordsAt')).toBe(0);
    expect(h.api.count('listZoneRecords')).toBe(2);
    expect(h.api.records(ZONE)).toEqual([simpleRecord(WEB)]);
  });

  test('a listing that fails is reported, the other names are still purged', async () => {
    const h = harness();
    h.api.put(ZONE, ownedRecord(MC, 't1', '203.0.113.1'), ownedRecord(WEB, 't2', '203.0.113.2'));
    h.api.failAlways('listRecordsAt', awsError('AccessDenied', 'not allowed'), args => args[1] === MC.fqdn);
    const summary = await purgeNames(h.deps, [nameOf(MC), nameOf(WEB)]);
    expect(summary.deleted).toBe(1);
    expect(summary.failures).toEqual([{ ...nameOf(MC), reason: 'ListResourceRecordSets failed: AccessDenied: not allowed' }]);
    expect(h.api.records(ZONE, WEB.fqdn)).toEqual([]);
  });
});

describe('handleLifecycle', () => {
  describe('Delete', () => {
    test('purges the owned records at the names only and answers SUCCESS with the count', async () => {
      const h = harness();
      h.api.put(ZONE, ownedRecord(MC, 't1', '203.0.113.1'), ownedRecord(MC, 't2', '203.0.113.2'), TXT_AT_MC, simpleRecord(WEB), OWNED_ELSEWHERE);
      h.api.put(OTHER_ZONE, ownedRecord(API, 't3', '203.0.113.3'));
      const response = await handleLifecycle(request({
        RequestType: 'Delete', PhysicalResourceId: 'phys-1', ResourceProperties: { ServiceToken: 'arn:fn', Names: [cfnName(MC), cfnName(WEB, 1)] },
      }), h.deps);
      expect(response).toEqual({
        Status: 'SUCCESS', PhysicalResourceId: 'phys-1', StackId: STACK_ID, RequestId: 'req-1', LogicalResourceId: 'DiscoveryLifecycle', Data: { Deleted: '2' },
      });
      expect(h.api.records(ZONE)).toEqual([TXT_AT_MC, simpleRecord(WEB), OWNED_ELSEWHERE]);
      // API is not among the names: its record stays.
      expect(h.api.records(OTHER_ZONE)).toEqual([ownedRecord(API, 't3', '203.0.113.3')]);
      expect(h.loadConfig).not.toHaveBeenCalled();
    });

    test.each([
      ['no properties', undefined],
      ['no Names', { ServiceToken: 'arn:fn' }],
      ['Names not a list', { Names: 'mc.example.com.' }],
      ['a malformed name', { Names: [{ fqdn: 'MC.example.com' }] }],
    ])('%s: nothing is deleted and the answer is SUCCESS', async (_what, properties) => {
      const h = harness();
      h.api.put(ZONE, ownedRecord(MC, 't1', '203.0.113.1'));
      const response = await handleLifecycle(request({ RequestType: 'Delete', PhysicalResourceId: 'phys-1', ResourceProperties: properties }), h.deps);
      expect(response.Status).toBe('SUCCESS');
      expect(response.Data).toEqual({ Deleted: '0' });
      expect(h.api.count()).toBe(0);
      expect(h.api.records(ZONE)).toHaveLength(1);
      expect(h.logs()).toContainEqual(expect.objectContaining({ level: 'warn', message: expect.stringContaining('no readable list of names') }));
    });

    test('a purge whose change keeps failing answers FAILED naming each fqdn, its zone and what to do', async () => {
      const h = harness();
      h.api.put(ZONE, ownedRecord(MC, 't1', '203.0.113.1'));
      h.api.put(OTHER_ZONE, ownedRecord(API, 't3', '203.0.113.3'));
      h.api.failAlways('changeRecords', awsError('Throttling', 'Rate exceeded'));
      const response = await handleLifecycle(request({
        RequestType: 'Delete', PhysicalResourceId: 'phys-1', ResourceProperties: { Names: [cfnName(MC), cfnName(API)] },
      }), h.deps);
      expect(response.Status).toBe('FAILED');
      expect(response.PhysicalResourceId).toBe('phys-1');
      expect(response.Data).toBeUndefined();
      expect(response.Reason).toContain('of this stack before it is deleted');
      expect(response.Reason).toContain(`mc.example.com. in hosted zone ${ZONE}`);
      expect(response.Reason).toContain(`api.other.net. in hosted zone ${OTHER_ZONE}`);
      expect(response.Reason).toContain('Delete by hand');
      expect(response.Reason).toContain('Throttling: Rate exceeded');
      expect(h.api.records(ZONE)).toHaveLength(1);
      expect(h.logs()).toContainEqual(expect.objectContaining({ level: 'error', message: 'custom resource request failed', reason: response.Reason }));
    });

    test('the second pass deletes a record written while the first change was on its way', async () => {
      const h = harness();
      h.api.put(ZONE, ownedRecord(MC, 't1', '203.0.113.1'));
      h.api.beforeChange = () => {
        h.api.beforeChange = undefined;
        h.api.put(ZONE, ownedRecord(MC, 'late', '203.0.113.7'));
      };
      const response = await handleLifecycle(request({ RequestType: 'Delete', PhysicalResourceId: 'p', ResourceProperties: { Names: [cfnName(MC)] } }), h.deps);
      expect(response.Data).toEqual({ Deleted: '2' });
      expect(h.api.records(ZONE)).toEqual([]);
    });
  });

  describe('Update', () => {
    test('deletes the records of the removed names only, then reconciles, keeping the physical id', async () => {
      const config: DiscoveryConfig = { clusterArn: CLUSTER_ARN, services: [MC] };
      const h = harness(config);
      h.api.addTask('t5', { service: MC, ip: '203.0.113.5' });
      h.api.put(ZONE, ownedRecord(MC, 't1', '203.0.113.1'), ownedRecord(WEB, 't2', '203.0.113.2'));
      // Same fqdn as WEB, but another zone: a removed name too.
      const webElsewhere = { ...WEB, hostedZoneId: OTHER_ZONE };
      h.api.put(OTHER_ZONE, ownedRecord(webElsewhere, 't3', '203.0.113.3'));
      const response = await handleLifecycle(request({
        RequestType: 'Update',
        PhysicalResourceId: 'phys-kept',
        ResourceProperties: { Names: [cfnName(MC)] },
        OldResourceProperties: { Names: [cfnName(MC), cfnName(WEB), cfnName(webElsewhere)] },
      }), h.deps);
      expect(response).toEqual({
        Status: 'SUCCESS',
        PhysicalResourceId: 'phys-kept',
        StackId: STACK_ID,
        RequestId: 'req-1',
        LogicalResourceId: 'DiscoveryLifecycle',
        Data: { Deleted: '2', Upserted: '1', Removed: '1', Skipped: '0', FailedServices: '0' },
      });
      expect(h.loadConfig).toHaveBeenCalledTimes(1);
      expect(h.api.records(ZONE)).toEqual([ownedRecord(MC, 't5', '203.0.113.5')]);
      expect(h.api.records(OTHER_ZONE)).toEqual([]);
      // The purge is applied before the reconciliation reads the cluster.
      const methods = h.api.calls.map(c => c.method);
      expect(methods.indexOf('changeRecords')).toBeGreaterThanOrEqual(0);
      expect(methods.indexOf('changeRecords')).toBeLessThan(methods.indexOf('listServiceTasks'));
      expect(h.api.callsOf('listRecordsAt').slice(0, 2)).toEqual([[ZONE, WEB.fqdn], [OTHER_ZONE, WEB.fqdn]]);
    });

    test('names kept (by zone and fqdn) are not purged, whatever their service or write group', async () => {
      const h = harness();
      h.api.put(ZONE, ownedRecord(MC, 't1', '203.0.113.1'));
      const response = await handleLifecycle(request({
        RequestType: 'Update',
        PhysicalResourceId: 'p',
        ResourceProperties: { Names: [{ ...cfnName(MC, 2), serviceName: 'minecraft-v2' }] },
        OldResourceProperties: { Names: [cfnName(MC)] },
      }), h.deps);
      expect(response.Status).toBe('SUCCESS');
      expect(response.Data?.Deleted).toBe('0');
      expect(h.api.count('listRecordsAt')).toBe(0);
      expect(h.api.records(ZONE)).toHaveLength(1);
      expect(h.loadConfig).toHaveBeenCalledTimes(1);
    });

    test('removed names keep their write group: one change request per group', async () => {
      const h = harness();
      const other: RegisteredService = { ...MC, serviceName: 'other', name: 'other', fqdn: 'other.example.com.' };
      h.api.put(ZONE, ownedRecord(WEB, 't2', '203.0.113.2'), ownedRecord(other, 't4', '203.0.113.4'));
      const response = await handleLifecycle(request({
        RequestType: 'Update',
        PhysicalResourceId: 'p',
        ResourceProperties: { Names: [] },
        OldResourceProperties: { Names: [cfnName(WEB, 1), cfnName(other)] },
      }), h.deps);
      expect(response.Data?.Deleted).toBe('2');
      expect(h.api.appliedBatches.map(b => b.changes.map(c => c.record.SetIdentifier))).toEqual([['t2'], ['t4']]);
    });

    test('a purge that fails answers FAILED and does not reconcile', async () => {
      const h = harness();
      h.api.put(ZONE, ownedRecord(WEB, 't2', '203.0.113.2'));
      h.api.failAlways('changeRecords', awsError('ServiceUnavailable', 'try later', 503));
      const response = await handleLifecycle(request({
        RequestType: 'Update',
        PhysicalResourceId: 'phys-kept',
        ResourceProperties: { Names: [cfnName(MC)] },
        OldResourceProperties: { Names: [cfnName(MC), cfnName(WEB)] },
      }), h.deps);
      expect(response.Status).toBe('FAILED');
      expect(response.PhysicalResourceId).toBe('phys-kept');
      expect(response.Reason).toContain('of the names no longer registered');
      expect(response.Reason).toContain(`web.example.com. in hosted zone ${ZONE}`);
      expect(response.Reason).not.toContain('mc.example.com.');
      expect(response.Reason).toContain('Delete by hand');
      expect(h.loadConfig).not.toHaveBeenCalled();
      expect(h.api.count('listServiceTasks')).toBe(0);
    });

    test('unreadable old properties delete nothing and still reconcile', async () => {
      const h = harness();
      h.api.put(ZONE, ownedRecord(WEB, 't2', '203.0.113.2'));
      const response = await handleLifecycle(request({
        RequestType: 'Update', PhysicalResourceId: 'p', ResourceProperties: { Names: [cfnName(MC)] }, OldResourceProperties: { Names: 'garbage' },
      }), h.deps);
      expect(response.Status).toBe('SUCCESS');
      expect(response.Data?.Deleted).toBe('0');
      expect(h.api.records(ZONE)).toHaveLength(1);
      expect(h.loadConfig).toHaveBeenCalledTimes(1);
    });

    test('unreadable new properties answer FAILED naming the property', async () => {
      const h = harness();
      const response = await handleLifecycle(request({
        RequestType: 'Update', PhysicalResourceId: 'p', ResourceProperties: { Names: [{ ...cfnName(MC), writeGroup: 'two' }] }, OldResourceProperties: { Names: [] },
      }), h.deps);
      expect(response.Status).toBe('FAILED');
      expect(response.Reason).toMatch(/^Update of the EcsPublicDiscovery records failed: ConfigError: ResourceProperties\.Names\[0\]\.writeGroup must be a whole number/);
      expect(h.loadConfig).not.toHaveBeenCalled();
    });
  });

  describe('Create', () => {
    test('reconciles and answers SUCCESS with a physical id derived from the logical id and the stack', async () => {
      const config: DiscoveryConfig = { clusterArn: CLUSTER_ARN, services: [MC] };
      const h = harness(config);
      h.api.addTask('t1', { service: MC, ip: '203.0.113.1' });
      const response = await handleLifecycle(request({ RequestType: 'Create', ResourceProperties: { Names: [cfnName(MC)] } }), h.deps);
      expect(response).toEqual({
        Status: 'SUCCESS',
        PhysicalResourceId: 'DiscoveryLifecycle-1a2b3c4d',
        StackId: STACK_ID,
        RequestId: 'req-1',
        LogicalResourceId: 'DiscoveryLifecycle',
        Data: { Deleted: '0', Upserted: '1', Removed: '0', Skipped: '0', FailedServices: '0' },
      });
      expect(h.api.addresses(ZONE, MC.fqdn)).toEqual({ t1: '203.0.113.1' });
      expect(h.loadConfig).toHaveBeenCalledTimes(1);
    });

    test('a configuration that cannot be loaded does not fail the deployment', async () => {
      const h = harness();
      h.loadConfig.mockRejectedValue(new ConfigError('SSM parameter /x does not exist'));
      const response = await handleLifecycle(request({ RequestType: 'Create', ResourceProperties: { Names: [cfnName(MC)] } }), h.deps);
      expect(response.Status).toBe('SUCCESS');
      expect(response.Reason).toBeUndefined();
      expect(response.Data).toEqual({ Deleted: '0', ReconcileError: 'ConfigError' });
      expect(h.logs()).toContainEqual(expect.objectContaining({
        level: 'error', error: 'ConfigError', detail: 'SSM parameter /x does not exist', requestType: 'Create',
      }));
    });

    test('a service that cannot be reconciled is counted, the answer is still SUCCESS', async () => {
      const h = harness({ clusterArn: CLUSTER_ARN, services: [MC] });
      h.api.failAlways('listServiceTasks', awsError('AccessDeniedException'));
      const response = await handleLifecycle(request({ RequestType: 'Create', ResourceProperties: { Names: [cfnName(MC)] } }), h.deps);
      expect(response.Status).toBe('SUCCESS');
      expect(response.Data).toEqual({ Deleted: '0', Upserted: '0', Removed: '0', Skipped: '0', FailedServices: '1' });
    });

    test('the time left is passed to the reconciliation: services it cannot reach are counted as skipped', async () => {
      const h = harness({ clusterArn: CLUSTER_ARN, services: [MC, WEB] });
      h.api.addTask('t1', { service: MC, ip: '203.0.113.1' });
      const response = await handleLifecycle(request({ RequestType: 'Create', ResourceProperties: { Names: [cfnName(MC), cfnName(WEB)] } }), {
        ...h.deps, remainingMs: () => 1_000,
      });
      expect(response.Status).toBe('SUCCESS');
      expect(response.Data).toEqual({ Deleted: '0', Upserted: '0', Removed: '0', Skipped: '2', FailedServices: '0' });
      expect(h.api.count('listServiceTasks')).toBe(0);
    });

    test('Create never purges, even with old properties', async () => {
      const h = harness();
      h.api.put(ZONE, ownedRecord(WEB, 't2', '203.0.113.2'));
      const response = await handleLifecycle(request({
        RequestType: 'Create', ResourceProperties: { Names: [cfnName(MC)] }, OldResourceProperties: { Names: [cfnName(WEB)] },
      }), h.deps);
      expect(response.Status).toBe('SUCCESS');
      expect(h.api.records(ZONE)).toHaveLength(1);
      expect(h.api.count('changeRecords')).toBe(0);
    });
  });

  test.each(['Create', 'Update', 'Delete'] as const)('%s of another resource type answers FAILED and touches nothing', async (type) => {
    const h = harness();
    h.api.put(ZONE, ownedRecord(MC, 't1', '203.0.113.1'));
    const response = await handleLifecycle(request({
      RequestType: type, ResourceType: 'Custom::Other', PhysicalResourceId: 'p', ResourceProperties: { Names: [cfnName(MC)] }, OldResourceProperties: { Names: [cfnName(MC)] },
    }), h.deps);
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toBe('the discovery function serves only Custom::EcsPublicDiscovery, not Custom::Other');
    expect(h.api.count()).toBe(0);
    expect(h.loadConfig).not.toHaveBeenCalled();
  });
});

test('removedNames: a zone id with or without its /hostedzone/ prefix is the same zone', () => {
  const bare = nameOf(MC);
  const prefixed = { ...bare, hostedZoneId: `/hostedzone/${bare.hostedZoneId}` };
  expect(removedNames([bare], [prefixed])).toEqual([]);
  expect(removedNames([prefixed], [bare])).toEqual([]);
});

describe('handleLifecycle answers before its time runs out, whatever the work is doing', () => {
  const never = () => new Promise<never>(() => undefined);

  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  /** Runs the request with 30 s of time, on a fake clock moved past them; returns the answer and when it came. */
  async function within30s(h: Harness, req: CfnRequest): Promise<{ response: CfnResponseBody; afterMs: number }> {
    const started = Date.now();
    let answeredAt = -1;
    const pending = handleLifecycle(req, { ...h.deps, remainingMs: () => 30_000 - (Date.now() - started) })
      .then(r => { answeredAt = Date.now() - started; return r; });
    await jest.advanceTimersByTimeAsync(31_000);
    return { response: await pending, afterMs: answeredAt };
  }

  test('a purge stuck in a call that never returns: FAILED when the time is up, saying the deletion is safe to repeat', async () => {
    const h = harness();
    h.api.listRecordsAt = never;
    const { response, afterMs } = await within30s(h, request({ RequestType: 'Delete', ResourceProperties: { Names: [cfnName(MC)] } }));
    expect(afterMs).toBeGreaterThan(0);
    expect(afterMs).toBeLessThanOrEqual(30_000);
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toMatch(/time ran out .* safe to repeat/);
  });

  test('a reconciliation stuck after the deployment: SUCCESS, the schedule repairs what it did not reach', async () => {
    const h = harness({ clusterArn: CLUSTER_ARN, services: [MC] });
    h.api.listRecordsAt = never;
    const { response, afterMs } = await within30s(h, request({ RequestType: 'Create', ResourceProperties: { Names: [cfnName(MC)] } }));
    expect(afterMs).toBeLessThanOrEqual(30_000);
    expect(response).toMatchObject({ Status: 'SUCCESS', Data: { Deleted: '0', ReconcileError: 'Timeout' } });
  });
});

describe('purgeNames with a settle time', () => {
  test('waits until then, then reads every name again, also those that had no record', async () => {
    const h = harness();
    h.api.put(ZONE, ownedRecord(MC, 't1', '203.0.113.1'));
    const waits: number[] = [];
    const summary = await purgeNames(h.deps, [nameOf(MC), nameOf(WEB)], {
      settleUntil: Date.now() + 70_000,
      sleep: async (ms) => {
        waits.push(ms);
        // An event invocation still running writes a record at a name that had none.
        h.api.put(ZONE, ownedRecord(WEB, 't2', '203.0.113.2'));
      },
    });
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThan(69_000);
    expect(h.api.count('listRecordsAt')).toBe(4);
    expect(summary).toEqual({ deleted: 2, failures: [] });
    expect(h.api.records(ZONE)).toEqual([]);
  });

  test('a wait longer than the time left is cut short, with a warning, keeping time for the second reading', async () => {
    const h = harness();
    h.api.put(ZONE, ownedRecord(MC, 't1', '203.0.113.1'));
    const waits: number[] = [];
    await purgeNames(h.deps, [nameOf(MC)], {
      settleUntil: Date.now() + 70_000,
      remainingMs: () => 40_000,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    // 40 s left, 10 s kept for the answer and 10 s for the second reading.
    expect(waits).toEqual([20_000]);
    expect(h.logs().some(l => l.message === 'too little time to wait for running event invocations before reading the names again')).toBe(true);
  });
});
