/**
 * End-to-end: Route53 health checks with health gating. The Web service is published only while ECS reports
 * its tasks HEALTHY (`publishWhenHealthy`) and each task gets a Route53 TCP check: a task that turns UNHEALTHY
 * loses its record and then its check; when it turns HEALTHY again it gets a new check, under the next generation
 * of its caller reference, since Route53 never accepts the reference of a deleted check again (moto does; the
 * proxy plays Route53's rule, see `route53HealthChecks` in emulator/moto-gaps.ts).
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

test('HEALTHY: check and record; UNHEALTHY: record, then check, gone; HEALTHY again: a new check (next generation); stop: all gone', async () => {
  let t = await e2e.world.startTask(e2e.web.serviceName);
  t = health(t, 'HEALTHY');
  expectAcknowledged(await e2e.deliver([running(t)]));
  const [first] = await checks();
  expect(first.CallerReference).toMatch(new RegExp(`-${t.taskId}-[0-9a-f]{8}-0$`));
  expect(first.HealthCheckConfig).toMatchObject({ Type: 'TCP', Port: 80, IPAddress: t.publicIp, RequestInterval: 30, FailureThreshold: 3 });
  expect(await webRecords(t)).toEqual([expect.objectContaining({ HealthCheckId: first.Id })]);

  t = health(t, 'UNHEALTHY');
  expectAcknowledged(await e2e.deliver([healthChanged(t, 5)]));
  expect(await webRecords(t)).toEqual([]);
  expect(await checks()).toEqual([]);

  t = health(t, 'HEALTHY');
  const back = await e2e.deliver([healthChanged(t, 6)]);
  expectAcknowledged(back);
  const [second] = await checks();
  expect(second.Id).not.toBe(first.Id);
  expect(second.CallerReference).toBe(first.CallerReference!.replace(/-0$/, '-1'));
  expect(await webRecords(t)).toEqual([expect.objectContaining({ HealthCheckId: second.Id })]);
  // The deleted reference was refused once, then the listing showed no check of the task to reuse.
  expect(e2e.proxy.calls().filter((c) => c.action === 'CreateHealthCheck').map((c) => c.status)).toEqual([409, 201]);

  await e2e.world.stopTask(t);
  expectAcknowledged(await e2e.deliver(stopSequence(t)));
  expect(await webRecords(t)).toEqual([]);
  expect(await checks()).toEqual([]);
});
