/**
 * The SDK adapter's health check calls (src/lambda/aws.ts): request shapes, paging, chunking, retries and the
 * errors that only mean "already so", with real SDK clients mocked by aws-sdk-client-mock.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import {
  ChangeTagsForResourceCommand, CreateHealthCheckCommand, DeleteHealthCheckCommand, ListHealthChecksCommand, ListTagsForResourcesCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { awsError } from './fake-api';
import { HEALTH_CHECKS_PAGE_SIZE, SdkDiscoveryApi, TAGS_RESOURCES_LIMIT } from '../../src/lambda/aws';
import { RetryPolicy } from '../../src/lambda/retry';

function setup() {
  const route53 = new Route53Client({ region: 'us-east-1' });
  const sdk = mockClient(route53);
  const retry: RetryPolicy = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1, random: () => 0, sleep: async () => undefined };
  const api = new SdkDiscoveryApi({ ecs: new ECSClient({ region: 'eu-west-1' }), ec2: new EC2Client({ region: 'eu-west-1' }), route53 }, retry);
  return { sdk, api };
}

const inputs = (sdk: ReturnType<typeof mockClient>, command: any) => sdk.commandCalls(command).map(c => c.args[0].input);

test('createHealthCheck sends the reference and the settings, and returns the id; TCP sends no path', async () => {
  const { sdk, api } = setup();
  sdk.on(CreateHealthCheckCommand).resolves({ HealthCheck: { Id: 'hc-1', CallerReference: 'r', HealthCheckConfig: { Type: 'HTTP' }, HealthCheckVersion: 1 } });
  await expect(api.createHealthCheck({
    callerReference: 'r', type: 'HTTP', ipAddress: '203.0.113.1', port: 8080, path: '/h', intervalSeconds: 10, failureThreshold: 2,
  })).resolves.toBe('hc-1');
  await api.createHealthCheck({ callerReference: 'r2', type: 'TCP', ipAddress: '2001:db8::1', port: 25565, intervalSeconds: 30, failureThreshold: 3 });
  expect(inputs(sdk, CreateHealthCheckCommand)).toEqual([
    {
      CallerReference: 'r',
      HealthCheckConfig: { Type: 'HTTP', IPAddress: '203.0.113.1', Port: 8080, ResourcePath: '/h', RequestInterval: 10, FailureThreshold: 2 },
    },
    { CallerReference: 'r2', HealthCheckConfig: { Type: 'TCP', IPAddress: '2001:db8::1', Port: 25565, RequestInterval: 30, FailureThreshold: 3 } },
  ]);
});

test('createHealthCheck retries throttling and passes HealthCheckAlreadyExists and TooManyHealthChecks through by name', async () => {
  const { sdk, api } = setup();
  const spec = { callerReference: 'r', type: 'TCP' as const, ipAddress: '203.0.113.1', port: 80, intervalSeconds: 30, failureThreshold: 3 };
  sdk.on(CreateHealthCheckCommand)
    .rejectsOnce(awsError('Throttling', 'Rate exceeded'))
    .resolvesOnce({ HealthCheck: { Id: 'hc-1', CallerReference: 'r', HealthCheckConfig: { Type: 'TCP' }, HealthCheckVersion: 1 } })
    .rejectsOnce(awsError('HealthCheckAlreadyExists', 'exists', 409))
    .rejectsOnce(awsError('TooManyHealthChecks', 'too many'));
  await expect(api.createHealthCheck(spec)).resolves.toBe('hc-1');
  await expect(api.createHealthCheck(spec)).rejects.toMatchObject({ name: 'HealthCheckAlreadyExists' });
  await expect(api.createHealthCheck(spec)).rejects.toMatchObject({ name: 'TooManyHealthChecks' });
  expect(sdk.commandCalls(CreateHealthCheckCommand)).toHaveLength(4);
});

test('tagHealthCheck adds the tags to the health check', async () => {
  const { sdk, api } = setup();
  sdk.on(ChangeTagsForResourceCommand).resolves({});
  await api.tagHealthCheck('hc-1', { a: '1', b: '2' });
  expect(inputs(sdk, ChangeTagsForResourceCommand)).toEqual([
    { ResourceType: 'healthcheck', ResourceId: 'hc-1', AddTags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }] },
  ]);
});

test('listHealthChecks follows NextMarker, 1000 a page', async () => {
  const { sdk, api } = setup();
  const hc = (id: string) => ({ Id: id, CallerReference: `ref-${id}`, HealthCheckConfig: { Type: 'TCP' as const }, HealthCheckVersion: 1 });
  sdk.on(ListHealthChecksCommand)
    .resolvesOnce({ HealthChecks: [hc('a'), hc('b')], IsTruncated: true, NextMarker: 'm2', Marker: '', MaxItems: 1000 })
    .resolvesOnce({ HealthChecks: [hc('c')], IsTruncated: false, Marker: 'm2', MaxItems: 1000 });
  await expect(api.listHealthChecks()).resolves.toEqual([
    { id: 'a', callerReference: 'ref-a' }, { id: 'b', callerReference: 'ref-b' }, { id: 'c', callerReference: 'ref-c' },
  ]);
  expect(inputs(sdk, ListHealthChecksCommand)).toEqual([
    { Marker: undefined, MaxItems: HEALTH_CHECKS_PAGE_SIZE }, { Marker: 'm2', MaxItems: HEALTH_CHECKS_PAGE_SIZE },
  ]);
});

test('listHealthCheckTags asks for 10 ids a request and maps the tags by id', async () => {
  const { sdk, api } = setup();
  sdk.on(ListTagsForResourcesCommand).callsFake(input => ({
    ResourceTagSets: input.ResourceIds.map((id: string) => ({ ResourceType: 'healthcheck', ResourceId: id, Tags: [{ Key: 'k', Value: id }] })),
  }));
  const ids = Array.from({ length: 23 }, (_, i) => `hc-${i}`);
  const tags = await api.listHealthCheckTags(ids);
  expect(tags.size).toBe(23);
  expect(tags.get('hc-22')).toEqual({ k: 'hc-22' });
  expect(inputs(sdk, ListTagsForResourcesCommand).map(i => i.ResourceIds.length)).toEqual([TAGS_RESOURCES_LIMIT, TAGS_RESOURCES_LIMIT, 3]);
  expect(inputs(sdk, ListTagsForResourcesCommand)[0].ResourceType).toBe('healthcheck');
});

test('deleteHealthCheck: a check already gone counts as deleted; another error is thrown', async () => {
  const { sdk, api } = setup();
  sdk.on(DeleteHealthCheckCommand)
    .resolvesOnce({})
    .rejectsOnce(awsError('NoSuchHealthCheck', 'gone', 404))
    .rejectsOnce(awsError('AccessDenied', 'no', 403));
  await expect(api.deleteHealthCheck('hc-1')).resolves.toBeUndefined();
  await expect(api.deleteHealthCheck('hc-2')).resolves.toBeUndefined();
  await expect(api.deleteHealthCheck('hc-3')).rejects.toMatchObject({ name: 'AccessDenied' });
  expect(inputs(sdk, DeleteHealthCheckCommand)).toEqual([{ HealthCheckId: 'hc-1' }, { HealthCheckId: 'hc-2' }, { HealthCheckId: 'hc-3' }]);
});
