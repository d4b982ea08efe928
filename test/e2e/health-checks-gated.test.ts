/**
 * End-to-end: Route53 health checks with health gating. The Web service is published only while ECS reports
 * its tasks HEALTHY (`publishWhenHealthy`) and each task gets a Route53 TCP check: a task that turns UNHEALTHY
 * loses its record but keeps its check while it runs, and gets the same check back when it turns HEALTHY again:
 * Route53 refuses the reference of a deleted check for days (moto does not; the proxy plays Route53's rule, see
 * `route53HealthChecks` in emulator/moto-gaps.ts), so a check deleted at every flap would use references up.
 */
import { ListHealthChecksCommand, Route53Client } from '@aws-sdk/client-route-53';
import { healthChanged, running, stopSequence } from '../../emulator/events';
import { buildExampleStack, templateOf } from '../../emulator/example-app';
import type { TaskInfo } from '../../emulator/world';
import { expectAcknowledged } from '../support/assertions';
import { useE2e } from '../support/e2e';

const synthesize = () => templateOf(buildExampleStack({ publishWhenHealthy: { Web: true }, healthChecks: { Web: {} } }).stack);
const e2e = useE2e({ synthesize });

let route53: Route53Client;
beforeAll(() => {
  route53 = new Route53Client({
    endpoint: e2e.moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1,
  });
});
afterAll(() => route53.destroy());

const checks = async () => (await route53.send(new ListHealthChecksCommand({}))).HealthChecks ?? [];
const health = (t: TaskInfo, status: 'HEALTHY' | 'UNHEALTHY') => e2e.world.setHealth(t, status, e2e.proxy);
const webRecords = async (t: TaskInfo) => (await e2e.records()).filter((r) => r.Name === e2e.web.fqdn && r.SetIdentifier === t.taskId);

test('HEALTHY: check and record; UNHEALTHY: record gone, check kept; HEALTHY again (12 flaps): the same check; stop: all gone', async () => {
  let t = await e2e.world.startTask(e2e.web.serviceName);
  t = health(t, 'HEALTHY');
  expectAcknowledged(await e2e.deliver([running(t)]));
  const [first] = await checks();
  expect(first.CallerReference).toMatch(new RegExp(`-${t.taskId}-[0-9a-f]{6}-0$`));
  expect(first.HealthCheckConfig).toMatchObject({ Type: 'TCP', Port: 80, IPAddress: t.publicIp, RequestInterval: 30, FailureThreshold: 3 });
  expect(await webRecords(t)).toEqual([expect.objectContaining({ HealthCheckId: first.Id })]);

  let version = 5;
  const creations: Array<number | undefined> = [];
  for (let flap = 0; flap < 12; flap++) {
    t = health(t, 'UNHEALTHY');
    expectAcknowledged(await e2e.deliver([healthChanged(t, version++)]));
    expect(await webRecords(t)).toEqual([]);
    expect((await checks()).map((c) => c.Id)).toEqual([first.Id]);

    t = health(t, 'HEALTHY');
    expectAcknowledged(await e2e.deliver([healthChanged(t, version++)]));
    expect(await webRecords(t)).toEqual([expect.objectContaining({ HealthCheckId: first.Id })]);
    creations.push(...e2e.proxy.calls().filter((c) => c.action === 'CreateHealthCheck').map((c) => c.status));
    expect(e2e.proxy.count('route53', 'DeleteHealthCheck')).toBe(0);
  }
  // Every publication asked for the task's reference and got the same check back: none refused, none deleted.
  expect(creations).toEqual(Array(12).fill(201));

  await e2e.world.stopTask(t);
  expectAcknowledged(await e2e.deliver(stopSequence(t)));
  expect(await webRecords(t)).toEqual([]);
  expect(await checks()).toEqual([]);
});

test('a task that stops while unpublished (UNHEALTHY) keeps no record; the reconciler deletes its check', async () => {
  let t = await e2e.world.startTask(e2e.web.serviceName);
  t = health(t, 'HEALTHY');
  expectAcknowledged(await e2e.deliver([running(t)]));
  t = health(t, 'UNHEALTHY');
  expectAcknowledged(await e2e.deliver([healthChanged(t, 5)]));
  expect(await checks()).toHaveLength(1);
  await e2e.world.stopTask(t);
  expectAcknowledged(await e2e.deliver(stopSequence(t)));
  const inv = await e2e.reconcile();
  expect(inv.result).toMatchObject({ healthChecksDeleted: 1 });
  expect(await checks()).toEqual([]);
});
