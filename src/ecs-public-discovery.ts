import {
  CustomResource,
  Duration,
  RemovalPolicy,
  Token,
  aws_cloudwatch as cloudwatch,
  aws_ecs as ecs,
  aws_events as events,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_route53 as route53,
  aws_sqs as sqs,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { DiscoveryFunction } from './lambda/discovery-function';
import { createDeadLetterAlarm } from './private/dead-letter-alarm';
import { EventPipeline } from './private/event-pipeline';
import { HandlerConfigStore } from './private/handler-config';
import { grantHealthChecks, healthCheckConfig, healthCheckOwner } from './private/health-checks';
import { LifecycleResource } from './private/lifecycle-resource';
import { AWS_LIMITS, boundLength } from './private/limits';
import { handlerMetric } from './private/metrics';
import { grantReads, RecordWritePolicies } from './private/permissions';
import { createReconciliationSchedule } from './private/reconciliation';
import { checkLiteralName, Registrations } from './private/registrations';
import { cfnServiceOf, checkPublicIp, checkSameCluster, healthCheckValidation } from './private/service-checks';
import { tagService } from './private/service-tags';
import { checkWholeNumber, wholeMinutes, wholeSeconds, zoneNameOf } from './private/validation';
import { additionalZoneEntries } from './private/zones';
import { DEFAULT_METRICS_NAMESPACE, ENV, FEATURE_METRIC, FUNCTION_TIMEOUT_SECONDS, METRIC, RecordType } from './shared/contract';
import { SrvRecordOptions } from './srv-record';
import { ZonePublication } from './zone-publication';

/**
 * Properties of an {@link EcsPublicDiscovery}.
 */
export interface EcsPublicDiscoveryProps {
  /**
   * The ECS cluster whose services are published. Only tasks of this cluster are handled.
   */
  readonly cluster: ecs.ICluster;

  /**
   * The public hosted zone the records are written to.
   *
   * Its name must be known at synthesis: use `HostedZone.fromHostedZoneAttributes()` with a literal
   * `zoneName`, `HostedZone.fromLookup()` or a zone created in the app, not `HostedZone.fromHostedZoneId()`
   * or a name from a parameter or an import (the name is written into the IAM conditions, which compare
   * it exactly).
   */
  readonly hostedZone: route53.IHostedZone;

  /**
   * X-Ray tracing of the discovery function.
   *
   * @default lambda.Tracing.DISABLED
   */
  readonly tracing?: lambda.Tracing;

  /**
   * How long the discovery function's logs are kept. The log group is retained when the stack is deleted.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Largest number of task state change messages handed to one invocation (1..10000).
   * Above 10, `maxBatchingWindow` must be at least one second.
   *
   * @default 100
   */
  readonly batchSize?: number;

  /**
   * How long the queue gathers messages before invoking the function, in whole seconds, at most 5 minutes.
   * A short window lets a scaling event's task changes reach Route53 in one change batch.
   *
   * @default Duration.seconds(2)
   */
  readonly maxBatchingWindow?: Duration;

  /**
   * Most concurrent invocations the queue may start (2..1000). No reserved concurrency is set.
   *
   * @default 2
   */
  readonly maxConcurrency?: number;

  /**
   * Whether a schedule periodically reconciles the records with the running tasks, repairing any drift
   * (lost events, manual edits, failed changes).
   *
   * @default true
   */
  readonly reconciliation?: boolean;

  /**
   * How often the reconciliation runs, in whole minutes, at least one minute.
   *
   * @default Duration.minutes(5)
   */
  readonly reconciliationInterval?: Duration;

  /**
   * Whether to create an alarm that fires when messages reach the dead-letter queue.
   *
   * @default true
   */
  readonly deadLetterAlarm?: boolean;

  /**
   * How many times a message is received (and fails) before it moves to the dead-letter queue (1..1000).
   *
   * @default 5
   */
  readonly maxReceiveCount?: number;

  /**
   * What happens to the published records when this construct, or its stack, is deleted.
   *
   * With `RemovalPolicy.DESTROY`, a custom resource deletes every record the construct owns at its
   * registered names before CloudFormation deletes the function, so no record outlives the stack and
   * points at an address AWS hands to someone else. With `RemovalPolicy.RETAIN`, the records stay and
   * must be deleted by hand. Either way, records of a renamed or removed registration are deleted
   * during the stack update.
   *
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The address families a service's tasks are published with, named after aws-cdk-lib's own
 * (`elbv2.IpAddressType`, `ec2.IpProtocol`).
 */
export enum IpAddressType {
  /**
   * The task's public IPv4 address, as an A record. The service must assign public IPs.
   */
  IPV4 = 'ipv4',

  /**
   * The task's public IPv4 address as an A record and its network interface's IPv6 address as an AAAA
   * record, under the same name. The service must assign public IPs and run in subnets that assign IPv6
   * addresses; a task without an IPv6 address is published with its A record only, with a warning.
   */
  DUAL_STACK = 'dualstack',

  /**
   * The network interface's IPv6 address only, as an AAAA record; no public IPv4 address is needed
   * (`assignPublicIp` may be false, which saves the public IPv4 charge). The service must run in subnets
   * that assign IPv6 addresses; a task without an IPv6 address is not published.
   */
  IPV6 = 'ipv6',
}

/**
 * A service to publish, given to {@link EcsPublicDiscovery.addService}.
 */
export interface ServiceOptions {
  /**
   * The ECS service. It must run in the construct's cluster, use the `awsvpc` network mode and run on
   * Fargate; unless `ipAddressType` is `IPV6`, it must assign public IPs to its tasks (a `FargateService`
   * with `assignPublicIp: true`).
   */
  readonly service: ecs.BaseService;

  /**
   * The DNS name under which the public IPs of the service's running tasks are published.
   *
   * A name without a trailing dot is relative to the hosted zone: `mc` means `mc.<zone>` and `eu.mc`
   * means `eu.mc.<zone>` (so `mc.example.com` in the zone `example.com` means
   * `mc.example.com.example.com`). A name ending with a dot is absolute and must be the zone apex or a
   * name inside the zone. Labels may hold letters, digits, `_` and `-`; the record name is lower case.
   */
  readonly name: string;

  /**
   * TTL of the published records, in whole seconds from 0 to 2147483647.
   *
   * @default Duration.seconds(60)
   */
  readonly dnsTtl?: Duration;

  /**
   * Which addresses of the service's tasks are published: the public IPv4 address (A records), the
   * network interface's IPv6 address (AAAA records), or both under the same name.
   *
   * The records of one task share its set identifier (the task id) and TTL, and are created and deleted
   * together. The IAM policy allows AAAA records only when a registered service publishes IPv6.
   *
   * @default IpAddressType.IPV4
   */
  readonly ipAddressType?: IpAddressType;

  /**
   * Publish a task only once ECS reports its health status HEALTHY, and remove its records while it is not.
   *
   * ECS derives a task's health status from its essential containers' health checks: it is `UNKNOWN` until
   * they report, then `HEALTHY` or `UNHEALTHY`. With this option a running task gets its records when ECS
   * reports it HEALTHY, loses them when it turns UNHEALTHY (the task keeps running until ECS replaces it) and
   * gets them back if it turns HEALTHY again. The status is always read from ECS (DescribeTasks) when a task
   * state change event arrives, and by the reconciler, which catches a change no event reported within one
   * `reconciliationInterval`. The task definition must have at least one container with a `healthCheck`;
   * synthesis fails otherwise.
   *
   * @default false - a task is published as soon as it is RUNNING, whatever its health status
   */
  readonly publishWhenHealthy?: boolean;

  /**
   * Other hosted zones the service is also published in, besides the construct's `hostedZone`.
   *
   * Each publication has its own name (by default the service's `name`, relative to that zone) and writes
   * either the tasks' public IPv4 addresses or, for a private hosted zone, their private ones
   * (`RecordAddress.PRIVATE`, the default for a `PrivateHostedZone`): a public and a private zone of the
   * same name give split-horizon DNS, the public address outside the VPC and the private one inside. AAAA
   * records (`ipAddressType`) are published in every zone. Each zone gets record-write policies of its own,
   * which allow only its names; the reconciler and the purge on stack deletion cover every zone.
   *
   * @default - the service is published in the construct's `hostedZone` only
   */
  readonly additionalZones?: ZonePublication[];

  /**
   * Publish each task also under its own host name, `<task id>.<name>` (the task id is the last segment of the
   * task ARN, 32 hexadecimal characters), with the same record types (A and/or AAAA, per `ipAddressType`) and
   * TTL as at the service's name.
   *
   * A task's host name records share its set identifier (the task id) and are created and deleted with its
   * other records. The IAM policy allows the names `<32 characters>.<name>` (a pattern of 32 `?`), nothing wider.
   *
   * @default - false, or true when `srv` is given
   */
  readonly taskNames?: boolean;

  /**
   * Publish SRV records at `_<service>._<protocol>.<name>`: one value per running task,
   * `<priority> <weight> <port> <task id>.<name>.`, pointing at the task's host name (so `taskNames` is turned
   * on; `taskNames: false` with `srv` is an error).
   *
   * Game clients such as Minecraft Java Edition find a server's port this way (`_minecraft._tcp.<name>`).
   *
   * @default - no SRV records
   */
  readonly srv?: SrvRecordOptions;

  /**
   * A Route53 health check per task, attached to the task's records: Route53 then answers only with the tasks
   * whose check passes (a multi-value answer holds the healthy records; when none is healthy, it answers with
   * up to eight of them).
   *
   * The handler creates each task's check before it publishes the task's records and deletes it after the
   * records are gone and the task has stopped. Checks are tagged `public-discovery:owner` (this construct, in its
   * account, region and stack) and `public-discovery:task` (the task ARN); the reconciler deletes those of tasks
   * that no longer run. Route53's
   * checkers probe the task from the internet: the task's security group must let them in (Route53 publishes
   * their address ranges as the `ROUTE53_HEALTHCHECKS` service in ip-ranges.json). Each check is billed by
   * Route53, and an account holds 200 by default: past that quota a task is published without a check, an error
   * names the quota and `metricHealthCheckQuotaExceeded()` counts it, and the reconciler attaches one later.
   * Health checks need the reconciliation (`reconciliation: false` is refused with them).
   *
   * @default - no health check: every running task is answered
   */
  readonly healthCheck?: TaskHealthCheckOptions;
}

/** How Route53 checks a task. */
export enum TaskHealthCheckType {
  /** A TCP connection to the port. */
  TCP = 'TCP',
  /** An HTTP request to the port and path; a 2xx or 3xx status within 2 seconds passes. */
  HTTP = 'HTTP',
  /** An HTTPS request to the port and path (the certificate is not validated); a 2xx or 3xx status passes. */
  HTTPS = 'HTTPS',
}

/** The Route53 health check of each task of a service (see {@link ServiceOptions.healthCheck}). */
export interface TaskHealthCheckOptions {
  /**
   * How Route53 checks the task.
   *
   * @default TaskHealthCheckType.TCP
   */
  readonly type?: TaskHealthCheckType;

  /**
   * The port checked, on the task's public IPv4 address (its IPv6 address for an `IPV6` service).
   *
   * @default - the container port of the first port mapping of the task definition's default container
   */
  readonly port?: number;

  /**
   * The path requested by an HTTP or HTTPS check, starting with `/`. A TCP check takes none.
   *
   * @default '/' for HTTP and HTTPS
   */
  readonly path?: string;

  /**
   * Time between two checks from one Route53 checker: 10 or 30 seconds (10 is billed as a fast interval).
   *
   * @default Duration.seconds(30)
   */
  readonly interval?: Duration;

  /**
   * Consecutive checks that must fail (or pass) to turn the task unhealthy (or healthy): 1 to 10.
   *
   * @default 3
   */
  readonly failureThreshold?: number;
}

/** The record types each address family publishes. */
const RECORD_TYPES_OF: Record<IpAddressType, RecordType[]> = {
  [IpAddressType.IPV4]: ['A'],
  [IpAddressType.DUAL_STACK]: ['A', 'AAAA'],
  [IpAddressType.IPV6]: ['AAAA'],
};

/** Refuses a value that is not one of the enum's (jsii languages may pass any string). */
function checkIpAddressType(value: IpAddressType, where: string): void {
  if (!Object.values(IpAddressType).includes(value)) {
    throw new Error(`The ipAddressType of the ${where} is ${JSON.stringify(value)}, which is not one of `
      + `${Object.values(IpAddressType).map(v => JSON.stringify(v)).join(', ')}: use IpAddressType.IPV4, DUAL_STACK or IPV6.`);
  }
}

/** Timeout of the discovery function (see FUNCTION_TIMEOUT_SECONDS in the contract). */
const FUNCTION_TIMEOUT = Duration.seconds(FUNCTION_TIMEOUT_SECONDS);

/**
 * Publishes the public IPs of ECS tasks as Route53 multi-value A records (and, per service, AAAA records of
 * their IPv6 addresses), without a load balancer. Per service, tasks may also be published in more hosted
 * zones (a private zone gets their private addresses), under host names of their own with SRV records
 * pointing at them, with a Route53 health check each, or only while ECS reports them HEALTHY.
 *
 * ECS task state changes of the registered services flow through an EventBridge rule and an SQS queue
 * to a Lambda function that upserts a record per running task and deletes it when the task stops. A
 * schedule reconciles the records with the running tasks. Register services with {@link addService}.
 *
 * @example
 * const discovery = new EcsPublicDiscovery(this, 'Discovery', { cluster, hostedZone });
 * discovery.addService({ service: gameService, name: 'play', dnsTtl: Duration.seconds(30) });
 */
export class EcsPublicDiscovery extends Construct {
  /** The function that writes the records. */
  public readonly handler: lambda.IFunction;

  /** The queue between the task state change rule and the function. */
  public readonly queue: sqs.IQueue;

  /**
   * The dead-letter queue: messages the function failed to process `maxReceiveCount` times, and events
   * EventBridge could not deliver to the queue.
   */
  public readonly deadLetterQueue: sqs.IQueue;

  /** The EventBridge rule routing the registered services' task state changes to the queue. */
  public readonly rule: events.IRule;

  /** The function's log group. */
  public readonly logGroup: logs.ILogGroup;

  /**
   * The custom resource that binds the records to the stack: it reconciles them after every deployment
   * that changes the registrations, deletes the records of removed or renamed registrations, and deletes
   * all records the construct owns when the construct or its stack is deleted.
   */
  public readonly lifecycle: CustomResource;

  /**
   * The alarm on messages in the dead-letter queue.
   *
   * @default - undefined when `deadLetterAlarm` is false
   */
  public readonly deadLetterQueueAlarm?: cloudwatch.IAlarm;

  private readonly cluster: ecs.ICluster;
  private readonly config: HandlerConfigStore;
  private readonly writes: RecordWritePolicies;
  private readonly registrations: Registrations;
  private readonly pipeline: EventPipeline;
  private readonly lifecycleResource: LifecycleResource;
  private readonly role: iam.Role;
  private healthChecksGranted = false;
  private readonly reconciles: boolean;

  constructor(scope: Construct, id: string, props: EcsPublicDiscoveryProps) {
    super(scope, id);
    validateProps(props);

    this.cluster = props.cluster;
    const hostedZone = props.hostedZone;
    const zoneName = zoneNameOf(hostedZone);
    // An ECS cluster ARN, however it is given (a reference, an import), is at most this long.
    boundLength(this, this.cluster.clusterArn, 'arn::ecs:::cluster/'.length + 16 + 16 + 12 + AWS_LIMITS.ecsServiceName);

    const logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    this.logGroup = logGroup;

    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Execution role of the ECS public discovery function: reads ECS tasks and their ENIs, writes the registered Route53 records',
    });
    this.role = role;
    // The zone ids of the envelope (registrations in SSM): the construct's zone alone reads as before several zones.
    const zoneIds = () => this.registrations.hostedZones.map(z => z.hostedZoneId).join(',');
    this.config = new HandlerConfigStore(this, role, this.cluster.clusterArn, zoneIds);
    this.writes = new RecordWritePolicies(this, role, hostedZone);
    this.registrations = new Registrations(this, { hostedZone, zoneName, config: this.config, writes: this.writes });

    const handler = new DiscoveryFunction(this, 'Handler', {
      description: 'Keeps Route53 multi-value A records in step with the public IPs of ECS tasks (cdk-ecs-public-discovery)',
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: FUNCTION_TIMEOUT,
      tracing: props.tracing ?? lambda.Tracing.DISABLED,
      logGroup,
      role,
      environment: {
        [ENV.CONFIG]: this.config.value,
        [ENV.METRICS_NAMESPACE]: DEFAULT_METRICS_NAMESPACE,
      },
    });
    this.handler = handler;
    grantReads(role, { cluster: this.cluster, logGroup, hostedZone });

    this.pipeline = new EventPipeline(this, {
      clusterArn: this.cluster.clusterArn,
      handler,
      functionTimeout: FUNCTION_TIMEOUT,
      batchSize: props.batchSize,
      maxBatchingWindow: props.maxBatchingWindow,
      maxConcurrency: props.maxConcurrency,
      maxReceiveCount: props.maxReceiveCount,
    });
    const { queue, deadLetterQueue, rule } = this.pipeline;
    this.queue = queue;
    this.deadLetterQueue = deadLetterQueue;
    this.rule = rule;

    // The lifecycle resource is served by the function and deleted before what the function needs to
    // reach Route53, after what invokes it with events (see lifecycle-resource.ts).
    this.lifecycleResource = new LifecycleResource(this, {
      handler,
      removalPolicy: props.removalPolicy,
      names: () => this.registrations.lifecycleNames(),
      fingerprint: () => this.config.fingerprint(),
      owner: () => this.config.owner,
    });
    this.lifecycle = this.lifecycleResource.resource;
    this.lifecycleResource.deleteBefore(role, logGroup, queue, rule);
    this.lifecycleResource.deleteAfter(...this.pipeline.eventSourceMappings);

    this.reconciles = props.reconciliation ?? true;
    if (this.reconciles) {
      this.lifecycleResource.deleteAfter(createReconciliationSchedule(this, handler, props.reconciliationInterval));
    }

    if (props.deadLetterAlarm ?? true) {
      this.deadLetterQueueAlarm = createDeadLetterAlarm(this, {
        deadLetterQueue,
        queue,
        handler,
        logGroup,
        messages: options => this.metricDeadLetterMessages(options),
      });
    }

    // Warns at synthesis when no service is registered.
    this.node.addValidation(this.registrations);
  }

  /**
   * Publishes the public IPs of a service's running tasks under a DNS name.
   *
   * The service must run in this construct's cluster, use the `awsvpc` network mode and assign public
   * IPs (a `FargateService` with `assignPublicIp: true`; an `Ec2Service` cannot). With
   * `ipAddressType: IpAddressType.IPV6` the tasks' IPv6 addresses are published instead (AAAA records),
   * and no public IPv4 address is needed; `DUAL_STACK` publishes both. The service gets the
   * tag `public-discovery:name` (and `public-discovery:ttl` when `dnsTtl` is given) and, unless it
   * already sets one, `propagateTags: SERVICE` so that its tasks carry the tags. A service that propagates
   * tags from its task definition, or not at all, gets a warning. Note that aws-cdk-lib renders
   * `propagateTags: PropagatedTagSource.NONE` on the L2 service as no setting, which is then replaced by
   * SERVICE; set the L1 `CfnService.propagateTags` to `'NONE'` to really keep the tasks untagged.
   *
   * A service can be registered once, and a name belongs to exactly one service: two services may not
   * publish the same record name (compared case-insensitively, after making it absolute). The handler
   * only lets a service's tasks write that service's name, so one service can never take over, or
   * delete, another's records.
   *
   * Renaming or removing a registration later deletes the records of the old name during the stack
   * update. Running tasks keep the tags they started with: after a rename, force a new deployment of the
   * service so that its tasks carry the new name tag and are published under it.
   *
   * @param options the service, its DNS name, TTL, address family and health gating
   * @throws Error when the service or the name cannot be published; the message says how to fix it
   */
  public addService(options: ServiceOptions): void {
    const { service } = options;
    const where = `service '${service.node.path}'`;

    // The service first (a second registration is refused as such before the service's settings are
    // examined), then the registration, which is refused whole when it does not fit; only then the tags.
    checkSameCluster(this, this.cluster, service, where);
    this.registrations.checkNotRegistered(service, where);
    const cfnService = cfnServiceOf(service, where);
    const ipAddressType = options.ipAddressType ?? IpAddressType.IPV4;
    checkIpAddressType(ipAddressType, where);
    checkPublicIp(service, cfnService, where, ipAddressType !== IpAddressType.IPV6);

    const publishWhenHealthy = options.publishWhenHealthy ?? false;
    // The service's own name first: the publications in other zones default to it.
    checkLiteralName(options.name, where);
    // The construct's zone always gets the public address, so the public-IP check above stands for every zone.
    const zones = additionalZoneEntries(this, this.registrations.primaryZone, options.name, options.additionalZones, where);

    if (options.healthCheck !== undefined && !this.reconciles) {
      throw new Error(`The ${where} asks for Route53 health checks (healthCheck), but this EcsPublicDiscovery has reconciliation: false: `
        + 'the reconciler is what deletes the check of a task that stopped while it was not published (not HEALTHY) and any '
        + 'check left by an interrupted invocation, which would otherwise stay, and be billed, for good. Remove reconciliation: false, '
        + 'or remove healthCheck.');
    }
    const healthCheck = options.healthCheck !== undefined ? healthCheckConfig(service, options.healthCheck, where) : undefined;
    if (healthCheck !== undefined) {
      // The owner rides in the handler's configuration, measured with the registration.
      this.config.owner ??= healthCheckOwner(this);
    }
    let registration;
    try {
      registration = this.registrations.add(service, options.name, options.dnsTtl, where, RECORD_TYPES_OF[ipAddressType], publishWhenHealthy,
        { zones: zones.entries, taskNames: options.taskNames, srv: options.srv, healthCheck });
    } catch (e) {
      if (!this.registrations.hasHealthChecks) {
        this.config.owner = undefined;
      }
      throw e;
    }
    // At synthesis: a zone may be given VPCs after this call.
    this.node.addValidation(zones.validation);
    if (healthCheck !== undefined && !this.healthChecksGranted) {
      this.healthChecksGranted = true;
      // The lifecycle resource depends on the policy: created before its Update, deleted only after it.
      this.lifecycleResource.deleteBefore(grantHealthChecks(this, this.role));
    }
    if (publishWhenHealthy) {
      // At synthesis: the task definition's containers may be added after this call.
      this.node.addValidation(healthCheckValidation(service, where));
    }
    // The registration may have added record-write policies or parameters: the function needs them too.
    this.lifecycleResource.deleteBefore(...this.writes.resources, ...this.config.parameters);
    // The function's environment names the parameters as literals, which CloudFormation cannot see:
    // without this, an update could give the function names of parameters that do not exist yet.
    this.handler.node.addDependency(...this.config.parameters);
    this.pipeline.routeServices(this.registrations.serviceNames);
    tagService(service, cfnService, registration, where);
  }

  /**
   * A metric emitted by the discovery function (see the `metric*` methods for the names it emits).
   *
   * @param metricName the metric name
   * @param props options overriding the defaults (Sum over 5 minutes)
   */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return handlerMetric(this.handler, metricName, props);
  }

  /**
   * Records created or updated.
   *
   * @default - Sum over 5 minutes
   */
  public metricRecordsUpserted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.RECORDS_UPSERTED, props);
  }

  /**
   * Records deleted.
   *
   * @default - Sum over 5 minutes
   */
  public metricRecordsDeleted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.RECORDS_DELETED, props);
  }

  /**
   * Changes Route53 rejected or that could not be applied after retries.
   *
   * @default - Sum over 5 minutes
   */
  public metricChangesFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.CHANGES_FAILED, props);
  }

  /**
   * Changes made by the reconciliation because the records had drifted from the running tasks.
   *
   * @default - Sum over 5 minutes
   */
  public metricDriftRepaired(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.DRIFT_REPAIRED, props);
  }

  /**
   * Tasks refused for an untrusted or invalid input (tag not matching the registration, no public IP, conflict).
   *
   * @default - Sum over 5 minutes
   */
  public metricTasksRejected(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.TASKS_REJECTED, props);
  }

  /**
   * Tasks left unpublished because their name already holds the maximum number of records.
   *
   * @default - Sum over 5 minutes
   */
  public metricCapacityExceeded(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.CAPACITY_EXCEEDED, props);
  }

  /**
   * Events or tasks ignored on purpose (another service, not a start or stop transition, ...).
   *
   * @default - Sum over 5 minutes
   */
  public metricEventsIgnored(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRIC.EVENTS_IGNORED, props);
  }

  /**
   * Tasks published without their Route53 health check because the account reached its quota of health checks
   * (200 by default; `TooManyHealthChecks`). Emitted only when it happens: alarm on it with missing data treated
   * as not breaching.
   *
   * @default - Sum over 5 minutes
   */
  public metricHealthCheckQuotaExceeded(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(FEATURE_METRIC.HEALTH_CHECK_QUOTA_EXCEEDED, props);
  }

  /**
   * Messages waiting in the dead-letter queue (`ApproximateNumberOfMessagesVisible`).
   *
   * @default - Maximum over 5 minutes
   */
  public metricDeadLetterMessages(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deadLetterQueue.metricApproximateNumberOfMessagesVisible(props);
  }
}

function validateProps(props: EcsPublicDiscoveryProps): void {
  checkWholeNumber('batchSize', props.batchSize, 1, 10000,
    'it is the largest number of messages one invocation handles (SQS event source limit: 10000).');
  const windowSeconds = props.maxBatchingWindow === undefined ? 2
    : wholeSeconds('maxBatchingWindow', props.maxBatchingWindow, 0, 300,
      'the SQS event source waits a whole number of seconds, at most 5 minutes; e.g. Duration.seconds(2).');
  const batchSize = props.batchSize ?? 100;
  if (!Token.isUnresolved(batchSize) && !Token.isUnresolved(windowSeconds) && batchSize > 10 && windowSeconds < 1) {
    throw new Error(`batchSize is ${batchSize} with a maxBatchingWindow of 0 seconds, but Lambda requires a batching `
      + 'window of at least 1 second for batches larger than 10: set maxBatchingWindow to Duration.seconds(1) or more, or batchSize to 10 or less.');
  }
  checkWholeNumber('maxConcurrency', props.maxConcurrency, 2, 1000,
    'it is the number of concurrent invocations the SQS event source may start (Lambda allows 2 to 1000).');
  if (props.reconciliationInterval !== undefined) {
    wholeMinutes('reconciliationInterval', props.reconciliationInterval, 1,
      'the schedule runs every whole number of minutes; e.g. Duration.minutes(5).');
  }
  checkWholeNumber('maxReceiveCount', props.maxReceiveCount, 1, 1000,
    'it is how many failed receives move a message to the dead-letter queue (SQS allows 1 to 1000).');
}
