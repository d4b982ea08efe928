/**
 * `npm run bench`: figures about the bundled handler (the file the package ships), measured locally
 * against the AWS API emulator on 127.0.0.1. It prints; it asserts nothing.
 *
 * - bundle size;
 * - cold initialisation: median time to `require` the bundle in fresh `node` processes;
 * - AWS API calls of one task's lifecycle (start + stop), by action;
 * - Route53 calls of a 500-task burst across 3 services (starts, then stops; SQS batches of 100);
 * - events processed per second against the emulator (handler time only; the emulator dominates).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as zlib from 'zlib';
import { running, sqsBatch, stopped } from '../test/support/events';
import { BUNDLE_PATH, checkBundle, handlerEnv, HandlerProcess, startHandlerProcess } from '../test/support/handler';
import { MotoServer, startMoto } from '../test/support/moto';
import { AwsProxy } from '../test/support/proxy';
import { synthesizeExampleTemplate } from '../test/support/stack';
import { handlerEnvironment } from '../test/support/template-config';
import { TaskInfo, World } from '../test/support/world';

const COLD_RUNS = 9;
const BURST = 500;
const BATCH = 100;

type Row = [string, string];
const rows: Row[] = [];
const section = (title: string) => rows.push([`— ${title}`, '']);
const row = (label: string, value: string) => rows.push([`  ${label}`, value]);

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function progress(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

/** Time to require the bundle in a fresh node process, measured inside that process. */
function coldInitMs(): number {
  const script = 'const t=process.hrtime.bigint();require(process.argv[1]);'
    + 'process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))';
  const out = execFileSync(process.execPath, ['-e', script, BUNDLE_PATH], {
    env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' },
    encoding: 'utf8',
  });
  return Number(out);
}

interface Ctx {
  readonly world: World;
  readonly proxy: AwsProxy;
  readonly handler: HandlerProcess;
  readonly env: Record<string, string>;
}

async function deliver(ctx: Ctx, events: Array<Record<string, unknown>>): Promise<number> {
  const inv = await ctx.handler.invoke<{ batchItemFailures: unknown[] }>(sqsBatch(events), { env: ctx.env });
  if (inv.error || (inv.result?.batchItemFailures ?? []).length > 0) {
    throw new Error(`the handler failed a batch: ${String(inv.error ?? JSON.stringify(inv.result))}`);
  }
  return inv.durationMs;
}

function callsByAction(proxy: AwsProxy): string {
  return Object.entries(proxy.flatCounts()).sort().map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
}

async function lifecycle(ctx: Ctx): Promise<void> {
  section('AWS API calls of one task lifecycle (start event, then stop events)');
  const [task] = await ctx.world.startTasks('web', 1);
  ctx.proxy.resetCounts();
  await deliver(ctx, [running(task)]);
  row('start (RUNNING)', callsByAction(ctx.proxy));
  const start = ctx.proxy.flatCounts();
  await ctx.world.stopTask(task);
  ctx.proxy.resetCounts();
  await deliver(ctx, [stopped(task)]);
  row('stop (STOPPED)', callsByAction(ctx.proxy));
  const total = { ...start };
  for (const [k, v] of Object.entries(ctx.proxy.flatCounts())) {
    total[k] = (total[k] ?? 0) + v;
  }
  row('whole lifecycle', `${Object.values(total).reduce((a, b) => a + b, 0)} calls`);
}

async function burst(ctx: Ctx): Promise<void> {
  const names = ['web', 'api', 'game'];
  const per = [Math.ceil(BURST / 3), Math.ceil(BURST / 3), BURST - 2 * Math.ceil(BURST / 3)];
  progress(`starting ${BURST} tasks in the emulator`);
  const lists = await Promise.all(names.map((n, i) => ctx.world.startTasks(n, per[i])));
  const all: TaskInfo[] = [];
  for (let i = 0; i < Math.max(...per); i++) {
    lists.forEach((l) => i < l.length && all.push(l[i]));
  }

  let handlerMs = 0;
  let events = 0;
  const phase = async (label: string, make: (t: TaskInfo) => Record<string, unknown>, before?: (batch: TaskInfo[]) => Promise<void>) => {
    ctx.proxy.resetCounts();
    let changes = 0;
    let batches = 0;
    let maxChangeCalls = 0;
    for (let i = 0; i < all.length; i += BATCH) {
      const batch = all.slice(i, i + BATCH);
      await before?.(batch);
      const seen = ctx.proxy.calls().length;
      handlerMs += await deliver(ctx, batch.map(make));
      events += batch.length;
      batches++;
      const changeCalls = ctx.proxy.calls().slice(seen).filter((c) => c.action === 'ChangeResourceRecordSets');
      maxChangeCalls = Math.max(maxChangeCalls, changeCalls.length);
      changes += changeCalls.reduce((n, c) => n + (c.changes?.total ?? 0), 0);
    }
    const c = ctx.proxy.flatCounts();
    row(`${label}: ListResourceRecordSets`, String(c['route53:ListResourceRecordSets'] ?? 0));
    row(`${label}: ChangeResourceRecordSets`, `${c['route53:ChangeResourceRecordSets'] ?? 0} (${changes} changes; at most ${maxChangeCalls} in one of the ${batches} SQS batches)`);
    row(`${label}: other calls`, Object.entries(c).filter(([k]) => !k.startsWith('route53:')).map(([k, v]) => `${k} ${v}`).join(', ') || 'none');
  };

  section(`Route53 calls of a ${BURST}-task burst across 3 services (SQS batches of ${BATCH}; 100 records per name at most)`);
  progress('delivering the start events');
  await phase('starts', (t) => running(t));
  progress('stopping the tasks and delivering the stop events');
  await phase('stops', (t) => stopped(t), (batch) => ctx.world.stopTasks(batch));

  section('Throughput against the emulator (handler time only, the emulator answers every call)');
  row('events processed', `${events} in ${(handlerMs / 1000).toFixed(2)} s of handler time`);
  row('events per second', (events / (handlerMs / 1000)).toFixed(0));
}

async function main(): Promise<void> {
  checkBundle();
  const bytes = fs.statSync(BUNDLE_PATH).size;
  const gz = zlib.gzipSync(fs.readFileSync(BUNDLE_PATH)).length;
  section('Bundle (assets/lambda/discovery.lambda/index.js)');
  row('size', `${bytes.toLocaleString('en-US')} bytes (${gz.toLocaleString('en-US')} gzipped)`);

  progress(`measuring cold initialisation in ${COLD_RUNS} fresh node processes`);
  const cold = Array.from({ length: COLD_RUNS }, coldInitMs);
  section(`Cold initialisation (require of the bundle, ${COLD_RUNS} fresh node ${process.version} processes)`);
  row('median', `${median(cold).toFixed(1)} ms`);
  row('min / max', `${Math.min(...cold).toFixed(1)} / ${Math.max(...cold).toFixed(1)} ms`);

  let moto: MotoServer | undefined;
  let proxy: AwsProxy | undefined;
  let handler: HandlerProcess | undefined;
  try {
    progress('starting the emulator');
    const template = synthesizeExampleTemplate();
    moto = await startMoto();
    proxy = await AwsProxy.start(moto.endpoint);
    const world = await World.create(moto.endpoint);
    const { env, config } = handlerEnvironment(template, {
      clusterName: world.clusterName, clusterArn: world.clusterArn, zoneId: world.zoneId, serviceNames: { Web: 'web', Api: 'api', Game: 'game' },
    });
    world.register(config);
    handler = await startHandlerProcess(handlerEnv(proxy.endpoint));
    const ctx: Ctx = { world, proxy, handler, env };

    // The first invocation pays for SDK client creation and the first connections.
    const [warm] = await world.startTasks('api', 1);
    const first = await deliver(ctx, [running(warm)]);
    const second = await deliver(ctx, [running(warm)]);
    section('Invocation latency against the emulator (one start event)');
    row('first invocation after init', `${first.toFixed(0)} ms`);
    row('next invocation (no change)', `${second.toFixed(0)} ms`);
    await world.stopTask(warm);
    await deliver(ctx, [stopped(warm)]);

    await lifecycle(ctx);
    await burst(ctx);
  } finally {
    await handler?.stop().catch(() => undefined);
    await proxy?.stop().catch(() => undefined);
    await moto?.stop().catch(() => undefined);
  }

  const width = Math.max(...rows.filter(([, v]) => v !== '').map(([l]) => l.length));
  process.stdout.write('\ncdk-ecs-public-discovery benchmark (local emulator; figures vary with the machine)\n\n');
  for (const [label, value] of rows) {
    process.stdout.write(value === '' ? `${label}\n` : `${label.padEnd(width)}  ${value}\n`);
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`\nbench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
