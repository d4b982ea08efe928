/**
 * Where the handler finds its registrations: inline in its `PUBLIC_DISCOVERY_CONFIG` environment variable
 * while the whole environment fits Lambda's 4 KB, otherwise in standard SSM parameters (each at most 4 KB)
 * whose names the environment carries. Sizes are counted at the longest the values can resolve to, so the
 * choice made at synthesis holds at deployment.
 */
import { Lazy, Stack, Token, aws_iam as iam, aws_ssm as ssm } from 'aws-cdk-lib';
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
  /** Their names, as literals (the parameters' own `parameterName` is a reference). */
  private readonly parameterNames: string[] = [];
  private services: RegisteredService[] = [];
  private chunks: RegisteredService[][] = [];
  /** Resolved JSON length of each registration, measured once. */
  private readonly lengths = new WeakMap<RegisteredService, number>();
  private grant?: iam.PolicyStatement;
  /** The owner of the construct's health checks (see `DiscoveryConfig.owner`); undefined while no registration has them. */
  public owner?: string;

  constructor(
    private readonly scope: Construct, private readonly role: iam.Role, private readonly clusterArn: string,
    private readonly zoneIds: string | (() => string),
  ) {}

  /** The hosted zone ids, comma-separated: the construct's zone, then any other zone a registration publishes in. */
  private get hostedZoneId(): string {
    return typeof this.zoneIds === 'string' ? this.zoneIds : this.zoneIds();
  }

  /** The value of {@link ENV.CONFIG}, resolved at synthesis from the final registrations. */
  public get value(): string {
    return Lazy.string({ produce: () => this.render() });
  }

  /**
   * Takes the registrations as they are now: returns `commit` to apply them. Throws, before anything is
   * changed, when they cannot be configured within Lambda's limits.
   */
  public plan(services: readonly RegisteredService[]): { commit(): void } {
    const next = [...services];
    const inline = this.parameters.length === 0 && this.inlineLength(next) <= this.budget();
    const chunks = inline ? [] : chunkBySize(next, s => this.lengthOf(s), AWS_LIMITS.parameterValueChars);
    const names = chunks.map((_, i) => this.parameterNameFor(i));
    if (!inline && resolvedStringLength(this.scope, this.envelopeValue(names, next)) > this.budget()) {
      throw new Error(`The EcsPublicDiscovery configuration needs ${chunks.length} SSM parameters, too many to name within Lambda's `
        + `${AWS_LIMITS.lambdaEnvironmentBytes} bytes of environment: register fewer services per construct, e.g. by creating one `
        + 'EcsPublicDiscovery per group of services.');
    }
    return { commit: () => this.apply(next, chunks) };
  }

  private apply(services: RegisteredService[], chunks: RegisteredService[][]): void {
    this.services = services;
    this.chunks = chunks;
    const stack = Stack.of(this.scope);
    while (this.parameters.length < chunks.length) {
      const index = this.parameters.length;
      const parameterName = this.parameterNameFor(index);
      const parameter = new ssm.StringParameter(this.scope, `Registrations${index + 1}`, {
        parameterName,
        description: `Registered services, part ${index + 1}, of an EcsPublicDiscovery (read by its function)`,
        stringValue: Lazy.string({ produce: () => stack.toJsonString(this.chunks[index] ?? []) }),
        tier: ssm.ParameterTier.STANDARD,
      });
      this.parameters.push(parameter);
      this.parameterNames.push(parameterName);
      if (!this.grant) {
        this.grant = grantParameterReads(this.role);
      }
      this.grant.addResources(parameter.parameterArn);
    }
  }

  /** A name of our own rather than a generated one: its length, and so the environment's, is known here. */
  private parameterNameFor(index: number): string {
    return `/cdk-ecs-public-discovery/${Stack.of(this.scope).stackName}/${this.scope.node.addr.slice(0, 10)}/${index + 1}`;
  }

  private budget(): number {
    return AWS_LIMITS.lambdaEnvironmentBytes - OTHER_VARIABLES_BYTES - ENV.CONFIG.length;
  }

  /** Changes whenever the registrations change at synthesis. */
  public fingerprint(services: readonly RegisteredService[] = this.services): string {
    return hashOf([JSON.stringify(Stack.of(this.scope).resolve(services))]);
  }

  private inlineValue(): string {
    const envelope: ConfigEnvelope = { clusterArn: this.clusterArn, services: this.services, fingerprint: this.fingerprint(), ...this.ownerField() };
    return Stack.of(this.scope).toJsonString(envelope);
  }

  private envelopeValue(names: string[] = this.parameterNames, services: readonly RegisteredService[] = this.services): string {
    const envelope: ConfigEnvelope = {
      clusterArn: this.clusterArn,
      servicesParameters: names,
      fingerprint: this.fingerprint(services),
      hostedZoneId: this.hostedZoneId,
      ...this.ownerField(),
    };
    return Stack.of(this.scope).toJsonString(envelope);
  }

  private inlineLength(services: readonly RegisteredService[]): number {
    const stack = Stack.of(this.scope);
    const empty: ConfigEnvelope = { clusterArn: this.clusterArn, services: [], fingerprint: 'FFFFFFFF', ...this.ownerField() };
    const items = services.reduce((n, s) => n + this.lengthOf(s) + 1, 0);
    return resolvedStringLength(this.scope, stack.toJsonString(empty)) + items;
  }

  private lengthOf(service: RegisteredService): number {
    let n = this.lengths.get(service);
    if (n === undefined) {
      // An address scope decided at synthesis (a token) is measured at its longest, 'private'.
      const longest = service.addressScope !== undefined && Token.isUnresolved(service.addressScope) ? { ...service, addressScope: 'private' } : service;
      n = resolvedJsonLength(this.scope, longest);
      this.lengths.set(service, n);
    }
    return n;
  }

  /** `owner`, absent without health checks (so the configuration reads as before them). */
  private ownerField(): { owner?: string } {
    return this.owner !== undefined ? { owner: this.owner } : {};
  }

  private render(): string {
    return this.parameters.length === 0 ? this.inlineValue() : this.envelopeValue();
  }
}

/** Splits the items into groups whose JSON array stays within `limit` characters, given each item's length. */
function chunkBySize<T>(items: readonly T[], lengthOf: (item: T) => number, limit: number): T[][] {
  const chunks: T[][] = [];
  let size = Infinity;
  for (const item of items) {
    const itemSize = lengthOf(item) + 1;
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
