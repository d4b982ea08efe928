/**
 * Structured JSON logs and CloudWatch embedded-metric-format (EMF) metrics, and the short forms of an
 * error they carry ({@link errorName}, {@link errorMessage}).
 * Every line written is one JSON object, so CloudWatch Logs Insights can query any field.
 */
import { DEFAULT_METRICS_NAMESPACE, FEATURE_METRIC, METRIC, METRIC_DIMENSION } from '../shared/contract';

export type Level = 'debug' | 'info' | 'warn' | 'error';

/** Where log lines go; `console.log` unless a test supplies its own. */
export type Sink = (line: string) => void;

/** A JSON logger that prefixes every line with the invocation's context fields. */
export class Logger {
  constructor(private readonly sink: Sink = line => console.log(line), private readonly context: Record<string, unknown> = {}) {}

  /** A logger whose lines carry extra context fields. */
  public child(context: Record<string, unknown>): Logger {
    return new Logger(this.sink, { ...this.context, ...context });
  }

  public log(level: Level, message: string, fields: Record<string, unknown> = {}): void {
    this.sink(JSON.stringify({ level, message, ...this.context, ...fields }));
  }

  public debug(message: string, fields?: Record<string, unknown>): void {
    this.log('debug', message, fields);
  }

  public info(message: string, fields?: Record<string, unknown>): void {
    this.log('info', message, fields);
  }

  public warn(message: string, fields?: Record<string, unknown>): void {
    this.log('warn', message, fields);
  }

  public error(message: string, fields?: Record<string, unknown>): void {
    this.log('error', message, fields);
  }
}

/** The metric names the handler emits. */
export type MetricName = typeof METRIC[keyof typeof METRIC] | typeof FEATURE_METRIC[keyof typeof FEATURE_METRIC];

/** Counters of one invocation, flushed as a single EMF line. */
export class Metrics {
  private readonly counts = new Map<MetricName, number>();

  constructor(
    private readonly namespace: string = DEFAULT_METRICS_NAMESPACE,
    private readonly functionName: string = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'local',
  ) {}

  public add(name: MetricName, value = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + value);
  }

  public get(name: MetricName): number {
    return this.counts.get(name) ?? 0;
  }

  /**
   * All counters, including zeros for the {@link METRIC} never touched (so alarms see data points); a
   * {@link FEATURE_METRIC} only once counted.
   */
  public snapshot(): Record<MetricName, number> {
    const out = {} as Record<MetricName, number>;
    for (const name of Object.values(METRIC)) {
      out[name] = this.get(name);
    }
    for (const name of Object.values(FEATURE_METRIC)) {
      if (this.counts.has(name)) {
        out[name] = this.get(name);
      }
    }
    return out;
  }

  /** Writes the counters as one EMF line. */
  public flush(sink: Sink = line => console.log(line), now: number = Date.now()): void {
    const values = this.snapshot();
    sink(JSON.stringify({
      _aws: {
        Timestamp: now,
        CloudWatchMetrics: [{
          Namespace: this.namespace,
          Dimensions: [[METRIC_DIMENSION]],
          Metrics: Object.keys(values).map(Name => ({ Name, Unit: 'Count' })),
        }],
      },
      [METRIC_DIMENSION]: this.functionName,
      ...values,
    }));
  }
}

/** A short name for an error, for logs. */
export function errorName(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const e = err as { name?: string; code?: string };
    return e.name ?? e.code ?? 'Error';
  }
  return String(err);
}

/** The message of an error, for logs. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
