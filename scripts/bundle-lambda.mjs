#!/usr/bin/env node
/*
 * Bundles a Lambda handler with esbuild for the Node.js Lambda runtime (run by the projen task
 * `bundle:lambda/<name>`, which .projenrc.ts wires in place of projen's own esbuild command, because
 * that command takes no esbuild plugins).
 *
 *   node scripts/bundle-lambda.mjs <entry.ts> <outdir> --target=node24 [--max-bytes=N] [--untyped-errors=client-a,...] [--watch]
 *
 * What it does beyond projen's command:
 *
 * - The AWS SDK v3 is bundled (nothing external), not taken from the Lambda runtime, so behaviour never
 *   shifts under a runtime update; its ES module builds are preferred (`module` before `main`) because
 *   their static imports are what esbuild can tree-shake.
 * - ES module output with code splitting: `<outdir>/index.mjs` (Lambda's `index.handler` finds it) and
 *   chunks beside it. What the AWS SDK only reaches through `import()` (credential providers other than
 *   the environment's, the STS/SSO clients, event streams) becomes chunks loaded on demand, not at init.
 *   Chunks that nothing imports any more once tree shaking has run are deleted.
 * - Literal keys in the AWS SDK clients' schema modules (`@aws-sdk/client-x/dist-es/schemas/schemas_N.js`):
 *   their shapes use computed keys built from module constants (`{ [_xN]: _m }`), which esbuild must
 *   treat as possibly having side effects, so every shape of the service stayed in the bundle (all
 *   ~2,700 of EC2's). Rewritten to `{ "xN": _m }`, the shapes the handler never reaches are tree-shaken.
 *   This works for any `@aws-sdk/client-*` the handler imports.
 *
 * - With `--untyped-errors=client-x,...`, those clients' schema modules lose their per-error registrations
 *   (`n0_registry.registerError(FooException$, FooException);`), so their ~100 error classes and shapes fall
 *   away. An error the client then meets is still thrown with its AWS error code as `name` (the SDK falls back
 *   to the service's base exception), which is all a handler that tells errors apart by name needs.
 *
 * The rewrite expects the SDK's generated layout; when a new SDK version changes it, the build fails
 * loudly instead of producing a larger or broken bundle:
 * - a schema module without the expected constants or shape declarations, a computed key whose name is
 *   not one of the module's string constants, or any computed key left after the rewrite;
 * - a bundled `@aws-sdk/client-*` package whose schema module was not rewritten;
 * - a bundle above `--max-bytes` (all files of <outdir>);
 * - a bundle that does not load in a fresh `node` process or does not export `handler`.
 *
 * It also writes `.esbuild/<name>.meta.json` (esbuild's metafile, for the bench's per-module bytes) and
 * `.esbuild/<name>.report.json` (sizes, and per schema module the shapes declared and kept, for the tests).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const REPORT_DIR = '.esbuild';

/** An AWS SDK v3 client's generated schema module. */
export const SCHEMA_MODULE = /[\\/]node_modules[\\/]@aws-sdk[\\/](client-[^\\/]+)[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/;
/** `const _xN = "xmlName";`: the string constants the schema's keys and names are built from. */
const STRING_CONST = /^const ([A-Za-z_$][\w$]*) = ("(?:[^"\\\n]|\\.)*");$/gm;
/** `export var Foo$ = [`: one shape (structure, error, operation, list, map...) of the service. */
const SHAPE_DECL = /^(?:export )?var ([A-Za-z_$][\w$]*) = \[/gm;
/** `[_xN]:`, a computed object key naming a constant: what the rewrite replaces. */
const COMPUTED_KEY = /\[\s*([A-Za-z_$][\w$]*)\s*\]\s*:/g;
/** Any computed object key (`{ [expr]:` or `, [expr]:`, one level of nested brackets): none may be left. */
const ANY_COMPUTED_KEY = /[{,]\s*\[[^[\]]*(?:\[[^[\]]*\][^[\]]*)*\]\s*:/g;

function usage(message) {
  process.stderr.write(`bundle-lambda: ${message}\n`
    + 'usage: node scripts/bundle-lambda.mjs <entry.ts> <outdir> --target=nodeNN [--max-bytes=N] [--untyped-errors=client-a,...] [--watch]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const positional = [];
  const flags = {};
  for (const arg of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (m) {
      flags[m[1]] = m[2] ?? true;
    } else {
      positional.push(arg);
    }
  }
  if (positional.length !== 2) {
    usage('expected an entry point and an output folder');
  }
  if (typeof flags.target !== 'string' || !/^node\d+$/.test(flags.target)) {
    usage('--target=nodeNN is required (the Lambda runtime\'s Node.js major)');
  }
  const maxBytes = flags['max-bytes'] === undefined ? undefined : Number(flags['max-bytes']);
  if (maxBytes !== undefined && !(maxBytes > 0)) {
    usage('--max-bytes must be a positive number of bytes');
  }
  const untypedErrors = new Set(typeof flags['untyped-errors'] === 'string' ? flags['untyped-errors'].split(',').filter(Boolean) : []);
  return { entry: positional[0], outdir: positional[1], target: flags.target, maxBytes, untypedErrors, watch: flags.watch === true };
}

/**
 * Rewrites a schema module's computed keys into literal keys. Throws when the module does not have the
 * layout this rewrite was written for.
 */
export function literalSchemaKeys(source, file) {
  const constants = new Map();
  for (const m of source.matchAll(STRING_CONST)) {
    constants.set(m[1], m[2]);
  }
  const shapes = [...source.matchAll(SHAPE_DECL)].length;
  if (constants.size === 0 || shapes === 0) {
    throw new Error(`${file}: expected string constants (const _x = "...") and shape declarations (export var X$ = [...]); `
      + `found ${constants.size} and ${shapes}. The AWS SDK's schema layout changed: update scripts/bundle-lambda.mjs`);
  }
  let rewrites = 0;
  const code = source.replace(COMPUTED_KEY, (whole, name) => {
    const literal = constants.get(name);
    if (literal === undefined) {
      throw new Error(`${file}: computed key [${name}] is not one of the module's string constants. `
        + 'The AWS SDK\'s schema layout changed: update scripts/bundle-lambda.mjs');
    }
    rewrites++;
    return `${literal}:`;
  });
  const left = code.match(ANY_COMPUTED_KEY);
  if (left) {
    throw new Error(`${file}: ${left.length} computed keys left after the rewrite (first: ${left[0]})`);
  }
  return { code, rewrites, shapes };
}

/** `n0_registry.registerError(FooException$, FooException);`: one error class registered for deserialization. */
const ERROR_REGISTRATION = /^([A-Za-z_$][\w$]*)_registry\.registerError\(([A-Za-z_$][\w$]*)\$, ([A-Za-z_$][\w$]*)\);\n/gm;

/**
 * Drops a schema module's registrations of individual error classes, keeping the service's base exception
 * (registered on `_s_registry`). Throws when the module registers no errors the expected way.
 */
export function dropErrorRegistrations(source, file) {
  let dropped = 0;
  let kept = 0;
  const code = source.replace(ERROR_REGISTRATION, (whole, registry) => {
    if (registry === '_s') {
      kept++;
      return whole;
    }
    dropped++;
    return '';
  });
  if (dropped === 0 || kept === 0) {
    throw new Error(`${file}: expected error registrations (n0_registry.registerError(X$, X);) and the base exception's `
      + `(_s_registry.registerError(...)); found ${dropped} and ${kept}. The AWS SDK's schema layout changed: update scripts/bundle-lambda.mjs`);
  }
  return { code, dropped };
}

/** The esbuild plugin applying {@link literalSchemaKeys}; `rewritten` collects what it did, by file. */
function schemaKeysPlugin(rewritten, untypedErrors = new Set()) {
  return {
    name: 'aws-sdk-schema-literal-keys',
    setup(build) {
      build.onStart(() => rewritten.clear());
      build.onLoad({ filter: SCHEMA_MODULE }, async (args) => {
        const source = await fs.promises.readFile(args.path, 'utf8');
        const file = path.relative(process.cwd(), args.path);
        const literal = literalSchemaKeys(source, file);
        const { rewrites, shapes } = literal;
        const client = SCHEMA_MODULE.exec(args.path)?.[1];
        const code = untypedErrors.has(client) ? dropErrorRegistrations(literal.code, file).code : literal.code;
        rewritten.set(path.relative(process.cwd(), args.path).split(path.sep).join('/'), { rewrites, shapes, bytes: source.length });
        return { contents: code, loader: 'js' };
      });
    },
  };
}

function options(args, rewritten, overrides = {}) {
  return {
    entryPoints: { index: args.entry },
    bundle: true,
    platform: 'node',
    target: args.target,
    format: 'esm',
    splitting: true,
    outdir: args.outdir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunk-[hash]',
    // Prefer the SDK's ES module builds: their static imports are what esbuild can tree-shake.
    mainFields: ['module', 'main'],
    tsconfig: 'tsconfig.dev.json',
    minify: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    // Bundled CommonJS code may require() Node's built-in modules; an ES module has no `require` of its own.
    banner: { js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);' },
    plugins: [schemaKeysPlugin(rewritten, args.untypedErrors)],
    ...overrides,
  };
}

/**
 * The `@aws-sdk/client-*` packages among the bundled `inputs` (paths as in esbuild's metafile) none of whose
 * schema modules is among `rewrittenFiles`: a client whose layout this script does not know.
 */
export function clientsNotRewritten(inputs, rewrittenFiles) {
  const rewrittenClients = new Set(rewrittenFiles.map((f) => SCHEMA_MODULE.exec(`/${f}`)?.[1]));
  const clients = new Set();
  for (const input of inputs) {
    const m = /(?:^|\/)node_modules\/@aws-sdk\/(client-[^/]+)\//.exec(input);
    if (m && !rewrittenClients.has(m[1])) {
      clients.add(m[1]);
    }
  }
  return [...clients].sort();
}

/**
 * Shapes each rewritten schema module keeps in the output, counted in an unminified build of the same
 * graph (minified names can't be told apart): its `var X$ = [` declarations under the module's marker.
 */
async function keptShapes(args) {
  const result = await esbuild.build(options(args, new Map(), { minify: false, write: false, metafile: false }));
  const kept = new Map();
  for (const file of result.outputFiles) {
    let current;
    for (const line of file.text.split('\n')) {
      const marker = /^\/\/ (\S+)$/.exec(line);
      if (marker) {
        current = SCHEMA_MODULE.test(`/${marker[1]}`) ? marker[1] : undefined;
      } else if (current && /^var [A-Za-z_$][\w$]* = \[/.test(line)) {
        kept.set(current, (kept.get(current) ?? 0) + 1);
      }
    }
  }
  return kept;
}

function filesOf(dir) {
  return fs.readdirSync(dir).map((f) => path.join(dir, f)).filter((f) => fs.statSync(f).isFile());
}

/** Fails unless the bundle loads in a fresh Node.js process and exports a `handler` function. */
function smokeLoad(indexFile) {
  const script = 'const m = await import(process.argv[1]);'
    + 'if (typeof m.handler !== "function") { console.error("no handler function exported"); process.exit(3); }';
  execFileSync(process.execPath, ['--input-type=module', '-e', script, pathToFileURL(path.resolve(indexFile)).href], {
    env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

/**
 * Deletes the output files that nothing reachable from index.mjs imports, statically or with `import()`.
 * esbuild makes a chunk of every `import()` target it scans, also when tree shaking then drops the code that
 * held the `import()` (e.g. the browser user-agent parser `bowser`, 34 KB). Before deleting, each such file's
 * name is checked to appear in none of the files kept, so a reference the metafile missed fails the build.
 */
function pruneUnreachable(outputs, reachable) {
  const unreachable = Object.keys(outputs).filter((o) => !reachable.has(o));
  const keptTexts = [...reachable].map((o) => fs.readFileSync(o, 'utf8'));
  for (const o of unreachable) {
    const base = path.basename(o);
    if (keptTexts.some((t) => t.includes(base))) {
      throw new Error(`${o} is not imported according to esbuild's metafile, but a kept file names it: not pruning`);
    }
    fs.rmSync(o);
  }
  const pruned = unreachable.map((o) => ({ file: path.basename(o), bytes: outputs[o].bytes, from: Object.keys(outputs[o].inputs) }));
  // The metafile written for the bench then describes the files shipped.
  unreachable.forEach((o) => delete outputs[o]);
  return pruned;
}

async function check(args, result, rewritten) {
  const errors = [];
  const name = path.basename(args.outdir);
  for (const client of clientsNotRewritten(Object.keys(result.metafile.inputs), [...rewritten.keys()])) {
    errors.push(`@aws-sdk/${client} is bundled but none of its schema modules (dist-es/schemas/schemas_N.js) was rewritten: `
      + 'the AWS SDK\'s layout changed, update scripts/bundle-lambda.mjs');
  }
  // Chunks of `import()` targets are entry points too: the handler's is the output named index.mjs.
  const outputs = result.metafile.outputs;
  const entryOutput = Object.keys(outputs).find((o) => path.basename(o) === 'index.mjs');
  const index = path.join(args.outdir, 'index.mjs');
  const reach = (kinds) => {
    const seen = new Set();
    const visit = (out) => {
      if (!seen.has(out)) {
        seen.add(out);
        for (const imp of outputs[out]?.imports ?? []) {
          if (kinds.includes(imp.kind) && !imp.external) {
            visit(imp.path);
          }
        }
      }
    };
    visit(entryOutput);
    return seen;
  };
  const initFiles = reach(['import-statement']);
  const pruned = pruneUnreachable(outputs, reach(['import-statement', 'dynamic-import']));
  // In watch mode, the chunks of earlier builds (other hashes) are still there.
  const written = new Set(Object.keys(outputs).map((o) => path.basename(o)));
  filesOf(args.outdir).filter((f) => !written.has(path.basename(f))).forEach((f) => fs.rmSync(f));
  const files = filesOf(args.outdir);
  const bytes = files.reduce((n, f) => n + fs.statSync(f).size, 0);
  const initBytes = [...initFiles].reduce((n, f) => n + outputs[f].bytes, 0);
  if (args.maxBytes !== undefined && bytes > args.maxBytes) {
    errors.push(`the bundle is ${bytes} bytes, over its budget of ${args.maxBytes}`);
  }
  const kept = await keptShapes(args);
  const schemas = Object.fromEntries([...rewritten].sort().map(([file, r]) => [file, {
    ...r,
    kept: kept.get(file) ?? 0,
    bytesInOutput: Object.values(result.metafile.outputs).reduce((n, o) => n + (o.inputs[file]?.bytesInOutput ?? 0), 0),
  }]));
  if (errors.length) {
    throw new Error(errors.join('\n'));
  }
  smokeLoad(index);
  fs.mkdirSync(REPORT_DIR, { recursive: true });
  fs.writeFileSync(path.join(REPORT_DIR, `${name}.meta.json`), JSON.stringify(result.metafile));
  const report = {
    entry: args.entry,
    target: args.target,
    outdir: args.outdir,
    bytes,
    initBytes,
    files: Object.fromEntries(files.map((f) => [path.basename(f), fs.statSync(f).size])),
    initFiles: [...initFiles].map((f) => path.basename(f)),
    pruned,
    schemas,
  };
  fs.writeFileSync(path.join(REPORT_DIR, `${name}.report.json`), `${JSON.stringify(report, null, 2)}\n`);
  const shapes = Object.entries(schemas).map(([f, s]) => `${SCHEMA_MODULE.exec(`/${f}`)[1]} ${s.kept}/${s.shapes}`).join(', ');
  const prunedNote = pruned.length ? `; pruned ${pruned.length} unreachable chunk(s) of ${pruned.reduce((n, p) => n + p.bytes, 0)} bytes` : '';
  process.stdout.write(`bundle-lambda: ${args.outdir} ${bytes} bytes in ${files.length} files (${initBytes} loaded at init${prunedNote}); `
    + `schema shapes kept: ${shapes}\n`);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const rewritten = new Map();
  // Start from an empty folder: stale chunks must not ship, nor an index.js that Lambda would pick first.
  fs.rmSync(args.outdir, { recursive: true, force: true });
  if (args.watch) {
    const ctx = await esbuild.context({
      ...options(args, rewritten),
      plugins: [schemaKeysPlugin(rewritten), {
        name: 'check-on-end',
        setup(build) {
          build.onEnd(async (result) => {
            if (result.errors.length === 0) {
              await check(args, result, rewritten).catch((e) => process.stderr.write(`bundle-lambda: ${e.message}\n`));
            }
          });
        },
      }],
    });
    await ctx.watch();
    process.stdout.write('bundle-lambda: watching for changes\n');
    return;
  }
  try {
    const result = await esbuild.build(options(args, rewritten));
    await check(args, result, rewritten);
  } catch (err) {
    // Leave no bundle that failed its checks for the tests, the bench or a package to pick up.
    fs.rmSync(args.outdir, { recursive: true, force: true });
    throw err;
  }
}

// Run as a script; imported (by the tests), it only provides its exports.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((err) => {
    process.stderr.write(`bundle-lambda: FAILED: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
