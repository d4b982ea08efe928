/**
 * The AWS limits the construct's resources must fit, and an upper bound of how long a value becomes once
 * CloudFormation resolves it. Values only known at deploy time (service names CloudFormation generates,
 * imports, references) are counted at the longest they can be, so a template that passes here deploys.
 */
import { CfnElement, CfnResource, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** The documented limits, with the page that states each. */
export const AWS_LIMITS = {
  /** Lambda: all environment variables of a function together, keys and values (Lambda quotas). */
  lambdaEnvironmentBytes: 4096,
  /** EventBridge: size of a rule's event pattern, in characters (EventBridge quotas, default). */
  eventPatternChars: 2048,
  /** IAM: one customer managed policy, in characters without whitespace (IAM and STS quotas). */
  managedPolicyChars: 6144,
  /** IAM: all inline policies of a role together, in characters without whitespace (IAM and STS quotas). */
  roleInlinePolicyChars: 10240,
  /** IAM: managed policies attached to one role (IAM and STS quotas, default). */
  managedPoliciesPerRole: 10,
  /** SSM Parameter Store: value of a standard parameter, in characters (Systems Manager quotas). */
  parameterValueChars: 4096,
  /** Lambda: payload of an asynchronous invocation, as CloudFormation invokes a custom resource (Lambda quotas). */
  asyncInvokePayloadBytes: 262144,
  /** CloudFormation: resources in one stack (CloudFormation quotas). */
  stackResources: 500,
  /** ECS: longest service name. */
  ecsServiceName: 255,
} as const;

/** Longest values of CloudFormation pseudo parameters. */
const PSEUDO_LENGTHS: Record<string, number> = {
  'AWS::Region': 16,
  'AWS::AccountId': 12,
  'AWS::Partition': 16,
  'AWS::URLSuffix': 24,
  'AWS::StackName': 128,
  'AWS::StackId': 200,
  'AWS::NoValue': 0,
};

/** Longest `Ref` value of a resource type, where it is shorter than the general bound. */
const REF_LENGTHS: Record<string, number> = {
  'AWS::Route53::HostedZone': 32,
  'AWS::ECS::Cluster': 255,
};

/** Bound for any value this module cannot reason about. */
const UNKNOWN_LENGTH = 2048;

/** Upper bounds the construct knows for particular deploy-time values, by their resolved form, per stack. */
const KNOWN_BOUNDS = new WeakMap<Stack, Map<string, number>>();

/**
 * Records that a deploy-time value can never be longer than `max` characters, whatever it resolves
 * from (e.g. an ECS service name imported from another stack is at most 255 characters).
 */
export function boundLength(scope: IConstruct, value: string, max: number): void {
  const stack = Stack.of(scope);
  const resolved = stack.resolve(value);
  if (typeof resolved === 'string') {
    return;
  }
  let bounds = KNOWN_BOUNDS.get(stack);
  if (!bounds) {
    bounds = new Map();
    KNOWN_BOUNDS.set(stack, bounds);
  }
  bounds.set(JSON.stringify(resolved), max);
}

/**
 * An upper bound of the length of `value` once CloudFormation has resolved it, serialized as JSON
 * (a string counts with its quotes and escapes, as it sits in a JSON document).
 */
export function resolvedJsonLength(scope: IConstruct, value: unknown): number {
  const stack = Stack.of(scope);
  return jsonLength(stack.resolve(value), new Estimator(stack));
}

/** An upper bound of the length of a string once resolved (without JSON quotes). */
export function resolvedStringLength(scope: IConstruct, value: string): number {
  return resolvedJsonLength(scope, value) - 2;
}

class Estimator {
  private byLogicalId?: Map<string, CfnResource>;
  constructor(private readonly stack: Stack) {}

  /** Length of an intrinsic's resolved value (as a bare string). */
  public intrinsic(fn: string, arg: unknown): number {
    const known = KNOWN_BOUNDS.get(this.stack)?.get(JSON.stringify({ [fn]: arg }));
    return Math.min(known ?? Infinity, this.general(fn, arg));
  }

  private general(fn: string, arg: unknown): number {
    switch (fn) {
      case 'Ref':
        if (typeof arg === 'string' && arg in PSEUDO_LENGTHS) {
          return PSEUDO_LENGTHS[arg];
        }
        return REF_LENGTHS[this.typeOf(arg) ?? ''] ?? UNKNOWN_LENGTH;
      case 'Fn::GetAtt': {
        const [id, attr] = Array.isArray(arg) ? arg.map(String) : String(arg).split('.');
        return this.attribute(id, attr);
      }
      case 'Fn::Join': {
        const [sep, parts] = arg as [string, unknown[]];
        if (!Array.isArray(parts)) {
          return UNKNOWN_LENGTH;
        }
        const sepLength = JSON.stringify(sep).length - 2;
        return parts.reduce<number>((n, p) => n + stringLength(p, this), 0) + Math.max(0, parts.length - 1) * sepLength;
      }
      case 'Fn::ImportValue':
        // A value exported by another stack, e.g. a service name or an ARN.
        return 1600;
      default:
        return UNKNOWN_LENGTH;
    }
  }

  private attribute(logicalId: string, attr: string): number {
    const resource = this.resource(logicalId);
    const type = resource?.cfnResourceType;
    if (type === 'AWS::ECS::Service' && attr === 'Name') {
      // A name given as a token (not a literal) may be anything up to ECS's maximum.
      const given = (resource as unknown as { serviceName?: unknown }).serviceName;
      return given === undefined ? generatedNameLength(this.stack, logicalId, AWS_LIMITS.ecsServiceName) : AWS_LIMITS.ecsServiceName;
    }
    if (type === 'AWS::ECS::Cluster' && attr === 'Arn') {
      return 'arn::ecs:::cluster/'.length + 16 + 16 + 12 + 255;
    }
    if (type === 'AWS::Route53::HostedZone' && attr === 'Id') {
      return 32;
    }
    return UNKNOWN_LENGTH;
  }

  private typeOf(logicalId: unknown): string | undefined {
    return typeof logicalId === 'string' ? this.resource(logicalId)?.cfnResourceType : undefined;
  }

  private resource(logicalId: string): CfnResource | undefined {
    if (!this.byLogicalId) {
      this.byLogicalId = new Map();
      for (const c of this.stack.node.findAll()) {
        if (CfnResource.isCfnResource(c) && Stack.of(c) === this.stack) {
          const override = (c as unknown as { _logicalIdOverride?: string })._logicalIdOverride;
          this.byLogicalId.set(override ?? this.stack.getLogicalId(c as CfnElement), c);
        }
      }
    }
    return this.byLogicalId.get(logicalId);
  }
}

/**
 * Longest name CloudFormation generates for a resource of the stack that is given none: the stack name,
 * the logical id and a random suffix, joined by dashes, cut at the type's maximum.
 */
function generatedNameLength(stack: Stack, logicalId: string, max: number): number {
  return Math.min(max, stack.stackName.length + 1 + logicalId.length + 1 + 13);
}

function stringLength(value: unknown, est: Estimator): number {
  if (typeof value === 'string') {
    return JSON.stringify(value).length - 2;
  }
  if (typeof value === 'number' || typeof value === 'boolean') {
    return String(value).length;
  }
  const intrinsic = asIntrinsic(value);
  return intrinsic ? est.intrinsic(intrinsic[0], intrinsic[1]) : UNKNOWN_LENGTH;
}

function jsonLength(value: unknown, est: Estimator): number {
  if (value === null || value === undefined) {
    return 4;
  }
  if (typeof value === 'string' || asIntrinsic(value)) {
    return stringLength(value, est) + 2;
  }
  if (typeof value !== 'object') {
    return String(value).length;
  }
  if (Array.isArray(value)) {
    return 2 + value.reduce<number>((n, v) => n + jsonLength(v, est), 0) + Math.max(0, value.length - 1);
  }
  const entries = Object.entries(value as Record<string, unknown>);
  return 2 + entries.reduce<number>((n, [k, v]) => n + JSON.stringify(k).length + 1 + jsonLength(v, est), 0) + Math.max(0, entries.length - 1);
}

function asIntrinsic(value: unknown): [string, unknown] | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return undefined;
  }
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::')) ? [keys[0], (value as Record<string, unknown>)[keys[0]]] : undefined;
}
