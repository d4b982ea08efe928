import {
  Annotations,
  Arn,
  ArnFormat,
  CfnResource,
  Duration,
  Lazy,
  Stack,
  Token,
  Tokenization,
  aws_cloudwatch as cloudwatch,
  aws_ecs as ecs,
  aws_events as events,
  aws_events_targets as targets,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_lambda_event_sources as eventSources,
  aws_logs as logs,
  aws_route53 as route53,
  aws_sqs as sqs,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { DiscoveryFunction } from './lambda/discovery-function';
import {
  DEFAULT_METRICS_NAMESPACE,
  DEFAULT_TTL_SECONDS,
  DiscoveryConfig,
  ENV,
  METRIC,
  METRIC_DIMENSION,
  RECONCILE_ACTION,
  RegisteredService,
  TAG_NAME,
  TAG_TTL,
} from './shared/contract';
import {
  checkWholeNumber,
  normalizedRecordName,
  recordNameFor,
  ttlSeconds,
  wholeMinutes,
  wholeSeconds,
} from './validation';

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
   * Its name must be known: use `HostedZone.fromHostedZoneAttributes()`, `HostedZone.fromLookup()`
   * or a zone created in the app, not `HostedZone.fromHostedZoneId()`.
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
}

/**
 * A service to publish, given to {@link EcsPublicDiscovery.addService}.
 */
export interface ServiceOptions {
  /**
   * The ECS service. It must run in the construct's cluster, use the `awsvpc` network mode and
   * assign public IPs to its tasks (a `FargateService` with `assignPublicIp: true`).
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
}

/** One call to addService, as remembered until synthesis. */
interface Registration {
  readonly service: ecs.BaseService;
  readonly serviceName: string;
  readonly name: string;
  readonly fqdn: string;
  readonly ttl: number;
  readonly ttlTagged: boolean;
}

/** A cdk-nag suppression in the form cdk-nag reads from a resource's `cdk_nag` metadata. */
interface NagSuppressionMetadata {
  readonly id: string;
  readonly reason: string;
  readonly applies_to?: Array<string | { readonly regex: string }>;
}

/** Timeout of the discovery function; the queue's visibility timeout is derived from it. */
const FUNCTION_TIMEOUT = Duration.seconds(60);
/** Above this many services, the configuration risks outgrowing Lambda's 4 KB of environment. */
const MANY_SERVICES = 20;
/** Statuses whose events are routed to the handler: the start status and every stopping one. */
const ROUTED_STATUSES = ['RUNNING', 'DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED'];
/** Prefix of the ids of this library's warnings (acknowledge them with `Annotations.acknowledgeWarning`). */
const WARNING_PREFIX = 'cdk-ecs-public-discovery';

/**
 * Publishes the public IPs of ECS tasks as Route53 multi-value A records, without a load balancer.
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
   * The alarm on messages in the dead-letter queue.
   *
   * @default - undefined when `deadLetterAlarm` is false
   */
  public readonly deadLetterQueueAlarm?: cloudwatch.IAlarm;

  private readonly cluster: ecs.ICluster;
  private readonly hostedZone: route53.IHostedZone;
  private readonly zoneName: string;
  private readonly role: iam.Role;
  private readonly registrations: Registration[] = [];

  constructor(scope: Construct, id: string, props: EcsPublicDiscoveryProps) {
    super(scope, id);
    validateProps(props);

    this.cluster = props.cluster;
    this.hostedZone = props.hostedZone;
    this.zoneName = zoneNameOf(props.hostedZone);

    const batchSize = props.batchSize ?? 100;
    const maxBatchingWindow = props.maxBatchingWindow ?? Duration.seconds(2);
    const maxConcurrency = props.maxConcurrency ?? 2;
    const reconciliationInterval = props.reconciliationInterval ?? Duration.minutes(5);

    const logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    this.logGroup = logGroup;

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Execution role of the ECS public discovery function: reads ECS tasks and their ENIs, writes the registered Route53 records',
    });

    const handler = new DiscoveryFunction(this, 'Handler', {
      description: 'Keeps Route53 multi-value A records in step with the public IPs of ECS tasks (cdk-ecs-public-discovery)',
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: FUNCTION_TIMEOUT,
      tracing: props.tracing ?? lambda.Tracing.DISABLED,
      logGroup,
      role: this.role,
      environment: {
        [ENV.CONFIG]: Lazy.string({ produce: () => Stack.of(this).toJsonString(this.discoveryConfig()) }),
        [ENV.METRICS_NAMESPACE]: DEFAULT_METRICS_NAMESPACE,
      },
    });
    this.handler = handler;

    this.grantPermissions();

    // --- Queues -------------------------------------------------------------------------------
    const deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.deadLetterQueue = deadLetterQueue;

    const queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS recommends at least six times the function timeout, so a message is not handed to a
      // second invocation while a throttled or retried one still holds it.
      visibilityTimeout: Duration.seconds(FUNCTION_TIMEOUT.toSeconds() * 6),
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });
    this.queue = queue;

    handler.addEventSource(new eventSources.SqsEventSource(queue, {
      batchSize,
      maxBatchingWindow,
      maxConcurrency,
      reportBatchItemFailures: true,
    }));

    // --- Task state change rule ---------------------------------------------------------------
    const rule = new events.Rule(this, 'TaskStateChangeRule', {
      description: 'Routes the task state changes of the services registered with EcsPublicDiscovery to its queue',
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Task State Change'],
        detail: {
          clusterArn: [this.cluster.clusterArn],
          // EventBridge rejects an empty array: with no service registered, the filter is left out
          // (and a warning is given at synthesis).
          group: Lazy.list({ produce: () => this.registrations.map(r => `service:${r.serviceName}`) }, { omitEmpty: true }),
          lastStatus: ROUTED_STATUSES,
        },
      },
    });
    rule.addTarget(new targets.SqsQueue(queue, {
      deadLetterQueue,
      // Delivery to SQS only fails on a misconfiguration (policy, deleted queue): give up within the
      // hour so that the alarm tells an operator, and let reconciliation repair what was missed.
      retryAttempts: 20,
      maxEventAge: Duration.hours(1),
    }));
    this.rule = rule;

    // --- Reconciliation -----------------------------------------------------------------------
    if (props.reconciliation ?? true) {
      new events.Rule(this, 'ReconciliationSchedule', {
        description: 'Periodically reconciles the EcsPublicDiscovery records with the running tasks',
        schedule: events.Schedule.rate(reconciliationInterval),
        targets: [new targets.LambdaFunction(handler, {
          event: events.RuleTargetInput.fromObject({ action: RECONCILE_ACTION }),
        })],
      });
    }

    // --- Alarm --------------------------------------------------------------------------------
    if (props.deadLetterAlarm ?? true) {
      this.deadLetterQueueAlarm = new cloudwatch.Alarm(this, 'DeadLetterQueueAlarm', {
        alarmDescription: 'ECS public discovery: task state changes are waiting in the dead-letter queue '
          + `${deadLetterQueue.queueName}. They could not be delivered to, or were not processed by, the discovery `
          + `function ${handler.functionName}, so DNS records of the registered services may be stale until the next `
          + `reconciliation. Look for errors in the log group ${logGroup.logGroupName}, fix the cause, then redrive `
          + `the messages to ${queue.queueName} (SQS console: Start DLQ redrive).`,
        metric: this.metricDeadLetterMessages({ period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    this.node.addValidation({ validate: () => this.warnAboutRegistrations() });
  }

  /**
   * Publishes the public IPs of a service's running tasks under a DNS name.
   *
   * The service must run in this construct's cluster, use the `awsvpc` network mode and assign public
   * IPs (a `FargateService` with `assignPublicIp: true`; an `Ec2Service` cannot). The service gets the
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
   * @param options the service, its DNS name and TTL
   * @throws Error when the service or the name cannot be published; the message says how to fix it
   */
  public addService(options: ServiceOptions): void {
    const { service, name } = options;
    const where = `service '${service.node.path}'`;

    this.checkCluster(service, where);

    const previous = this.registrations.find(r => r.service === service
      || sameValue(Stack.of(this), r.serviceName, serviceNameOf(service)) === true);
    if (previous) {
      throw new Error(`The ${where} is already registered with the name '${previous.name}': a service can be registered only once; `
        + 'remove the second addService() call (to change the name, change the first one).');
    }

    const cfnService = cfnServiceOf(service, where);
    checkPublicIp(service, cfnService, where);

    const fqdn = recordNameFor(name, this.zoneName);
    const owner = this.registrations.find(r => r.fqdn === fqdn);
    if (owner) {
      throw new Error(`The DNS name '${name}' of the ${where} is the record name '${fqdn}', which is already published for `
        + `the service '${owner.service.node.path}' (given as '${owner.name}'): a name belongs to exactly one service; `
        + 'give each service its own name.');
    }

    const ttlTagged = options.dnsTtl !== undefined;
    const ttl = options.dnsTtl !== undefined ? ttlSeconds(options.dnsTtl) : DEFAULT_TTL_SECONDS;

    // Tags go on the ECS service resource only, not on its other children (security group, ...).
    // A high priority keeps them authoritative over Tags.of(...).add() aspects applied above.
    cfnService.tags.setTag(TAG_NAME, name, 1000);
    if (ttlTagged) {
      cfnService.tags.setTag(TAG_TTL, Tokenization.stringifyNumber(ttl), 1000);
    }
    this.propagateTags(service, cfnService, where);

    if (this.registrations.length === 0) {
      this.grantRecordChanges();
    }
    this.registrations.push({ service, serviceName: serviceNameOf(service), name, fqdn, ttl, ttlTagged });
  }

  /**
   * A metric emitted by the discovery function (see the `metric*` methods for the names it emits).
   *
   * @param metricName the metric name
   * @param props options overriding the defaults (Sum over 5 minutes)
   */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: DEFAULT_METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { [METRIC_DIMENSION]: this.handler.functionName },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.minutes(5),
      ...props,
    });
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
   * Messages waiting in the dead-letter queue (`ApproximateNumberOfMessagesVisible`).
   *
   * @default - Maximum over 5 minutes
   */
  public metricDeadLetterMessages(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deadLetterQueue.metricApproximateNumberOfMessagesVisible(props);
  }

  /** The configuration handed to the handler, built from the registrations when the template is synthesized. */
  private discoveryConfig(): DiscoveryConfig {
    const services: RegisteredService[] = this.registrations.map(r => ({
      serviceName: r.serviceName,
      name: r.name,
      fqdn: r.fqdn,
      ttl: r.ttl,
      ttlTagged: r.ttlTagged,
      hostedZoneId: this.hostedZone.hostedZoneId,
    }));
    return { clusterArn: this.cluster.clusterArn, services };
  }

  /** The read permissions, granted once. Route53 writes come with the first service (see grantRecordChanges). */
  private grantPermissions(): void {
    const clusterArn = this.cluster.clusterArn;
    const clusterCondition = { ArnEquals: { 'ecs:cluster': clusterArn } };

    // Writing to the function's own log group only (its ARN covers the group's log streams). The
    // role has no managed policy, so AWSLambdaBasicExecutionRole's logs:* on every group is not granted.
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'WriteOwnLogs',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [this.logGroup.logGroupArn],
    }));

    // ec2:DescribeNetworkInterfaces supports no resource-level permissions (its only resource is "*"),
    // so it cannot be narrowed to the tasks' ENIs. It only reads network interface descriptions.
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ReadTaskNetworkInterfaces',
      actions: ['ec2:DescribeNetworkInterfaces'],
      resources: ['*'],
    }));

    // ecs:DescribeTasks on the tasks of this cluster only: the task ARN embeds the cluster name and
    // the task id, which is random, hence the "/*". The ecs:cluster condition pins the cluster ARN.
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'DescribeClusterTasks',
      actions: ['ecs:DescribeTasks'],
      resources: [this.clusterTasksArn()],
      conditions: clusterCondition,
    }));

    // ecs:ListTasks is documented with the container-instance resource type, but that only applies
    // when a container instance is named in the request. Listing a service's tasks across the cluster
    // (what the reconciler does, and the only thing possible on Fargate) is authorized against "*",
    // so a container-instance ARN would deny it. The ecs:cluster condition confines it to this cluster.
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ListClusterTasks',
      actions: ['ecs:ListTasks'],
      resources: ['*'],
      conditions: clusterCondition,
    }));

    // Reading records of the configured hosted zone only.
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ListZoneRecords',
      actions: ['route53:ListResourceRecordSets'],
      resources: [this.hostedZone.hostedZoneArn],
    }));

    const policy = this.role.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
    if (policy) {
      addNagSuppressions(policy.node.defaultChild as CfnResource, [{
        id: 'AwsSolutions-IAM5',
        reason: 'Resource "*" is required by actions without resource-level permissions: ec2:DescribeNetworkInterfaces '
          + '(reads the public IP of a task ENI), ecs:ListTasks across a cluster (confined to this cluster by an ecs:cluster '
          + 'condition) and, when tracing is enabled, xray:PutTraceSegments/PutTelemetryRecords.',
        applies_to: ['Resource::*'],
      }, {
        id: 'AwsSolutions-IAM5',
        reason: 'ecs:DescribeTasks is limited to the tasks of the watched cluster (task/<cluster>/<task id>); task ids are '
          + 'random, so they can only be matched with a wildcard, and an ecs:cluster condition pins the cluster ARN.',
        // Tokens are rendered by cdk-nag as <LogicalId> or <AWS::Region>, which hold colons themselves.
        applies_to: [{ regex: '/^Resource::arn:.+:ecs:.+:task\\/.+\\/\\*$/' }],
      }]);
    }
  }

  /**
   * Route53 writes: only the registered names, only A records, only UPSERT and DELETE, in the configured
   * zone only. Added with the first service so that the name list is never empty.
   */
  private grantRecordChanges(): void {
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ChangeRegisteredRecords',
      actions: ['route53:ChangeResourceRecordSets'],
      resources: [this.hostedZone.hostedZoneArn],
      conditions: {
        'ForAllValues:StringEquals': {
          'route53:ChangeResourceRecordSetsNormalizedRecordNames': Lazy.list({
            produce: () => unique(this.registrations.map(r => normalizedRecordName(r.fqdn))),
          }),
          'route53:ChangeResourceRecordSetsRecordTypes': ['A'],
          'route53:ChangeResourceRecordSetsActions': ['UPSERT', 'DELETE'],
        },
      },
    }));
  }

  /**
   * `arn:<partition>:ecs:<region>:<account>:task/<cluster name>/*` for the watched cluster. A concrete
   * cluster ARN gives every part (an imported cluster may live in another account or region than the
   * stack); otherwise the cluster's name and environment are used, which resolve at deploy time.
   */
  private clusterTasksArn(): string {
    const stack = Stack.of(this);
    const clusterArn = this.cluster.clusterArn;
    if (!Token.isUnresolved(clusterArn)) {
      const parts = Arn.split(clusterArn, ArnFormat.SLASH_RESOURCE_NAME);
      return stack.formatArn({
        partition: parts.partition,
        service: 'ecs',
        region: parts.region,
        account: parts.account,
        resource: 'task',
        resourceName: `${parts.resourceName}/*`,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
    }
    return stack.formatArn({
      service: 'ecs',
      region: this.cluster.env.region,
      account: this.cluster.env.account,
      resource: 'task',
      resourceName: `${this.cluster.clusterName}/*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }

  /** Refuses a service of another cluster. ARNs only known at deploy time are not compared. */
  private checkCluster(service: ecs.BaseService, where: string): void {
    const same = sameValue(Stack.of(this), this.cluster.clusterArn, service.cluster.clusterArn);
    if (same === false) {
      throw new Error(`The ${where} runs in the cluster '${service.cluster.node.path}' but this EcsPublicDiscovery `
        + `watches the cluster '${this.cluster.node.path}': register the service with an EcsPublicDiscovery created for `
        + 'its own cluster.');
    }
  }

  private propagateTags(service: ecs.BaseService, cfnService: ecs.CfnService, where: string): void {
    const propagate = cfnService.propagateTags;
    if (propagate === undefined) {
      cfnService.propagateTags = ecs.PropagatedTagSource.SERVICE;
    } else if (!Token.isUnresolved(propagate) && propagate !== ecs.PropagatedTagSource.SERVICE) {
      Annotations.of(service).addWarningV2(`${WARNING_PREFIX}:propagateTags`,
        `The ${where} propagates tags from ${propagate}, so its tasks will not carry the tags ${TAG_NAME}/${TAG_TTL} `
        + 'that EcsPublicDiscovery puts on the service. The registration still publishes the service\'s tasks (the '
        + 'handler falls back to it and logs a warning per task), but they cannot be checked against the tags. '
        + 'To fix it, set propagateTags: ecs.PropagatedTagSource.SERVICE on the service.');
    }
  }

  private warnAboutRegistrations(): string[] {
    if (this.registrations.length === 0) {
      Annotations.of(this).addWarningV2(`${WARNING_PREFIX}:noServices`,
        'No service is registered with this EcsPublicDiscovery, so no DNS record will be published and the rule '
        + 'forwards every task state change of the cluster: call addService() for each service to publish.');
    } else if (this.registrations.length > MANY_SERVICES) {
      Annotations.of(this).addWarningV2(`${WARNING_PREFIX}:tooManyServices`,
        `${this.registrations.length} services are registered with this EcsPublicDiscovery; their configuration is `
        + 'passed in a Lambda environment variable and Lambda limits all variables to 4 KB, so deployment may fail. '
        + `Keep it to ${MANY_SERVICES} services or fewer per construct, e.g. by creating one EcsPublicDiscovery per group of services.`);
    }
    return [];
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

/** The hosted zone's name; fails clearly for a zone imported by id only. */
function zoneNameOf(zone: route53.IHostedZone): string {
  try {
    return zone.zoneName;
  } catch (e) {
    throw new Error(`The hosted zone '${zone.node.path}' does not expose its name (${(e as Error).message}): EcsPublicDiscovery `
      + 'needs it to build the record names; import the zone with HostedZone.fromHostedZoneAttributes({ hostedZoneId, zoneName }) '
      + 'or HostedZone.fromLookup() instead of HostedZone.fromHostedZoneId().');
  }
}

/** The L1 resource of a service; the checks and tags are applied to it. */
function cfnServiceOf(service: ecs.BaseService, where: string): ecs.CfnService {
  const child = service.node.defaultChild;
  if (!child || !CfnResource.isCfnResource(child) || child.cfnResourceType !== ecs.CfnService.CFN_RESOURCE_TYPE_NAME) {
    throw new Error(`The ${where} has no AWS::ECS::Service resource as its default child: register a FargateService `
      + '(or another ecs.BaseService) created in this app, not a wrapper around it.');
  }
  return child as ecs.CfnService;
}

/** Refuses a service whose tasks get no public IP. Settings only known at deploy time are not checked. */
function checkPublicIp(service: ecs.BaseService, cfnService: ecs.CfnService, where: string): void {
  const networkMode = service.taskDefinition.networkMode;
  if (networkMode !== ecs.NetworkMode.AWS_VPC) {
    throw new Error(`The ${where} uses the task definition '${service.taskDefinition.node.path}' with the network mode `
      + `'${networkMode}', but only the 'awsvpc' mode gives each task its own network interface and public IP: `
      + 'set networkMode: ecs.NetworkMode.AWS_VPC on the task definition (Fargate task definitions always use it).');
  }
  if (service instanceof ecs.Ec2Service || cfnService.launchType === ecs.LaunchType.EC2) {
    throw new Error(`The ${where} is an EC2 service: ECS cannot assign public IPs to awsvpc tasks on EC2 instances `
      + '(assignPublicIp is a Fargate setting), so its tasks have no public IP to publish: run it as a FargateService '
      + 'with assignPublicIp: true.');
  }
  // The L2 service fills this property through a Lazy: resolve it to read what will be deployed.
  // Values left as CloudFormation intrinsics (imports, parameters) are only known at deploy time.
  const network = Stack.of(cfnService).resolve(cfnService.networkConfiguration) as unknown;
  if (isIntrinsic(network)) {
    return;
  }
  const awsvpc = (network as { awsvpcConfiguration?: unknown } | undefined)?.awsvpcConfiguration;
  if (isIntrinsic(awsvpc)) {
    return;
  }
  const assign = (awsvpc as { assignPublicIp?: unknown } | undefined)?.assignPublicIp;
  if (isIntrinsic(assign)) {
    return;
  }
  if (assign !== 'ENABLED') {
    throw new Error(`The ${where} does not assign public IPs to its tasks (assignPublicIp is ${assign ?? 'unset'}), `
      + 'so there is no address to publish: set assignPublicIp: true on the FargateService and place it in public subnets.');
  }
}

/** The service name as the rule and the handler see it: the literal name when the service sets one. */
function serviceNameOf(service: ecs.BaseService): string {
  const child = service.node.defaultChild as ecs.CfnService | undefined;
  const literal = child?.serviceName;
  return typeof literal === 'string' && !Token.isUnresolved(literal) ? literal : service.serviceName;
}

/**
 * Whether two values, typically ARNs, are the same: `true` or `false` when that can be told at synth
 * time, `undefined` when one of them is only known at deploy time.
 *
 * Concrete strings are compared as they are; two references to CloudFormation resources
 * (`Fn::GetAtt` / `Ref` of a logical id) are the same when they name the same resource attribute.
 * Anything else (imports, parameters, ARNs assembled from parts) cannot be compared.
 */
function sameValue(stack: Stack, a: string, b: string): boolean | undefined {
  if (a === b) {
    return true;
  }
  const ra = stack.resolve(a);
  const rb = stack.resolve(b);
  if (typeof ra === 'string' && typeof rb === 'string') {
    return ra === rb;
  }
  if (isResourceReference(ra) && isResourceReference(rb)) {
    return JSON.stringify(ra) === JSON.stringify(rb);
  }
  return undefined;
}

function isResourceReference(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    return false;
  }
  const keys = Object.keys(v);
  if (keys.length !== 1) {
    return false;
  }
  const value = (v as Record<string, unknown>)[keys[0]];
  if (keys[0] === 'Ref') {
    return typeof value === 'string' && !value.startsWith('AWS::');
  }
  return keys[0] === 'Fn::GetAtt' && Array.isArray(value) && value.every(x => typeof x === 'string');
}

/** Whether a resolved value is a CloudFormation intrinsic (`Ref`, `Fn::...`), i.e. only known at deploy time. */
function isIntrinsic(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    return false;
  }
  const keys = Object.keys(v);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'));
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/**
 * Adds cdk-nag suppressions to a resource's `cdk_nag` metadata, in the format cdk-nag reads, keeping
 * suppressions already there. This library does not depend on cdk-nag at run time.
 */
function addNagSuppressions(resource: CfnResource, suppressions: NagSuppressionMetadata[]): void {
  const existing = (resource.getMetadata('cdk_nag') ?? {}) as { rules_to_suppress?: unknown[] };
  const rules: unknown[] = Array.isArray(existing.rules_to_suppress) ? [...existing.rules_to_suppress] : [];
  const seen = new Set(rules.map(r => JSON.stringify(r)));
  for (const suppression of suppressions) {
    const key = JSON.stringify(suppression);
    if (!seen.has(key)) {
      rules.push(suppression);
      seen.add(key);
    }
  }
  resource.addMetadata('cdk_nag', { ...existing, rules_to_suppress: rules });
}
