/**
 * End-to-end: a service deleted outside the stack. ECS answers ListTasks for it with
 * `ServiceNotFoundException` (the proxy does, where moto cannot); the reconciler reads that as a service
 * with no tasks and deletes the records it owns at the service's name, and nothing else.
 */
import { logsWith, metricsOf } from '../../emulator/handler';
import { expectZone } from '../support/assertions';
import { useE2e } from '../support/e2e';

const e2e = useE2e();

test('a service deleted outside the stack: the reconciler deletes its records, leaves everything else, and does not fail', async () => {
  const web = await e2e.startAndPublish(e2e.web, 2);
  const api = await e2e.startAndPublish(e2e.api, 1);
  // A record someone else keeps at the same name must survive.
  await e2e.world.putRecords([{ Name: e2e.web.fqdn, Type: 'TXT', TTL: 300, ResourceRecords: [{ Value: '"site-verification=abc"' }] }]);
  const unowned = await e2e.unownedSnapshot();
  // The service is deleted (its tasks stop) and the stop events never reach the function.
  await e2e.world.stopTasks(web);
  e2e.proxy.deleteService(e2e.web.serviceName);

  const inv = await e2e.reconcile();
  expect(inv.error).toBeUndefined();
  expect(inv.result).toEqual({ services: 3, skipped: 0, upserted: 0, deleted: 2, failed: 0, failedServices: [] });
  await expectZone(e2e, { api }, unowned);
  expect(e2e.proxy.calls().filter((c) => c.action === 'ListTasks').map((c) => c.status).sort()).toEqual([200, 200, 400]);
  expect(logsWith(inv.logs, { level: 'warn', service: e2e.web.serviceName, error: 'ServiceNotFoundException', message: /does not know the service/ })).toHaveLength(1);
  expect(logsWith(inv.logs, { level: 'error' })).toEqual([]);
  for (const t of web) {
    expect(logsWith(inv.logs, { taskId: t.taskId, action: 'DELETE', outcome: 'applied' })).toHaveLength(1);
  }
  expect(metricsOf(inv.logs)).toMatchObject({ RecordsDeleted: 2, DriftRepaired: 2, ChangesFailed: 0 });

  // Later runs find nothing left to delete and keep succeeding.
  const again = await e2e.reconcile();
  expect(again.error).toBeUndefined();
  expect(again.result).toEqual({ services: 3, skipped: 0, upserted: 0, deleted: 0, failed: 0, failedServices: [] });
  await expectZone(e2e, { api }, unowned);
});

test('ServiceNotFoundException while the service\'s tasks still run (a forced delete): read as no tasks, their records go', async () => {
  await e2e.startAndPublish(e2e.web, 1);
  const play = await e2e.startAndPublish(e2e.play, 1);
  e2e.proxy.deleteService(e2e.web.serviceName);
  const inv = await e2e.reconcile();
  expect(inv.error).toBeUndefined();
  expect(inv.result).toEqual({ services: 3, skipped: 0, upserted: 0, deleted: 1, failed: 0, failedServices: [] });
  await expectZone(e2e, { play }, e2e.baseline);
});
