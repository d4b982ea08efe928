/**
 * Loads the handler's configuration: the envelope in the environment and, for constructs with many
 * registrations, the SSM parameters that hold them. Loaded registrations are kept for the life of the
 * execution environment for at most {@link MAX_AGE_MS}, and read again sooner when they may be stale
 * (see {@link ConfigSource.reloadIfStale}); scheduled and deploy-time work always reads them afresh.
 */
import type { DiscoveryApi } from './model';
import { ConfigEnvelope, DiscoveryConfig, ENV, readEnvelope, readServicesParameter } from '../shared/contract';

/** How old loaded registrations may get before an event naming an unknown service makes us read them again. */
export const STALE_AFTER_MS = 10_000;
/**
 * How long loaded registrations are used at most. A value only known at deploy time (a service name
 * CloudFormation generates) can change in the parameters without changing the function's environment.
 */
export const MAX_AGE_MS = 60_000;

/** Why a load happens: `fresh` reads the parameters again (deploy-time and scheduled work). */
export interface LoadOptions {
  /** Read the SSM parameters even when loaded ones are at hand. */
  readonly fresh?: boolean;
}

interface Loaded {
  readonly raw: string;
  readonly config: DiscoveryConfig;
  readonly loadedAt: number;
  readonly fromParameters: boolean;
}

/**
 * The configuration of one execution environment. The envelope is read from the environment on every
 * load (it is cheap and a test harness may change it); SSM parameters are read once and then only
 * when asked for a fresh copy or when {@link reloadIfStale} finds them old.
 */
export class ConfigSource {
  private loaded?: Loaded;

  /** @param environment the variables to read; `process.env` as it is at each load by default */
  constructor(
    private readonly environment?: Record<string, string | undefined>,
    private readonly now: () => number = Date.now,
  ) {}

  private get env(): Record<string, string | undefined> {
    return this.environment ?? process.env;
  }

  /** The configuration; throws `ConfigError` when the environment or a parameter is wrong. */
  public async load(api: Pick<DiscoveryApi, 'getParameters'>, options: LoadOptions = {}): Promise<DiscoveryConfig> {
    const raw = this.env[ENV.CONFIG] ?? '';
    const envelope = readEnvelope(this.env);
    if (envelope.services !== undefined) {
      return { clusterArn: envelope.clusterArn, services: envelope.services, ...ownerField(envelope) };
    }
    if (!options.fresh && this.loaded && this.loaded.raw === raw && this.now() - this.loaded.loadedAt < MAX_AGE_MS) {
      return this.loaded.config;
    }
    return this.read(api, raw, envelope);
  }

  /**
   * Reads the parameters again when the loaded registrations come from SSM, do not know one of the
   * given ECS service names and are older than {@link STALE_AFTER_MS} (a service replaced at deploy
   * time gets a new name while the function's environment stays the same). Returns the configuration
   * to use.
   */
  public async reloadIfStale(api: Pick<DiscoveryApi, 'getParameters'>, config: DiscoveryConfig, serviceNames: readonly string[]): Promise<DiscoveryConfig> {
    const loaded = this.loaded;
    if (!loaded || !loaded.fromParameters || loaded.config !== config || this.now() - loaded.loadedAt < STALE_AFTER_MS) {
      return config;
    }
    const known = new Set(config.services.map(s => s.serviceName));
    if (serviceNames.every(n => known.has(n))) {
      return config;
    }
    return this.load(api, { fresh: true });
  }

  private async read(api: Pick<DiscoveryApi, 'getParameters'>, raw: string, envelope: ConfigEnvelope): Promise<DiscoveryConfig> {
    const names = envelope.servicesParameters ?? [];
    const values = await api.getParameters(names);
    const services = names.flatMap(name => readServicesParameter(name, values.get(name)));
    const config = { clusterArn: envelope.clusterArn, services, ...ownerField(envelope) };
    this.loaded = { raw, config, loadedAt: this.now(), fromParameters: true };
    return config;
  }
}

/** The ECS service names (`group` without `service:`) of the task state change events in SQS message bodies. */
export function serviceNamesInBodies(bodies: readonly unknown[]): string[] {
  const names = new Set<string>();
  for (const body of bodies) {
    try {
      const event = typeof body === 'string' ? JSON.parse(body) as unknown : body;
      const group = (event as { detail?: { group?: unknown } } | null)?.detail?.group;
      if (typeof group === 'string' && group.startsWith('service:')) {
        names.add(group.slice('service:'.length));
      }
    } catch {
      // A malformed body is reported by the pipeline.
    }
  }
  return [...names];
}

/** The envelope's `owner`, absent when it has none (a construct without health checks). */
function ownerField(envelope: ConfigEnvelope): { owner?: string } {
  return envelope.owner !== undefined ? { owner: envelope.owner } : {};
}
