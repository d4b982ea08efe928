/**
 * The event path of the discovery function: ECS task state changes of the registered services go through an
 * EventBridge rule to an SQS queue (with a dead-letter queue) and from there, in batches, to the function.
 *
 * The rule lists the registered services' task groups while its pattern fits EventBridge's size limit; past
 * it, the rule takes every service task of the cluster and the handler ignores the others (see
 * {@link EventPipeline.routeServices}).
 */
import {
  Annotations,
  Duration,
  Lazy,
  aws_events as events,
  aws_events_targets as targets,
  aws_lambda as lambda,
  aws_lambda_event_sources as eventSources,
  aws_sqs as sqs,
} from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { AWS_LIMITS, resolvedJsonLength } from './limits';
import { EVENT_BUDGET_SECONDS } from '../shared/contract';

/** Statuses whose events are routed to the handler: the start status and every stopping one. */
const ROUTED_STATUSES = ['RUNNING', 'DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED'];

/** What the event pipeline connects, and its settings (the construct's props, defaults applied here). */
export interface EventPipelineProps {
  /** The watched cluster's ARN. */
  readonly clusterArn: string;
  /** The discovery function the queue feeds. */
  readonly handler: lambda.Function;
  /** The function's timeout; the queue's visibility timeout is derived from it. */
  readonly functionTimeout: Duration;
  /** @default 100 */
  readonly batchSize?: number;
  /** @default Duration.seconds(2) */
  readonly maxBatchingWindow?: Duration;
  /** @default 2 */
  readonly maxConcurrency?: number;
  /** @default 5 */
  readonly maxReceiveCount?: number;
}

/**
 * Creates, in `scope`, the queues (`DeadLetterQueue`, `Queue`), the function's SQS event source and the rule
 * `TaskStateChangeRule`. {@link routeServices} is called after each registration.
 */
export class EventPipeline {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly rule: events.Rule;
  private readonly handler: lambda.Function;
  /** The registered services' task groups (`service:<name>`). */
  private groups: string[] = [];
  /** Whether the rule lists the registered services' groups (false past EventBridge's pattern size). */
  private ruleListsGroups = true;

  constructor(private readonly scope: Construct, private readonly props: EventPipelineProps) {
    this.handler = props.handler;
    this.deadLetterQueue = new sqs.Queue(scope, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(scope, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS recommends at least six times the time an invocation may take, so a message is not handed to a
      // second invocation while a throttled or retried one still holds it. An event invocation works at most
      // EVENT_BUDGET_SECONDS (the longer function timeout is for lifecycle requests); the queue must also keep
      // a message hidden for at least the function's timeout, which this does.
      visibilityTimeout: Duration.seconds(Math.max(EVENT_BUDGET_SECONDS * 6, props.functionTimeout.toSeconds())),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });
    props.handler.addEventSource(new eventSources.SqsEventSource(this.queue, {
      batchSize: props.batchSize ?? 100,
      maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(2),
      maxConcurrency: props.maxConcurrency ?? 2,
      reportBatchItemFailures: true,
    }));
    this.rule = this.createRule();
  }

  /** The event source mappings of the function (the queue's), which must stop before the records are deleted. */
  public get eventSourceMappings(): IConstruct[] {
    return this.handler.node.children.filter(c => c instanceof lambda.EventSourceMapping);
  }

  /**
   * Takes the registered services' names as they are now: the rule lists their task groups while its
   * pattern fits EventBridge's size limit; past it, the rule takes every service task of the cluster and
   * the handler ignores the others.
   */
  public routeServices(serviceNames: readonly string[]): void {
    this.groups = serviceNames.map(n => `service:${n}`);
    const pattern = this.eventPattern(this.groups);
    const listsGroups = resolvedJsonLength(this.scope, pattern) <= AWS_LIMITS.eventPatternChars;
    if (this.ruleListsGroups && !listsGroups) {
      Annotations.of(this.scope).addInfo(`${serviceNames.length} registered services no longer fit an EventBridge event pattern `
        + `(${AWS_LIMITS.eventPatternChars} characters): the rule forwards the task state changes of every service of the cluster, `
        + 'and the function ignores those of services that are not registered (counted in EventsIgnored).');
    }
    this.ruleListsGroups = listsGroups;
  }

  /** The rule's pattern as EventBridge receives it, to measure its size. */
  private eventPattern(groups: unknown): Record<string, unknown> {
    return {
      'source': ['aws.ecs'],
      'detail-type': ['ECS Task State Change'],
      'detail': { clusterArn: [this.props.clusterArn], group: groups, lastStatus: ROUTED_STATUSES },
    };
  }

  private createRule(): events.Rule {
    const rule = new events.Rule(this.scope, 'TaskStateChangeRule', {
      description: 'Routes the task state changes of the services registered with EcsPublicDiscovery to its queue',
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Task State Change'],
        detail: {
          clusterArn: [this.props.clusterArn],
          // EventBridge rejects an empty array: with no service registered, the filter is left out
          // (and a warning is given at synthesis).
          group: Lazy.any({
            produce: () => {
              if (this.groups.length === 0) {
                return undefined;
              }
              return this.ruleListsGroups ? this.groups : [{ prefix: 'service:' }];
            },
          }),
          lastStatus: ROUTED_STATUSES,
        },
      },
    });
    rule.addTarget(new targets.SqsQueue(this.queue, {
      deadLetterQueue: this.deadLetterQueue,
      // Delivery to SQS only fails on a misconfiguration (policy, deleted queue): give up within the
      // hour so that the alarm tells an operator, and let reconciliation repair what was missed.
      retryAttempts: 20,
      maxEventAge: Duration.hours(1),
    }));
    return rule;
  }
}
