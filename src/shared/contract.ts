/**
 * The contract between the EcsPublicDiscovery construct and its Lambda handler.
 *
 * Both sides import this module: the construct writes the environment variables, tags and
 * metric names listed here and the handler reads them. It must stay free of aws-cdk-lib and
 * AWS SDK imports so that it bundles into the handler and compiles into the library alike.
 * Nothing here is part of the jsii public API.
 */

/** Tag put on a registered service (and propagated to its tasks and ENIs) holding the name given to `addService`. */
export const TAG_NAME = 'public-discovery:name';
/** Tag holding the record TTL in whole seconds, present when `dnsTtl` was given. */
export const TAG_TTL = 'public-discovery:ttl';

/** TTL of a record when a service gives none. */
export const DEFAULT_TTL_SECONDS = 60;
/** Largest TTL Route53 accepts (2^31 - 1 seconds). */
export const MAX_TTL_SECONDS = 2147483647;
/** Route53 answers for at most this many multi-value records of one name and type. */
export const MAX_RECORDS_PER_NAME = 100;

/** Names of the environment variables the construct sets on the handler. */
export const ENV = {
  /** JSON-encoded {@link DiscoveryConfig}. */
  CONFIG: 'PUBLIC_DISCOVERY_CONFIG',
  /** CloudWatch namespace for the embedded-metric-format metrics. */
  METRICS_NAMESPACE: 'PUBLIC_DISCOVERY_METRICS_NAMESPACE',
} as const;

/** Namespace of the handler's metrics unless configured otherwise. */
export const DEFAULT_METRICS_NAMESPACE = 'EcsPublicDiscovery';
/** The single dimension every metric carries; its value is the handler's function name. */
export const METRIC_DIMENSION = 'FunctionName';

/** Metric names emitted by the handler (embedded metric format) and offered by the construct's `metric*()` methods. */
export const METRIC = {
  /** Records created or updated (UPSERT applied). */
  RECORDS_UPSERTED: 'RecordsUpserted',
  /** Records deleted. */
  RECORDS_DELETED: 'RecordsDeleted',
  /** Changes Route53 rejected or that could not be applied after retries. */
  CHANGES_FAILED: 'ChangesFailed',
  /** Changes made by the reconciler because DNS had drifted from the running tasks. */
  DRIFT_REPAIRED: 'DriftRepaired',
  /** Events or tasks ignored on purpose (unregistered service, not a start/stop transition, ...). */
  EVENTS_IGNORED: 'EventsIgnored',
  /** Tasks refused for an untrusted or invalid input (spoofed tag, bad TTL tag, no public IP, ...). */
  TASKS_REJECTED: 'TasksRejected',
  /** Tasks left unpublished because their name already holds the maximum number of records. */
  CAPACITY_EXCEEDED: 'CapacityExceeded',
} as const;

/** The payload the reconciliation schedule sends to the handler. */
export const RECONCILE_ACTION = 'reconcile';

/** One service registered through `addService`. */
export interface RegisteredService {
  /** ECS service name; a task belongs to it when its `group` is `service:<serviceName>`. */
  readonly serviceName: string;
  /** The name exactly as given to `addService`; the value the name tag must carry. */
  readonly name: string;
  /** The fully qualified record name: lower case, with a trailing dot. */
  readonly fqdn: string;
  /** Record TTL in seconds. */
  readonly ttl: number;
  /** Whether a `public-discovery:ttl` tag was set (false when the default TTL applies). */
  readonly ttlTagged: boolean;
  /** Hosted zone the record lives in. */
  readonly hostedZoneId: string;
}

/** Everything the handler needs to know, carried in {@link ENV.CONFIG}. */
export interface DiscoveryConfig {
  /** ARN of the cluster whose tasks are handled. */
  readonly clusterArn: string;
  /** The registered services. */
  readonly services: RegisteredService[];
}

/** A configuration problem, raised when an invocation starts (never at import time). */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Reads and validates the handler configuration from the environment.
 * Throws {@link ConfigError} naming the variable and what is wrong with it.
 */
export function readConfig(env: Record<string, string | undefined>): DiscoveryConfig {
  const raw = env[ENV.CONFIG];
  if (raw === undefined || raw.trim() === '') {
    throw new ConfigError(`${ENV.CONFIG} is not set: the handler must be deployed by the EcsPublicDiscovery construct, which sets it`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    throw new ConfigError(`${ENV.CONFIG} is not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(parsed)) {
    throw new ConfigError(`${ENV.CONFIG} must be a JSON object, got ${JSON.stringify(parsed)}`);
  }
  const clusterArn = parsed.clusterArn;
  if (typeof clusterArn !== 'string' || !/^arn:[^:]+:ecs:[^:]*:[^:]*:cluster\/.+/.test(clusterArn)) {
    throw new ConfigError(`${ENV.CONFIG}.clusterArn must be an ECS cluster ARN, got ${JSON.stringify(clusterArn)}`);
  }
  if (!Array.isArray(parsed.services)) {
    throw new ConfigError(`${ENV.CONFIG}.services must be an array, got ${JSON.stringify(parsed.services)}`);
  }
  const services = parsed.services.map((s: unknown, i: number) => readService(s, i));
  return { clusterArn, services };
}

function readService(s: unknown, i: number): RegisteredService {
  const where = `${ENV.CONFIG}.services[${i}]`;
  if (!isObject(s)) {
    throw new ConfigError(`${where} must be an object, got ${JSON.stringify(s)}`);
  }
  for (const key of ['serviceName', 'name', 'fqdn', 'hostedZoneId'] as const) {
    if (typeof s[key] !== 'string' || s[key] === '') {
      throw new ConfigError(`${where}.${key} must be a non-empty string, got ${JSON.stringify(s[key])}`);
    }
  }
  const ttl = s.ttl;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL_SECONDS) {
    throw new ConfigError(`${where}.ttl must be a whole number of seconds in 0..${MAX_TTL_SECONDS}, got ${JSON.stringify(ttl)}`);
  }
  const fqdn = s.fqdn as string;
  if (!fqdn.endsWith('.') || fqdn !== fqdn.toLowerCase()) {
    throw new ConfigError(`${where}.fqdn must be lower case with a trailing dot, got ${JSON.stringify(fqdn)}`);
  }
  return {
    serviceName: s.serviceName as string,
    name: s.name as string,
    fqdn,
    ttl,
    ttlTagged: s.ttlTagged === true,
    hostedZoneId: s.hostedZoneId as string,
  };
}

/** True for a plain JSON object (not null, not an array). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The last segment of a task ARN, used as the record's set identifier. */
export function taskIdFromArn(taskArn: string): string {
  const slash = taskArn.lastIndexOf('/');
  return slash >= 0 ? taskArn.slice(slash + 1) : taskArn;
}
