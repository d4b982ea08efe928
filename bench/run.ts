/**
 * `npm run bench`: figures about the bundled handler (the file the package ships), measured locally
 * against the AWS API emulator on 127.0.0.1. It prints; it asserts nothing.
 *
 * - bundle size (all files of the Lambda asset, and those loaded at init) and the modules that weigh most in it,
 *   from esbuild's metafile (written by scripts/bundle-lambda.mjs);
 * - cold initialisation: fresh `node` processes that import the bundle, timed whole from outside and
 *   interleaved with bare `node -e 0` processes, as a ratio (median of the pairs); and the import alone,
 *   timed inside the process;
 * - AWS API calls of one task's lifecycle (start + stop), by action;
 * - Route53 calls of a 500-task burst across 3 services (starts, then stops; SQS batches of 100);
 * - events processed per second against the emulator (handler time only; the emulator dominates).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import * as zlib from 'zlib';
import { running, sqsBatch, stopped } from '../emulator/events';
import { synthesizeExampleTemplate } from '../emulator/example-app';
import { BUNDLE_DIR, BUNDLE_PATH, checkBundle, handlerEnv, HandlerProcess, startHandlerProcess } from '../emulator/handler';
import { MotoServer, REPO_ROOT, startMoto } from '../emulator/moto';
import { AwsProxy } from '../emulator/proxy';
import { handlerEnvironment } from '../emulator/template-config';
import { TaskInfo, World } from '../emulator/world';

const COLD_RUNS = 25;
const TOP_MODULES = 12;
const METAFILE = path.join(REPO_ROOT, '.esbuild', 'discovery.lambda.meta.json');
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

/**
 * The environments of the cold-start processes: `clean` holds only PATH and the region, as Lambda starts node
 * (no NODE_EXTRA_CA_CERTS: the Node.js 20+ runtimes load no extra CA certificates unless told to); `inherited`
 * is this process's environment less AWS and NODE_OPTIONS settings. A machine-wide NODE_EXTRA_CA_CERTS (set
 * here) makes every node process read a certificate bundle at start-up, which weighs on bare node above all.
 */
const BASE_ENV = { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' };
const COLD_ENVS: Record<string, Record<string, string>> = {
  clean: BASE_ENV,
  inherited: {
    ...Object.fromEntries(Object.entries(process.env).filter(([k, v]) => v !== undefined && !k.startsWith('AWS_') && k !== 'NODE_OPTIONS')) as Record<string, string>,
    ...BASE_ENV,
  },
};
/** Imports the bundle (an ES module; a CommonJS E2E_BUNDLE too) and prints how long the import took inside the process. */
const IMPORT_SCRIPT = 'const t=process.hrtime.bigint();import(process.argv[1]).then(()=>'
  + 'process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6)))';

/** Wall time of a whole fresh `node` process, from spawn to exit, in ms; and what it printed. */
function wholeProcess(args: string[], env: Record<string, string>): { ms: number; out: string } {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) {
    throw new Error(`node ${args.join(' ')} failed: ${r.stderr}`);
  }
  return { ms, out: r.stdout };
}

interface Cold {
  readonly bare: number[];
  readonly withBundle: number[];
  readonly ratios: number[];
  readonly importMs: number[];
}

/**
 * Cold initialisation as Lambda's init phase sees it: a fresh process that loads the bundle, against a
 * bare `node -e 0` started just before it (pairs interleaved, so a drift of the machine's speed hits both).
 */
function coldInit(runs: number, env: Record<string, string>): Cold {
  const url = pathToFileURL(BUNDLE_PATH).href;
  const cold: Cold = { bare: [], withBundle: [], ratios: [], importMs: [] };
  wholeProcess(['-e', '0'], env); // warm-up: the OS file cache
  wholeProcess(['-e', IMPORT_SCRIPT, url], env);
  for (let i = 0; i < runs; i++) {
    const bare = wholeProcess(['-e', '0'], env).ms;
    const loaded = wholeProcess(['-e', IMPORT_SCRIPT, url], env);
    cold.bare.push(bare);
    cold.withBundle.push(loaded.ms);
    cold.ratios.push(loaded.ms / bare);
    cold.importMs.push(Number(loaded.out));
  }
  return cold;
}

interface Metafile {
  readonly inputs: Record<string, { bytes: number }>;
  readonly outputs: Record<string, {
    bytes: number;
    imports: Array<{ path: string; kind: string; external?: boolean }>;
    inputs: Record<string, { bytesInOutput: number }>;
  }>;
}

/** The output files of the bundle loaded at init: the entry and what it imports statically, transitively. */
function initOutputs(meta: Metafile): Set<string> {
  const entry = Object.keys(meta.outputs).find((o) => path.basename(o) === 'index.mjs');
  const seen = new Set<string>();
  const visit = (o: string) => {
    if (seen.has(o)) {
      return;
    }
    seen.add(o);
    for (const imp of meta.outputs[o]?.imports ?? []) {
      if (imp.kind === 'import-statement' && !imp.external) {
        visit(imp.path);
      }
    }
  };
  if (entry) {
    visit(entry);
  }
  return seen;
}

function bundleSection(): void {
  const files = process.env.E2E_BUNDLE ? [BUNDLE_PATH] : fs.readdirSync(BUNDLE_DIR).map((f) => path.join(BUNDLE_DIR, f));
  const bytes = files.reduce((n, f) => n + fs.statSync(f).size, 0);
  const gz = files.reduce((n, f) => n + zlib.gzipSync(fs.readFileSync(f)).length, 0);
  const kb = (n: number) => `${n.toLocaleString('en-US')} bytes`;
  section(`Bundle (${path.relative(REPO_ROOT, process.env.E2E_BUNDLE ? BUNDLE_PATH : BUNDLE_DIR)})`);
  row('size', `${kb(bytes)} in ${files.length} file${files.length === 1 ? '' : 's'} (${gz.toLocaleString('en-US')} gzipped, each file gzipped alone)`);
  if (process.env.E2E_BUNDLE || !fs.existsSync(METAFILE)) {
    row('modules', 'no metafile (.esbuild/discovery.lambda.meta.json): run `npx projen bundle`');
    return;
  }
  const meta = JSON.parse(fs.readFileSync(METAFILE, 'utf8')) as Metafile;
  const init = initOutputs(meta);
  const initBytes = [...init].reduce((n, o) => n + meta.outputs[o].bytes, 0);
  row('loaded at init', `${kb(initBytes)} (index.mjs and the ${init.size - 1} chunks it imports; the rest loads on demand)`);
  const modules: Array<{ input: string; bytes: number; atInit: boolean }> = [];
  for (const [out, o] of Object.entries(meta.outputs)) {
    for (const [input, i] of Object.entries(o.inputs)) {
      modules.push({ input, bytes: i.bytesInOutput, atInit: init.has(out) });
    }
  }
  modules.sort((a, b) => b.bytes - a.bytes);
  section(`Largest modules in the bundle (bytes in the output, from esbuild's metafile; ${modules.length} modules)`);
  for (const m of modules.slice(0, TOP_MODULES)) {
    row(m.input.replace(/^node_modules\//, ''), `${m.bytes.toLocaleString('en-US')}${m.atInit ? '' : ' (on demand)'}`);
  }
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
  bundleSection();

  section(`Cold initialisation (${COLD_RUNS} fresh node ${process.version} processes importing the bundle, each after a bare \`node -e 0\`)`);
  for (const [name, env] of Object.entries(COLD_ENVS)) {
    progress(`measuring cold initialisation (${name} environment): ${COLD_RUNS} pairs of fresh node processes`);
    const cold = coldInit(COLD_RUNS, env);
    const extra = name === 'inherited' && env.NODE_EXTRA_CA_CERTS ? ', with NODE_EXTRA_CA_CERTS' : '';
    row(`${name} environment${extra}: ratio to bare node`,
      `${median(cold.ratios).toFixed(2)}× (median of the pairs; min ${Math.min(...cold.ratios).toFixed(2)}, max ${Math.max(...cold.ratios).toFixed(2)})`);
    row(`${name} environment: with the bundle / bare node`, `${median(cold.withBundle).toFixed(1)} ms / ${median(cold.bare).toFixed(1)} ms (medians, whole process)`);
    row(`${name} environment: the import alone`, `${median(cold.importMs).toFixed(1)} ms median inside the process (min ${Math.min(...cold.importMs).toFixed(1)})`);
  }

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
