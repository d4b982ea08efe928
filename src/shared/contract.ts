/**
 * The contract between the EcsPublicDiscovery construct and its Lambda handler.
 *
 * Both sides import this module: the construct writes the environment variables, tags and
 * metric names listed here and the handler reads them. It must stay free of aws-cdk-lib and
 * AWS SDK imports so that it bundles into the handler and compiles into the library alike.
 * Nothing here is part of the jsii public API. The spelling rules of a DNS name are in `dns-name.ts`.
 */
import { isNormalizedName } from './dns-name';

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
  /**
   * Milliseconds a purge waits before reading its names a second time (default {@link PURGE_SETTLE_MS}).
   * Not set by the construct: test harnesses shorten it.
   */
  PURGE_SETTLE_MS: 'PUBLIC_DISCOVERY_PURGE_SETTLE_MS',
} as const;

/**
 * Seconds an invocation that handles task events (an SQS batch) may work, retries included. The function's
 * timeout is longer, for the lifecycle requests; this budget is what bounds how long an event invocation that
 * was already running can still write a record.
 */
export const EVENT_BUDGET_SECONDS = 60;
/** Seconds the function may run: an event invocation's budget, or a lifecycle request with its settle wait. */
export const FUNCTION_TIMEOUT_SECONDS = 150;
/**
 * How long after a lifecycle request arrives its purge reads the names a second time: an event invocation
 * still running from before (started before the event source was deleted, or with the configuration from before
 * an update) has ended by then, so a record it wrote meanwhile is found and deleted.
 */
export const PURGE_SETTLE_MS = (EVENT_BUDGET_SECONDS + 10) * 1000;

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

/**
 * Metrics of an optional feature, emitted only by invocations that count them (an invocation of a construct
 * without the feature writes exactly the {@link METRIC} it wrote before); offered by the construct's
 * `metric*()` methods too. An alarm on one should treat missing data as not breaching.
 */
export const FEATURE_METRIC = {
  /**
   * Tasks published without their Route53 health check because the account holds as many health checks as its
   * quota allows (`TooManyHealthChecks`); the reconciler attaches one once the quota allows.
   */
  HEALTH_CHECK_QUOTA_EXCEEDED: 'HealthCheckQuotaExceeded',
} as const;

/** The custom resource property naming the owner of the construct's health checks (see {@link DiscoveryConfig.owner}); absent without them. */
export const LIFECYCLE_OWNER_PROPERTY = 'HealthCheckOwner';

/**
 * The address record types the library publishes: `A` for a task's IPv4 address (public, or private in a
 * private zone), `AAAA` for its ENI's IPv6 address.
 */
export type RecordType = 'A' | 'AAAA';
/** Every address record type the library may publish, in Route53's listing order. */
export const RECORD_TYPES: readonly RecordType[] = ['A', 'AAAA'];
/** What a registration without `recordTypes` publishes (every registration before IPv6 support). */
export const DEFAULT_RECORD_TYPES: readonly RecordType[] = ['A'];

/** The record types a registration (or a lifecycle name) publishes: `recordTypes`, or `A` only when absent. */
export function recordTypesOf(r: { readonly recordTypes?: readonly RecordType[] }): readonly RecordType[] {
  return r.recordTypes ?? DEFAULT_RECORD_TYPES;
}

/** The payload the reconciliation schedule sends to the handler. */
export const RECONCILE_ACTION = 'reconcile';

/** One service registered through `addService`. */
export interface RegisteredService {
  /** ECS service name; a task belongs to it when its `group` is `service:<serviceName>`. */
  readonly serviceName: string;
  /** The name exactly as given to `addService`; the value the name tag must carry. */
  readonly name: string;
  /** The fully qualified record name: lower case, with a trailing dot (see `normalizeName` in dns-name.ts). */
  readonly fqdn: string;
  /** Record TTL in seconds. */
  readonly ttl: number;
  /** Whether a `public-discovery:ttl` tag was set (false when the default TTL applies). */
  readonly ttlTagged: boolean;
  /** Hosted zone the record lives in. */
  readonly hostedZoneId: string;
  /**
   * Which of the construct's record-write policies allows this name (0 when absent). IAM evaluates each
   * policy statement on its own, so one change request may only touch names of one write group.
   */
  readonly writeGroup?: number;
  /**
   * The record types the service publishes, in {@link RECORD_TYPES} order: `["A"]`, `["A", "AAAA"]` (dual
   * stack) or `["AAAA"]` (IPv6 only). Absent means `["A"]`, so configurations written before IPv6 read the same.
   */
  readonly recordTypes?: RecordType[];
  /**
   * Whether a running task is published only once ECS reports its `healthStatus` HEALTHY (and its records
   * removed while it is not). Absent means false, so configurations written before health gating read the same.
   */
  readonly publishWhenHealthy?: boolean;
  /**
   * Which of the task's IPv4 addresses the A records hold: absent for the public one; `private` for the ENI's
   * private address (a private hosted zone answering inside the VPC: split-horizon DNS).
   */
  readonly addressScope?: 'private';
  /**
   * Whether each task is also published under its own host name, `<task id>.<fqdn>` (same record types, set
   * identifier and TTL as at the service's name). Absent means false.
   */
  readonly taskNames?: boolean;
  /** The SRV record set published for the service, one value per task pointing at its task name; absent when none. */
  readonly srv?: SrvConfig;
  /** The Route53 health check created for each task and attached to its public records; absent when none. */
  readonly healthCheck?: HealthCheckConfig;
}

/** The SRV records of a registration (see {@link RegisteredService.srv}). */
export interface SrvConfig {
  /** The SRV record name, `_<service>._<proto>.<fqdn>`: lower case, with a trailing dot. */
  readonly fqdn: string;
  /** SRV priority (0..65535). */
  readonly priority: number;
  /** SRV weight (0..65535). */
  readonly weight: number;
  /** The port clients connect to (1..65535). */
  readonly port: number;
}

/** The Route53 health check of each task of a registration (see {@link RegisteredService.healthCheck}). */
export interface HealthCheckConfig {
  /** How Route53 checks the task. */
  readonly type: 'TCP' | 'HTTP' | 'HTTPS';
  /** The port checked (1..65535). */
  readonly port: number;
  /** The path requested by HTTP and HTTPS checks, starting with `/`. */
  readonly path?: string;
  /** Seconds between two checks from one checker: 10 or 30. */
  readonly intervalSeconds: number;
  /** Consecutive failures (or successes) that change the status: 1..10. */
  readonly failureThreshold: number;
}

/** Everything the handler needs to know once its configuration is loaded. */
export interface DiscoveryConfig {
  /** ARN of the cluster whose tasks are handled. */
  readonly clusterArn: string;
  /** The registered services. */
  readonly services: RegisteredService[];
  /**
   * Identifies the construct (its account, region and path) on what it creates outside the zone's records:
   * the `public-discovery:owner` tag of its health checks. Absent when no registration has health checks.
   */
  readonly owner?: string;
}

/** Tag put on every health check the handler creates: the {@link DiscoveryConfig.owner} of its construct. */
export const TAG_OWNER = 'public-discovery:owner';
/** Tag put on every health check the handler creates: the ARN of the task it checks. */
export const TAG_TASK = 'public-discovery:task';

/**
 * What {@link ENV.CONFIG} carries. The registrations ride inline (`services`) while they fit in Lambda's
 * 4 KB of environment; past that the construct stores them in SSM parameters (`servicesParameters`, each a
 * JSON array of {@link RegisteredService}) and the handler reads them with `ssm:GetParameters`.
 */
export interface ConfigEnvelope {
  /** ARN of the cluster whose tasks are handled. */
  readonly clusterArn: string;
  /** The registered services, when they are carried inline. */
  readonly services?: RegisteredService[];
  /** Names of the SSM parameters holding the registered services, when they are not inline. */
  readonly servicesParameters?: string[];
  /**
   * Changes whenever the registrations change at synthesis, so that a deployment that changes them also
   * changes the function's configuration and Lambda starts fresh execution environments.
   */
  readonly fingerprint?: string;
  /**
   * The hosted zone of the registrations, when they live in SSM parameters: a replaced zone changes the
   * environment too, so no execution environment keeps registrations that name the old zone. With several
   * zones (`additionalZones`), their ids comma-separated, the construct's zone first.
   */
  readonly hostedZoneId?: string;
  /** See {@link DiscoveryConfig.owner}. */
  readonly owner?: string;
}

/** Largest value of a standard-tier SSM parameter, in characters. */
export const MAX_PARAMETER_VALUE = 4096;
/** Most parameter names one `ssm:GetParameters` request accepts. */
export const GET_PARAMETERS_LIMIT = 10;

/**
 * The CloudFormation custom resource that binds the records to the stack: its Create and Update run one
 * reconciliation, its Update deletes the records of registrations that went away, its Delete deletes every
 * record the library owns at the registered names. It is served by the discovery function itself.
 */
export const LIFECYCLE_RESOURCE_TYPE = 'Custom::EcsPublicDiscovery';
/** The custom resource property listing the registered names (a JSON array of {@link LifecycleName}). */
export const LIFECYCLE_NAMES_PROPERTY = 'Names';

/**
 * Identifies a registered name: its hosted zone (given with or without the `/hostedzone/` prefix, the same zone)
 * and its record name.
 */
export function nameKey(n: { readonly hostedZoneId: string; readonly fqdn: string }): string {
  return `${n.hostedZoneId.replace(/^\/?hostedzone\//, '')}|${n.fqdn}`;
}

/** One registered name as the custom resource carries it (CloudFormation passes every value as a string). */
export interface LifecycleName {
  /** Hosted zone of the name. */
  readonly hostedZoneId: string;
  /** The record name: lower case, with a trailing dot. */
  readonly fqdn: string;
  /** The ECS service registered under the name. */
  readonly serviceName: string;
  /** The name's write group (see {@link RegisteredService.writeGroup}). */
  readonly writeGroup?: number;
  /** The record types published at the name (see {@link RegisteredService.recordTypes}; absent means `["A"]`). */
  readonly recordTypes?: RecordType[];
  /** Whether tasks are also published at `<task id>.<fqdn>` (see {@link RegisteredService.taskNames}). */
  readonly taskNames?: boolean;
  /** The SRV record name of the registration, when it publishes one (see {@link SrvConfig.fqdn}). */
  readonly srvFqdn?: string;
}

/** A configuration problem, raised when an invocation starts (never at import time). */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Reads and validates the envelope in {@link ENV.CONFIG}.
 * Throws {@link ConfigError} naming the variable and what is wrong with it.
 */
export function readEnvelope(env: Record<string, string | undefined>): ConfigEnvelope {
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
  const fingerprint = typeof parsed.fingerprint === 'string' ? parsed.fingerprint : undefined;
  const owner = parsed.owner === undefined ? {} : { owner: readString(parsed.owner, `${ENV.CONFIG}.owner`) };
  if (parsed.servicesParameters !== undefined) {
    const names = parsed.servicesParameters;
    if (!Array.isArray(names) || names.length === 0 || names.some(n => typeof n !== 'string' || n === '')) {
      throw new ConfigError(`${ENV.CONFIG}.servicesParameters must be a non-empty array of SSM parameter names, got ${JSON.stringify(names)}`);
    }
    const hostedZoneId = typeof parsed.hostedZoneId === 'string' ? parsed.hostedZoneId : undefined;
    return { clusterArn, servicesParameters: names as string[], fingerprint, hostedZoneId, ...owner };
  }
  if (!Array.isArray(parsed.services)) {
    throw new ConfigError(`${ENV.CONFIG}.services must be an array, got ${JSON.stringify(parsed.services)}`);
  }
  const services = parsed.services.map((s: unknown, i: number) => readService(s, `${ENV.CONFIG}.services[${i}]`));
  return { clusterArn, services, fingerprint, ...owner };
}

/**
 * Reads and validates a configuration whose registrations ride inline in {@link ENV.CONFIG}.
 * Throws {@link ConfigError} naming the variable and what is wrong with it, also when the registrations
 * live in SSM parameters (use {@link readEnvelope} and {@link readServicesParameter} then).
 */
export function readConfig(env: Record<string, string | undefined>): DiscoveryConfig {
  const envelope = readEnvelope(env);
  if (envelope.services === undefined) {
    throw new ConfigError(`${ENV.CONFIG} keeps its registrations in SSM parameters (${(envelope.servicesParameters ?? []).join(', ')}): they must be read first`);
  }
  return { clusterArn: envelope.clusterArn, services: envelope.services, ...(envelope.owner !== undefined ? { owner: envelope.owner } : {}) };
}

/** Reads the value of one SSM parameter written by the construct: a JSON array of registered services. */
export function readServicesParameter(name: string, value: string | undefined): RegisteredService[] {
  const where = `SSM parameter ${name}`;
  if (value === undefined) {
    throw new ConfigError(`${where} does not exist or could not be read: it is created by the EcsPublicDiscovery construct; redeploy the stack`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (e) {
    throw new ConfigError(`${where} is not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(parsed)) {
    throw new ConfigError(`${where} must hold a JSON array of registered services, got ${JSON.stringify(parsed).slice(0, 200)}`);
  }
  return parsed.map((s: unknown, i: number) => readService(s, `${where}[${i}]`));
}

/**
 * Reads the custom resource's list of registered names (see {@link LIFECYCLE_NAMES_PROPERTY}).
 * Throws {@link ConfigError} naming the property when it is missing or malformed.
 */
export function readLifecycleNames(properties: unknown, where: string): LifecycleName[] {
  const names = isObject(properties) ? properties[LIFECYCLE_NAMES_PROPERTY] : undefined;
  if (!Array.isArray(names)) {
    throw new ConfigError(`${where}.${LIFECYCLE_NAMES_PROPERTY} must be an array of registered names, got ${JSON.stringify(names)}`);
  }
  return names.map((n: unknown, i: number) => {
    const at = `${where}.${LIFECYCLE_NAMES_PROPERTY}[${i}]`;
    if (!isObject(n)) {
      throw new ConfigError(`${at} must be an object, got ${JSON.stringify(n)}`);
    }
    for (const key of ['hostedZoneId', 'fqdn', 'serviceName'] as const) {
      if (typeof n[key] !== 'string' || n[key] === '') {
        throw new ConfigError(`${at}.${key} must be a non-empty string, got ${JSON.stringify(n[key])}`);
      }
    }
    return {
      hostedZoneId: n.hostedZoneId as string,
      fqdn: readFqdn(n.fqdn as string, at),
      serviceName: n.serviceName as string,
      ...(n.writeGroup !== undefined ? { writeGroup: readWriteGroup(n.writeGroup, at) } : {}),
      ...(n.recordTypes !== undefined ? { recordTypes: readRecordTypes(n.recordTypes, at) } : {}),
      // CloudFormation passes every custom resource value as a string: "true" is true.
      ...(n.taskNames === true || n.taskNames === 'true' ? { taskNames: true } : {}),
      ...(n.srvFqdn !== undefined ? { srvFqdn: readFqdn(readString(n.srvFqdn, `${at}.srvFqdn`), `${at}.srvFqdn`) } : {}),
    };
  });
}

function readService(s: unknown, where: string): RegisteredService {
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
  const fqdn = readFqdn(s.fqdn as string, where);
  return {
    serviceName: s.serviceName as string,
    name: s.name as string,
    fqdn,
    ttl,
    ttlTagged: s.ttlTagged === true,
    hostedZoneId: s.hostedZoneId as string,
    ...(s.writeGroup !== undefined ? { writeGroup: readWriteGroup(s.writeGroup, where) } : {}),
    ...(s.recordTypes !== undefined ? { recordTypes: readRecordTypes(s.recordTypes, where) } : {}),
    ...(s.publishWhenHealthy !== undefined ? { publishWhenHealthy: readFlag(s.publishWhenHealthy, `${where}.publishWhenHealthy`) } : {}),
    ...(s.addressScope !== undefined ? { addressScope: readAddressScope(s.addressScope, `${where}.addressScope`) } : {}),
    ...(s.taskNames !== undefined ? { taskNames: readFlag(s.taskNames, `${where}.taskNames`) } : {}),
    ...(s.srv !== undefined ? { srv: readSrv(s.srv, `${where}.srv`) } : {}),
    ...(s.healthCheck !== undefined ? { healthCheck: readHealthCheck(s.healthCheck, `${where}.healthCheck`) } : {}),
  };
}

/** A non-empty string. */
function readString(v: unknown, where: string): string {
  if (typeof v !== 'string' || v === '') {
    throw new ConfigError(`${where} must be a non-empty string, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** A whole number within bounds. */
function readWhole(v: unknown, min: number, max: number, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(`${where} must be a whole number in ${min}..${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function readAddressScope(v: unknown, where: string): 'private' {
  if (v !== 'private') {
    throw new ConfigError(`${where} must be "private" (absent means the public address), got ${JSON.stringify(v)}`);
  }
  return v;
}

function readSrv(v: unknown, where: string): SrvConfig {
  if (!isObject(v)) {
    throw new ConfigError(`${where} must be an object, got ${JSON.stringify(v)}`);
  }
  return {
    fqdn: readFqdn(readString(v.fqdn, `${where}.fqdn`), where),
    priority: readWhole(v.priority, 0, 65535, `${where}.priority`),
    weight: readWhole(v.weight, 0, 65535, `${where}.weight`),
    port: readWhole(v.port, 1, 65535, `${where}.port`),
  };
}

function readHealthCheck(v: unknown, where: string): HealthCheckConfig {
  if (!isObject(v)) {
    throw new ConfigError(`${where} must be an object, got ${JSON.stringify(v)}`);
  }
  if (v.type !== 'TCP' && v.type !== 'HTTP' && v.type !== 'HTTPS') {
    throw new ConfigError(`${where}.type must be "TCP", "HTTP" or "HTTPS", got ${JSON.stringify(v.type)}`);
  }
  if (v.intervalSeconds !== 10 && v.intervalSeconds !== 30) {
    throw new ConfigError(`${where}.intervalSeconds must be 10 or 30, got ${JSON.stringify(v.intervalSeconds)}`);
  }
  const path = v.path === undefined ? undefined : readString(v.path, `${where}.path`);
  if (path !== undefined && !path.startsWith('/')) {
    throw new ConfigError(`${where}.path must start with "/", got ${JSON.stringify(path)}`);
  }
  return {
    type: v.type,
    port: readWhole(v.port, 1, 65535, `${where}.port`),
    ...(path !== undefined ? { path } : {}),
    intervalSeconds: v.intervalSeconds,
    failureThreshold: readWhole(v.failureThreshold, 1, 10, `${where}.failureThreshold`),
  };
}

/** A boolean flag of a registration. */
function readFlag(v: unknown, where: string): boolean {
  if (typeof v !== 'boolean') {
    throw new ConfigError(`${where} must be true or false, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Record types: a non-empty list of distinct {@link RECORD_TYPES}, returned in that order. */
function readRecordTypes(v: unknown, where: string): RecordType[] {
  const types = Array.isArray(v) ? v : [];
  if (types.length === 0 || types.some(t => !RECORD_TYPES.includes(t as RecordType)) || new Set(types).size !== types.length) {
    throw new ConfigError(`${where}.recordTypes must be a non-empty list of distinct record types among ${RECORD_TYPES.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return RECORD_TYPES.filter(t => types.includes(t));
}

/** A record name as the construct writes it: in {@link normalizeName}'s form (lower case, with a trailing dot). */
function readFqdn(fqdn: string, where: string): string {
  if (!isNormalizedName(fqdn)) {
    throw new ConfigError(`${where}.fqdn must be lower case with a trailing dot, got ${JSON.stringify(fqdn)}`);
  }
  return fqdn;
}

/** A write group: absent (0), or a whole number, also as a string (CloudFormation passes custom resource values as strings). */
function readWriteGroup(v: unknown, where: string): number {
  if (v === undefined) {
    return 0;
  }
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw new ConfigError(`${where}.writeGroup must be a whole number, got ${JSON.stringify(v)}`);
  }
  return n;
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
