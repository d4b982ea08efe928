/**
 * Runs the AWS API emulator (moto_server from the project-local .venv) on a free loopback port.
 *
 * Each e2e test file starts its own server in `beforeAll`, resets it in `beforeEach` and stops it in
 * `afterAll`. A process `exit` hook kills any server still running, so a failed or interrupted run
 * leaves nothing behind.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as path from 'path';

/** Repository root (this file lives in emulator/). */
export const REPO_ROOT = path.resolve(__dirname, '..');
/** The emulator binary installed by scripts/ensure-venv.sh. */
export const MOTO_SERVER_BIN = path.join(REPO_ROOT, '.venv', 'bin', 'moto_server');

/**
 * moto advances an ECS task's lastStatus every time DescribeTasks returns it. Real tasks only move
 * when ECS moves them, so the status is frozen: "manual" progression that needs a million describes.
 */
const ECS_TASK_FREEZE = {
  model_name: 'ecs::task',
  transition: { progression: 'manual', times: 1_000_000 },
};

export interface MotoServer {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly port: number;
  /** Forget every resource, then freeze ECS task states again. */
  reset(): Promise<void>;
  /** Stop the server and wait until it has exited. Safe to call twice. */
  stop(): Promise<void>;
  /** The last lines the server wrote, for error messages. */
  recentOutput(): string;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) {
    return;
  }
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/** Asks the OS for a free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A small HTTP helper against the emulator's own API (never through the counting proxy). */
export function motoApi(endpoint: string, method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: string }> {
  const url = new URL(urlPath, endpoint);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      method,
      headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {},
      agent: false,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`moto API ${method} ${urlPath} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export interface StartMotoOptions {
  /** How long to wait for the server to answer (default 60 s). */
  readonly startTimeoutMs?: number;
}

/** Starts moto_server on 127.0.0.1 and resolves once it answers and ECS task states are frozen. */
export async function startMoto(options: StartMotoOptions = {}): Promise<MotoServer> {
  if (!fs.existsSync(MOTO_SERVER_BIN)) {
    throw new Error(`The AWS API emulator is not installed (${path.relative(REPO_ROOT, MOTO_SERVER_BIN)} is missing): `
      + 'run `bash scripts/ensure-venv.sh` or `npm test`, which creates .venv from requirements-dev.txt');
  }
  installExitHook();
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const output: string[] = [];
  const remember = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() !== '') {
        output.push(line);
      }
    }
    if (output.length > 40) {
      output.splice(0, output.length - 40);
    }
  };
  const child = spawn(MOTO_SERVER_BIN, ['-H', '127.0.0.1', '-p', String(port)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PYTHONUNBUFFERED: '1',
    },
  });
  running.add(child);
  child.stdout?.on('data', remember);
  child.stderr?.on('data', remember);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      running.delete(child);
      resolve();
    });
  });
  const recentOutput = () => output.join('\n');

  const stop = async () => {
    if (exited) {
      return;
    }
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (!exited) {
        child.kill('SIGKILL');
      }
    }, 3000);
    await exitPromise;
    clearTimeout(timer);
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  for (;;) {
    if (exited) {
      throw new Error(`moto_server exited during start-up (code ${exited.code}, signal ${exited.signal}):\n${recentOutput()}`);
    }
    try {
      const res = await motoApi(endpoint, 'GET', '/moto-api/');
      if (res.status === 200) {
        break;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`moto_server did not answer on ${endpoint} in time:\n${recentOutput()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const freeze = async () => {
    const res = await motoApi(endpoint, 'POST', '/moto-api/state-manager/set-transition', ECS_TASK_FREEZE);
    if (res.status >= 300) {
      throw new Error(`moto refused the ECS task state freeze (${res.status}): ${res.body}`);
    }
  };
  const reset = async () => {
    const res = await motoApi(endpoint, 'POST', '/moto-api/reset');
    if (res.status >= 300) {
      throw new Error(`moto reset failed (${res.status}): ${res.body}`);
    }
    await freeze();
  };
  try {
    await freeze();
  } catch (e) {
    await stop();
    throw e;
  }
  return { endpoint, port, reset, stop, recentOutput };
}
