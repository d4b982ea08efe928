/**
 * Wiring shared by the end-to-end test files (jest only): one emulator and one proxy per file, the
 * bundled handler configured from the synthesized template, a fresh world per test.
 *
 *   const e2e = useE2e();
 *   test('...', async () => { const t = await e2e.world.startTask(e2e.web.serviceName); ... });
 */
import type { ResourceRecordSet } from '@aws-sdk/client-route-53';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { running, sqsBatch, SqsMessageInput } from '../../emulator/events';
import { CfnTemplate, synthesizeExampleTemplate } from '../../emulator/example-app';
import { HandlerProcess, Invocation, handlerEnv, startHandlerProcess } from '../../emulator/handler';
import { MotoServer, startMoto } from '../../emulator/moto';
import { AwsProxy } from '../../emulator/proxy';
import { neighbourRecords, notOwned, snapshot } from '../../emulator/records';
import { DeployedWorld, handlerEnvironment } from '../../emulator/template-config';
import { REGION, TaskInfo, World } from '../../emulator/world';
import type { DiscoveryConfig, RegisteredService } from '../../src/shared/contract';

/** Physical ECS service names of the example app's services, by construct id. */
export const SERVICE_NAMES = { Web: 'web', Api: 'api', Game: 'game' } as const;

export interface SqsBatchResponse {
  readonly batchItemFailures: Array<{ itemIdentifier: string }>;
}

export interface ReconcileResult {
  readonly services: number;
  readonly upserted: number;
  readonly deleted: number;
  readonly failed: number;
  readonly failedServices: string[];
}

export interface InvokeOptions {
  /** Keep the proxy's call counts instead of resetting them first. */
  readonly keepCounts?: boolean;
  /** The invocation's timeout as the handler's context reports it (default 60 s, the construct's). */
  readonly timeoutMs?: number;
}

export interface E2e {
  readonly moto: MotoServer;
  readonly proxy: AwsProxy;
  readonly world: World;
  readonly config: DiscoveryConfig;
  /** The bundled handler, running in its own Node process. */
  readonly handler: HandlerProcess;
  /** The handler's current environment variables from the template (PUBLIC_DISCOVERY_CONFIG, ...). */
  readonly env: Record<string, string>;
  /** The synthesized example template the handler is configured from. */
  readonly template: CfnTemplate;
  /** The emulator's stand-ins for the template's cluster, services and zone. */
  readonly deployed: DeployedWorld;
  /** Registered services of the example app. */
  readonly web: RegisteredService;
  readonly api: RegisteredService;
  readonly play: RegisteredService;
  readonly fqdns: string[];
  /** Snapshot of the records the handler does not own, taken after seeding. */
  readonly baseline: string;
  /** The invoked handler echoes its log lines when E2E_ECHO=1. */
  readonly echo: boolean;
  /**
   * Configures the handler from another template, as a deployment that updates the function does
   * (the world's registrations follow, so tasks started afterwards carry the new tags).
   */
  useTemplate(template: CfnTemplate): Promise<void>;
  /** Starts a new handler process (a fresh execution environment: nothing loaded or cached); stop the old one first. */
  restartHandler(): Promise<void>;
  /** Delivers events (or raw messages) as one SQS batch; call counts are reset first unless keepCounts. */
  deliver(items: ReadonlyArray<Record<string, unknown> | SqsMessageInput>, options?: InvokeOptions): Promise<Invocation<SqsBatchResponse>>;
  /** Invokes the handler with any event; call counts are reset first unless keepCounts. */
  invoke<T = unknown>(event: unknown, options?: InvokeOptions): Promise<Invocation<T>>;
  /**
   * Delivers events as SQS does: one batch, then the messages reported in batchItemFailures again
   * (receive count + 1), until none fails or `maxRounds` is reached. Call counts cover all rounds.
   */
  deliverUntilAcknowledged(events: ReadonlyArray<Record<string, unknown>>, options?: InvokeOptions & { maxRounds?: number }): Promise<{
    rounds: number; unacknowledged: number; invocations: Array<Invocation<SqsBatchResponse>>;
  }>;
  /** Invokes the reconciler; call counts are reset first unless keepCounts. */
  reconcile(options?: InvokeOptions): Promise<Invocation<ReconcileResult>>;
  /** Starts tasks and delivers their RUNNING events (one batch), without counting the setup. */
  startAndPublish(service: RegisteredService, count: number): Promise<TaskInfo[]>;
  /** The zone's full contents. */
  records(): Promise<ResourceRecordSet[]>;
  /** Snapshot of the records the handler does not own, now. */
  unownedSnapshot(): Promise<string>;
}

export interface UseE2eOptions {
  /** Extra seeding after the neighbour records (e.g. thousands of unrelated records). */
  readonly seed?: (world: World) => Promise<void>;
  /** The app to "deploy" (default: the example app of stack.ts). */
  readonly synthesize?: () => CfnTemplate;
  /**
   * Creates the hosted zones the app has besides the world's own, before the handler is configured: returns
   * each zone's id by the construct id of its `AWS::Route53::HostedZone` (see `DeployedWorld.zones`).
   */
  readonly zones?: (world: World) => Promise<Record<string, string>>;
  /** Physical ECS service names by construct id, for services CloudFormation would name (default: the example app's). */
  readonly serviceNames?: Record<string, string>;
}

/** Puts the SSM parameters a template's handler reads into the emulator, as CloudFormation would create them. */
async function putParameters(motoEndpoint: string, parameters: Record<string, string>): Promise<void> {
  const entries = Object.entries(parameters);
  if (entries.length === 0) {
    return;
  }
  const ssm = new SSMClient({
    endpoint: motoEndpoint, region: REGION, credentials: { accessKeyId: 'harness', secretAccessKey: 'harness' }, maxAttempts: 1,
  });
  try {
    for (const [Name, Value] of entries) {
      await ssm.send(new PutParameterCommand({ Name, Value, Type: 'String', Overwrite: true }));
    }
  } finally {
    ssm.destroy();
  }
}

/** Registers the jest hooks and returns the (live) context of the current test. */
export function useE2e(options: UseE2eOptions = {}): E2e {
  let moto: MotoServer | undefined;
  let proxy: AwsProxy | undefined;
  let template: CfnTemplate | undefined;
  let handler: HandlerProcess | undefined;
  let env: Record<string, string> = {};
  let world: World | undefined;
  let config: DiscoveryConfig | undefined;
  let current: CfnTemplate | undefined;
  let deployed: DeployedWorld | undefined;
  let baseline = '';
  const echo = process.env.E2E_ECHO === '1';

  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) {
      throw new Error(`e2e: ${what} is not ready (did beforeAll/beforeEach fail?)`);
    }
    return v;
  };
  const service = (name: string) => {
    const s = need(config, 'config').services.find((x) => x.name === name);
    if (!s) {
      throw new Error(`e2e: no registered service named ${name}`);
    }
    return s;
  };

  beforeAll(async () => {
    template = (options.synthesize ?? synthesizeExampleTemplate)();
    moto = await startMoto();
    proxy = await AwsProxy.start(moto.endpoint);
    handler = await startHandlerProcess(handlerEnv(proxy.endpoint));
  });

  afterAll(async () => {
    await handler?.stop();
    await proxy?.stop();
    await moto?.stop();
  });

  beforeEach(async () => {
    const m = need(moto, 'moto');
    const p = need(proxy, 'proxy');
    await m.reset();
    p.forgetZones();
    p.clearFaults();
    p.restoreServices();
    const w = await World.create(m.endpoint);
    const zones = options.zones ? await options.zones(w) : undefined;
    deployed = {
      clusterName: w.clusterName,
      clusterArn: w.clusterArn,
      zoneId: w.zoneId,
      ...(zones ? { zones } : {}),
      serviceNames: { ...(options.serviceNames ?? SERVICE_NAMES) },
    };
    current = need(template, 'template');
    const resolved = handlerEnvironment(current, deployed);
    await putParameters(m.endpoint, resolved.parameters);
    env = resolved.env;
    w.register(resolved.config);
    await w.putRecords(neighbourRecords(w.zoneName));
    if (options.seed) {
      await options.seed(w);
    }
    world = w;
    config = resolved.config;
    baseline = snapshot(notOwned(await w.zoneRecords(), resolved.config.services));
    p.resetCounts();
  });

  const ctx: E2e = {
    get moto() { return need(moto, 'moto'); },
    get proxy() { return need(proxy, 'proxy'); },
    get world() { return need(world, 'world'); },
    get config() { return need(config, 'config'); },
    get handler() { return need(handler, 'handler'); },
    get env() { return env; },
    get template() { return need(current, 'template'); },
    get deployed() { return need(deployed, 'deployed world'); },
    async restartHandler() {
      handler = await startHandlerProcess(handlerEnv(ctx.proxy.endpoint));
    },
    async useTemplate(next: CfnTemplate) {
      const resolved = handlerEnvironment(next, need(deployed, 'deployed world'));
      await putParameters(ctx.moto.endpoint, resolved.parameters);
      env = resolved.env;
      config = resolved.config;
      current = next;
      need(world, 'world').register(resolved.config);
    },
    get web() { return service('web'); },
    get api() { return service('api'); },
    get play() { return service('play'); },
    get fqdns() { return need(config, 'config').services.map((s) => s.fqdn); },
    get baseline() { return baseline; },
    echo,
    async invoke<T>(event: unknown, opts: InvokeOptions = {}) {
      if (!opts.keepCounts) {
        ctx.proxy.resetCounts();
      }
      return ctx.handler.invoke<T>(event, { env, echo, timeoutMs: opts.timeoutMs });
    },
    async deliver(items, opts = {}) {
      return ctx.invoke<SqsBatchResponse>(sqsBatch(items), opts);
    },
    async deliverUntilAcknowledged(events, opts = {}) {
      let records = sqsBatch(events).Records;
      const invocations: Array<Invocation<SqsBatchResponse>> = [];
      for (let round = 1; ; round++) {
        const inv = await ctx.invoke<SqsBatchResponse>({ Records: records }, { ...opts, keepCounts: round > 1 || opts.keepCounts });
        invocations.push(inv);
        if (inv.error) {
          throw new Error(`e2e: the handler threw on an SQS batch: ${String(inv.error)}`);
        }
        const failed = new Set((inv.result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        records = records.filter((r) => failed.has(String(r.messageId))).map((r) => ({
          ...r,
          attributes: { ...(r.attributes as Record<string, string>), ApproximateReceiveCount: String(round + 1) },
        }));
        if (records.length === 0 || round >= (opts.maxRounds ?? 10)) {
          return { rounds: round, unacknowledged: records.length, invocations };
        }
      }
    },
    async reconcile(opts = {}) {
      return ctx.invoke<ReconcileResult>({ action: 'reconcile' }, opts);
    },
    async startAndPublish(s, count) {
      const tasks = await ctx.world.startTasks(s.serviceName, count);
      const inv = await ctx.deliver(tasks.map((t) => running(t)));
      if (inv.error || (inv.result?.batchItemFailures ?? []).length > 0) {
        throw new Error(`e2e: publishing the setup tasks failed: ${String(inv.error ?? JSON.stringify(inv.result))}`);
      }
      ctx.proxy.resetCounts();
      return tasks;
    },
    async records() {
      return ctx.world.zoneRecords();
    },
    async unownedSnapshot() {
      return snapshot(notOwned(await ctx.world.zoneRecords(), ctx.config.services));
    },
  };
  return ctx;
}

/**
 * The extra zones of the several-zones suites: a private `example.com` (split-horizon with the example's public
 * zone) and a public `example.net`, each with someone else's records that must survive everything. Fills `ids`
 * and answers `E2eOptions.zones` (the template's zone resources by construct id).
 */
export function splitHorizonZones(ids: { private: string; other: string }): (world: World) => Promise<Record<string, string>> {
  return async (world) => {
    ids.private = await world.createZone('example.com', { private: true });
    ids.other = await world.createZone('example.net');
    await world.putRecords(neighbourRecords('example.com.'), 'CREATE', ids.private);
    await world.putRecords(neighbourRecords('example.net.'), 'CREATE', ids.other);
    return { PrivateZone: ids.private, OtherZone: ids.other };
  };
}
