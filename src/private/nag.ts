/**
 * Acknowledgements of the construct's own, unavoidable cdk-nag findings, in the two forms cdk-nag reads:
 *
 * - cdk-nag 2 reads `cdk_nag` metadata on the CloudFormation resource (`rules_to_suppress`);
 * - cdk-nag 3 reads the acknowledgements aws-cdk-lib records through `Validations.of(scope).acknowledge()`
 *   (aws-cdk-lib 2.257 and later); on an older aws-cdk-lib that API does not exist and is skipped.
 *
 * The library does not depend on cdk-nag at run time.
 */
import * as cdk from 'aws-cdk-lib';
import { CfnResource, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** One acknowledged finding. */
export interface NagAcknowledgement {
  /** The rule, e.g. `AwsSolutions-IAM5`. */
  readonly id: string;
  /** Why the finding is acceptable. */
  readonly reason: string;
  /**
   * The findings of the rule this applies to, as cdk-nag names them (e.g. `Resource::*`). A value may hold
   * tokens: it is rendered the way cdk-nag renders references (`<LogicalId>`, `<AWS::Region>`).
   * @default - every finding of the rule on the resource
   */
  readonly appliesTo?: string[];
}

/** The part of aws-cdk-lib's `Validations` (2.257+) used here. */
interface ValidationsApi {
  readonly ACKNOWLEDGED_RULES_METADATA_KEY?: string;
  of(scope: IConstruct): { acknowledge(...rules: Array<{ id: string; reason: string }>): void };
}

/** Where aws-cdk-lib records acknowledgements, and cdk-nag 3 reads them. */
const ACKNOWLEDGED_RULES = 'aws:cdk:acknowledged-rules';

/** Records the acknowledgements on `resource` in both cdk-nag forms. */
export function acknowledgeNagFindings(resource: CfnResource, acknowledgements: readonly NagAcknowledgement[]): void {
  const stack = Stack.of(resource);
  const rendered = acknowledgements.map(a => ({ ...a, appliesTo: a.appliesTo?.map(f => flattenReference(stack.resolve(f))) }));

  // cdk-nag 2: resource metadata, merged with suppressions already there.
  const existing = (resource.getMetadata('cdk_nag') ?? {}) as { rules_to_suppress?: unknown[] };
  const rules: unknown[] = Array.isArray(existing.rules_to_suppress) ? [...existing.rules_to_suppress] : [];
  const seen = new Set(rules.map(r => JSON.stringify(r)));
  for (const a of rendered) {
    const rule = a.appliesTo ? { id: a.id, reason: a.reason, applies_to: a.appliesTo } : { id: a.id, reason: a.reason };
    if (!seen.has(JSON.stringify(rule))) {
      rules.push(rule);
      seen.add(JSON.stringify(rule));
    }
  }
  resource.addMetadata('cdk_nag', { ...existing, rules_to_suppress: rules });

  // cdk-nag 3: one acknowledgement per rule, or per finding as `Rule[Finding]`.
  const validations = (cdk as unknown as { Validations?: ValidationsApi }).Validations;
  if (validations && typeof validations.of === 'function') {
    const ack = validations.of(resource);
    for (const a of rendered) {
      for (const id of a.appliesTo ? a.appliesTo.map(f => `${a.id}[${f}]`) : [a.id]) {
        try {
          ack.acknowledge({ id, reason: a.reason });
        } catch {
          // Some aws-cdk-lib releases (2.26x) refuse a finding id holding '::' (e.g. `[Resource::*]`) although
          // cdk-nag names findings so: record the acknowledgement as acknowledge() records it, which cdk-nag reads.
          resource.node.addMetadata(validations.ACKNOWLEDGED_RULES_METADATA_KEY ?? ACKNOWLEDGED_RULES, { [`Annotation::${id}`]: a.reason });
        }
      }
    }
  }
}

/**
 * Renders a resolved CloudFormation value as cdk-nag names it in findings: `Fn::Join` joined, `Ref` as
 * `<Name>`, `Fn::GetAtt` as `<Name.Attribute>`, `${...}` of `Fn::Sub` as `<...>`.
 */
export function flattenReference(value: unknown): string {
  if (value === undefined) {
    return '';
  }
  if (typeof value === 'string') {
    return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const v = value as Record<string, unknown>;
    if (Array.isArray(v['Fn::Join'])) {
      const [sep, items] = v['Fn::Join'] as [string, unknown[]];
      return items.map(flattenReference).join(sep);
    }
    if (v['Fn::Sub'] !== undefined) {
      return flattenReference(v['Fn::Sub']);
    }
    if (Array.isArray(v['Fn::GetAtt'])) {
      const [id, attr] = v['Fn::GetAtt'] as unknown[];
      return `<${flattenReference(id)}.${flattenReference(attr)}>`;
    }
    if (v['Fn::ImportValue'] !== undefined) {
      return flattenReference(v['Fn::ImportValue']);
    }
    if (v.Ref !== undefined) {
      return `<${flattenReference(v.Ref)}>`;
    }
  }
  return JSON.stringify(value);
}
