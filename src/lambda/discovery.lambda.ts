/**
 * Lambda entry point of cdk-ecs-public-discovery.
 *
 * - an SQS batch (the queue the EventBridge rule fills): processed as one batch, partial failures reported;
 * - `{"action": "reconcile"}` (the schedule): the reconciler;
 * - a bare ECS Task State Change event (direct invocation): processed as a batch of one, throwing on failure;
 * - a CloudFormation request for the `Custom::EcsPublicDiscovery` resource: the records' lifecycle
 *   (see lifecycle.ts), answered to CloudFormation's response URL.
 *
 * Configuration is read when an invocation starts, so a missing or broken configuration fails
 * that invocation with a clear message instead of the module import.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { AwsClients, CONNECTION_TIMEOUT_MS, createClients, REQUEST_TIMEOUT_MS, SdkDiscoveryApi } from './aws';
import { sendCfnResponse } from './cfn-response';
import { ConfigSource, serviceNamesInBodies } from './config';
import { handleLifecycle, isCfnRequest } from './lifecycle';
import { processMessages } from './pipeline';
import { reconcile, ReconcileSummary } from './reconcile';
import { DEFAULT_RETRY, RetryPolicy } from './retry';
import { errorMessage, errorName, Logger, Metrics } from './telemetry';
import {
  ConfigError, DEFAULT_METRICS_NAMESPACE, DiscoveryConfig, ENV, EVENT_BUDGET_SECONDS, isObject as isRecord, PURGE_SETTLE_MS, RECONCILE_ACTION,
} from '../shared/contract';

let clients: AwsClients | undefined;
const configSource = new ConfigSource();
/**
 * Where the next scheduled reconciliation starts. A run that cannot reach every service in its time
 * leaves the rest to the next run, which starts where it stopped; a new execution environment starts
 * at a place derived from the clock, so that no service is always last.
 */
let reconcileCursor: number | undefined;

/** Time kept free at the end of a custom resource request to send CloudFormation its answer. */
const RESPONSE_RESERVE_MS = 5_000;

/** The handler Lambda invokes. */
export async function handler(event: unknown, context?: Partial<Context>): Promise<SQSBatchResponse | ReconcileSummary | void> {
  const log = new Logger(undefined, { requestId: context?.awsRequestId });
  const namespace = process.env[ENV.METRICS_NAMESPACE] || DEFAULT_METRICS_NAMESPACE;
  const metrics = new Metrics(namespace, context?.functionName ?? process.env.AWS_LAMBDA_FUNCTION_NAME);
  const started = Date.now();
  const lifecycle = isCfnRequest(event);
  const reconciliation = isRecord(event) && event.action === RECONCILE_ACTION;
  const invocationLeft = context?.getRemainingTimeInMillis ? () => context.getRemainingTimeInMillis!() : undefined;
  // Task events get EVENT_BUDGET_SECONDS whatever the function's timeout: a purge relies on that bound when it
  // waits for event invocations that were already running.
  const remaining = invocationLeft && !lifecycle && !reconciliation
    ? () => Math.min(invocationLeft(), EVENT_BUDGET_SECONDS * 1000 - (Date.now() - started))
    : invocationLeft;
  const retry: RetryPolicy = {
    ...DEFAULT_RETRY,
    // A custom resource request keeps time to answer CloudFormation after its last retry.
    remainingMs: remaining && lifecycle ? () => remaining() - RESPONSE_RESERVE_MS : remaining,
    // A retry only starts when the call can still time out (and the batch report go back) before the invocation does.
    reserveMs: CONNECTION_TIMEOUT_MS + REQUEST_TIMEOUT_MS + 1_000,
    onRetry: info => log.warn('retrying a throttled or failed AWS call', info),
  };
  clients ??= createClients();
  const api = new SdkDiscoveryApi(clients, retry, log);
  let configFailed = false;
  const loadConfig = async (fresh: boolean): Promise<DiscoveryConfig> => {
    try {
      return await configSource.load(api, { fresh });
    } catch (err) {
      if (err instanceof ConfigError) {
        configFailed = true;
        log.error('invalid configuration', { reason: err.message });
      }
      throw err;
    }
  };

  try {
    if (lifecycle) {
      const settle = Number(process.env[ENV.PURGE_SETTLE_MS] ?? PURGE_SETTLE_MS);
      const response = await handleLifecycle(event, {
        api,
        log,
        metrics,
        loadConfig: () => loadConfig(true),
        remainingMs: retry.remainingMs,
        settleUntil: started + (Number.isFinite(settle) && settle >= 0 ? settle : PURGE_SETTLE_MS),
      });
      try {
        await sendCfnResponse(event.ResponseURL, response);
      } catch (err) {
        log.error('could not send the answer to CloudFormation', { error: errorName(err), detail: errorMessage(err), status: response.Status });
        throw err;
      }
      return;
    }
    if (isSqsEvent(event)) {
      let config = await loadConfig(false);
      // A service replaced at deploy time has a new name: read the registrations again before ignoring its tasks.
      config = await configSource.reloadIfStale(api, config, serviceNamesInBodies(event.Records.map(r => r.body)));
      const result = await processMessages({ config, api, log, metrics }, event.Records.map(r => ({ messageId: r.messageId, body: r.body })));
      return { batchItemFailures: result.failedMessageIds.map(itemIdentifier => ({ itemIdentifier })) };
    }
    if (isRecord(event) && event.action === RECONCILE_ACTION) {
      const config = await loadConfig(true);
      const count = config.services.length;
      const start = count === 0 ? 0 : (reconcileCursor ?? Math.floor(Date.now() / 60_000)) % count;
      const ordered = [...config.services.slice(start), ...config.services.slice(0, start)];
      const summary = await reconcile({ config, api, log, metrics }, ordered, { remainingMs: remaining });
      reconcileCursor = start + count - (summary.skipped ?? 0);
      if (summary.failedServices.length > 0) {
        // Failing the scheduled invocation shows in the function's Errors metric and lets Lambda retry it.
        throw new Error(`reconciliation failed for ${[...summary.failedServices].sort().join(', ')}; see the log lines above`);
      }
      return summary;
    }
    if (isRecord(event) && event.source === 'aws.ecs') {
      const config = await loadConfig(false);
      const id = typeof event.id === 'string' ? event.id : 'direct';
      const result = await processMessages({ config, api, log, metrics }, [{ messageId: id, body: event }]);
      if (result.failedMessageIds.length > 0) {
        throw new Error(`the change for event ${id} failed; see the log lines above`);
      }
      return;
    }
    log.error('unrecognised event ignored: expected an SQS batch, an ECS Task State Change event, {"action": "reconcile"} or a CloudFormation request', {
      keys: isRecord(event) ? Object.keys(event) : typeof event,
    });
    return;
  } finally {
    // A broken configuration is one error line; there is nothing to count.
    if (!configFailed) {
      metrics.flush();
    }
  }
}

function isSqsEvent(event: unknown): event is SQSEvent {
  return isRecord(event) && Array.isArray(event.Records) && event.Records.every(r => isRecord(r) && r.eventSource === 'aws:sqs');
}
