/**
 * Lambda entry point of cdk-ecs-public-discovery.
 *
 * - an SQS batch (the queue the EventBridge rule fills): processed as one batch, partial failures reported;
 * - `{"action": "reconcile"}` (the schedule): the reconciler;
 * - a bare ECS Task State Change event (direct invocation): processed as a batch of one, throwing on failure.
 *
 * Configuration is read when an invocation starts, so a missing or broken configuration fails
 * that invocation with a clear message instead of the module import.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { AwsClients, CONNECTION_TIMEOUT_MS, createClients, REQUEST_TIMEOUT_MS, SdkDiscoveryApi } from './aws';
import { processMessages, reconcile, ReconcileSummary } from './pipeline';
import { DEFAULT_RETRY, RetryPolicy } from './retry';
import { Logger, Metrics } from './telemetry';
import { ConfigError, DEFAULT_METRICS_NAMESPACE, ENV, isObject as isRecord, RECONCILE_ACTION, readConfig } from '../shared/contract';

let clients: AwsClients | undefined;

/** The handler Lambda invokes. */
export async function handler(event: unknown, context?: Partial<Context>): Promise<SQSBatchResponse | ReconcileSummary | void> {
  const log = new Logger(undefined, { requestId: context?.awsRequestId });
  let config;
  try {
    config = readConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      log.error('invalid configuration', { reason: err.message });
    }
    throw err;
  }
  const namespace = process.env[ENV.METRICS_NAMESPACE] || DEFAULT_METRICS_NAMESPACE;
  const metrics = new Metrics(namespace, context?.functionName ?? process.env.AWS_LAMBDA_FUNCTION_NAME);
  const retry: RetryPolicy = {
    ...DEFAULT_RETRY,
    remainingMs: context?.getRemainingTimeInMillis ? () => context.getRemainingTimeInMillis!() : undefined,
    // A retry only starts when the call can still time out (and the batch report go back) before the invocation does.
    reserveMs: CONNECTION_TIMEOUT_MS + REQUEST_TIMEOUT_MS + 1_000,
    onRetry: info => log.warn('retrying a throttled or failed AWS call', info),
  };
  clients ??= createClients();
  const deps = { config, api: new SdkDiscoveryApi(clients, retry, log), log, metrics };

  try {
    if (isSqsEvent(event)) {
      const result = await processMessages(deps, event.Records.map(r => ({ messageId: r.messageId, body: r.body })));
      return { batchItemFailures: result.failedMessageIds.map(itemIdentifier => ({ itemIdentifier })) };
    }
    if (isRecord(event) && event.action === RECONCILE_ACTION) {
      const summary = await reconcile(deps);
      if (summary.failedServices.length > 0) {
        // Failing the scheduled invocation shows in the function's Errors metric and lets Lambda retry it.
        throw new Error(`reconciliation failed for ${summary.failedServices.join(', ')}; see the log lines above`);
      }
      return summary;
    }
    if (isRecord(event) && event.source === 'aws.ecs') {
      const id = typeof event.id === 'string' ? event.id : 'direct';
      const result = await processMessages(deps, [{ messageId: id, body: event }]);
      if (result.failedMessageIds.length > 0) {
        throw new Error(`the change for event ${id} failed; see the log lines above`);
      }
      return;
    }
    log.error('unrecognised event ignored: expected an SQS batch, an ECS Task State Change event or {"action": "reconcile"}', {
      keys: isRecord(event) ? Object.keys(event) : typeof event,
    });
    return;
  } finally {
    metrics.flush();
  }
}

function isSqsEvent(event: unknown): event is SQSEvent {
  return isRecord(event) && Array.isArray(event.Records) && event.Records.every(r => isRecord(r) && r.eventSource === 'aws:sqs');
}
