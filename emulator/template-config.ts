/**
 * Takes the handler's configuration from the construct's synthesized template: finds the discovery
 * function (the one whose environment holds PUBLIC_DISCOVERY_CONFIG), and resolves the
 * CloudFormation intrinsics in its environment variables with the physical values of the
 * resources "deployed" in the emulator, as CloudFormation would at deploy time.
 */
import { CfnResourceJson, CfnTemplate } from './example-app';
import { ACCOUNT, REGION } from './world';
import { DiscoveryConfig, ENV, readEnvelope, readServicesParameter } from '../src/shared/contract';

/** Physical values of one resource: what `Ref` returns and its `Fn::GetAtt` attributes. */
export interface Physical {
  readonly ref: string;
  readonly attributes?: Record<string, string>;
}

export interface ResolveContext {
  /** Physical values by logical id. */
  readonly resources: Record<string, Physical>;
  readonly region?: string;
  readonly account?: string;
  readonly stackName?: string;
}

/** Resolves `Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Select`, `Fn::Split` and `Fn::Sub` in a value. */
export function resolveIntrinsics(value: unknown, ctx: ResolveContext): unknown {
  if (Array.isArray(value)) {
    return value.map((v) => resolveIntrinsics(v, ctx));
  }
  if (value === null || typeof value !== 'object') {
    return value;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) {
    const fn = keys[0];
    const arg = obj[fn];
    switch (fn) {
      case 'Ref':
        return ref(String(arg), ctx);
      case 'Fn::GetAtt': {
        const [id, attr] = Array.isArray(arg) ? arg.map(String) : String(arg).split(/\.(.+)/);
        return getAtt(id, attr, ctx);
      }
      case 'Fn::Join': {
        const [sep, parts] = arg as [string, unknown[]];
        return (resolveIntrinsics(parts, ctx) as unknown[]).map(String).join(sep);
      }
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        const items = resolveIntrinsics(list, ctx) as unknown[];
        return items[Number(resolveIntrinsics(index, ctx))];
      }
      case 'Fn::Split': {
        const [sep, source] = arg as [string, unknown];
        return String(resolveIntrinsics(source, ctx)).split(sep);
      }
      case 'Fn::Sub': {
        const [template, vars] = Array.isArray(arg) ? arg as [string, Record<string, unknown>] : [String(arg), {}];
        return template.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
          if (name in vars) {
            return String(resolveIntrinsics(vars[name], ctx));
          }
          const [id, attr] = name.split(/\.(.+)/);
          return attr ? getAtt(id, attr, ctx) : ref(id, ctx);
        });
      }
      default:
        throw new Error(`template-config: the intrinsic ${fn} is not supported (${JSON.stringify(value)})`);
    }
  }
  return Object.fromEntries(keys.map((k) => [k, resolveIntrinsics(obj[k], ctx)]));
}

function ref(id: string, ctx: ResolveContext): string {
  switch (id) {
    case 'AWS::Region': return ctx.region ?? REGION;
    case 'AWS::AccountId': return ctx.account ?? ACCOUNT;
    case 'AWS::Partition': return 'aws';
    case 'AWS::URLSuffix': return 'amazonaws.com';
    case 'AWS::StackName': return ctx.stackName ?? 'stack';
    default: {
      const p = ctx.resources[id];
      if (!p) {
        throw new Error(`template-config: no physical value given for Ref ${id}`);
      }
      return p.ref;
    }
  }
}

function getAtt(id: string, attr: string, ctx: ResolveContext): string {
  const v = ctx.resources[id]?.attributes?.[attr];
  if (v === undefined) {
    throw new Error(`template-config: no physical value given for Fn::GetAtt ${id}.${attr}`);
  }
  return v;
}

/** The discovery function of a template: its logical id and raw (unresolved) environment. */
export function findDiscoveryFunction(template: CfnTemplate): { logicalId: string; variables: Record<string, unknown> } {
  const found = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function'
    && (r.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables?.[ENV.CONFIG] !== undefined);
  if (found.length !== 1) {
    throw new Error(`template-config: expected exactly one function with ${ENV.CONFIG} in its environment, found ${found.length}`);
  }
  const [logicalId, resource] = found[0];
  return { logicalId, variables: (resource.Properties!.Environment as { Variables: Record<string, unknown> }).Variables };
}

/** The construct id of a resource's owner, from its `aws:cdk:path` (`Stack/Web/Service` → `Web`). */
export function ownerId(resource: CfnResourceJson): string | undefined {
  const path = resource.Metadata?.['aws:cdk:path'];
  if (typeof path !== 'string') {
    return undefined;
  }
  const parts = path.split('/');
  return parts.length >= 3 ? parts[parts.length - 2] : parts[parts.length - 1];
}

/** What the emulator holds in place of the template's cluster, services and hosted zone. */
export interface DeployedWorld {
  readonly clusterName: string;
  readonly clusterArn: string;
  readonly zoneId: string;
  /**
   * Hosted zones other than `zoneId`, by the construct id of their `AWS::Route53::HostedZone` (e.g.
   * `{ PrivateZone: 'Z2...' }`); a zone not listed is `zoneId`.
   */
  readonly zones?: Record<string, string>;
  /** Physical ECS service name by the construct id of the FargateService (e.g. `{ Web: 'web' }`). */
  readonly serviceNames: Record<string, string>;
  readonly region?: string;
  readonly account?: string;
}

/**
 * Physical values for every resource of the template: the cluster, services and hosted zone map to
 * the emulator's; any other resource gets a made-up id (the handler's environment must not need them).
 */
export function physicalValues(template: CfnTemplate, world: DeployedWorld): Record<string, Physical> {
  const region = world.region ?? REGION;
  const account = world.account ?? ACCOUNT;
  const out: Record<string, Physical> = {};
  for (const [id, r] of Object.entries(template.Resources)) {
    switch (r.Type) {
      case 'AWS::ECS::Cluster':
        out[id] = { ref: world.clusterName, attributes: { Arn: world.clusterArn } };
        break;
      case 'AWS::ECS::Service': {
        const literal = r.Properties?.ServiceName;
        const owner = ownerId(r);
        const name = typeof literal === 'string' ? literal : owner !== undefined ? world.serviceNames[owner] : undefined;
        if (!name) {
          throw new Error(`template-config: no ECS service name given for ${id} (construct ${owner}); add it to serviceNames`);
        }
        const arn = `arn:aws:ecs:${region}:${account}:service/${world.clusterName}/${name}`;
        out[id] = { ref: arn, attributes: { Name: name, ServiceArn: arn } };
        break;
      }
      case 'AWS::SSM::Parameter': {
        // Ref gives the parameter's name: the construct names its parameters itself.
        const name = r.Properties?.Name;
        out[id] = { ref: typeof name === 'string' ? name : `${id}-physical` };
        break;
      }
      case 'AWS::Route53::HostedZone': {
        const owner = ownerId(r);
        const zoneId = (owner !== undefined ? world.zones?.[owner] : undefined) ?? world.zoneId;
        out[id] = { ref: zoneId, attributes: { Id: zoneId } };
        break;
      }
      default:
        out[id] = { ref: `${id}-physical`, attributes: { Arn: `arn:aws:cloudformation:${region}:${account}:${id}` } };
    }
  }
  return out;
}

/**
 * The handler's environment variables, resolved; PUBLIC_DISCOVERY_CONFIG is also parsed and validated.
 * When the registrations live in SSM parameters, `parameters` holds each parameter's physical name and
 * resolved value (for the caller to put into the emulator) and `config` is read from them.
 */
export function handlerEnvironment(template: CfnTemplate, world: DeployedWorld): {
  env: Record<string, string>; config: DiscoveryConfig; parameters: Record<string, string>;
} {
  const { variables } = findDiscoveryFunction(template);
  const resources = physicalValues(template, world);
  const ctx: ResolveContext = { resources, region: world.region, account: world.account };
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(variables)) {
    const resolved = resolveIntrinsics(v, ctx);
    if (typeof resolved !== 'string') {
      throw new Error(`template-config: ${k} did not resolve to a string: ${JSON.stringify(resolved)}`);
    }
    env[k] = resolved;
  }
  const parameters: Record<string, string> = {};
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type === 'AWS::SSM::Parameter') {
      parameters[resources[id].ref] = String(resolveIntrinsics(r.Properties?.Value, ctx));
    }
  }
  const envelope = readEnvelope(env);
  const services = envelope.services
    ?? (envelope.servicesParameters ?? []).flatMap((name) => readServicesParameter(name, parameters[name]));
  const owner = envelope.owner !== undefined ? { owner: envelope.owner } : {};
  return { env, config: { clusterArn: envelope.clusterArn, services, ...owner }, parameters };
}
