/**
 * `npm run demo`: the product, run locally against an AWS API emulator (moto, on 127.0.0.1 only).
 *
 * 1. Synthesizes the example app and summarises what EcsPublicDiscovery would deploy.
 * 2. "Deploys" it into the emulator: a cluster, a hosted zone, the handler configured from the template.
 * 3. Scales a service 0 → 3 → 1 → 0: tasks are created in the emulator, their ECS Task State Change
 *    events are built and delivered as SQS batches to the bundled handler (the file the package ships),
 *    and the DNS answers for the name are printed after each step.
 *
 * Nothing reaches AWS: every endpoint is a loopback address. Exits 0 when every step gave the
 * expected answers, 1 (with the reason) otherwise; the emulator is stopped either way.
 */
import { ResourceRecordSet } from '@aws-sdk/client-route-53';
import { lifecycleRequest, lifecycleResource, ResponseCatcher } from '../emulator/cloudformation';
import { running, sqsBatch, stopRequested, stopped, TaskEventOptions } from '../emulator/events';
import { buildExampleStack, CfnResourceJson, CfnTemplate, ExampleRegistration, templateOf } from '../emulator/example-app';
import { handlerEnv, HandlerProcess, LogLine, startHandlerProcess } from '../emulator/handler';
import { MotoServer, startMoto } from '../emulator/moto';
import { AwsProxy } from '../emulator/proxy';
import { neighbourRecords, notOwned, ownedAt, snapshot } from '../emulator/records';
import { DeployedWorld, handlerEnvironment } from '../emulator/template-config';
import { TaskInfo, World } from '../emulator/world';
import type { RegisteredService } from '../src/shared/contract';

/** The example app's service the demo scales. */
const DEMO_SERVICE = 'game';
/** The ECS service names the emulator gives the example's services whose names CloudFormation generates (by construct id). */
const SERVICE_NAMES: Record<string, string> = { Web: 'web', Game: DEMO_SERVICE };
const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const bold = (s: string) => (useColor ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (useColor ? `\x1b[2m${s}\x1b[0m` : s);

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

function heading(text: string): void {
  say();
  say(bold(text));
  say(bold('─'.repeat(Math.min(text.length, 100))));
}

// ---------------------------------------------------------------------------------------------
// What the example app deploys, read from its synthesized template
// ---------------------------------------------------------------------------------------------

/** The construct path without the stack name and the trailing `/Resource`. */
function pathOf(r: CfnResourceJson): string {
  const p = r.Metadata?.['aws:cdk:path'];
  return typeof p === 'string' ? p.split('/').slice(1).join('/').replace(/\/Resource$/, '') : '?';
}

/** Intrinsics as short readable placeholders: `{Fn::GetAtt: [Cluster1234, Arn]}` → `<Cluster.Arn>`. */
function readable(value: unknown, names: Record<string, string>): unknown {
  if (Array.isArray(value)) {
    return value.map((v) => readable(v, names));
  }
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if ('Ref' in o) {
      const ref = String(o.Ref);
      return ref.startsWith('AWS::') ? `<${ref.slice(5)}>` : `<${names[ref] ?? ref}>`;
    }
    if ('Fn::GetAtt' in o) {
      const [id, attr] = o['Fn::GetAtt'] as [string, string];
      return `<${names[id] ?? id}.${attr}>`;
    }
    if ('Fn::Join' in o) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map((p) => readable(p, names)).join(sep);
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, readable(v, names)]));
  }
  return value;
}

function summarizeTemplate(template: CfnTemplate, registrations: readonly ExampleRegistration[]): void {
  const names = Object.fromEntries(Object.entries(template.Resources).map(([id, r]) => [id, pathOf(r)]));
  const own = Object.entries(template.Resources).filter(([, r]) => pathOf(r).startsWith('Discovery/'));
  heading('1. What the example app deploys (from its synthesized CloudFormation template)');
  say('The example app (emulator/example-app.ts) is a VPC with public subnets, an ECS cluster, the public hosted');
  say(`zone example.com and ${registrations.length} Fargate services registered with EcsPublicDiscovery:`);
  for (const r of registrations) {
    say(`  ECS service "${r.serviceName ?? SERVICE_NAMES[r.id]}" → ${r.fqdn} (TTL ${r.ttl} s${r.ttlTagged ? ', given as dnsTtl' : ', the default'})`);
  }
  say();
  say(`EcsPublicDiscovery adds ${own.length} resources:`);
  const byType = new Map<string, number>();
  own.forEach(([, r]) => byType.set(r.Type, (byType.get(r.Type) ?? 0) + 1));
  for (const [type, n] of [...byType.entries()].sort()) {
    say(`  ${type.padEnd(36)} ×${n}`);
  }

  const rule = own.find(([, r]) => r.Type === 'AWS::Events::Rule' && r.Properties?.EventPattern);
  if (rule) {
    say();
    say('The EventBridge rule forwards these events to the queue:');
    const pattern = JSON.stringify(readable(rule[1].Properties!.EventPattern, names), null, 2);
    pattern.split('\n').forEach((l) => say(`  ${l}`));
  }
  const schedule = own.find(([, r]) => r.Type === 'AWS::Events::Rule' && r.Properties?.ScheduleExpression);
  if (schedule) {
    say(`A schedule (${String(schedule[1].Properties!.ScheduleExpression)}) invokes the function with {"action": "reconcile"}.`);
  }
  const mapping = own.find(([, r]) => r.Type === 'AWS::Lambda::EventSourceMapping');
  if (mapping) {
    type Mapping = { BatchSize?: number; MaximumBatchingWindowInSeconds?: number; ScalingConfig?: { MaximumConcurrency?: number } };
    const p = mapping[1].Properties as Mapping;
    say(`The queue invokes the function with batches of up to ${p.BatchSize} messages, gathered for ${p.MaximumBatchingWindowInSeconds} s, `
      + `at most ${p.ScalingConfig?.MaximumConcurrency} at a time.`);
  }

  say();
  say('The function\'s role may do exactly this:');
  // The default policy holds the reads; the Route53 writes are in customer managed policies of their own.
  for (const [, r] of own.filter(([, x]) => x.Type === 'AWS::IAM::Policy' || x.Type === 'AWS::IAM::ManagedPolicy')) {
    const doc = r.Properties?.PolicyDocument as { Statement?: Array<Record<string, unknown>> } | undefined;
    for (const st of doc?.Statement ?? []) {
      const actions = ([] as unknown[]).concat(st.Action ?? []).join(', ');
      const resources = ([] as unknown[]).concat(readable(st.Resource ?? [], names)).join(', ');
      say(`  ${String(st.Sid ?? '-').padEnd(26)} ${st.Effect} ${actions}`);
      say(dim(`  ${''.padEnd(26)} on ${resources}`));
      if (st.Condition) {
        for (const [op, cond] of Object.entries(readable(st.Condition, names) as Record<string, Record<string, unknown>>)) {
          for (const [key, val] of Object.entries(cond)) {
            say(dim(`  ${''.padEnd(26)} if ${op} ${key} = ${JSON.stringify(val)}`));
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The scaling story
// ---------------------------------------------------------------------------------------------

interface Demo {
  readonly template: CfnTemplate;
  readonly world: World;
  readonly proxy: AwsProxy;
  readonly handler: HandlerProcess;
  readonly env: Record<string, string>;
  readonly service: RegisteredService;
  readonly deployed: DeployedWorld;
}

function answerTable(records: ResourceRecordSet[]): string[] {
  if (records.length === 0) {
    return ['  (no A records: the name does not resolve)'];
  }
  const rows = records.map((r) => [r.Name ?? '', (r.ResourceRecords ?? []).map((v) => v.Value).join(','), String(r.TTL ?? ''), r.SetIdentifier ?? '']);
  const head = ['NAME', 'ADDRESS', 'TTL', 'SET IDENTIFIER (task id)'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (cells: string[]) => '  ' + cells.map((c, i) => (i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('   ').trimEnd();
  return [fmt(head), fmt(widths.map((w) => '─'.repeat(w))), ...rows.map(fmt)];
}

function outcomeLines(logs: LogLine[]): string[] {
  return logs.filter((l) => l.json?.message === 'task outcome').map((l) => {
    const j = l.json!;
    return `  handler: ${String(j.action).padEnd(6)} ${String(j.outcome).padEnd(9)} task ${String(j.taskId).slice(0, 8)}…  ${dim(String(j.reason ?? ''))}`;
  });
}

async function deliver(demo: Demo, events: Array<Record<string, unknown>>): Promise<void> {
  demo.proxy.resetCounts();
  const inv = await demo.handler.invoke<{ batchItemFailures: unknown[] }>(sqsBatch(events), { env: demo.env });
  if (inv.error) {
    throw new Error(`the handler failed: ${String(inv.error)}`);
  }
  if ((inv.result?.batchItemFailures ?? []).length > 0) {
    throw new Error(`the handler reported failed messages: ${JSON.stringify(inv.result)}\n${inv.logs.map((l) => l.raw).join('\n')}`);
  }
  say(`  Delivered ${events.length} ECS Task State Change event(s) as one SQS batch; the handler took ${inv.durationMs.toFixed(0)} ms.`);
  outcomeLines(inv.logs).forEach((l) => say(l));
  const calls = Object.entries(demo.proxy.flatCounts()).map(([k, v]) => `${k} ×${v}`).join(', ');
  say(dim(`  AWS calls it made: ${calls || 'none'}`));
}

async function showAnswers(demo: Demo, runningTasks: readonly TaskInfo[]): Promise<void> {
  const records = ownedAt(await demo.world.zoneRecords(), demo.service.fqdn)
    .sort((a, b) => (a.ResourceRecords?.[0]?.Value ?? '').localeCompare(b.ResourceRecords?.[0]?.Value ?? ''));
  say();
  say(`  DNS answers for ${demo.service.fqdn}`);
  answerTable(records).forEach((l) => say(l));
  const got = records.map((r) => `${r.SetIdentifier}=${r.ResourceRecords?.[0]?.Value}`).sort();
  const want = runningTasks.map((t) => `${t.taskId}=${t.publicIp}`).sort();
  if (JSON.stringify(got) !== JSON.stringify(want)) {
    throw new Error(`the records for ${demo.service.fqdn} do not match the running tasks: expected ${JSON.stringify(want)}, found ${JSON.stringify(got)}`);
  }
}

async function story(demo: Demo): Promise<void> {
  const { world, service } = demo;
  heading(`2. The service "${service.serviceName}" scales 0 → 3 → 1 → 0, published as ${service.fqdn}`);
  say('Each step creates or stops tasks in the emulator (each with its own network interface and public IP),');
  say('builds the ECS events AWS would send, and hands them to the bundled handler as an SQS batch.');
  await showAnswers(demo, []);
  say('  Nothing runs yet, so the name has no records.');

  heading('Step 1 of 3: scale out to 3 tasks');
  const tasks = await world.startTasks(service.serviceName, 3);
  say(`  ECS started 3 tasks with public IPs ${tasks.map((t) => t.publicIp).join(', ')}; each reports RUNNING.`);
  await deliver(demo, tasks.map((t) => running(t)));
  await showAnswers(demo, tasks);
  say(`  One multi-value A record per task: a client resolving ${service.fqdn} gets all three addresses,`);
  say(`  and each record is named after its task (set identifier) so it can be removed on its own. TTL ${service.ttl} s.`);

  heading('Step 2 of 3: scale in to 1 task');
  const leaving = tasks.slice(1);
  const stopEvents = (t: TaskInfo, o?: Partial<TaskEventOptions>) => [stopRequested(t, o), stopped(t, o)];
  await world.stopTasks(leaving);
  say('  ECS stops 2 tasks: each sends "desired STOPPED" first, then STOPPED once it is gone.');
  await deliver(demo, leaving.flatMap((t) => stopEvents(t)));
  await showAnswers(demo, tasks.slice(0, 1));
  say('  The two records went in one change request; the remaining task\'s record was not touched.');

  heading('Step 3 of 3: scale in to 0');
  await world.stopTask(tasks[0]);
  await deliver(demo, stopEvents(tasks[0]));
  await showAnswers(demo, []);
  say('  The last record is gone: new lookups get no address; resolvers that cached an answer keep it for up to the TTL.');

  heading('Finally: the scheduled reconciliation');
  demo.proxy.resetCounts();
  const rec = await demo.handler.invoke<Record<string, unknown>>({ action: 'reconcile' }, { env: demo.env });
  if (rec.error) {
    throw new Error(`the reconciliation failed: ${String(rec.error)}`);
  }
  say(`  Every 5 minutes the function compares the records with the running tasks: ${JSON.stringify(rec.result)}`);
  say('  Nothing to repair here; it would re-add a record after a lost start event or remove one after a lost stop.');

  heading('And when the stack is deleted while tasks still run');
  const survivors = await world.startTasks(service.serviceName, 2);
  await deliver(demo, survivors.map((t) => running(t)));
  await showAnswers(demo, survivors);
  say('  CloudFormation deletes the custom resource Custom::EcsPublicDiscovery before the function, its role and the rule,');
  say('  and the function, serving it, deletes every record it owns at the registered names. Here is that request:');
  const catcher = await ResponseCatcher.start();
  try {
    const { event, requestId } = lifecycleRequest(catcher, 'Delete', lifecycleResource(demo.template, demo.deployed));
    demo.proxy.resetCounts();
    const del = await demo.handler.invoke(event, { env: demo.env });
    const answer = catcher.answers.get(requestId);
    if (del.error || answer?.Status !== 'SUCCESS') {
      throw new Error(`the stack deletion request failed: ${String(del.error ?? JSON.stringify(answer))}`);
    }
    const calls = Object.entries(demo.proxy.flatCounts()).map(([k, v]) => `${k} ×${v}`).join(', ');
    say(`  The function answered CloudFormation ${answer.Status} (${answer.Data?.Deleted} records deleted). ${dim(`AWS calls: ${calls}`)}`);
  } finally {
    await catcher.stop();
  }
  await showAnswers(demo, []);
  say('  The tasks still run, but no record is left to point at their addresses once AWS hands them to someone else.');
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  say(bold('cdk-ecs-public-discovery demo') + dim('  (AWS API emulator on 127.0.0.1; nothing reaches AWS)'));
  const example = buildExampleStack();
  const template = templateOf(example.stack);
  summarizeTemplate(template, example.registrations);

  let moto: MotoServer | undefined;
  let proxy: AwsProxy | undefined;
  let handler: HandlerProcess | undefined;
  const cleanup = async () => {
    await handler?.stop().catch(() => undefined);
    await proxy?.stop().catch(() => undefined);
    await moto?.stop().catch(() => undefined);
  };
  process.once('SIGINT', () => {
    void cleanup().then(() => process.exit(130));
  });
  try {
    moto = await startMoto();
    proxy = await AwsProxy.start(moto.endpoint);
    const world = await World.create(moto.endpoint);
    await world.putRecords(neighbourRecords(world.zoneName));
    const { env, config } = handlerEnvironment(template, {
      clusterName: world.clusterName, clusterArn: world.clusterArn, zoneId: world.zoneId, serviceNames: SERVICE_NAMES,
    });
    world.register(config);
    handler = await startHandlerProcess(handlerEnv(proxy.endpoint));
    const service = config.services.find((s) => s.serviceName === DEMO_SERVICE);
    if (!service) {
      throw new Error(`the example app registers no ECS service named ${DEMO_SERVICE}`);
    }
    say();
    say(dim(`Emulator at ${moto.endpoint}; cluster ${world.clusterArn}; hosted zone ${world.zoneId} (example.com, with ${neighbourRecords('x').length} unrelated records).`));
    say(dim('The handler\'s configuration is the template\'s PUBLIC_DISCOVERY_CONFIG, resolved with those ids:'));
    say(dim(`  ${env.PUBLIC_DISCOVERY_CONFIG}`));
    const unrelated = async () => snapshot(notOwned(await world.zoneRecords(), config.services.map((s) => s.fqdn)));
    const before = await unrelated();
    const deployed = { clusterName: world.clusterName, clusterArn: world.clusterArn, zoneId: world.zoneId, serviceNames: SERVICE_NAMES };
    await story({ template, deployed, world, proxy, handler, env, service });
    if (await unrelated() !== before) {
      throw new Error('records the handler does not own were changed');
    }
    heading('Done');
    say(`The ${neighbourRecords('x').length} unrelated records of the zone are byte-for-byte as they were.`);
    say('The emulator is stopped. To deploy for real: see README.md.');
  } finally {
    await cleanup();
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`\ndemo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  if (process.env.DEMO_DEBUG && err instanceof Error) {
    process.stderr.write(`${err.stack}\n`);
  }
  process.exit(1);
});
