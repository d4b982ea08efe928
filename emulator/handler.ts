/**
 * Loads the handler the package ships (the esbuild bundle in assets/, not the TypeScript source) and
 * invokes it like Lambda would, capturing the JSON lines it writes to stdout.
 */
import { ChildProcess, fork } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { REPO_ROOT } from './moto';
import { REGION } from './world';

/** The folder of the bundle the package ships (the Lambda asset: index.mjs and the chunks it imports). */
export const BUNDLE_DIR = path.join(REPO_ROOT, 'assets', 'lambda', 'discovery.lambda');
/**
 * The bundle's entry module; E2E_BUNDLE may name another build of it (e.g. to check that the tests catch a
 * fault): an ES module entry like the shipped one, or a CommonJS file.
 */
export const BUNDLE_PATH = process.env.E2E_BUNDLE ? path.resolve(process.env.E2E_BUNDLE) : path.join(BUNDLE_DIR, 'index.mjs');
const LAMBDA_SOURCES = [path.join(REPO_ROOT, 'src', 'lambda'), path.join(REPO_ROOT, 'src', 'shared')];

export type Handler = (event: unknown, context?: Record<string, unknown>) => Promise<unknown>;

/** One line the handler wrote: parsed when it is JSON. */
export interface LogLine {
  readonly raw: string;
  readonly json?: Record<string, unknown>;
  readonly level?: string;
  readonly message?: string;
  readonly reason?: string;
}

/** The environment the handler reads: the AWS SDK's variables (pointing at `endpoint`) and the construct's. */
export function handlerEnv(endpoint: string, variables: Record<string, string> = {}): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'AKIAEMULATOR000000',
    AWS_SECRET_ACCESS_KEY: 'emulator-secret',
    AWS_MAX_ATTEMPTS: '1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_LAMBDA_FUNCTION_NAME: 'PublicDiscoveryE2e-DiscoveryHandler',
    // A purge waits for event invocations still running (70 s in AWS); no other invocation runs here meanwhile.
    PUBLIC_DISCOVERY_PURGE_SETTLE_MS: '0',
    ...variables,
  };
}

/** Sets {@link handlerEnv} on this process (for loading the bundle in-process with {@link loadBundledHandler}). */
export function applyHandlerEnv(endpoint: string, variables: Record<string, string>): void {
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  Object.assign(process.env, handlerEnv(endpoint, variables));
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

let staleWarned = false;

/**
 * Fails clearly when the bundle is missing; warns (once) when it is older than the handler's sources,
 * which means the tests would exercise an outdated handler (npm test always bundles first).
 */
export function checkBundle(): void {
  if (!fs.existsSync(BUNDLE_PATH)) {
    throw new Error(`The handler bundle ${path.relative(REPO_ROOT, BUNDLE_PATH)} is missing: run \`npx projen bundle\` (npm test does it)`);
  }
  const bundleTime = fs.statSync(BUNDLE_PATH).mtimeMs;
  const sourceTime = Math.max(...LAMBDA_SOURCES.filter((d) => fs.existsSync(d)).map(newestMtime));
  if (sourceTime > bundleTime + 1000 && !staleWarned) {
    staleWarned = true;
    process.emitWarning(`The handler bundle ${path.relative(REPO_ROOT, BUNDLE_PATH)} is older than src/lambda or src/shared: `
      + 'run `npx projen bundle` (npm test does it) to exercise the current handler');
  }
}

/** `import()` as Node runs it: TypeScript compiled to CommonJS would turn it into a `require`, which cannot load an ES module. */
const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<Record<string, unknown>>;

/**
 * Imports the bundle in this process (plain Node only, e.g. the demo; not inside jest). Call it after
 * {@link applyHandlerEnv}: the SDK clients the handler creates take their endpoint from the environment.
 */
export async function loadBundledHandler(): Promise<Handler> {
  checkBundle();
  const mod = await importModule(pathToFileURL(BUNDLE_PATH).href);
  const handler = mod.handler ?? (mod.default as { handler?: unknown } | undefined)?.handler;
  if (typeof handler !== 'function') {
    throw new Error(`${path.relative(REPO_ROOT, BUNDLE_PATH)} does not export a handler function`);
  }
  return handler as Handler;
}

/** The bundled handler running in its own Node process (see lambda-runner.js). */
export interface HandlerProcess {
  /** Time the bundle took to load in the child (Lambda's init phase), in ms. */
  readonly initMs: number;
  /** Invokes the handler with the given extra environment (e.g. a new PUBLIC_DISCOVERY_CONFIG). */
  invoke<T = unknown>(event: unknown, options?: { env?: Record<string, string>; echo?: boolean; timeoutMs?: number }): Promise<Invocation<T>>;
  stop(): Promise<void>;
}

const RUNNER = path.join(__dirname, 'lambda-runner.js');
const children = new Set<ChildProcess>();
let childExitHook = false;

/**
 * Starts a child Node process that loads the bundle with `env` (the AWS SDK variables; see
 * {@link handlerEnv}) and invokes it on request, like the Lambda runtime. Used by the jest suites,
 * whose sandbox cannot run the bundle's dynamic imports.
 */
export async function startHandlerProcess(env: Record<string, string>): Promise<HandlerProcess> {
  checkBundle();
  if (!childExitHook) {
    childExitHook = true;
    process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));
  }
  const child = fork(RUNNER, [BUNDLE_PATH], {
    cwd: REPO_ROOT,
    env: { ...pickBaseEnv(), ...env },
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    execArgv: [],
  });
  children.add(child);
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString('utf8')).slice(-20_000);
    if (process.env.E2E_ECHO === '1') {
      process.stderr.write(c);
    }
  });
  type Pending = { resolve: (inv: Invocation<unknown>) => void; reject: (e: Error) => void };
  const pending = new Map<number, Pending>();
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => child.on('exit', (code, signal) => {
    exited = true;
    children.delete(child);
    const err = new Error(`the handler process exited (code ${code}, signal ${signal}):\n${stderr}`);
    pending.forEach((p) => p.reject(err));
    pending.clear();
    resolve();
  }));
  const initMs = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { type: string; initMs?: number; error?: { message: string; stack?: string } }) => {
      if (m.type === 'ready') {
        resolve(m.initMs ?? 0);
      } else {
        reject(new Error(`the handler bundle failed to load: ${m.error?.stack ?? m.error?.message}`));
      }
    });
    child.once('exit', () => reject(new Error(`the handler process exited during init:\n${stderr}`)));
  });
  child.on('message', (m: { type: string; id: number; result?: unknown; error?: { name: string; message: string; stack?: string }; logs: string[]; durationMs: number }) => {
    if (m.type !== 'result') {
      return;
    }
    const p = pending.get(m.id);
    pending.delete(m.id);
    let error: Error | undefined;
    if (m.error) {
      error = Object.assign(new Error(m.error.message), { name: m.error.name, stack: m.error.stack });
    }
    p?.resolve({ result: m.result, error, logs: m.logs.map(parseLine), durationMs: m.durationMs });
  });
  let nextId = 0;
  return {
    initMs,
    invoke<T>(event: unknown, options: { env?: Record<string, string>; echo?: boolean; timeoutMs?: number } = {}) {
      if (exited) {
        return Promise.reject(new Error(`the handler process is not running:\n${stderr}`));
      }
      const id = ++nextId;
      return new Promise<Invocation<T>>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (inv: Invocation<unknown>) => void, reject });
        child.send({ type: 'invoke', id, event, env: options.env ?? {}, echo: options.echo ?? false, timeoutMs: options.timeoutMs ?? 60_000 });
      });
    },
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        await exitPromise;
      }
    },
  };
}

/** The parent's environment minus any AWS settings, so nothing leaks from the developer's shell. */
function pickBaseEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('AWS_') && !k.startsWith('PUBLIC_DISCOVERY_') && k !== 'NODE_OPTIONS') {
      out[k] = v;
    }
  }
  return out;
}

function parseLine(raw: string): LogLine {
  try {
    const json = JSON.parse(raw) as unknown;
    if (json && typeof json === 'object' && !Array.isArray(json)) {
      const j = json as Record<string, unknown>;
      const s = (v: unknown) => (typeof v === 'string' ? v : undefined);
      return { raw, json: j, level: s(j.level), message: s(j.message), reason: s(j.reason) };
    }
  } catch {
    // not JSON
  }
  return { raw };
}

/** A Lambda context object with a 60 s timeout (the construct's). */
export function lambdaContext(timeoutMs = 60_000): Record<string, unknown> {
  const deadline = Date.now() + timeoutMs;
  return {
    awsRequestId: `req-${Math.random().toString(16).slice(2, 10)}`,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'discovery',
    functionVersion: '$LATEST',
    memoryLimitInMB: '256',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:123456789012:function:${process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'discovery'}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

export interface Invocation<T = unknown> {
  readonly result?: T;
  /** What the invocation threw, if it did. */
  readonly error?: unknown;
  readonly logs: LogLine[];
  readonly durationMs: number;
}

type Writer = (...args: unknown[]) => void;

/**
 * Invokes the handler once and returns its result (or error) and the lines it wrote. Lines are
 * captured from console.* and process.stdout for the duration of the call; set `echo` to also print them.
 */
export async function invoke<T = unknown>(
  handler: Handler, event: unknown, options: { echo?: boolean; context?: Record<string, unknown> } = {},
): Promise<Invocation<T>> {
  const logs: LogLine[] = [];
  const capture = (text: string) => {
    for (const line of text.split('\n')) {
      if (line.trim() !== '') {
        logs.push(parseLine(line));
      }
    }
  };
  const con = console as unknown as Record<string, Writer>;
  const saved: Record<string, Writer> = {};
  for (const m of ['log', 'info', 'warn', 'error', 'debug']) {
    saved[m] = con[m];
    con[m] = (...args: unknown[]) => {
      capture(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
      if (options.echo) {
        saved[m].apply(console, args);
      }
    };
  }
  const stdoutWrite = process.stdout.write;
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    capture(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    if (options.echo) {
      return (stdoutWrite as (...a: unknown[]) => boolean).call(process.stdout, chunk, ...rest);
    }
    return true;
  }) as typeof process.stdout.write;
  const started = Date.now();
  try {
    const result = await handler(event, options.context ?? lambdaContext()) as T;
    return { result, logs, durationMs: Date.now() - started };
  } catch (error) {
    return { error, logs, durationMs: Date.now() - started };
  } finally {
    for (const m of Object.keys(saved)) {
      con[m] = saved[m];
    }
    process.stdout.write = stdoutWrite;
  }
}

/** The embedded-metric-format line of an invocation (the metric values by name). */
export function metricsOf(logs: readonly LogLine[]): Record<string, number> {
  const line = [...logs].reverse().find((l) => l.json && '_aws' in l.json);
  if (!line?.json) {
    return {};
  }
  return Object.fromEntries(Object.entries(line.json).filter(([, v]) => typeof v === 'number')) as Record<string, number>;
}

/** Log lines (not the metric line) matching a partial field set. */
export function logsWith(logs: readonly LogLine[], fields: Record<string, unknown>): LogLine[] {
  return logs.filter((l) => l.json && !('_aws' in l.json) && Object.entries(fields).every(([k, v]) => {
    const actual = l.json![k];
    return v instanceof RegExp ? typeof actual === 'string' && v.test(actual) : actual === v;
  }));
}
