/**
 * Plays CloudFormation for the end-to-end tests: builds the custom resource requests CloudFormation sends
 * the discovery function (properties resolved from a synthesized template), catches the answers it PUTs
 * to the response URL on a loopback server, works out the order in which CloudFormation applies a stack
 * update, and evaluates the role's Route53 write permissions the way IAM does (moto does not).
 */
import * as http from 'http';
import { CfnTemplate, STACK_NAME } from './example-app';
import { HealthCheckAuthorizer, Route53WriteAuthorizer, Route53WriteRequest } from './proxy';
import { DeployedWorld, physicalValues, resolveIntrinsics, ResolveContext } from './template-config';
import { LIFECYCLE_RESOURCE_TYPE } from '../src/shared/contract';

/** What the function answered to CloudFormation. */
export interface CfnAnswer {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly StackId: string;
  readonly Data?: Record<string, string>;
}

/** A loopback server standing in for the pre-signed S3 URL CloudFormation waits on. */
export class ResponseCatcher {
  public static async start(): Promise<ResponseCatcher> {
    const catcher = new ResponseCatcher();
    await new Promise<void>((resolve) => catcher.server.listen(0, '127.0.0.1', () => resolve()));
    return catcher;
  }

  public readonly answers = new Map<string, CfnAnswer>();
  private readonly server: http.Server;

  private constructor() {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const id = decodeURIComponent((req.url ?? '/').slice(1));
        if (req.method !== 'PUT' || req.headers['content-type'] !== '') {
          res.writeHead(400).end('expected a PUT with an empty content type, as the pre-signed URL is signed for');
          return;
        }
        this.answers.set(id, JSON.parse(Buffer.concat(chunks).toString('utf8')) as CfnAnswer);
        res.writeHead(200).end();
      });
    });
  }

  /** The response URL for one request. */
  public url(requestId: string): string {
    const addr = this.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    return `http://127.0.0.1:${port}/${encodeURIComponent(requestId)}`;
  }

  public stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

export const STACK_ID = `arn:aws:cloudformation:us-east-1:123456789012:stack/${STACK_NAME}/0f8b2d10-aaaa-bbbb-cccc-000000000001`;

function resolveContext(template: CfnTemplate, world: DeployedWorld): ResolveContext {
  return { resources: physicalValues(template, world), region: world.region, account: world.account, stackName: STACK_NAME };
}

/** The discovery lifecycle resource of a template: its logical id and resolved properties (ServiceToken removed). */
export function lifecycleResource(template: CfnTemplate, world: DeployedWorld): { logicalId: string; properties: Record<string, unknown> } {
  const found = Object.entries(template.Resources).filter(([, r]) => r.Type === LIFECYCLE_RESOURCE_TYPE);
  if (found.length !== 1) {
    throw new Error(`cloudformation: expected one ${LIFECYCLE_RESOURCE_TYPE} resource, found ${found.length}`);
  }
  const [logicalId, resource] = found[0];
  const { ServiceToken: _token, ...rest } = resource.Properties ?? {};
  return { logicalId, properties: stringifyScalars(resolveIntrinsics(rest, resolveContext(template, world))) as Record<string, unknown> };
}

/** CloudFormation hands custom resources every scalar property value as a string. */
function stringifyScalars(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(stringifyScalars);
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, stringifyScalars(v)]));
  }
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
}

let requestSeq = 0;

/** A custom resource request as CloudFormation sends it. */
export function lifecycleRequest(
  catcher: ResponseCatcher,
  requestType: 'Create' | 'Update' | 'Delete',
  resource: { logicalId: string; properties: Record<string, unknown> },
  old?: { properties: Record<string, unknown> },
): { event: Record<string, unknown>; requestId: string } {
  const requestId = `request-${++requestSeq}`;
  return {
    requestId,
    event: {
      RequestType: requestType,
      ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:discovery',
      ResponseURL: catcher.url(requestId),
      StackId: STACK_ID,
      RequestId: requestId,
      LogicalResourceId: resource.logicalId,
      ResourceType: LIFECYCLE_RESOURCE_TYPE,
      ...(requestType === 'Create' ? {} : { PhysicalResourceId: `${resource.logicalId}-0f8b2d10` }),
      ResourceProperties: { ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:discovery', ...resource.properties },
      ...(old ? { OldResourceProperties: { ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:discovery', ...old.properties } } : {}),
    },
  };
}

/** A policy document as IAM stores it. */
export interface PolicyDocumentJson {
  readonly Statement: ReadonlyArray<Record<string, unknown>>;
}

/** The policies attached to the discovery function's role in a template, by logical id, resolved. */
export function rolePolicies(template: CfnTemplate, world: DeployedWorld): Map<string, PolicyDocumentJson> {
  const ctx = resolveContext(template, world);
  const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function'
    && JSON.stringify(r.Properties?.Environment ?? {}).includes('PUBLIC_DISCOVERY_CONFIG'));
  const roleRef = JSON.stringify((fn?.Properties?.Role as { 'Fn::GetAtt'?: unknown[] } | undefined)?.['Fn::GetAtt']?.[0] ?? '');
  const out = new Map<string, PolicyDocumentJson>();
  for (const [id, r] of Object.entries(template.Resources)) {
    if ((r.Type === 'AWS::IAM::ManagedPolicy' || r.Type === 'AWS::IAM::Policy')
      && JSON.stringify(r.Properties?.Roles ?? []).includes(`{"Ref":${roleRef}}`)) {
      out.set(id, resolveIntrinsics(r.Properties?.PolicyDocument, ctx) as PolicyDocumentJson);
    }
  }
  return out;
}

const asList = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

function matches(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(value);
}

/** IAM's StringLike: `*` matches any run of characters (also none), `?` exactly one character; case-sensitive. */
export function stringLike(pattern: string, value: string): boolean {
  const re = pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${re}$`, 's').test(value);
}

/** The condition operators the evaluator knows, each over one value and one allowed entry. */
const OPERATORS: Record<string, (allowed: string, value: string) => boolean> = {
  'ForAllValues:StringEquals': (allowed, value) => allowed === value,
  'ForAllValues:StringLike': stringLike,
};

/**
 * Whether one statement allows the request, evaluated as IAM does (each statement on its own). A listing carries
 * none of the ChangeResourceRecordSets condition keys, and `ForAllValues` over an absent key holds.
 */
function statementAllows(statement: Record<string, unknown>, request: Route53WriteRequest): boolean {
  const action = `route53:${request.action ?? 'ChangeResourceRecordSets'}`;
  if (statement.Effect !== 'Allow' || !asList(statement.Action).some((a) => matches(a, action))) {
    return false;
  }
  const zoneArn = `arn:aws:route53:::hostedzone/${request.zoneId.replace(/^\/?hostedzone\//, '')}`;
  if (!asList(statement.Resource).some((r) => matches(r, zoneArn))) {
    return false;
  }
  const listing = request.action === 'ListResourceRecordSets';
  const values: Record<string, string[]> = {
    'route53:ChangeResourceRecordSetsNormalizedRecordNames': request.names.map((n) => n.toLowerCase().replace(/\.$/, '')),
    'route53:ChangeResourceRecordSetsRecordTypes': [...request.types],
    'route53:ChangeResourceRecordSetsActions': [...request.actions],
  };
  for (const [operator, conditions] of Object.entries((statement.Condition ?? {}) as Record<string, Record<string, unknown>>)) {
    for (const [key, allowed] of Object.entries(conditions)) {
      const have = values[key];
      const test = OPERATORS[operator];
      if (test === undefined || have === undefined) {
        throw new Error(`cloudformation: the IAM evaluator does not know the condition ${operator} ${key}`);
      }
      if (!listing && !have.every((v) => asList(allowed).some((a) => test(a, v)))) {
        return false;
      }
    }
  }
  return true;
}

/**
 * An authorizer for the proxy's Route53 health check calls: the action is allowed when a statement without
 * conditions allows it on the resource (`*` for CreateHealthCheck and ListHealthChecks, which have no
 * resource-level permissions; the health check's ARN for the others), as IAM evaluates the role's policies.
 */
export function healthCheckAuthorizer(policies: Iterable<PolicyDocumentJson>): HealthCheckAuthorizer {
  const statements = [...policies].flatMap((p) => p.Statement);
  return (action, resource) => (statements.some((s) => s.Effect === 'Allow' && s.Condition === undefined
    && asList(s.Action).some((a) => matches(a, `route53:${action}`)) && asList(s.Resource).some((r) => matches(r, resource)))
    ? undefined
    : `User: discovery-role is not authorized to perform: route53:${action} on resource: ${resource} because no identity-based policy allows it`);
}

/** An authorizer for the proxy that allows what the given policies allow, and denies the rest as IAM would. */
export function iamAuthorizer(policies: Iterable<PolicyDocumentJson>): Route53WriteAuthorizer {
  const statements = [...policies].flatMap((p) => p.Statement);
  return (request) => (statements.some((s) => statementAllows(s, request))
    ? undefined
    : `User: arn:aws:sts::123456789012:assumed-role/discovery is not authorized to perform: route53:${request.action ?? 'ChangeResourceRecordSets'} `
      + `on resource: arn:aws:route53:::hostedzone/${request.zoneId}${request.names.length > 0 ? ` (names ${request.names.join(', ')})` : ''}`);
}

/** One step of a stack update as CloudFormation runs it. */
export interface UpdateStep {
  readonly phase: 'update' | 'cleanup';
  readonly action: 'create' | 'update' | 'delete';
  readonly logicalId: string;
  readonly type: string;
}

/**
 * The order in which CloudFormation applies the update from `before` to `after`: resources to create or
 * update first, each after the resources it depends on (DependsOn and references); then, in the cleanup
 * phase, the resources that are gone, each before the resources it depended on.
 */
export function updateOrder(before: CfnTemplate, after: CfnTemplate): UpdateStep[] {
  const deps = (t: CfnTemplate, id: string): string[] => {
    const r = t.Resources[id];
    const found = new Set<string>(asList((r as { DependsOn?: unknown }).DependsOn));
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) {
        v.forEach(walk);
      } else if (v && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        if (typeof o.Ref === 'string' && t.Resources[o.Ref]) {
          found.add(o.Ref);
        }
        if (Array.isArray(o['Fn::GetAtt']) && t.Resources[String(o['Fn::GetAtt'][0])]) {
          found.add(String(o['Fn::GetAtt'][0]));
        }
        Object.values(o).forEach(walk);
      }
    };
    walk(r.Properties);
    return [...found];
  };
  const topo = (t: CfnTemplate, ids: Set<string>): string[] => {
    const out: string[] = [];
    const seen = new Set<string>();
    const visit = (id: string): void => {
      if (seen.has(id)) {
        return;
      }
      seen.add(id);
      deps(t, id).forEach(visit);
      if (ids.has(id)) {
        out.push(id);
      }
    };
    [...ids].sort().forEach(visit);
    return out;
  };
  const strip = (r: unknown) => JSON.stringify({ ...(r as object), Metadata: undefined });
  const changed = new Set(Object.keys(after.Resources)
    .filter((id) => !before.Resources[id] || strip(before.Resources[id]) !== strip(after.Resources[id])));
  const removed = new Set(Object.keys(before.Resources).filter((id) => !after.Resources[id]));
  const steps: UpdateStep[] = topo(after, changed).map((id) => ({
    phase: 'update', action: before.Resources[id] ? 'update' : 'create', logicalId: id, type: after.Resources[id].Type,
  }));
  steps.push(...topo(before, removed).reverse().map((id): UpdateStep => ({ phase: 'cleanup', action: 'delete', logicalId: id, type: before.Resources[id].Type })));
  return steps;
}

/**
 * The role's policies while the lifecycle resource's Update runs, in CloudFormation's order (see
 * {@link updateOrder}): a policy created or updated before the lifecycle resource holds its new document, any
 * other one of the old template its old document (one the update removes is deleted only in the cleanup phase).
 */
export function rolePoliciesDuringUpdate(before: CfnTemplate, after: CfnTemplate, world: DeployedWorld): Map<string, PolicyDocumentJson> {
  const steps = updateOrder(before, after);
  const lifecycle = steps.findIndex((s) => s.type === LIFECYCLE_RESOURCE_TYPE);
  const applied = new Set(steps.slice(0, lifecycle < 0 ? steps.length : lifecycle).filter((s) => s.phase === 'update').map((s) => s.logicalId));
  const next = rolePolicies(after, world);
  const out = new Map([...rolePolicies(before, world)].filter(([id]) => !applied.has(id)));
  for (const [id, doc] of next) {
    if (applied.has(id)) {
      out.set(id, doc);
    }
  }
  return out;
}
