/**
 * The handler's bundle (assets/lambda/discovery.lambda, built by scripts/bundle-lambda.mjs; `npm test`
 * builds it first): its size budget, the AWS SDK schema shapes it keeps, and the build script's loud
 * failures when the SDK's layout is not the one its rewrite expects. Sizes only, never times.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';

const REPO_ROOT = path.join(__dirname, '..');
const BUNDLE_DIR = path.join(REPO_ROOT, 'assets', 'lambda', 'discovery.lambda');
const REPORT = path.join(REPO_ROOT, '.esbuild', 'discovery.lambda.report.json');
const METAFILE = path.join(REPO_ROOT, '.esbuild', 'discovery.lambda.meta.json');
const SCRIPT = path.join(REPO_ROOT, 'scripts', 'bundle-lambda.mjs');

/** All files of the Lambda asset, in bytes (issue 9: at most 450 KB, from 986 KB). */
const BUDGET_BYTES = 450_000;

/**
 * Schema shapes each client may keep: those of the operations the handler sends, the shapes they reach
 * and the service's errors (registered for error parsing). Each is the count when it was set, with a
 * little room; a client without an entry may keep a third of its shapes.
 */
const MAX_SHAPES: Record<string, number> = {
  'client-ec2': 110, // DescribeNetworkInterfaces, of ~4,200 declarations
  'client-ecs': 220, // ListTasks and DescribeTasks (a task's shape reaches far), 31 errors
  'client-route-53': 135, // ListResourceRecordSets and ChangeResourceRecordSets, 71 errors; the five health check operations (127 kept)
  'client-ssm': 170, // GetParameters (in a chunk loaded on demand); its error classes are not registered (--untyped-errors)
};

interface SchemaReport {
  readonly rewrites: number;
  readonly shapes: number;
  readonly kept: number;
  readonly bytes: number;
  readonly bytesInOutput: number;
}

interface Report {
  readonly bytes: number;
  readonly initBytes: number;
  readonly initFiles: readonly string[];
  readonly files: Record<string, number>;
  readonly pruned: ReadonlyArray<{ readonly file: string; readonly bytes: number }>;
  readonly schemas: Record<string, SchemaReport>;
}

function readReport(): Report {
  if (!fs.existsSync(REPORT) || !fs.existsSync(BUNDLE_DIR)) {
    throw new Error('the handler bundle or its report (.esbuild/) is missing: run `npx projen bundle` (npm test does it)');
  }
  return JSON.parse(fs.readFileSync(REPORT, 'utf8')) as Report;
}

/** Runs `code` as an ES module in a fresh node process that imported the bundle script as `s`; returns its stdout. */
function withScript(code: string): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', `import * as s from ${JSON.stringify(pathToFileURL(SCRIPT).href)};\n${code}`], {
    encoding: 'utf8',
  });
}

describe('the handler bundle', () => {
  const report = readReport();
  const files = Object.fromEntries(fs.readdirSync(BUNDLE_DIR).map((f) => [f, fs.statSync(path.join(BUNDLE_DIR, f)).size]));

  test('the report describes the bundle in assets/ (same files, same sizes)', () => {
    expect(files).toEqual(report.files);
  });

  test(`is at most ${BUDGET_BYTES.toLocaleString('en-US')} bytes, all files of the asset together`, () => {
    const bytes = Object.values(files).reduce((a, b) => a + b, 0);
    expect(bytes).toBeLessThanOrEqual(BUDGET_BYTES);
  });

  test('is an ES module entry (index.mjs, what `index.handler` loads) with chunks, and no index.js that Lambda would take first', () => {
    expect(Object.keys(files)).toContain('index.mjs');
    expect(Object.keys(files)).not.toContain('index.js');
    for (const f of Object.keys(files)) {
      expect(f).toMatch(/^(index|chunk-[A-Z0-9]+)\.mjs$/);
    }
  });

  test('ships no chunk that nothing imports (esbuild leaves one per import() that tree shaking dropped)', () => {
    for (const p of report.pruned) {
      expect(Object.keys(files)).not.toContain(p.file);
    }
  });

  test('loads at init neither the credential providers beyond the environment\'s, nor STS/SSO clients, nor event streams', () => {
    const meta = JSON.parse(fs.readFileSync(METAFILE, 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> };
    const atInit = Object.entries(meta.outputs)
      .filter(([out]) => report.initFiles.includes(path.basename(out)))
      .flatMap(([, o]) => Object.keys(o.inputs));
    const onDemand = /@aws-sdk\/(credential-provider-(ini|sso|process|web-identity|http|login)|nested-clients|token-providers)\/|@smithy\/credential-provider-imds\/|\/event-streams\//;
    expect(atInit.filter((i) => onDemand.test(i))).toEqual([]);
    expect(report.initBytes).toBeLessThan(report.bytes);
  });

  test('every bundled AWS SDK client had its schema module rewritten, and keeps only the shapes the handler reaches', () => {
    const clients = Object.keys(report.schemas).map((f) => /@aws-sdk\/(client-[^/]+)\//.exec(f)?.[1]);
    expect(clients).toEqual(expect.arrayContaining(['client-ec2', 'client-ecs', 'client-route-53']));
    for (const [file, s] of Object.entries(report.schemas)) {
      const client = /@aws-sdk\/(client-[^/]+)\//.exec(file)![1];
      const max = MAX_SHAPES[client] ?? Math.floor(s.shapes / 3);
      expect({ client, kept: s.kept, withinLimit: s.kept <= max, max }).toEqual({ client, kept: s.kept, withinLimit: true, max });
      expect(s.kept).toBeGreaterThan(0);
      expect(s.bytesInOutput).toBeLessThan(s.bytes / 2);
    }
  });
});

describe('the schema rewrite (scripts/bundle-lambda.mjs)', () => {
  test('turns computed keys built from the module\'s constants into literal keys', () => {
    const out = withScript(`
      const src = 'const _xN = "xmlName";\\nconst _m = "min";\\nexport var A$ = [3, "ns", "A", 0, [_m], [[1, { [_xN]: _m }]]];\\n';
      const r = s.literalSchemaKeys(src, 'schemas_0.js');
      process.stdout.write(JSON.stringify(r));`);
    const r = JSON.parse(out) as { code: string; rewrites: number; shapes: number };
    expect(r.rewrites).toBe(1);
    expect(r.shapes).toBe(1);
    expect(r.code).toContain('{ "xmlName": _m }');
    expect(r.code).not.toMatch(/\[_xN\]/);
  });

  test.each([
    ['a module without string constants', 'export var A$ = [3, "ns", "A", 0, [], []];\n', /layout changed/],
    ['a module without shape declarations', 'const _xN = "xmlName";\nexport const A$ = [3];\n', /layout changed/],
    ['a computed key that is not a string constant', 'const _xN = "xmlName";\nlet k = "x";\nexport var A$ = [3, { [k]: 1 }];\n', /computed key \[k\]/],
    ['a computed key of another form', 'const _xN = "xmlName";\nexport var A$ = [3, { [k(_xN)]: 1 }];\n', /1 computed keys left/],
  ])('fails loudly on %s', (_name, src, message) => {
    const out = withScript(`
      try { s.literalSchemaKeys(${JSON.stringify(src)}, 'schemas_0.js'); process.stdout.write('accepted'); }
      catch (e) { process.stdout.write(e.message); }`);
    expect(out).toMatch(message);
  });

  test('--untyped-errors drops the registrations of a client\'s error classes, keeping its base exception', () => {
    const out = withScript(`
      const src = 'const _s_registry = new TypeRegistry(_s);\\n_s_registry.registerError(SSMServiceException$, SSMServiceException);\\n'
        + 'const n0_registry = new TypeRegistry(n0);\\nn0_registry.registerError(AccessDeniedException$, AccessDeniedException);\\n'
        + 'n0_registry.registerError(InternalServerError$, InternalServerError);\\n';
      process.stdout.write(JSON.stringify(s.dropErrorRegistrations(src, 'schemas_0.js')));`);
    const r = JSON.parse(out) as { code: string; dropped: number };
    expect(r.dropped).toBe(2);
    expect(r.code).toContain('_s_registry.registerError(SSMServiceException$, SSMServiceException);');
    expect(r.code).not.toContain('AccessDeniedException');
    expect(r.code).not.toContain('InternalServerError');
  });

  test('--untyped-errors fails loudly on a module that registers its errors another way', () => {
    const out = withScript(`
      try { s.dropErrorRegistrations('registry.add(AccessDeniedException);\\n', 'schemas_0.js'); process.stdout.write('accepted'); }
      catch (e) { process.stdout.write(e.message); }`);
    expect(out).toMatch(/expected error registrations .* layout changed/);
  });

  test('the SSM client is a chunk loaded on demand, not at init', () => {
    const meta = JSON.parse(fs.readFileSync(METAFILE, 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> };
    const ssmFiles = Object.entries(meta.outputs).filter(([, o]) => Object.keys(o.inputs).some((i) => i.includes('@aws-sdk/client-ssm/')))
      .map(([f]) => path.basename(f));
    expect(ssmFiles.length).toBeGreaterThan(0);
    for (const f of ssmFiles) {
      expect(readReport().initFiles.map((x) => path.basename(x))).not.toContain(f);
    }
  });

  test('fails loudly when a bundled client has no rewritten schema module (e.g. a new SDK layout)', () => {
    const out = withScript(`
      process.stdout.write(JSON.stringify(s.clientsNotRewritten([
        'node_modules/@aws-sdk/client-ec2/dist-es/EC2Client.js',
        'node_modules/@aws-sdk/client-ec2/dist-es/schemas/schemas_0.js',
        'node_modules/@aws-sdk/client-ssm/dist-es/SSMClient.js',
        'node_modules/@aws-sdk/client-ssm/dist-es/schemas/shapes.js',
      ], ['node_modules/@aws-sdk/client-ec2/dist-es/schemas/schemas_0.js'])));`);
    expect(JSON.parse(out)).toEqual(['client-ssm']);
  });
});
