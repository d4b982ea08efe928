/**
 * The metric helpers: the handler's embedded-metric-format metrics (namespace and FunctionName dimension
 * of the contract) and the dead-letter queue's visible messages.
 */
import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { discovery, logicalId, testStack } from './helpers';
import { EcsPublicDiscovery } from '../../src';
import { DEFAULT_METRICS_NAMESPACE, METRIC, METRIC_DIMENSION } from '../../src/shared/contract';

function setup() {
  const t = testStack();
  const d = discovery(t);
  const functionRef = { Ref: logicalId(t.stack, d.node.findChild('Handler')) };
  return { ...t, d, functionRef };
}

const helpers: Array<[keyof EcsPublicDiscovery, string]> = [
  ['metricRecordsUpserted', METRIC.RECORDS_UPSERTED],
  ['metricRecordsDeleted', METRIC.RECORDS_DELETED],
  ['metricChangesFailed', METRIC.CHANGES_FAILED],
  ['metricDriftRepaired', METRIC.DRIFT_REPAIRED],
  ['metricTasksRejected', METRIC.TASKS_REJECTED],
  ['metricCapacityExceeded', METRIC.CAPACITY_EXCEEDED],
  ['metricEventsIgnored', METRIC.EVENTS_IGNORED],
];

describe('handler metrics', () => {
  test.each(helpers)('%s is %s, summed over 5 minutes, per function', (method, metricName) => {
    const { stack, d, functionRef } = setup();

    const metric = (d[method] as (props?: cloudwatch.MetricOptions) => cloudwatch.Metric).call(d);

    expect(metric.namespace).toBe(DEFAULT_METRICS_NAMESPACE);
    expect(metric.namespace).toBe('EcsPublicDiscovery');
    expect(metric.metricName).toBe(metricName);
    expect(metric.statistic).toBe('Sum');
    expect(metric.period.toSeconds()).toBe(300);
    expect(Object.keys(metric.dimensions ?? {})).toEqual([METRIC_DIMENSION]);
    expect(stack.resolve(metric.dimensions![METRIC_DIMENSION])).toEqual(functionRef);
  });

  test.each(helpers)('%s accepts options', (method) => {
    const { d } = setup();

    const metric = (d[method] as (props?: cloudwatch.MetricOptions) => cloudwatch.Metric)
      .call(d, { period: Duration.minutes(1), statistic: 'Maximum', label: 'mine' });

    expect(metric.period.toSeconds()).toBe(60);
    expect(metric.statistic).toBe('Maximum');
    expect(metric.label).toBe('mine');
    expect(metric.namespace).toBe(DEFAULT_METRICS_NAMESPACE);
  });

  test('metric() gives any metric name with the same namespace and dimension', () => {
    const { stack, d, functionRef } = setup();

    const metric = d.metric('SomethingNew');

    expect(metric.metricName).toBe('SomethingNew');
    expect(metric.namespace).toBe(DEFAULT_METRICS_NAMESPACE);
    expect(stack.resolve(metric.dimensions)).toEqual({ [METRIC_DIMENSION]: functionRef });
  });

  test('the function publishes to the namespace the helpers read', () => {
    const template = Template.fromStack(setup().stack);

    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { PUBLIC_DISCOVERY_METRICS_NAMESPACE: DEFAULT_METRICS_NAMESPACE } },
    });
  });

  test('a helper metric can drive an alarm', () => {
    const { stack, d, functionRef } = setup();

    d.metricChangesFailed().createAlarm(stack, 'Failed', { threshold: 1, evaluationPeriods: 1 });

    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'EcsPublicDiscovery',
      MetricName: 'ChangesFailed',
      Dimensions: [{ Name: 'FunctionName', Value: functionRef }],
      Statistic: 'Sum',
      Period: 300,
    });
  });
});

describe('dead-letter queue metric', () => {
  test('is the visible messages of the dead-letter queue', () => {
    const { stack, d } = setup();

    const metric = d.metricDeadLetterMessages();

    expect(metric.namespace).toBe('AWS/SQS');
    expect(metric.metricName).toBe('ApproximateNumberOfMessagesVisible');
    expect(stack.resolve(metric.dimensions)).toEqual({ QueueName: { 'Fn::GetAtt': [logicalId(stack, d.deadLetterQueue), 'QueueName'] } });
  });

  test('accepts options', () => {
    const { d } = setup();

    expect(d.metricDeadLetterMessages({ period: Duration.minutes(1) }).period.toSeconds()).toBe(60);
  });
});
