/**
 * Answers a CloudFormation custom resource request: a PUT of the JSON response to the pre-signed
 * `ResponseURL` the request carries. Plain `http`/`https` from Node, no SDK.
 */
import * as http from 'http';
import * as https from 'https';

/** The response CloudFormation expects from a custom resource. */
export interface CfnResponseBody {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly NoEcho?: boolean;
  readonly Data?: Record<string, string>;
}

/** CloudFormation keeps at most 4096 bytes of a response; the reason is cut to fit. */
export const MAX_RESPONSE_BYTES = 4096;

/** Longest wait for CloudFormation's storage to take the response: within the 5 s the handler keeps for it. */
export const RESPONSE_TIMEOUT_MS = 4_000;

/** The body as sent: the reason shortened so that the whole response stays within {@link MAX_RESPONSE_BYTES}. */
export function responseJson(body: CfnResponseBody): string {
  let json = JSON.stringify(body);
  if (Buffer.byteLength(json) > MAX_RESPONSE_BYTES && body.Reason) {
    const excess = Buffer.byteLength(json) - MAX_RESPONSE_BYTES;
    const reason = `${body.Reason.slice(0, Math.max(0, body.Reason.length - excess - 40))} ... (cut; see the function's log)`;
    json = JSON.stringify({ ...body, Reason: reason });
  }
  return json;
}

/** PUTs the response to the request's `ResponseURL`; rejects when it cannot be delivered. */
export function sendCfnResponse(responseUrl: string, body: CfnResponseBody): Promise<void> {
  const json = responseJson(body);
  const url = new URL(responseUrl);
  const transport = url.protocol === 'http:' ? http : https;
  return new Promise<void>((resolve, reject) => {
    const req = transport.request(url, {
      method: 'PUT',
      // The pre-signed URL is signed for an empty content type.
      headers: { 'content-type': '', 'content-length': Buffer.byteLength(json) },
      timeout: RESPONSE_TIMEOUT_MS,
    }, (res) => {
      res.resume();
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          resolve();
        } else {
          reject(new Error(`CloudFormation's response URL answered HTTP ${status}`));
        }
      });
      // An answer cut off before its end: the promise must settle all the same (settling twice is a no-op).
      res.on('error', reject);
      res.on('close', () => {
        if (!res.complete) {
          reject(new Error('the connection to CloudFormation\'s response URL closed before its answer ended'));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from CloudFormation's response URL within ${RESPONSE_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(json);
  });
}
