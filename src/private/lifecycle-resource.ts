/**
 * The lifecycle custom resource `Custom::EcsPublicDiscovery`, which binds the records to the stack, and the
 * order CloudFormation must keep around it (see "Lifecycle of the records" in docs/design.md).
 *
 * The resource is served by the discovery function. It depends on everything the function needs to reach
 * Route53, so CloudFormation deletes it (and so the records) before any of them; the event source and the
 * schedule depend on it, so no event is handled after the records are deleted.
 */
import { CustomResource, Lazy, RemovalPolicy, aws_lambda as lambda } from 'aws-cdk-lib';
import { Construct, IConstruct, IDependable } from 'constructs';
import { LIFECYCLE_NAMES_PROPERTY, LIFECYCLE_OWNER_PROPERTY, LIFECYCLE_RESOURCE_TYPE, LifecycleName } from '../shared/contract';

/** What the lifecycle resource is made of. */
export interface LifecycleResourceProps {
  /** The discovery function, which serves the resource. */
  readonly handler: lambda.IFunction;
  /** @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
  /** The registered names as the resource carries them, read at synthesis. */
  readonly names: () => LifecycleName[];
  /** A value that changes with any registration, read at synthesis. */
  readonly fingerprint: () => string;
  /** The owner of the construct's health checks, read at synthesis; the Delete request deletes its checks. */
  readonly owner?: () => string | undefined;
}

/** Creates the custom resource `Lifecycle` in `scope`; {@link deleteBefore} and {@link deleteAfter} order it. */
export class LifecycleResource {
  public readonly resource: CustomResource;

  constructor(scope: Construct, props: LifecycleResourceProps) {
    this.resource = new CustomResource(scope, 'Lifecycle', {
      serviceToken: props.handler.functionArn,
      resourceType: LIFECYCLE_RESOURCE_TYPE,
      properties: {
        [LIFECYCLE_NAMES_PROPERTY]: Lazy.any({ produce: () => props.names() }),
        // Any change of the registrations (a TTL too) updates the resource, and so reconciles the records.
        Fingerprint: Lazy.string({ produce: () => props.fingerprint() }),
        // Absent without health checks, so the resource reads as before them.
        [LIFECYCLE_OWNER_PROPERTY]: Lazy.any({ produce: () => props.owner?.() }),
      },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
  }

  /**
   * What the function needs to reach Route53 (its role, log group, queue, rule, record-write policies,
   * registration parameters): the resource depends on them, so CloudFormation deletes it, and so the
   * records, while they all still exist.
   */
  public deleteBefore(...prerequisites: IDependable[]): void {
    this.resource.node.addDependency(...prerequisites);
  }

  /**
   * What invokes the function with events (the queue's event source mapping, the reconciliation schedule):
   * they depend on the resource, so CloudFormation deletes them first and no event is handled after the
   * records are deleted.
   */
  public deleteAfter(...invokers: IConstruct[]): void {
    for (const invoker of invokers) {
      invoker.node.addDependency(this.resource);
    }
  }
}
