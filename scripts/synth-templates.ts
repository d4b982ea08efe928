/**
 * Synthesizes the example apps of one checkout of the project and writes, per variant, the CloudFormation
 * template and the synthesis messages (warnings, infos) as JSON. `scripts/compare-templates.sh` runs it for a
 * git ref and for the working tree and diffs the outputs.
 *
 * Usage: ts-node --transpile-only scripts/synth-templates.ts <checkout root> <output folder>
 *
 * The apps are loaded from the given checkout (its `src` and its example apps), so the same script measures
 * any version of the construct.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { App, Stack } from 'aws-cdk-lib';

const [root, outDir] = process.argv.slice(2).map(p => path.resolve(p));
if (!root || !outDir) {
  throw new Error('usage: synth-templates.ts <checkout root> <output folder>');
}

/* eslint-disable @typescript-eslint/no-require-imports */
const cdk = require(path.join(root, 'node_modules/aws-cdk-lib')) as typeof import('aws-cdk-lib');
/* eslint-enable @typescript-eslint/no-require-imports */
const { Duration, RemovalPolicy, aws_lambda: lambda, aws_logs: logs } = cdk;

interface Built {
  readonly app: App;
  readonly stack: Stack;
}

/** Properties that set every option of the construct to something other than its default. */
const ALL_OPTIONS = {
  tracing: lambda.Tracing.ACTIVE,
  logRetention: logs.RetentionDays.ONE_WEEK,
  batchSize: 500,
  maxBatchingWindow: Duration.seconds(10),
  maxConcurrency: 5,
  reconciliation: true,
  reconciliationInterval: Duration.minutes(15),
  deadLetterAlarm: true,
  maxReceiveCount: 3,
  removalPolicy: RemovalPolicy.RETAIN,
};
const ALL_OFF = { reconciliation: false, deadLetterAlarm: false, batchSize: 10, maxBatchingWindow: Duration.seconds(0) };
const LONG_NAME = (i: number) => `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.n${i}`;

/**
 * Every variant: a name (the output file's) and how to build it. Checkouts since the example apps became one
 * module (`emulator/example-app.ts`) and older ones (`test/fixtures/example-app.ts` and `test/support/stack.ts`)
 * are both supported, so a refactoring can be compared with a ref from either side of that change.
 */
function variants(): Record<string, () => Built> {
  const load = (rel: string) => require(path.join(root, rel)); // eslint-disable-line @typescript-eslint/no-require-imports
  if (fs.existsSync(path.join(root, 'emulator', 'example-app.ts'))) {
    const example = load('emulator/example-app');
    return {
      'example-stack-default': () => example.buildExampleStack(),
      'example-stack-all-options': () => example.buildExampleStack({ discoveryProps: ALL_OPTIONS }),
      'example-stack-all-off': () => example.buildExampleStack({ discoveryProps: ALL_OFF }),
      'example-stack-imported-zone': () => example.buildExampleStack({
        hostedZoneId: 'Z0123456789EXAMPLE', zoneName: 'Games.Example.org.', env: { account: '123456789012', region: 'eu-west-1' },
      }),
      'example-stack-no-services': () => example.buildExampleStack({ names: { Web: null, Api: null, Game: null } }),
      // 200 generated names: SSM parameters, and the rule's prefix mode.
      'many-services-200': () => example.buildManyServicesApp(200),
      // Long names: several record-write policies (write groups).
      'many-services-long-names': () => example.buildManyServicesApp(60, LONG_NAME),
    };
  }
  const fixtures = load('test/fixtures/example-app');
  const support = load('test/support/stack');
  return {
    'example-stack-default': () => fixtures.buildExampleStack(),
    'example-stack-all-options': () => fixtures.buildExampleStack({ discoveryProps: ALL_OPTIONS }),
    'example-stack-all-off': () => fixtures.buildExampleStack({ discoveryProps: ALL_OFF }),
    'example-stack-imported-zone': () => fixtures.buildExampleStack({
      hostedZoneId: 'Z0123456789EXAMPLE', zoneName: 'Games.Example.org.', env: { account: '123456789012', region: 'eu-west-1' },
    }),
    'example-app': () => support.buildExampleApp(),
    'example-app-no-services': () => support.buildExampleApp({ Web: null, Api: null, Game: null }),
    'many-services-200': () => support.buildManyServicesApp(200),
    'many-services-long-names': () => support.buildManyServicesApp(60, LONG_NAME),
  };
}

const VARIANTS = variants();

fs.mkdirSync(outDir, { recursive: true });
for (const [name, build] of Object.entries(VARIANTS)) {
  const { app, stack } = build();
  const artifact = app.synth().getStackByName(stack.stackName);
  const messages = artifact.messages.map(m => ({ level: m.level, path: m.id, message: m.entry.data }));
  fs.writeFileSync(path.join(outDir, `${name}.template.json`), `${JSON.stringify(artifact.template, null, 2)}\n`);
  fs.writeFileSync(path.join(outDir, `${name}.messages.json`), `${JSON.stringify(messages, null, 2)}\n`);
  process.stdout.write(`${name}: ${Object.keys(artifact.template.Resources ?? {}).length} resources, ${messages.length} messages\n`);
}
