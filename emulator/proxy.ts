/**
 * A loopback HTTP proxy in front of moto_server. The handler under test talks to it (through
 * AWS_ENDPOINT_URL); test-side setup and assertions talk to moto directly, so only the handler's
 * calls are counted.
 *
 * This file is the plumbing and the fault injection:
 * - it counts AWS API calls by service and action and keeps a log of them;
 * - it injects faults (Route53 `Throttling` / `PriorRequestNotComplete`, ECS/EC2 throttling, 5xx), either
 *   on the next n matching calls or with a seeded probability, and runs hooks before a call is forwarded;
 * - it plays IAM for Route53 writes when a test gives it an authorizer (moto evaluates no IAM policy).
 *
 * The workarounds for the places where moto 5.2.5 answers differently from AWS (Route53 change-batch rules,
 * page sizes, ECS ListTasks/DescribeTasks, EC2 filter limits) are in moto-gaps.ts, each naming its gap; the
 * proxy applies them in strict mode (the default).
 */
import { randomUUID } from 'crypto';
import * as http from 'http';
import { awsTaskArns, MotoGaps, motoTaskArns } from './moto-gaps';
import { normalizeName, parseChangeBatch } from './route53-rules';
import { CallInfo, ec2Error, jsonError, Reply, route53Error, route53ErrorBody } from './wire';

export type { CallInfo } from './wire';

export interface CallRecord {
  readonly seq: number;
  readonly service: string;
  readonly action: string;
  /** Request path with its query string (e.g. Route53's `?name=...&type=...`). */
  readonly path: string;
  /** HTTP status returned to the caller. */
  status: number;
  /** Fault code when the proxy answered with an injected fault. */
  injected?: string;
  /** For ChangeResourceRecordSets: the number of changes and their actions. */
  changes?: { total: number; upserts: number; deletes: number; creates: number; zoneId: string };
  /** For ChangeResourceRecordSets refused by the Route53 rules: the reasons. */
  rejected?: string[];
}

/**
 * A Route53 request as IAM sees it: a listing of the zone's records (no names, types or actions), or a change
 * request with the names (with trailing dot), types and actions it changes.
 */
export interface Route53WriteRequest {
  readonly action?: 'ListResourceRecordSets' | 'ChangeResourceRecordSets';
  readonly zoneId: string;
  readonly names: readonly string[];
  readonly types: readonly string[];
  readonly actions: readonly string[];
}

/** Returns why the request is denied, or undefined when it is allowed. */
export type Route53WriteAuthorizer = (request: Route53WriteRequest) => string | undefined;

/** Returns why a Route53 health check call (action, resource ARN) is denied, or undefined when it is allowed. */
export type HealthCheckAuthorizer = (action: string, resource: string) => string | undefined;

/** The Route53 health check actions, and the resource IAM authorizes each against. */
const HEALTH_CHECK_RESOURCES: Record<string, (call: CallInfo) => string[]> = {
  CreateHealthCheck: () => ['*'],
  ListHealthChecks: () => ['*'],
  GetHealthCheck: (call) => [healthCheckArn(/\/healthcheck\/([^/?]+)/.exec(call.path)?.[1])],
  DeleteHealthCheck: (call) => [healthCheckArn(/\/healthcheck\/([^/?]+)/.exec(call.path)?.[1])],
  ChangeTagsForResource: (call) => (/\/tags\/healthcheck\//.test(call.path) ? [healthCheckArn(/\/tags\/healthcheck\/([^/?]+)/.exec(call.path)?.[1])] : []),
  ListTagsForResources: (call) => (/\/tags\/healthcheck/.test(call.path)
    ? [...call.body.matchAll(/<ResourceId>([^<]+)<\/ResourceId>/g)].map((m) => healthCheckArn(m[1])) : []),
};

function healthCheckArn(id: string | undefined): string {
  return `arn:aws:route53:::healthcheck/${decodeURIComponent(id ?? '')}`;
}

export type FaultCode = 'Throttling' | 'PriorRequestNotComplete' | 'InternalError' | 'ServiceUnavailable' | 'InvalidChangeBatch';

export type CallMatcher = { readonly service?: string; readonly action?: string } | ((call: CallInfo) => boolean);

interface OneShotFault { match: (c: CallInfo) => boolean; remaining: number; code: FaultCode }
interface RandomFault { match: (c: CallInfo) => boolean; probability: number; code: FaultCode; next: () => number }

export interface ProxyOptions {
  /** Apply the workarounds for moto's gaps (moto-gaps.ts; default true). */
  readonly strict?: boolean;
}

/** Deterministic PRNG (Park-Miller "minimal standard" LCG) so fault patterns repeat run after run. */
export function seededRandom(seed: number): () => number {
  const M = 2147483647;
  let state = Math.abs(Math.floor(seed)) % M || 1;
  return () => {
    state = (state * 48271) % M;
    return (state - 1) / (M - 1);
  };
}

function toPredicate(m: CallMatcher): (c: CallInfo) => boolean {
  if (typeof m === 'function') {
    return m;
  }
  return (c) => (m.service === undefined || m.service === c.service) && (m.action === undefined || m.action === c.action);
}

function route53Action(method: string, path: string): string {
  const p = path.replace(/^\/2013-04-01/, '');
  if (/^\/hostedzone\/[^/]+\/rrset\/?$/.test(p)) {
    return method === 'POST' ? 'ChangeResourceRecordSets' : 'ListResourceRecordSets';
  }
  if (/^\/hostedzone\/?$/.test(p)) {
    return method === 'POST' ? 'CreateHostedZone' : 'ListHostedZones';
  }
  if (/^\/hostedzone\/[^/]+\/?$/.test(p)) {
    return method === 'DELETE' ? 'DeleteHostedZone' : 'GetHostedZone';
  }
  if (/^\/hostedzonesbyname\/?$/.test(p)) {
    return 'ListHostedZonesByName';
  }
  if (/^\/change\/[^/]+$/.test(p)) {
    return 'GetChange';
  }
  if (/^\/tags\/[^/]+\/?$/.test(p)) {
    return 'ListTagsForResources';
  }
  if (/^\/tags\//.test(p)) {
    return method === 'POST' ? 'ChangeTagsForResource' : 'ListTagsForResource';
  }
  if (/^\/healthcheck\/?$/.test(p)) {
    return method === 'POST' ? 'CreateHealthCheck' : 'ListHealthChecks';
  }
  if (/^\/healthcheck\/[^/]+\/?$/.test(p)) {
    return method === 'DELETE' ? 'DeleteHealthCheck' : method === 'POST' ? 'UpdateHealthCheck' : 'GetHealthCheck';
  }
  return `${method} ${p}`;
}

/** Works out the service and action of a signed AWS request. */
export function classify(method: string, rawPath: string, headers: http.IncomingHttpHeaders, body: string): { service: string; action: string } {
  const auth = String(headers.authorization ?? '');
  const scope = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(auth);
  const target = headers['x-amz-target'];
  let service = scope ? scope[1] : '';
  const path = rawPath.split('?')[0];
  if (typeof target === 'string' && target.includes('.')) {
    if (!service) {
      service = target.startsWith('AmazonEC2ContainerService') ? 'ecs' : target.split('.')[0];
    }
    return { service, action: target.slice(target.lastIndexOf('.') + 1) };
  }
  if (service === 'route53' || path.startsWith('/2013-04-01/')) {
    return { service: 'route53', action: route53Action(method, path) };
  }
  const form = new URLSearchParams(String(headers['content-type'] ?? '').includes('x-www-form-urlencoded') ? body : '');
  const query = new URLSearchParams(rawPath.includes('?') ? rawPath.slice(rawPath.indexOf('?') + 1) : '');
  const action = form.get('Action') ?? query.get('Action');
  return { service: service || 'unknown', action: action ?? `${method} ${path}` };
}

function faultReply(service: string, code: FaultCode): Reply {
  if (service === 'route53') {
    const status = code === 'InternalError' ? 500 : code === 'ServiceUnavailable' ? 503 : 400;
    const type = status >= 500 ? 'Receiver' : 'Sender';
    const xmlCode = code === 'InternalError' ? 'InternalFailure' : code;
    const message = code === 'Throttling' ? 'Rate exceeded'
      : code === 'PriorRequestNotComplete' ? 'The request was rejected because Route 53 was still processing a prior request.'
        : code === 'InvalidChangeBatch' ? '[Change rejected by the test proxy]'
          : 'Service error injected by the test proxy';
    const requestId = randomUUID();
    return {
      status,
      headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
      body: route53ErrorBody(type, xmlCode, message, requestId),
    };
  }
  if (service === 'ec2') {
    return code === 'InternalError' ? ec2Error(500, 'InternalError', 'An internal error has occurred')
      : code === 'ServiceUnavailable' ? ec2Error(503, 'Unavailable', 'The server is overloaded and cannot handle the request')
        : ec2Error(503, 'RequestLimitExceeded', 'Request limit exceeded.');
  }
  return code === 'InternalError' || code === 'ServiceUnavailable'
    ? jsonError('ServerException', 'Service error injected by the test proxy', 500)
    : jsonError('ThrottlingException', 'Rate exceeded');
}

export class AwsProxy {
  /** Starts a proxy on a free loopback port in front of the emulator at `target`. */
  public static async start(target: string, options: ProxyOptions = {}): Promise<AwsProxy> {
    const proxy = new AwsProxy(target, options.strict ?? true);
    await proxy.listen();
    return proxy;
  }

  private readonly server: http.Server;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  private readonly targetUrl: URL;
  private readonly gaps: MotoGaps;
  private log: CallRecord[] = [];
  private seq = 0;
  private oneShots: OneShotFault[] = [];
  private hooks: Array<{ match: (c: CallInfo) => boolean; action: () => Promise<void> }> = [];
  private randoms: RandomFault[] = [];
  private port = 0;
  private writeAuthorizer?: Route53WriteAuthorizer;
  private healthCheckAuthorizer?: HealthCheckAuthorizer;

  private constructor(target: string, private readonly strict: boolean) {
    this.targetUrl = new URL(target);
    this.gaps = new MotoGaps(target);
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        if (!res.headersSent) {
          res.writeHead(502, { 'content-type': 'text/plain' });
        }
        res.end(`test proxy error: ${(e as Error).stack ?? String(e)}`);
      });
    });
    this.server.keepAliveTimeout = 1000;
  }

  /** `http://127.0.0.1:<port>`: what AWS_ENDPOINT_URL is set to for the handler. */
  public get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Calls counted so far: `{ route53: { ChangeResourceRecordSets: 2 }, ecs: { DescribeTasks: 1 } }`. */
  public counts(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const c of this.log) {
      out[c.service] ??= {};
      out[c.service][c.action] = (out[c.service][c.action] ?? 0) + 1;
    }
    return out;
  }

  /** Flat counts keyed `service:Action`, handy for printing and for toEqual assertions. */
  public flatCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.log) {
      const k = `${c.service}:${c.action}`;
      out[k] = (out[k] ?? 0) + 1;
    }
    return out;
  }

  /** Number of calls to one action (or to a whole service when action is omitted). */
  public count(service: string, action?: string): number {
    return this.log.filter((c) => c.service === service && (action === undefined || c.action === action)).length;
  }

  public total(): number {
    return this.log.length;
  }

  /** The call log (a copy). */
  public calls(): CallRecord[] {
    return this.log.map((c) => ({ ...c }));
  }

  public resetCounts(): void {
    this.log = [];
  }

  /** Answers the next `times` calls that match with the fault. */
  public failNext(match: CallMatcher, times = 1, code: FaultCode = 'Throttling'): void {
    this.oneShots.push({ match: toPredicate(match), remaining: times, code });
  }

  /**
   * Runs `action` once, when the next matching call arrives and before it is forwarded: what another
   * actor (ECS, a concurrent invocation) does while the handler's request is in flight.
   */
  public beforeNext(match: CallMatcher, action: () => Promise<void>): void {
    this.hooks.push({ match: toPredicate(match), action });
  }

  /** Answers each matching call with the fault with the given probability (seeded, so repeatable). */
  public failRandomly(match: CallMatcher, probability: number, code: FaultCode = 'Throttling', seed = 1): void {
    this.randoms.push({ match: toPredicate(match), probability, code, next: seededRandom(seed) });
  }

  /**
   * Plays IAM for ChangeResourceRecordSets (moto does not evaluate IAM policies): while set, a change
   * request the authorizer denies is answered with AccessDenied, as Route53 does, and nothing changes.
   */
  public authorizeRoute53Writes(authorizer: Route53WriteAuthorizer | undefined): void {
    this.writeAuthorizer = authorizer;
  }

  /**
   * Deletes an ECS service as far as the handler can tell: from now on ListTasks for it answers
   * `ServiceNotFoundException`, as ECS does for a service deleted outside the stack. moto 5.2.5 cannot: it
   * ignores `serviceName` in ListTasks, and the world starts tasks with RunTask rather than through a service.
   */
  public deleteService(serviceName: string): void {
    this.gaps.deletedServices.add(serviceName);
  }

  /** Forgets the services deleted with {@link deleteService} (call after resetting the emulator). */
  public restoreServices(): void {
    this.gaps.deletedServices.clear();
    this.gaps.taskHealth.clear();
    this.gaps.healthCheckReferences.clear();
    this.gaps.healthCheckQuota = undefined;
  }

  /**
   * Sets the account's quota of health checks: past it, CreateHealthCheck answers `TooManyHealthChecks`, as
   * Route53 does (200 by default). moto 5.2.5 has none; without this, the proxy sets none either.
   */
  public setHealthCheckQuota(quota: number | undefined): void {
    this.gaps.healthCheckQuota = quota;
  }

  /**
   * Sets the health status DescribeTasks reports for a task (HEALTHY, UNHEALTHY, UNKNOWN), as ECS does when
   * the task's container health checks report. moto 5.2.5's tasks have none (see moto-gaps.ts); without one
   * the task reports `UNKNOWN`, as ECS does before the health checks have run.
   */
  public setTaskHealth(taskArn: string, healthStatus: string): void {
    this.gaps.taskHealth.set(taskArn, healthStatus);
  }

  /**
   * Plays IAM for the Route53 health check calls (moto does not evaluate IAM policies): while set, a call the
   * authorizer denies on one of its resources is answered with AccessDenied, as Route53 does.
   */
  public authorizeHealthChecks(authorizer: HealthCheckAuthorizer | undefined): void {
    this.healthCheckAuthorizer = authorizer;
  }

  public clearFaults(): void {
    this.writeAuthorizer = undefined;
    this.healthCheckAuthorizer = undefined;
    this.hooks = [];
    this.oneShots = [];
    this.randoms = [];
  }

  /** Number of faults injected so far. */
  public injectedCount(): number {
    return this.log.filter((c) => c.injected).length;
  }

  public async stop(): Promise<void> {
    this.agent.destroy();
    this.gaps.destroy();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        const addr = this.server.address();
        this.port = typeof addr === 'object' && addr ? addr.port : 0;
        resolve();
      });
    });
  }

  private pickFault(call: CallInfo): FaultCode | undefined {
    for (const f of this.oneShots) {
      if (f.remaining > 0 && f.match(call)) {
        f.remaining -= 1;
        return f.code;
      }
    }
    for (const f of this.randoms) {
      if (f.match(call) && f.next() < f.probability) {
        return f.code;
      }
    }
    return undefined;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) {
      chunks.push(c as Buffer);
    }
    const body = Buffer.concat(chunks).toString('utf8');
    const method = req.method ?? 'GET';
    const rawPath = req.url ?? '/';
    const { service, action } = classify(method, rawPath, req.headers, body);
    const call: CallInfo = { service, action, method, path: rawPath, body };
    const record: CallRecord = { seq: ++this.seq, service, action, path: rawPath, status: 0 };
    this.log.push(record);

    const hook = this.hooks.findIndex((h) => h.match(call));
    if (hook >= 0) {
      const [{ action: before }] = this.hooks.splice(hook, 1);
      await before();
    }
    let reply: Reply;
    const fault = this.pickFault(call);
    if (fault) {
      record.injected = fault;
      reply = faultReply(service, fault);
    } else {
      reply = await this.forwardWithRules(call, req, record);
    }
    record.status = reply.status;
    res.writeHead(reply.status, { ...reply.headers, 'content-length': String(Buffer.byteLength(reply.body)) });
    res.end(reply.body);
  }

  private async forwardWithRules(call: CallInfo, req: http.IncomingMessage, record: CallRecord): Promise<Reply> {
    if (call.service === 'route53' && call.action === 'ChangeResourceRecordSets') {
      const refused = this.checkRoute53Write(call, record);
      if (refused) {
        return refused;
      }
    }
    if (call.service === 'route53' && call.action === 'ListResourceRecordSets' && this.writeAuthorizer) {
      const zoneId = /\/hostedzone\/([^/?]+)\/rrset/.exec(call.path)?.[1] ?? '';
      const denied = this.writeAuthorizer({ action: 'ListResourceRecordSets', zoneId, names: [], types: [], actions: [] });
      if (denied) {
        record.rejected = [denied];
        return route53Error('AccessDenied', [denied], 403);
      }
    }
    const resources = call.service === 'route53' && this.healthCheckAuthorizer ? HEALTH_CHECK_RESOURCES[call.action]?.(call) ?? [] : [];
    const deniedCheck = resources.map((r) => this.healthCheckAuthorizer!(call.action, r)).find((d) => d !== undefined);
    if (deniedCheck) {
      record.rejected = [deniedCheck];
      return route53Error('AccessDenied', [deniedCheck], 403);
    }
    const fix = this.strict ? await this.gaps.fix(call) : {};
    if (fix.reply) {
      record.rejected = fix.rejected;
      return fix.reply;
    }
    const headers = { ...req.headers };
    delete headers['content-length'];
    delete headers['transfer-encoding'];
    // Task ids in ECS's form on the handler's side, in moto's on moto's (see awsTaskArns in moto-gaps.ts).
    const ecs = call.service === 'ecs';
    const body = fix.request?.body ?? call.body;
    const reply = await this.forward(call.method, fix.request?.path ?? call.path, headers, ecs ? motoTaskArns(body) : body);
    if (ecs) {
      reply.body = awsTaskArns(reply.body);
    }
    if (fix.after && reply.status >= 200 && reply.status < 300) {
      fix.after(reply);
    }
    return reply;
  }

  /** Logs a Route53 change request's changes and plays IAM for it; returns the refusal, if any. */
  private checkRoute53Write(call: CallInfo, record: CallRecord): Reply | undefined {
    const zoneId = /\/hostedzone\/([^/]+)\/rrset/.exec(call.path)?.[1] ?? '';
    let changes;
    try {
      changes = parseChangeBatch(call.body);
    } catch (e) {
      return route53Error('InvalidInput', [`Could not parse the request body: ${(e as Error).message}`]);
    }
    record.changes = {
      total: changes.length,
      upserts: changes.filter((c) => c.action === 'UPSERT').length,
      deletes: changes.filter((c) => c.action === 'DELETE').length,
      creates: changes.filter((c) => c.action === 'CREATE').length,
      zoneId,
    };
    const denied = this.writeAuthorizer?.({
      action: 'ChangeResourceRecordSets',
      zoneId,
      names: changes.map((c) => normalizeName(c.record.name)),
      types: changes.map((c) => c.record.type),
      actions: changes.map((c) => c.action),
    });
    if (denied) {
      record.rejected = [denied];
      return route53Error('AccessDenied', [denied], 403);
    }
    return undefined;
  }

  private forward(method: string, path: string, headers: http.IncomingHttpHeaders, body: string): Promise<Reply> {
    const payload = Buffer.from(body, 'utf8');
    return new Promise((resolve, reject) => {
      const upstream = http.request({
        host: this.targetUrl.hostname,
        port: this.targetUrl.port,
        method,
        path,
        headers: { ...headers, 'content-length': String(payload.length) },
        agent: this.agent,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const out: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) {
            if (v !== undefined && k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection' && k !== 'keep-alive') {
              out[k] = Array.isArray(v) ? v.join(', ') : v;
            }
          }
          resolve({ status: res.statusCode ?? 502, headers: out, body: Buffer.concat(chunks).toString('utf8') });
        });
      });
      upstream.on('error', reject);
      upstream.end(payload);
    });
  }

  /** Forgets the cached zone names (call after resetting the emulator). */
  public forgetZones(): void {
    this.gaps.forgetZones();
  }
}
