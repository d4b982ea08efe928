/**
 * The alarm on the dead-letter queue: it fires as soon as one task state change is waiting there, and its
 * description tells the operator where to look and how to redrive the messages.
 */
import { Duration, aws_cloudwatch as cloudwatch, aws_lambda as lambda, aws_logs as logs, aws_sqs as sqs } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/** What the alarm watches, and what its description names. */
export interface DeadLetterAlarmProps {
  readonly deadLetterQueue: sqs.IQueue;
  readonly queue: sqs.IQueue;
  readonly handler: lambda.IFunction;
  readonly logGroup: logs.ILogGroup;
  /**
   * The dead-letter queue's visible messages with the given options: the construct's
   * `metricDeadLetterMessages`, so the alarm watches what that method documents.
   */
  readonly messages: (options: cloudwatch.MetricOptions) => cloudwatch.IMetric;
}

/** Creates the alarm `DeadLetterQueueAlarm` in `scope`. */
export function createDeadLetterAlarm(scope: Construct, props: DeadLetterAlarmProps): cloudwatch.Alarm {
  const { deadLetterQueue, queue, handler, logGroup } = props;
  return new cloudwatch.Alarm(scope, 'DeadLetterQueueAlarm', {
    alarmDescription: 'ECS public discovery: task state changes are waiting in the dead-letter queue '
      + `${deadLetterQueue.queueName}. They could not be delivered to, or were not processed by, the discovery `
      + `function ${handler.functionName}, so DNS records of the registered services may be stale until the next `
      + `reconciliation. Look for errors in the log group ${logGroup.logGroupName}, fix the cause, then redrive `
      + `the messages to ${queue.queueName} (SQS console: Start DLQ redrive).`,
    metric: props.messages({ period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}
