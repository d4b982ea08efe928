/**
 * The metrics the discovery function emits (embedded metric format, see `METRIC` in the shared contract),
 * as the construct's `metric*` methods return them: the contract's namespace, the function's name as the
 * dimension, and a sum over 5 minutes unless the caller says otherwise.
 */
import { Duration, aws_cloudwatch as cloudwatch, aws_lambda as lambda } from 'aws-cdk-lib';
import { DEFAULT_METRICS_NAMESPACE, METRIC_DIMENSION } from '../shared/contract';

/** One of the function's metrics; `props` override the defaults. */
export function handlerMetric(handler: lambda.IFunction, metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: DEFAULT_METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { [METRIC_DIMENSION]: handler.functionName },
    statistic: cloudwatch.Stats.SUM,
    period: Duration.minutes(5),
    ...props,
  });
}
