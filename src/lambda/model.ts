/**
 * Data shapes shared by the pure planner and the AWS adapters, and the interface the adapters implement
 * ({@link DiscoveryApi}). Nothing here does I/O.
 */
import type { Logger, Metrics } from './telemetry';
import type { DiscoveryConfig, RegisteredService } from '../shared/contract';

/** ECS task statuses that mean a task is going away (or gone). */
export const STOPPING_STATUSES: ReadonlySet<string> = new Set(['DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED']);

/** What an event asks for once it is understood. */
export type Intent = 'publish' | 'remove';

/** The fields of an ECS Task State Change event the handler uses. */
export interface TaskEvent {
  /** SQS message id (or the EventBridge event id) that carried the event. */
  readonly messageId: string;
  readonly taskArn: string;
  readonly taskId: string;
  readonly clusterArn: string;
  /** `service:<name>` for service tasks; absent for standalone tasks. */
  readonly group?: string;
  readonly lastStatus: string;
  readonly desiredStatus: string;
  /** Grows with every change of the task; orders events of one task. */
  readonly version: number;
  /** The task's ENI, from the event's `eni` / `ElasticNetworkInterface` attachment. */
  readonly eniId?: string;
  /** `detail.healthStatus` (HEALTHY, UNHEALTHY, UNKNOWN), when the event carries it; informative only, DescribeTasks decides. */
  readonly healthStatus?: string;
}

/** A message that could not be understood. */
export interface MalformedMessage {
  readonly messageId: string;
  readonly reason: string;
}

/** The newest event of one task in a batch, with every message that spoke of that task. */
export interface TaskWork {
  readonly event: TaskEvent;
  readonly service: RegisteredService;
  readonly intent: Intent;
  readonly messageIds: string[];
}

/** What DescribeTasks says about a task now. */
export interface TaskObservation {
  readonly taskArn: string;
  readonly lastStatus?: string;
  readonly desiredStatus?: string;
  readonly group?: string;
  readonly eniId?: string;
  /** The task's health status (HEALTHY, UNHEALTHY, UNKNOWN), from its containers' health checks. */
  readonly healthStatus?: string;
  /** The task's tags (DescribeTasks with `include: TAGS`): what ECS propagated from the service, the only tags read. */
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * What DescribeNetworkInterfaces says about an ENI now. Its tags are deliberately absent: ECS does not
 * copy a task's tags to its ENI, so anyone allowed `ec2:CreateTags` could write them. Tags come from
 * {@link TaskObservation.tags} only.
 */
export interface EniObservation {
  readonly eniId: string;
  readonly publicIp?: string;
  /** The ENI's first IPv6 address (`Ipv6Addresses[0].Ipv6Address`), when its subnet gives it one. */
  readonly ipv6Address?: string;
  /** The ENI's primary private IPv4 address (`PrivateIpAddress`), published in private zones. */
  readonly privateIp?: string;
}

/**
 * A Route53 resource record set, structurally compatible with the SDK's `ResourceRecordSet`.
 * Records read from Route53 are kept whole so that a DELETE repeats their exact values.
 */
export interface RecordSet {
  readonly Name: string;
  readonly Type: string;
  readonly SetIdentifier?: string;
  readonly MultiValueAnswer?: boolean;
  readonly TTL?: number;
  readonly ResourceRecords?: ReadonlyArray<{ readonly Value: string }>;
  readonly [other: string]: unknown;
}

/** One change to send to Route53. */
export interface PlannedChange {
  readonly action: 'UPSERT' | 'DELETE';
  readonly hostedZoneId: string;
  readonly record: RecordSet;
  /** The task the change is for (its set identifier). */
  readonly taskId: string;
  /** The service the record belongs to. */
  readonly service: RegisteredService;
}

/** The fate of one task in an invocation, logged as one line. */
export interface TaskOutcome {
  readonly taskId: string;
  readonly service?: string;
  readonly name?: string;
  readonly action: 'UPSERT' | 'DELETE' | 'SKIP';
  /** The record type the outcome is about, when it is not `A` (absent for A records and for whole tasks). */
  readonly recordType?: 'AAAA' | 'SRV';
  /** The record's name, when it is not the service's name: a task's host name or the SRV name (see task-names.ts). */
  readonly recordName?: string;
  readonly outcome: 'planned' | 'applied' | 'unchanged' | 'ignored' | 'rejected' | 'capacity' | 'conflict' | 'failed';
  readonly reason: string;
  readonly level: 'info' | 'warn' | 'error';
  /** The hosted zone of the change, given when the registrations publish in more than one zone. */
  readonly hostedZoneId?: string;
}

/**
 * A task that should have records, with the values they must hold: an A record when `publicIp` is set and
 * the service publishes A, an AAAA record when `ipv6Address` is set and the service publishes AAAA.
 */
export interface PublishItem {
  readonly taskId: string;
  readonly publicIp?: string;
  /** The private IPv4 address, instead of `publicIp`, for a registration publishing private addresses (`addressScope`). */
  readonly privateIp?: string;
  readonly ipv6Address?: string;
  readonly ttl: number;
  /**
   * The Route53 health check the task's public records carry, for a registration with `healthCheck`
   * (see health-checks.ts); absent when the registration has none, or when it could not be created.
   */
  readonly healthCheckId?: string;
}

/** What a health check probes, and the caller reference that makes its creation idempotent. */
export interface HealthCheckSpec {
  readonly callerReference: string;
  readonly type: 'TCP' | 'HTTP' | 'HTTPS';
  /** The task's public IPv4 address (its IPv6 address for an IPv6-only service). */
  readonly ipAddress: string;
  readonly port: number;
  /** HTTP(S) only. */
  readonly path?: string;
  readonly intervalSeconds: number;
  readonly failureThreshold: number;
}

/** One health check of the account, as ListHealthChecks reports it. */
export interface HealthCheckSummary {
  readonly id: string;
  readonly callerReference: string;
}

/**
 * What the Route53 health checks of a registration's `healthCheck` ask of AWS (see health-checks.ts). Only
 * reached when a registration has one.
 */
export interface HealthCheckApi {
  /**
   * Creates a health check, or returns the id of the one created with the same caller reference and settings.
   * Throws Route53's `HealthCheckAlreadyExists` (the reference belongs to another or a deleted check) and
   * `TooManyHealthChecks` (the account's quota is reached) by name.
   */
  createHealthCheck(spec: HealthCheckSpec): Promise<string>;
  /** Adds (or overwrites) tags of a health check. */
  tagHealthCheck(id: string, tags: Readonly<Record<string, string>>): Promise<void>;
  /** Every health check of the account (all pages). */
  listHealthChecks(): Promise<HealthCheckSummary[]>;
  /** The tags of the given health checks by id; checks that no longer exist are absent. */
  listHealthCheckTags(ids: readonly string[]): Promise<Map<string, Record<string, string>>>;
  /** Deletes a health check; one that no longer exists counts as deleted. */
  deleteHealthCheck(id: string): Promise<void>;
}

/**
 * Everything the pipeline asks of AWS. Tests substitute an in-memory implementation. The health check calls are
 * optional: the SDK adapter implements them all, and a fake of a test without health checks need not.
 */
export interface DiscoveryApi extends Partial<HealthCheckApi> {
  /** Current state of the given tasks of one cluster; tasks ECS does not know are absent from the map. */
  describeTasks(clusterArn: string, taskArns: readonly string[]): Promise<Map<string, TaskObservation>>;
  /**
   * ARNs of the tasks of a service whose desired status is RUNNING. A service ECS does not know (deleted outside
   * the stack: `ServiceNotFoundException`) has none, as an INACTIVE or draining one has none.
   */
  listServiceTasks(clusterArn: string, serviceName: string): Promise<string[]>;
  /** Current state of the given ENIs; deleted ENIs are absent from the map. */
  describeNetworkInterfaces(eniIds: readonly string[]): Promise<Map<string, EniObservation>>;
  /**
   * Every record set whose name is `fqdn` (with `subtree`, also every name below it), read without scanning the
   * rest of the zone.
   */
  listRecordsAt(hostedZoneId: string, fqdn: string, subtree?: boolean): Promise<RecordSet[]>;
  /** Every record set of the zone, or undefined when the zone takes more than `maxPages` pages to list. */
  listZoneRecords(hostedZoneId: string, maxPages: number): Promise<RecordSet[] | undefined>;
  /** Applies the changes in one all-or-nothing request. */
  changeRecords(hostedZoneId: string, changes: ReadonlyArray<{ readonly action: 'UPSERT' | 'DELETE'; readonly record: RecordSet }>): Promise<void>;
  /** Values of the given SSM parameters by name; parameters that do not exist are absent from the map. */
  getParameters(names: readonly string[]): Promise<Map<string, string>>;
}

/** What the workflows (events, reconciliation, purge) need for one invocation. */
export interface PipelineDeps {
  readonly config: DiscoveryConfig;
  readonly api: DiscoveryApi;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** The health checks ensured so far by this batch or reconciliation, by reference prefix (see health-checks.ts). */
  readonly ensuredChecks?: Map<string, Promise<string>>;
}
