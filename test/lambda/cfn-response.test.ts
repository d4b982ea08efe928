import * as http from 'http';
import type { AddressInfo } from 'net';
import { CfnResponseBody, MAX_RESPONSE_BYTES, responseJson, sendCfnResponse } from '../../src/lambda/cfn-response';

const BODY: CfnResponseBody = {
  Status: 'SUCCESS',
  PhysicalResourceId: 'DiscoveryLifecycle-1a2b3c4d',
  StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/S/1a2b3c4d-5e6f-7a8b-9c0d-112233445566',
  RequestId: 'req-1',
  LogicalResourceId: 'DiscoveryLifecycle',
  Data: { Deleted: '2', Upserted: '1' },
};

interface Received {
  readonly method?: string;
  readonly url?: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** A loopback server answering every request with `status`; records what it received. */
async function server(status: number): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const s = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = status;
      res.end(status === 200 ? '' : '<Error><Code>AccessDenied</Code></Error>');
    });
  });
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/cfn-response/abc?X-Amz-Signature=0123`,
    received,
    close: () => new Promise<void>((resolve, reject) => s.close(err => (err ? reject(err) : resolve()))),
  };
}

describe('sendCfnResponse', () => {
  test('PUTs the JSON response with an empty content type and its length to the response URL', async () => {
    const srv = await server(200);
    try {
      const body: CfnResponseBody = { ...BODY, Reason: 'déjà vu: multi-byte characters count as bytes' };
      await expect(sendCfnResponse(srv.url, body)).resolves.toBeUndefined();
      expect(srv.received).toHaveLength(1);
      const [r] = srv.received;
      expect(r.method).toBe('PUT');
      expect(r.url).toBe('/cfn-response/abc?X-Amz-Signature=0123');
      expect(r.headers['content-type']).toBe('');
      expect(r.headers['content-length']).toBe(String(Buffer.byteLength(r.body)));
      expect(Buffer.byteLength(r.body)).toBeGreaterThan(r.body.length);
      expect(JSON.parse(r.body)).toEqual(body);
    } finally {
      await srv.close();
    }
  });

  test('rejects when the response URL answers HTTP 403', async () => {
    const srv = await server(403);
    try {
      await expect(sendCfnResponse(srv.url, BODY)).rejects.toThrow("CloudFormation's response URL answered HTTP 403");
      expect(srv.received).toHaveLength(1);
    } finally {
      await srv.close();
    }
  });

  test('rejects when the connection is refused', async () => {
    const srv = await server(200);
    const url = srv.url;
    await srv.close();
    const err = await sendCfnResponse(url, BODY).then(() => undefined, (e: unknown) => e);
    // Node's own errors come from another realm than jest's Error: compare their fields.
    expect(err).toMatchObject({ code: 'ECONNREFUSED', message: expect.stringContaining('ECONNREFUSED') });
  });

  test('rejects, rather than waiting forever, when the answer is cut off before its end', async () => {
    const s = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-length': '100' });
        res.write('0123456789');
        setTimeout(() => res.socket?.destroy(), 50);
      });
    });
    await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve));
    const { port } = s.address() as AddressInfo;
    try {
      const err = await sendCfnResponse(`http://127.0.0.1:${port}/x`, BODY).then(() => undefined, (e: unknown) => e);
      expect(String((err as Error | undefined)?.message)).toMatch(/closed before its answer ended|aborted/);
    } finally {
      await new Promise<void>(resolve => s.close(() => resolve()));
    }
  }, 5_000);
});

describe('responseJson', () => {
  test('a response within the limit is sent as it is', () => {
    const body: CfnResponseBody = { ...BODY, Status: 'FAILED', Reason: 'short reason' };
    expect(responseJson(body)).toBe(JSON.stringify(body));
  });

  test.each([
    ['ASCII', 'x'.repeat(10_000)],
    ['multi-byte characters', 'é€'.repeat(3_000)],
    ['characters JSON escapes', '"\n'.repeat(3_000)],
    ['just over the limit', 'y'.repeat(MAX_RESPONSE_BYTES - JSON.stringify({ ...BODY, Status: 'FAILED', Reason: '' }).length + 1)],
  ])('an over-long reason (%s) is cut so the body stays within 4096 bytes, other fields kept', (_what, reason) => {
    const body: CfnResponseBody = { ...BODY, Status: 'FAILED', Reason: reason };
    expect(Buffer.byteLength(JSON.stringify(body))).toBeGreaterThan(MAX_RESPONSE_BYTES);
    const json = responseJson(body);
    expect(Buffer.byteLength(json)).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
    const parsed = JSON.parse(json);
    const { Reason, ...rest } = parsed;
    const { Reason: _original, ...expected } = body;
    expect(rest).toEqual(expected);
    expect(Reason).toMatch(/ \.\.\. \(cut; see the function's log\)$/);
    expect(reason.startsWith(Reason.replace(/ \.\.\. \(cut; see the function's log\)$/, ''))).toBe(true);
  });

  test('a long reason keeps as much of its start as fits', () => {
    const body: CfnResponseBody = { ...BODY, Status: 'FAILED', Reason: 'x'.repeat(10_000) };
    // Within the 40 characters of headroom the cut keeps.
    expect(Buffer.byteLength(responseJson(body))).toBeGreaterThan(MAX_RESPONSE_BYTES - 40);
  });
});
