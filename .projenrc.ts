import { awscdk, javascript } from 'projen';

/**
 * The bundling options projen passes to esbuild for every `*.lambda.ts` entry point.
 *
 * `externals: []` bundles the AWS SDK v3 with the handler instead of taking the one the
 * Lambda runtime happens to ship, so behaviour never shifts under a runtime update.
 * `minify` and `mainFields` are esbuild options projen forwards but does not declare on `BundlingOptions`.
 * Preferring the SDK's ES module builds (`module` before `main`) lets esbuild tree-shake the
 * commands the handler never sends: the bundle shrinks by ~40% and its cold initialisation halves.
 */
const lambdaBundling: javascript.BundlingOptions & Pick<javascript.AddBundleOptions, 'minify' | 'mainFields'> = {
  externals: [],
  minify: true,
  mainFields: ['module', 'main'],
};

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

  // Node.js 22 Lambda runtime needs aws-cdk-lib >= 2.168.0.
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
    runtime: awscdk.LambdaRuntime.NODEJS_22_X,
    awsSdkConnectionReuse: false,
    bundlingOptions: lambdaBundling,
  },

  devDeps: [
    '@aws-sdk/client-ec2@^3.700.0',
    '@aws-sdk/client-ecs@^3.700.0',
    '@aws-sdk/client-route-53@^3.700.0',
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

  gitignore: ['/.venv/', '/.bench/', '/.smoke-venv/', '/.smoke-venv-out/', '/cdk.out/', '*.pyc', '__pycache__/'],
});

// ts-jest, eslint and ts-node compile with the same TypeScript line as jsii 5.9.
project.deps.removeDependency('typescript');
project.addDevDeps('typescript@~5.9.3');

for (const pattern of ['/.venv/', '/.bench/', '/.smoke-venv/', '/.smoke-venv-out/', '/scripts/', '/demo/', '/bench/', '/examples/', '/.ci/', '/requirements-dev.txt']) {
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

// Consumer tests (scripts/consumer/): the built packages installed into fresh apps outside the repository,
// as users install them, each synthesizing the README example. `.ci/run` runs both after `npm test`.
project.addTask('package:consumers', {
  description: 'Build the npm tarball, wheel, Maven artifacts and Go module source the consumer tests install (one jsii-pacmak call)',
  exec: 'bash scripts/consumer/package.sh',
});
project.addTask('test:consumers', {
  description: 'Install the built packages into fresh TypeScript (minimum and newest aws-cdk-lib), Python and Java apps and synthesize the example',
  exec: 'bash scripts/consumer/all.sh',
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
