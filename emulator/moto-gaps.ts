/**
 * Where moto 5.2.5 answers differently from AWS, and how the proxy (proxy.ts) closes each gap so that the
 * handler meets AWS's rules. Each workaround below names the gap: what moto does, and what AWS does.
 *
 * The proxy applies them in strict mode (its default) to the handler's calls only; test-side setup talks to
 * moto directly. A workaround either answers in AWS's place (AWS refuses what moto would accept), or rewrites
 * the request moto gets and the reply it gives.
 */
import { AssignIpv6AddressesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  GetHealthCheckCommand, GetHostedZoneCommand, ListHealthChecksCommand, ListResourceRecordSetsCommand, ListResourceRecordSetsCommandOutput,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { checkChangeBatch, fromSdk, normalizeName, parseChangeBatch, Rrset } from './route53-rules';
import { CallInfo, ec2Error, jsonError, Reply, route53Error, ROUTE53_NS } from './wire';

/** ECS sets a service task's `startedBy` to `ecs-svc/...`; the world helpers use this value per service. */
export function startedByForService(serviceName: string): string {
  return `ecs-svc/${serviceName}`.slice(0, 36);
}

/**
 * EC2 and ECS IPv6 addresses. moto 5.2.5 creates subnets with an IPv6 CIDR block and accepts
 * `AssignIpv6AddressOnCreation`, but gives no IPv6 address to a network interface created in such a subnet:
 * neither `CreateNetworkInterface` nor ECS `RunTask` (awsvpc) does, so `DescribeNetworkInterfaces` answers
 * `Ipv6Addresses: []`. AWS gives the interface an address from the subnet's block, which ECS reports on the
 * task's ENI. moto's `AssignIpv6Addresses` works (the addresses then show in `DescribeNetworkInterfaces`), so
 * the world assigns each task ENI the address the subnet would have given it, right after RunTask, with this.
 * Route53 needs nothing: moto 5.2.5 stores, lists and deletes multi-value AAAA records as Route53 does (the
 * rules of route53-rules.ts, which the proxy applies, do not depend on the record type).
 */
export async function assignIpv6OnCreation(ec2: EC2Client, eniId: string, ipv6Address: string): Promise<void> {
  const res = await ec2.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: eniId, Ipv6Addresses: [ipv6Address] }));
  if (!(res.AssignedIpv6Addresses ?? []).includes(ipv6Address)) {
    throw new Error(`moto did not assign ${ipv6Address} to ${eniId}: ${JSON.stringify(res.AssignedIpv6Addresses)}`);
  }
}

/**
 * ECS task ids. moto 5.2.5 gives a task a UUID with dashes as its id (36 characters, the last segment of its ARN);
 * ECS gives it 32 hexadecimal characters. The handler writes the id into record names (`<task id>.<name>`)
 * and the IAM pattern of those names counts 32 characters, so the ids must have ECS's form: the world and the
 * proxy show every task ARN in ECS's form (`awsTaskArns` on what moto answers) and give moto its own
 * (`motoTaskArns` on what they send it).
 */
export function awsTaskArns(text: string): string {
  return text.replace(/(:task\/[^/"\s]+\/)([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})/g, '$1$2$3$4$5$6');
}

/** The inverse of {@link awsTaskArns}: task ARNs with 32-character ids back in moto's form. */
export function motoTaskArns(text: string): string {
  return text.replace(/(:task\/[^/"\s]+\/)([0-9a-f]{8})([0-9a-f]{4})([0-9a-f]{4})([0-9a-f]{4})([0-9a-f]{12})(?![0-9a-f-])/g, '$1$2-$3-$4-$5-$6');
}

/** What a workaround does with one call; nothing when it leaves the call alone. */
export interface GapFix {
  /** AWS's reply, given in moto's place (the call never reaches moto). */
  readonly reply?: Reply;
  /** Why AWS refuses the call, for the proxy's call log. */
  readonly rejected?: string[];
  /** The request moto gets instead of the handler's (same method and headers). */
  readonly request?: { readonly path: string; readonly body: string };
  /** Rewrites moto's successful (200) reply into AWS's. */
  readonly after?: (reply: Reply) => void;
}

/** What the workarounds need of the emulator: the zones and records moto holds, and the services a test deleted. */
interface GapState {
  readonly deletedServices: ReadonlySet<string>;
  /** Task health statuses a test set (`AwsProxy.setTaskHealth`), by task ARN. */
  readonly taskHealth: ReadonlyMap<string, string>;
  /** The caller references of the health checks created through the proxy: their settings and id, or deleted. */
  readonly healthCheckReferences: Map<string, { readonly settings: string; readonly id: string } | 'deleted'>;
  /** Most health checks the account may hold (`AwsProxy.setHealthCheckQuota`); no limit when undefined. */
  readonly healthCheckQuota?: number;
  zoneName(zoneId: string): Promise<string | undefined>;
  recordsAt(zoneId: string, name: string): Promise<Rrset[]>;
  /** The caller reference of an existing health check, or undefined when moto has none with that id. */
  healthCheckReference(id: string): Promise<string | undefined>;
  /** How many health checks moto holds. */
  healthCheckCount(): Promise<number>;
}

const healthCheckParser = new XMLParser({ ignoreAttributes: true, removeNSPrefix: true, parseTagValue: false, trimValues: true });

/**
 * Route53 health checks. moto 5.2.5 creates a new health check for every CreateHealthCheck, whatever its
 * `CallerReference`, holds any number of them, and deletes an unknown id without a word. Route53 makes the
 * reference idempotent (the same reference and settings return the existing check; the reference of a check
 * with other settings, or of a deleted check, is refused with `HealthCheckAlreadyExists`), refuses past the
 * account's quota (`TooManyHealthChecks`, 200 by default; here only when a test sets one) and answers
 * `NoSuchHealthCheck` for an unknown id. The references of the checks created through the proxy are kept here.
 */
const route53HealthChecks: Workaround = async (call, state) => {
  if (call.service !== 'route53') {
    return undefined;
  }
  if (call.action === 'CreateHealthCheck') {
    type CreateRequest = { CreateHealthCheckRequest?: { CallerReference?: string; HealthCheckConfig?: Record<string, string> } };
    const request = (healthCheckParser.parse(call.body) as CreateRequest).CreateHealthCheckRequest ?? {};
    const reference = request.CallerReference ?? '';
    const config = request.HealthCheckConfig ?? {};
    const settings = JSON.stringify(Object.keys(config).sort().map(k => [k, config[k]]));
    const known = state.healthCheckReferences.get(reference);
    if (known === 'deleted' || (known !== undefined && known.settings !== settings)) {
      const why = known === 'deleted' ? 'a deleted health check' : 'a health check with other settings';
      return {
        reply: route53Error('HealthCheckAlreadyExists', [`The caller reference ${reference} belongs to ${why}.`], 409),
        rejected: ['HealthCheckAlreadyExists'],
      };
    }
    if (known !== undefined && await state.healthCheckReference(known.id) === reference) {
      return { reply: createdHealthCheck(known.id, reference) };
    }
    if (state.healthCheckQuota !== undefined && await state.healthCheckCount() >= state.healthCheckQuota) {
      return {
        reply: route53Error('TooManyHealthChecks', [`This AWS account has reached its limit of ${state.healthCheckQuota} health checks.`]),
        rejected: ['TooManyHealthChecks'],
      };
    }
    return {
      after: (reply) => {
        const id = /<Id>([^<]+)<\/Id>/.exec(reply.body)?.[1];
        if (id !== undefined) {
          state.healthCheckReferences.set(reference, { settings, id });
        }
      },
    };
  }
  if (call.action === 'DeleteHealthCheck') {
    const id = decodeURIComponent(/\/healthcheck\/([^/?]+)/.exec(call.path)?.[1] ?? '');
    const reference = await state.healthCheckReference(id);
    if (reference === undefined) {
      return {
        reply: route53Error('NoSuchHealthCheck', [`No health check exists with the specified ID ${id}`], 404),
        rejected: ['NoSuchHealthCheck'],
      };
    }
    return { after: () => state.healthCheckReferences.set(reference, 'deleted') };
  }
  return undefined;
};

/** Route53's answer to a CreateHealthCheck whose reference and settings match an existing check: that check (its id is what callers read). */
function createdHealthCheck(id: string, reference: string): Reply {
  return {
    status: 201,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': `hc-${id}` },
    body: '<?xml version="1.0" encoding="UTF-8"?>\n<CreateHealthCheckResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">'
      + `<HealthCheck><Id>${id}</Id><CallerReference>${reference}</CallerReference><HealthCheckVersion>1</HealthCheckVersion></HealthCheck>`
      + '</CreateHealthCheckResponse>',
  };
}

type Workaround = (call: CallInfo, state: GapState) => GapFix | undefined | Promise<GapFix | undefined>;

/**
 * Route53 ChangeResourceRecordSets. moto 5.2.5 deletes a record by SetIdentifier alone (whatever its name
 * and type: every record of the zone with that set identifier goes), accepts a DELETE whose values differ
 * from the record's, lets a simple and a multi-value record share a name and type, ignores the per-batch
 * limits, and applies a batch change by change, keeping the changes before a failing one. Route53 checks the
 * whole batch against its rules (route53-rules.ts) and applies all of it or none, and a DELETE removes the
 * one record it names. The batch is checked here against the records moto holds at the names it touches;
 * moto applies only batches Route53 would accept, which it then applies whole.
 *
 * A DELETE of one type of a task's records (the AAAA record of a dual-stack task that lost its IPv6 address)
 * would take the task's record of the other type with it in moto: the records at the batch's names that
 * share a deleted set identifier, and that the batch does not name itself, are created again at the end of
 * the batch moto gets, so that moto ends where Route53 would. (Records with that set identifier at names the
 * batch does not touch are not seen here; set identifiers are task ids, unique to one name.)
 */
const route53ChangeBatch: Workaround = async (call, state) => {
  if (call.service !== 'route53' || call.action !== 'ChangeResourceRecordSets') {
    return undefined;
  }
  const zoneId = /\/hostedzone\/([^/]+)\/rrset/.exec(call.path)?.[1] ?? '';
  const zoneName = await state.zoneName(zoneId);
  if (zoneName === undefined) {
    return { reply: route53Error('NoSuchHostedZone', [`No hosted zone found with ID: ${zoneId}`], 404) };
  }
  const changes = parseChangeBatch(call.body);
  // A record naming a health check that does not exist: Route53 refuses the request, moto writes it.
  for (const c of changes) {
    const id = c.record.healthCheckId;
    if (c.action !== 'DELETE' && id !== undefined && await state.healthCheckReference(id) === undefined) {
      return { reply: route53Error('NoSuchHealthCheck', [`A health check with id ${id} does not exist.`], 404), rejected: [`NoSuchHealthCheck ${id}`] };
    }
  }
  const names = [...new Set(changes.map((c) => normalizeName(c.record.name)))];
  const current = (await Promise.all(names.map((n) => state.recordsAt(zoneId, n)))).flat();
  const rejection = checkChangeBatch(zoneName, current, changes);
  if (rejection) {
    return { reply: route53Error(rejection.code, rejection.messages), rejected: rejection.messages };
  }
  const key = (r: Rrset) => `${normalizeName(r.name)}|${r.type}|${r.setIdentifier ?? ''}`;
  const deletedIds = new Set(changes.filter((c) => c.action === 'DELETE' && c.record.setIdentifier !== undefined).map((c) => c.record.setIdentifier));
  const named = new Set(changes.map((c) => key(c.record)));
  const collateral = current.filter((r) => r.setIdentifier !== undefined && deletedIds.has(r.setIdentifier) && !named.has(key(r)));
  if (collateral.length === 0) {
    return undefined;
  }
  const body = call.body.replace(/<\/Changes>/, `${collateral.map((r) => changeXml('CREATE', r)).join('')}</Changes>`);
  return { request: { path: call.path, body } };
};

/** One `<Change>` of a ChangeResourceRecordSets request body (the fields of routed records with values). */
function changeXml(action: 'CREATE', r: Rrset): string {
  const esc = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const el = (name: string, v: string | number | boolean | undefined) => (v === undefined ? '' : `<${name}>${esc(String(v))}</${name}>`);
  return `<Change>${el('Action', action)}<ResourceRecordSet>${el('Name', r.name)}${el('Type', r.type)}${el('SetIdentifier', r.setIdentifier)}`
    + `${el('Weight', r.weight)}${el('Region', r.region)}${el('Failover', r.failover)}${el('MultiValueAnswer', r.multiValueAnswer)}`
    + `${el('TTL', r.ttl)}<ResourceRecords>${r.values.map((v) => `<ResourceRecord>${el('Value', v)}</ResourceRecord>`).join('')}</ResourceRecords>`
    + `${el('HealthCheckId', r.healthCheckId)}</ResourceRecordSet></Change>`;
}

/** Route53's listing order of a record name: its labels reversed, then the trailing dot (`mc.example.com.` is `com.example.mc.`). */
export function route53SortKey(name: string): string {
  return `${name.replace(/\.$/, '').split('.').reverse().join('.')}.`;
}

const listParser = new XMLParser({ ignoreAttributes: false, parseTagValue: false, isArray: (name) => name === 'ResourceRecordSet' || name === 'ResourceRecord' });
const listBuilder = new XMLBuilder({ ignoreAttributes: false });

/**
 * Route53 ListResourceRecordSets order. moto 5.2.5 sorts the names by their labels reversed without the trailing
 * dot, as strings (`mc.example.com.` is `.com.example.mc`), so a sibling whose label extends the name with a
 * character sorting before `.` (`mc-old.example.com`) sits between the name and the names below it
 * (`<task id>.mc.example.com`). Route53 sorts by the labels reversed with the trailing dot (`com.example.mc.`;
 * its documentation notes the dot changes the order of names holding such characters), so the names below a name
 * follow it directly. The proxy lists the whole zone from moto, sorts it as Route53 does (name, then type) and
 * answers the requested page from the requested start (name and type; the set identifier is not resumed, as
 * moto does not either).
 *
 * Page size: moto 5.2.5 also returns as many records per page as `maxitems` asks for; Route53 returns at most 300
 * a page (a larger `maxitems` is treated as 300), so a handler reading a large zone must follow `NextRecordName`.
 */
const route53ListOrder: Workaround = (call) => {
  if (call.service !== 'route53' || call.action !== 'ListResourceRecordSets') {
    return undefined;
  }
  const url = new URL(call.path, 'http://x');
  const startName = url.searchParams.get('name');
  const startType = url.searchParams.get('type') ?? '';
  const max = Math.min(300, Number(url.searchParams.get('maxitems') ?? '300') || 300);
  const whole = new URL(url.pathname, 'http://x');
  whole.searchParams.set('maxitems', '100000');
  return {
    request: { path: whole.pathname + whole.search, body: call.body },
    after: (reply) => {
      const doc = listParser.parse(reply.body) as Record<string, Record<string, unknown>>;
      const res = doc.ListResourceRecordSetsResponse;
      const sets = ((res.ResourceRecordSets as { ResourceRecordSet?: Array<Record<string, string>> } | '' | undefined) || {}).ResourceRecordSet ?? [];
      const key = (s: Record<string, string>) => route53SortKey(String(s.Name).toLowerCase());
      const sorted = [...sets].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : String(a.Type).localeCompare(String(b.Type))));
      const from = startName === null ? sorted : sorted.filter((s) => {
        const k = key(s);
        const start = route53SortKey(startName.toLowerCase());
        return k > start || (k === start && String(s.Type) >= startType);
      });
      const page = from.slice(0, max);
      const next = from[max];
      const out: Record<string, unknown> = {
        ResourceRecordSets: page.length > 0 ? { ResourceRecordSet: page } : '',
        IsTruncated: next !== undefined ? 'true' : 'false',
        ...(next !== undefined ? { NextRecordName: next.Name, NextRecordType: next.Type } : {}),
        MaxItems: String(max),
      };
      reply.body = `<?xml version="1.0" encoding="UTF-8"?>\n${listBuilder.build({
        ListResourceRecordSetsResponse: { '@_xmlns': res['@_xmlns'] ?? ROUTE53_NS, ...out },
      })}`;
      delete reply.headers['content-length'];
    },
  };
};

/**
 * ECS ListTasks. moto 5.2.5 ignores `serviceName` (it lists every task of the cluster), ignores `maxResults`
 * and `nextToken` (one page holds everything), and never answers `ServiceNotFoundException` (and the world
 * starts its tasks with RunTask, not through a moto service). ECS lists a service's tasks only, 100 a page at
 * most, and refuses a service that does not exist (here: one a test deleted with `AwsProxy.deleteService`).
 * The service filter becomes the `startedBy` the world gives each service's tasks, and the pages are cut here.
 */
const ecsListTasks: Workaround = (call, state) => {
  if (call.service !== 'ecs' || call.action !== 'ListTasks') {
    return undefined;
  }
  const json = jsonBody(call);
  if (!json) {
    return undefined;
  }
  const size = Math.min(Number(json.maxResults ?? 100), 100);
  const start = typeof json.nextToken === 'string' ? Number(Buffer.from(json.nextToken, 'base64').toString('utf8').replace('offset:', '')) : 0;
  if (!Number.isInteger(size) || size < 1) {
    return { reply: jsonError('InvalidParameterException', 'maxResults must be between 1 and 100') };
  }
  if (!Number.isInteger(start) || start < 0) {
    return { reply: jsonError('InvalidParameterException', 'Invalid nextToken') };
  }
  if (typeof json.serviceName === 'string') {
    if (state.deletedServices.has(json.serviceName)) {
      return { reply: jsonError('ServiceNotFoundException', 'Service not found.') };
    }
    if (json.startedBy !== undefined) {
      return { reply: jsonError('InvalidParameterException', 'startedBy may not be specified with serviceName') };
    }
    json.startedBy = startedByForService(json.serviceName);
    delete json.serviceName;
  }
  delete json.maxResults;
  delete json.nextToken;
  return {
    request: { path: call.path, body: JSON.stringify(json) },
    after: (reply) => {
      const all = (JSON.parse(reply.body) as { taskArns?: string[] }).taskArns ?? [];
      const next = start + size;
      const result: Record<string, unknown> = { taskArns: all.slice(start, next) };
      if (next < all.length) {
        result.nextToken = Buffer.from(`offset:${next}`, 'utf8').toString('base64');
      }
      reply.body = JSON.stringify(result);
    },
  };
};

/**
 * ECS DescribeTasks. moto 5.2.5 describes any number of tasks and leaves the tasks it does not know out of
 * the answer without a word; ECS refuses more than 100 tasks a call and reports each unknown task as a
 * `MISSING` failure.
 *
 * Task health: moto 5.2.5's tasks carry no `healthStatus` (its containers say HEALTHY, always, and nothing
 * runs a health check). ECS reports a task's `healthStatus` from its containers' health checks: `UNKNOWN`
 * until they report, then `HEALTHY` or `UNHEALTHY`. The answer gets the status a test set for the task
 * (`AwsProxy.setTaskHealth`, through `World.setHealth`), else `UNKNOWN`.
 */
const ecsDescribeTasks: Workaround = (call, state) => {
  if (call.service !== 'ecs' || call.action !== 'DescribeTasks') {
    return undefined;
  }
  const wanted = jsonBody(call)?.tasks;
  if (!Array.isArray(wanted)) {
    return undefined;
  }
  if (wanted.length > 100) {
    return { reply: jsonError('InvalidParameterException', `tasks can have at most 100 items, got ${wanted.length}`) };
  }
  return {
    after: (reply) => {
      const out = JSON.parse(reply.body) as { tasks?: Array<{ taskArn?: string; healthStatus?: string }>; failures?: unknown[] };
      for (const t of out.tasks ?? []) {
        t.healthStatus = state.taskHealth.get(t.taskArn ?? '') ?? 'UNKNOWN';
      }
      const found = (out.tasks ?? []).map((t) => t.taskArn ?? '');
      const missing = (wanted as string[]).filter((w) => !found.some((f) => f === w || f.endsWith(`/${w}`)));
      out.failures = [...(out.failures ?? []), ...missing.map((arn) => ({ arn, reason: 'MISSING' }))];
      reply.body = JSON.stringify(out);
    },
  };
};

/**
 * EC2 Describe* calls. moto 5.2.5 accepts any number of filter values; EC2 refuses more than 200 in one call
 * (`FilterLimitExceeded`), so a handler must split large lookups.
 */
const ec2FilterLimit: Workaround = (call) => {
  if (call.service !== 'ec2' || !call.action.startsWith('Describe')) {
    return undefined;
  }
  const values = [...new URLSearchParams(call.body).keys()].filter((k) => /^Filter\.\d+\.Value\.\d+$/.test(k)).length;
  return values > 200
    ? { reply: ec2Error(400, 'FilterLimitExceeded', 'The maximum number of filter values specified on a single call is 200') }
    : undefined;
};

const WORKAROUNDS: readonly Workaround[] = [
  route53ChangeBatch, route53ListOrder, route53HealthChecks, ecsListTasks, ecsDescribeTasks, ec2FilterLimit,
];

/** A JSON request body, or undefined when it is not one (moto answers it then). */
function jsonBody(call: CallInfo): Record<string, unknown> | undefined {
  try {
    return JSON.parse(call.body || '{}') as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The workarounds, with what they read from moto (directly, so not counted as the handler's calls). */
export class MotoGaps implements GapState {
  public readonly deletedServices = new Set<string>();
  public readonly taskHealth = new Map<string, string>();
  public readonly healthCheckReferences = new Map<string, { readonly settings: string; readonly id: string } | 'deleted'>();
  public healthCheckQuota?: number;
  private readonly route53: Route53Client;
  private readonly zoneNames = new Map<string, string>();

  constructor(motoEndpoint: string) {
    this.route53 = new Route53Client({
      endpoint: motoEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'harness', secretAccessKey: 'harness' },
      maxAttempts: 1,
    });
  }

  /** What AWS would do differently from moto with this call. */
  public async fix(call: CallInfo): Promise<GapFix> {
    for (const workaround of WORKAROUNDS) {
      const fix = await workaround(call, this);
      if (fix) {
        return fix;
      }
    }
    return {};
  }

  /** Forgets the cached zone names (call after resetting the emulator). */
  public forgetZones(): void {
    this.zoneNames.clear();
  }

  public destroy(): void {
    this.route53.destroy();
  }

  public async zoneName(zoneId: string): Promise<string | undefined> {
    const cached = this.zoneNames.get(zoneId);
    if (cached) {
      return cached;
    }
    try {
      const z = await this.route53.send(new GetHostedZoneCommand({ Id: zoneId }));
      const name = z.HostedZone?.Name;
      if (name) {
        this.zoneNames.set(zoneId, name);
      }
      return name;
    } catch {
      return undefined;
    }
  }

  public async healthCheckReference(id: string): Promise<string | undefined> {
    try {
      return (await this.route53.send(new GetHealthCheckCommand({ HealthCheckId: id }))).HealthCheck?.CallerReference;
    } catch {
      return undefined;
    }
  }

  public async healthCheckCount(): Promise<number> {
    return (await this.route53.send(new ListHealthChecksCommand({}))).HealthChecks?.length ?? 0;
  }

  /** Every record at one name (all types), read from moto directly. */
  public async recordsAt(zoneId: string, name: string): Promise<Rrset[]> {
    const out: Rrset[] = [];
    let startName: string | undefined = name;
    let startType: string | undefined;
    for (;;) {
      const page: ListResourceRecordSetsCommandOutput = await this.route53.send(new ListResourceRecordSetsCommand({
        HostedZoneId: zoneId, StartRecordName: startName, StartRecordType: startType as never, MaxItems: 1000,
      }));
      const sets = page.ResourceRecordSets ?? [];
      const here = sets.filter((s) => normalizeName(s.Name ?? '') === name);
      out.push(...here.map(fromSdk));
      if (!page.IsTruncated || here.length < sets.length || page.NextRecordName === undefined
        || normalizeName(page.NextRecordName) !== name || page.NextRecordType === startType) {
        return out;
      }
      startName = page.NextRecordName;
      startType = page.NextRecordType;
    }
  }
}
