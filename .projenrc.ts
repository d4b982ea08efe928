import { awscdk, javascript } from 'projen';

/**
 * The Lambda runtime of the handler. Its esbuild target (`node24`) is the bundle's target too, so the two
 * move in step. The construct names the runtime (`new lambda.Runtime('nodejs24.x', ...)`), so the peer
 * minimum of aws-cdk-lib needs no `Runtime.NODEJS_24_X` constant.
 */
const lambdaRuntime = awscdk.LambdaRuntime.NODEJS_24_X;

/**
 * The handler's bundle must stay within this many bytes (all files of its asset folder): the bundle
 * script fails the build above it, and test/bundle.test.ts asserts it.
 */
const BUNDLE_BUDGET_BYTES = 450_000;

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-ecs-public-discovery',
  description: 'DNS names that follow the public IPs of your ECS tasks, without a load balancer: Route53 multi-value records kept in step with ECS task state.',
  author: 'EngineAL',
  authorAddress: 'engineal@users.noreply.github.com',
  repositoryUrl: 'https://github.com/engineal/cdk-ecs-public-discovery.git',
  keywords: ['cdk', 'aws-cdk', 'ecs', 'fargate', 'route53', 'dns', 'service-discovery', 'public-ip'],
  license: 'Apache-2.0',
  copyrightOwner: 'EngineAL',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  tsconfigDevFile: 'tsconfig.dev.json',
  github: false,
  release: false,

  // The construct names its runtime (`new lambda.Runtime('nodejs24.x', ...)`): no aws-cdk-lib constant is needed.
  cdkVersion: '2.177.0',
  constructsVersion: '10.0.5',

  publishToPypi: {
    distName: 'cdk-ecs-public-discovery',
    module: 'cdk_ecs_public_discovery',
  },
  publishToMaven: {
    javaPackage: 'com.engineal.cdk.ecspublicdiscovery',
    mavenGroupId: 'com.engineal.cdk',
    mavenArtifactId: 'ecs-public-discovery',
  },
  publishToNuget: {
    dotNetNamespace: 'EngineAL.CDK.EcsPublicDiscovery',
    packageId: 'EngineAL.CDK.EcsPublicDiscovery',
  },

  lambdaAutoDiscover: true,
  lambdaOptions: {
    runtime: lambdaRuntime,
    awsSdkConnectionReuse: false,
  },

  devDeps: [
    '@aws-sdk/client-ec2@^3.700.0',
    '@aws-sdk/client-ecs@^3.700.0',
    '@aws-sdk/client-route-53@^3.700.0',
    '@aws-sdk/client-ssm@^3.700.0',
    '@smithy/types',
    '@types/aws-lambda',
    'cdk-nag@2.37.55',
    '@types/node@^20',
  ],

  // Lint src, test, demo and bench with the dev tsconfig, which includes them all.
  eslintOptions: {
    dirs: ['src'],
    devdirs: ['test', 'demo', 'bench', 'projenrc'],
    tsconfigPath: './tsconfig.dev.json',
    projectService: false,
  },

  jestOptions: {
    jestConfig: {
      testTimeout: 120_000,
      // The emulator-backed suites start their own moto_server per file; two cores are plenty.
      maxWorkers: 2,
      coveragePathIgnorePatterns: ['/node_modules/', '/test/'],
    },
  },

  gitignore: ['/.venv/', '/.bench/', '/.esbuild/', '/.smoke-venv/', '/.smoke-venv-out/', '/cdk.out/', '*.pyc', '__pycache__/'],
});

// ts-jest, eslint and ts-node compile with the same TypeScript line as jsii 5.9.
project.deps.removeDependency('typescript');
project.addDevDeps('typescript@~5.9.3');

for (const pattern of ['/.venv/', '/.bench/', '/.esbuild/', '/.smoke-venv/', '/.smoke-venv-out/', '/scripts/', '/demo/', '/bench/', '/examples/', '/.ci/', '/requirements-dev.txt']) {
  project.addPackageIgnore(pattern);
}

// The handler's sources compile into lib/lambda/ too, but the package only needs their bundle (assets/)
// and the generated construct that points at it.
project.addPackageIgnore('/lib/lambda/*');
project.addPackageIgnore('!/lib/lambda/discovery-function.*');

// The emulator (moto_server) and cfn-lint live in a project-local .venv, installed from the
// pinned requirements file by the project's own script whenever it is missing or stale.
const venv = project.addTask('venv', {
  description: 'Create or refresh the project-local Python venv (moto_server, cfn-lint) from requirements-dev.txt',
  exec: 'bash scripts/ensure-venv.sh',
});

// The handler is bundled by scripts/bundle-lambda.mjs instead of the esbuild command projen generates for
// `*.lambda.ts` entry points, which takes no esbuild plugins. The script writes an ES module bundle with
// code splitting (index.mjs and its chunks; Lambda's `index.handler` finds index.mjs), bundles the AWS SDK v3
// with the handler (not the runtime's copy, so behaviour never shifts under a runtime update), and rewrites the AWS
// SDK clients' schema modules so that the shapes the handler never uses are tree-shaken; it fails the build
// when the SDK's layout is not the one it expects, or the bundle is over its budget. projen still generates
// the construct (src/lambda/discovery-function.ts), which only needs the asset folder and `index.handler`.
const handlerBundle = 'bundle:lambda/discovery.lambda';
const bundleCommand = [
  'node scripts/bundle-lambda.mjs src/lambda/discovery.lambda.ts assets/lambda/discovery.lambda',
  `--target=${lambdaRuntime.esbuildTarget}`,
  `--max-bytes=${BUNDLE_BUDGET_BYTES}`,
  // The handler tells SSM errors apart by name only (it reads its registrations with GetParameters): SSM's
  // ~140 error classes would otherwise add some 60 KB to the bundle.
  '--untyped-errors=client-ssm',
].join(' ');
for (const [name, command] of [[handlerBundle, bundleCommand], [`${handlerBundle}:watch`, `${bundleCommand} --watch`]]) {
  const task = project.tasks.tryFind(name);
  if (!task) {
    throw new Error(`projen did not create the ${name} task; lambda auto-discovery is expected to`);
  }
  task.reset(command);
}

// `npm test` runs end-to-end suites against the bundled handler that the package ships,
// so the bundle and the emulator must exist before jest starts.
const bundle = project.tasks.tryFind('bundle');
if (!bundle) {
  throw new Error('projen did not create a bundle task; lambda auto-discovery is expected to');
}
project.testTask.prependSpawn(bundle);
project.testTask.prependSpawn(venv);

const demo = project.addTask('demo', {
  description: 'Run the product locally against the AWS API emulator and show DNS following a scaling service',
});
demo.spawn(venv);
demo.spawn(bundle);
demo.exec('ts-node --project tsconfig.dev.json demo/run.ts');

const bench = project.addTask('bench', {
  description: 'Print performance figures of the bundled handler against the emulator',
});
bench.spawn(venv);
bench.spawn(bundle);
bench.exec('ts-node --project tsconfig.dev.json bench/run.ts');

// No .NET SDK is needed to check the C# binding: generate its source (dist/dotnet-code) without compiling it.
project.addTask('package:dotnet-code', {
  description: 'Generate the .NET binding source with jsii-pacmak (no .NET SDK required)',
  exec: 'jsii-pacmak --target dotnet --code-only --outdir dist/dotnet-code',
});

project.addTask('smoke:python', {
  description: 'Build the wheel, install it with aws-cdk-lib in a throwaway venv and synthesize a Python app',
  exec: 'bash scripts/smoke-python.sh',
});

project.tsconfigDev.addInclude('.projenrc.ts');
project.tsconfigDev.addInclude('demo/**/*.ts');
project.tsconfigDev.addInclude('bench/**/*.ts');
// Lambda code is bundled by esbuild: its AWS SDK imports are build-time (dev) dependencies by design.
project.eslint?.addOverride({
  files: ['src/lambda/**/*.ts'],
  rules: { 'import/no-extraneous-dependencies': ['error', { devDependencies: true, optionalDependencies: false, peerDependencies: true }] },
});
project.eslint?.addLintPattern('demo');
project.eslint?.addLintPattern('bench');

project.synth();
