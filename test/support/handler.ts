/**
 * Loads the handler the package ships (the esbuild bundle in assets/, not the TypeScript source) and
 * invokes it like Lambda would, capturing the JSON lines it writes to stdout.
 */
import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT } from './moto';
import { REGION } from './world';

export const BUNDLE_PATH = path.join(REPO_ROOT, 'assets', 'lambda', 'discovery.lambda', 'index.js');
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

/** Sets the environment the handler reads: the AWS SDK's and the construct's variables. */
export function applyHandlerEnv(endpoint: string, variables: Record<string, string>): void {
  process.env.AWS_ENDPOINT_URL = endpoint;
  process.env.AWS_REGION = REGION;
  process.env.AWS_DEFAULT_REGION = REGION;
  process.env.AWS_ACCESS_KEY_ID = 'AKIAEMULATOR000000';
  process.env.AWS_SECRET_ACCESS_KEY = 'emulator-secret';
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  process.env.AWS_MAX_ATTEMPTS = '1';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  process.env.AWS_LAMBDA_FUNCTION_NAME = 'PublicDiscoveryE2e-DiscoveryHandler';
  for (const [k, v] of Object.entries(variables)) {
    process.env[k] = v;
  }
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Requires the bundle. Call it after {@link applyHandlerEnv}: the SDK clients the handler creates
 * take their endpoint from the environment. Fails clearly when the bundle is missing or older than
 * the handler's sources.
 */
export function loadBundledHandler(): Handler {
  if (!fs.existsSync(BUNDLE_PATH)) {
    throw new Error(`The handler bundle ${path.relative(REPO_ROOT, BUNDLE_PATH)} is missing: run \`npx projen bundle\` (npm test does it)`);
  }
  const bundleTime = fs.statSync(BUNDLE_PATH).mtimeMs;
  const sourceTime = Math.max(...LAMBDA_SOURCES.filter((d) => fs.existsSync(d)).map(newestMtime));
  if (sourceTime > bundleTime + 1000) {
    throw new Error(`The handler bundle ${path.relative(REPO_ROOT, BUNDLE_PATH)} is older than src/lambda or src/shared: `
      + 'run `npx projen bundle` (npm test does it) so the tests exercise the current handler');
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(BUNDLE_PATH) as { handler?: Handler };
  if (typeof mod.handler !== 'function') {
    throw new Error(`${path.relative(REPO_ROOT, BUNDLE_PATH)} does not export a handler function`);
  }
  return mod.handler;
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
