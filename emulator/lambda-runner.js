/*
 * A minimal stand-in for the Lambda Node.js runtime, run as a child process by handler.ts:
 * it imports the bundled handler once (the "init" phase, with the environment it was forked with),
 * then handles invocations sent over IPC, one at a time, capturing every line the handler writes.
 *
 * Kept in plain JavaScript so it starts fast and loads the bundle with Node's own module loader
 * (the bundled AWS SDK uses dynamic import(), which a jest sandbox cannot run).
 *
 * Messages in:  { type: 'invoke', id, event, env, timeoutMs, echo }
 * Messages out: { type: 'ready', initMs } | { type: 'init-error', error }
 *               { type: 'result', id, result, error, logs, durationMs }
 */
'use strict';

const { pathToFileURL } = require('url');

const bundlePath = process.argv[2];

function serializeError(err) {
  if (err && typeof err === 'object') {
    return { name: err.name, message: err.message, stack: err.stack };
  }
  return { name: 'Error', message: String(err) };
}

let handler;
const initStart = process.hrtime.bigint();
// The bundle is an ES module (index.mjs and the chunks it imports), loaded like the Lambda runtime loads it;
// a CommonJS build (E2E_BUNDLE=some/index.js) loads too, its exports then also under `default`.
import(pathToFileURL(bundlePath).href).then((mod) => {
  handler = typeof mod.handler === 'function' ? mod.handler : mod.default && mod.default.handler;
  if (typeof handler !== 'function') {
    throw new Error(`${bundlePath} does not export a handler function`);
  }
  process.send({ type: 'ready', initMs: Number(process.hrtime.bigint() - initStart) / 1e6 });
}).catch((err) => {
  process.send({ type: 'init-error', error: serializeError(err) });
  process.exit(1);
});

let queue = Promise.resolve();

async function run(msg) {
  Object.assign(process.env, msg.env || {});
  const logs = [];
  const capture = (text) => {
    for (const line of String(text).split('\n')) {
      if (line.trim() !== '') {
        logs.push(line);
      }
    }
  };
  const saved = {};
  for (const m of ['log', 'info', 'warn', 'error', 'debug']) {
    saved[m] = console[m];
    console[m] = (...args) => {
      capture(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
      if (msg.echo) {
        process.stderr.write(args.join(' ') + '\n');
      }
    };
  }
  const write = process.stdout.write;
  process.stdout.write = (chunk, ...rest) => {
    capture(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    if (msg.echo) {
      process.stderr.write(chunk);
    }
    const cb = rest.find((r) => typeof r === 'function');
    if (cb) {
      cb();
    }
    return true;
  };
  const deadline = Date.now() + (msg.timeoutMs || 60000);
  const context = {
    awsRequestId: `req-${msg.id}-${Math.random().toString(16).slice(2, 10)}`,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME || 'discovery',
    functionVersion: '$LATEST',
    memoryLimitInMB: '256',
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:123456789012:function:${process.env.AWS_LAMBDA_FUNCTION_NAME || 'discovery'}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  const started = process.hrtime.bigint();
  let result;
  let error;
  try {
    result = await handler(msg.event, context);
  } catch (err) {
    error = serializeError(err);
  } finally {
    for (const m of Object.keys(saved)) {
      console[m] = saved[m];
    }
    process.stdout.write = write;
  }
  process.send({ type: 'result', id: msg.id, result, error, logs, durationMs: Number(process.hrtime.bigint() - started) / 1e6 });
}

process.on('message', (msg) => {
  if (msg && msg.type === 'invoke') {
    queue = queue.then(() => run(msg)).catch((err) => {
      process.send({ type: 'result', id: msg.id, error: serializeError(err), logs: [], durationMs: 0 });
    });
  }
});
process.on('disconnect', () => process.exit(0));
