/**
 * Retries of throttled or transient AWS calls with exponential backoff and full jitter.
 * The SDK clients are built with `maxAttempts: 1`, so every retry happens (and is logged) here.
 */
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import type { SdkError } from '@smithy/types';
import { errorName } from './telemetry';

/**
 * True when an error from an AWS call is worth retrying, by the AWS SDK's own classifiers (the ones its
 * standard retry strategy uses, already in the bundle):
 *
 * - throttling: the throttling error names (Route53's `PriorRequestNotComplete` among them), HTTP 429, or the
 *   SDK's `$retryable: { throttling: true }`;
 * - transient: timeouts, dropped or refused connections, HTTP 500/502/503/504, errors the SDK marks `$retryable`;
 * - other server errors (any other HTTP 5xx), which the SDK's standard strategy leaves alone but this library
 *   has always retried.
 *
 * The SDK's clock-skew classifier is left out: its list holds `AccessDeniedException`, which no retry mends
 * (with `maxAttempts: 1`, the SDK corrects a skewed clock itself and marks the error transient).
 */
export function isRetryable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) {
    return false;
  }
  const e = err as SdkError;
  return isThrottlingError(e) || isTransientError(e) || isServerError(e);
}

/** How retries behave. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  /** Upper bound of the first backoff, in milliseconds; doubles per attempt. */
  readonly baseDelayMs: number;
  /** Largest backoff, in milliseconds. */
  readonly maxDelayMs: number;
  /** Milliseconds left before the invocation times out; no retry starts that could not finish. */
  readonly remainingMs?: () => number;
  /** Time a retried call may take, kept free of the remaining time after the backoff (default 2000 ms). */
  readonly reserveMs?: number;
  /** Source of randomness in [0, 1). */
  readonly random?: () => number;
  /** Waits; replaced in tests. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Told about every retry. */
  readonly onRetry?: (info: { operation: string; attempt: number; delayMs: number; error: string }) => void;
}

/** Defaults: 8 attempts, 100 ms growing to at most 5 s (about 15 s of waiting in the worst case). */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 100, maxDelayMs: 5000 };

const realSleep = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms));

/** Full-jitter delay before retry number `attempt` (1 = the first retry). */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

/** Runs `fn`, retrying retryable errors per the policy; the last error is thrown. */
export async function withRetry<T>(operation: string, policy: RetryPolicy, fn: () => Promise<T>): Promise<T> {
  const sleep = policy.sleep ?? realSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isRetryable(err) || attempt >= policy.maxAttempts) {
        throw err;
      }
      const delayMs = backoffDelay(policy, attempt, policy.random);
      if (policy.remainingMs && policy.remainingMs() < delayMs + (policy.reserveMs ?? 2000)) {
        throw err;
      }
      policy.onRetry?.({ operation, attempt, delayMs, error: errorName(err) });
      await sleep(delayMs);
    }
  }
}
