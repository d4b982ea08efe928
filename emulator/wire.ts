/**
 * The replies the proxy writes itself, in each service's wire format: Route53's REST-XML `ErrorResponse`,
 * ECS's JSON errors and EC2's query-protocol XML errors. Used by the fault injection (proxy.ts) and by the
 * moto workarounds (moto-gaps.ts).
 */
import { randomUUID } from 'crypto';
import { XMLBuilder } from 'fast-xml-parser';

/** One request of the handler, as the proxy sees it. */
export interface CallInfo {
  /** Signing name: `ec2`, `ecs`, `route53`, ... */
  readonly service: string;
  /** API action, e.g. `DescribeTasks`, `ChangeResourceRecordSets`. */
  readonly action: string;
  readonly method: string;
  readonly path: string;
  readonly body: string;
}

/** An HTTP reply to the handler. */
export interface Reply { status: number; headers: Record<string, string>; body: string }

export const ROUTE53_NS = 'https://route53.amazonaws.com/doc/2013-04-01/';

const xmlBuilder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_' });

/** A Route53 `ErrorResponse` document, as Route53 answers a refused request. */
export function route53ErrorBody(type: 'Sender' | 'Receiver', code: string, message: string, requestId: string): string {
  return `<?xml version="1.0"?>\n${xmlBuilder.build({
    ErrorResponse: { '@_xmlns': ROUTE53_NS, 'Error': { Type: type, Code: code, Message: message }, 'RequestId': requestId },
  })}`;
}

/** A Route53 client error (400 unless `status` says otherwise); InvalidChangeBatch lists its messages in brackets. */
export function route53Error(code: string, messages: string[], status = 400): Reply {
  const requestId = randomUUID();
  const message = messages.length === 1 && code !== 'InvalidChangeBatch' ? messages[0] : `[${messages.join(', ')}]`;
  return {
    status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: route53ErrorBody('Sender', code, message, requestId),
  };
}

/** An error of a JSON protocol service (ECS). */
export function jsonError(type: string, message: string, status = 400): Reply {
  return {
    status,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type, 'x-amzn-requestid': randomUUID() },
    body: JSON.stringify({ __type: type, message }),
  };
}

/** An EC2 (query protocol) error. */
export function ec2Error(status: number, code: string, message: string): Reply {
  return {
    status,
    headers: { 'content-type': 'text/xml;charset=UTF-8' },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n${xmlBuilder.build({
      Response: { Errors: { Error: { Code: code, Message: message } }, RequestID: randomUUID() },
    })}`,
  };
}
