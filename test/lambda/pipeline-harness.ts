/**
 * The batch pipeline over the in-memory API (`FakeDiscoveryApi`), with captured logs and metrics: shared by
 * the pipeline, IPv6 and health-gating unit tests.
 */
import { FakeDiscoveryApi } from './fake-api';
import type { PipelineDeps } from '../../src/lambda/model';
import { InboundMessage, processMessages } from '../../src/lambda/pipeline';
import { Logger, MetricName, Metrics } from '../../src/lambda/telemetry';
import type { DiscoveryConfig } from '../../src/shared/contract';

export interface Harness {
  readonly api: FakeDiscoveryApi;
  readonly deps: PipelineDeps;
  readonly metrics: Metrics;
  /** Parsed log lines. */
  logs(): Array<Record<string, unknown>>;
  /** Runs one batch: each argument is `[messageId, body]`; object bodies are sent as JSON strings (as SQS does). */
  run(...messages: Array<[string, unknown]>): ReturnType<typeof processMessages>;
  /** Non-zero metrics of the invocation(s) so far. */
  counted(): Partial<Record<MetricName, number>>;
}

export function pipelineHarness(config: DiscoveryConfig, api = new FakeDiscoveryApi()): Harness {
  const lines: string[] = [];
  const metrics = new Metrics('Test', 'fn');
  const deps: PipelineDeps = { config, api, log: new Logger(l => lines.push(l)), metrics };
  return {
    api,
    deps,
    metrics,
    logs: () => lines.map(l => JSON.parse(l)),
    run: (...messages) => processMessages(deps, messages.map(([messageId, body]): InboundMessage => ({
      messageId, body: typeof body === 'string' ? body : JSON.stringify(body),
    }))),
    counted: () => Object.fromEntries(Object.entries(metrics.snapshot()).filter(([, v]) => v !== 0)),
  };
}
