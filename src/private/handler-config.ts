/**
 * Where the handler finds its registrations: inline in its `PUBLIC_DISCOVERY_CONFIG` environment variable
 * while the whole environment fits Lambda's 4 KB, otherwise in standard SSM parameters (each at most 4 KB)
 * whose names the environment carries. Sizes are counted at the longest the values can resolve to, so the
 * choice made at synthesis holds at deployment.
 */
import { Lazy, Stack, aws_iam as iam, aws_ssm as ssm } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AWS_LIMITS, resolvedJsonLength, resolvedStringLength } from './limits';
import { grantParameterReads, hashOf } from './permissions';
import { ConfigEnvelope, ENV, RegisteredService } from '../shared/contract';

/** Room kept in Lambda's environment for the other variables and for AWS's own counting. */
const OTHER_VARIABLES_BYTES = 256;

/**
 * The configuration of one construct, kept current as services are registered: {@link update} is called
 * after each registration and creates SSM parameters (never removes them: registrations only grow within
 * an app) once the registrations no longer fit inline. {@link value} is what the environment variable holds.
 */
export class HandlerConfigStore {
  /** The parameters holding the registrations (none while they are inline). */
  public readonly parameters: ssm.StringParameter[] = [];
  private services: RegisteredService[] = [];
  private chunks: RegisteredService[][] = [];
  private grant?: iam.PolicyStatement;

  constructor(private readonly scope: Construct, private readonly role: iam.Role, private readonly clusterArn: string) {}

  /** The value of {@link ENV.CONFIG}, resolved at synthesis from the final registrations. */
  public get value(): string {
    return Lazy.string({ produce: () => this.render() });
  }

  /** Takes the registrations as they are now. Throws when they cannot be configured within Lambda's limits. */
  public update(services: readonly RegisteredService[]): void {
    this.services = [...services];
    if (this.parameters.length === 0 && this.inlineLength() <= this.budget()) {
      return;
    }
    this.chunks = chunkBySize(this.scope, this.services, AWS_LIMITS.parameterValueChars);
    const stack = Stack.of(this.scope);
    while (this.parameters.length < this.chunks.length) {
      const index = this.parameters.length;
      const parameter = new ssm.StringParameter(this.scope, `Registrations${index + 1}`, {
        description: `Registered services, part ${index + 1}, of an EcsPublicDiscovery (read by its function)`,
        stringValue: Lazy.string({ produce: () => stack.toJsonString(this.chunks[index] ?? []) }),
        tier: ssm.ParameterTier.STANDARD,
      });
      this.parameters.push(parameter);
      if (!this.grant) {
        this.grant = grantParameterReads(this.role);
      }
      this.grant.addResources(parameter.parameterArn);
    }
    if (resolvedStringLength(this.scope, this.envelopeValue()) > this.budget()) {
      throw new Error(`The EcsPublicDiscovery configuration needs ${this.parameters.length} SSM parameters, too many to name within Lambda's `
        + `${AWS_LIMITS.lambdaEnvironmentBytes} bytes of environment: register fewer services per construct, e.g. by creating one `
        + 'EcsPublicDiscovery per group of services.');
    }
  }

  private budget(): number {
    return AWS_LIMITS.lambdaEnvironmentBytes - OTHER_VARIABLES_BYTES - ENV.CONFIG.length;
  }

  /** Changes whenever the registrations change at synthesis. */
  public fingerprint(): string {
    return hashOf([JSON.stringify(Stack.of(this.scope).resolve(this.services))]);
  }

  private inlineValue(): string {
    const envelope: ConfigEnvelope = { clusterArn: this.clusterArn, services: this.services, fingerprint: this.fingerprint() };
    return Stack.of(this.scope).toJsonString(envelope);
  }

  private envelopeValue(): string {
    const envelope: ConfigEnvelope = {
      clusterArn: this.clusterArn,
      servicesParameters: this.parameters.map(p => p.parameterName),
      fingerprint: this.fingerprint(),
    };
    return Stack.of(this.scope).toJsonString(envelope);
  }

  private inlineLength(): number {
    return resolvedStringLength(this.scope, this.inlineValue());
  }

  private render(): string {
    return this.parameters.length === 0 ? this.inlineValue() : this.envelopeValue();
  }
}

/** Splits the services into groups whose JSON stays within `limit` characters once resolved. */
function chunkBySize<T>(scope: Construct, items: readonly T[], limit: number): T[][] {
  const chunks: T[][] = [];
  let size = Infinity;
  for (const item of items) {
    const itemSize = resolvedJsonLength(scope, item) + 1;
    if (itemSize + 2 > limit) {
      throw new Error(`One registration takes up to ${itemSize} characters once deployed, more than an SSM parameter holds (${limit}).`);
    }
    if (size + itemSize > limit) {
      chunks.push([]);
      size = 2;
    }
    chunks[chunks.length - 1].push(item);
    size += itemSize;
  }
  return chunks;
}
