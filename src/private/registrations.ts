/**
 * The registered services: the list `addService` keeps until synthesis, the checks that need the whole list
 * (a service is registered once, a record name belongs to one service), and what is derived from it: the
 * registrations as the handler reads them (in its configuration), the record-write groups and the names the
 * lifecycle resource carries. Everything derived is recomputed, and checked against AWS's limits, before a
 * registration is kept: a registration that does not fit is refused, and nothing of it is kept.
 */
import { Duration, Stack, Token, aws_ecs as ecs, aws_route53 as route53 } from 'aws-cdk-lib';
import { Construct, IValidation } from 'constructs';
import { HandlerConfigStore } from './handler-config';
import { AWS_LIMITS, boundLength, resolvedJsonLength } from './limits';
import { RecordWritePolicies } from './permissions';
import { sameValue, serviceNameOf } from './service-checks';
import { extraWriteNames, overlapOf, TaskNamesSettings, taskNamesSettings } from './task-names';
import { normalizedRecordName, recordNameFor, ttlSeconds } from './validation';
import { addWarning } from './warnings';
import { addressScopeAtSynthesis, sameZone, ZoneEntry } from './zones';
import { DEFAULT_RECORD_TYPES, DEFAULT_TTL_SECONDS, HealthCheckConfig, LifecycleName, RecordType, RegisteredService } from '../shared/contract';
import type { SrvRecordOptions } from '../srv-record';

/** `recordTypes` as the contract carries it: absent for A only, so configurations and names of IPv4 services read as before. */
function recordTypesField(types: readonly RecordType[]): { recordTypes?: RecordType[] } {
  return types.length === 1 && types[0] === 'A' ? {} : { recordTypes: [...types] };
}

/** Refuses a service's `name` that is a token: IAM conditions compare record names exactly. */
export function checkLiteralName(name: string, where: string): void {
  if (Token.isUnresolved(name)) {
    throw new Error(`The DNS name of the ${where} is only known at deploy time (a parameter, an import or a reference), but `
      + 'EcsPublicDiscovery writes it into IAM conditions that compare record names exactly, lower case and without a trailing '
      + 'dot, which CloudFormation cannot normalize: give the name as a literal string, e.g. \'mc\'.');
  }
}

/** One call to addService, as remembered until synthesis. */
export interface Registration {
  readonly service: ecs.BaseService;
  readonly serviceName: string;
  readonly name: string;
  readonly fqdn: string;
  readonly ttl: number;
  readonly ttlTagged: boolean;
  /** The record types the service publishes. */
  readonly recordTypes: readonly RecordType[];
  /** Whether a task is published only once ECS reports it HEALTHY. */
  readonly publishWhenHealthy: boolean;
  /** The publications in other zones than the construct's (`additionalZones`); empty when none. */
  readonly zones: readonly ZoneEntry[];
  /**
   * Whether each task is published at its own host name too, and the SRV records (see task-names.ts), in each
   * zone: the construct's zone first, then `zones` in order (the names differ per zone).
   */
  readonly names: readonly TaskNamesSettings[];
  /** The Route53 health check of each task, when the service has one. */
  readonly healthCheck?: HealthCheckConfig;
}

/** What `addService` asks of a registration besides its name, TTL, record types and health gating. */
export interface RegistrationOptions {
  /** The publications in other zones than the construct's (`additionalZones`). */
  readonly zones?: readonly ZoneEntry[];
  /** Task host names (see `ServiceOptions.taskNames`). */
  readonly taskNames?: boolean;
  /** SRV records (see `ServiceOptions.srv`). */
  readonly srv?: SrvRecordOptions;
  /** The Route53 health check of each task (see `ServiceOptions.healthCheck`), checked and resolved. */
  readonly healthCheck?: HealthCheckConfig;
}

/** One (zone, name) of a registration: the construct's zone first, then its additional zones. */
interface Entry {
  readonly registration: Registration;
  readonly zone: ZoneEntry;
  /** The task names and SRV name of the registration in this zone. */
  readonly names: TaskNamesSettings;
}

/** Where the registrations go. */
export interface RegistrationsProps {
  readonly hostedZone: route53.IHostedZone;
  /** The hosted zone's name, lower case without a trailing dot. */
  readonly zoneName: string;
  /** The handler's configuration, updated with every registration. */
  readonly config: HandlerConfigStore;
  /** The record-write policies, which assign each name its write group. */
  readonly writes: RecordWritePolicies;
}

/**
 * The registrations of one construct. As a validation of the construct, it warns at synthesis when no
 * service was registered.
 */
export class Registrations implements IValidation {
  private readonly registrations: Registration[] = [];
  private writeGroups: number[] = [];
  /** The registrations as the handler reads them, built once each so that their sizes are measured once. */
  private services: RegisteredService[] = [];

  constructor(private readonly scope: Construct, private readonly props: RegistrationsProps) {}

  /** The registered services' names, in registration order. */
  public get serviceNames(): string[] {
    return this.registrations.map(r => r.serviceName);
  }

  /** Whether some registration has Route53 health checks. */
  public get hasHealthChecks(): boolean {
    return this.registrations.some(r => r.healthCheck !== undefined);
  }

  /** Refuses a service that is already registered: the same service, or one with the same name. */
  public checkNotRegistered(service: ecs.BaseService, where: string): void {
    const previous = this.registrations.find(r => r.service === service
      || sameValue(Stack.of(this.scope), r.serviceName, serviceNameOf(service)) === true);
    if (previous) {
      throw new Error(`The ${where} is already registered with the name '${previous.name}': a service can be registered only once; `
        + 'remove the second addService() call (to change the name, change the first one).');
    }
  }

  /**
   * Registers the service under the DNS name. Throws, keeping nothing, when the name is not valid or
   * belongs to another service, or when the registrations would no longer fit AWS's limits.
   */
  public add(
    service: ecs.BaseService, name: string, dnsTtl: Duration | undefined, where: string, recordTypes: readonly RecordType[] = DEFAULT_RECORD_TYPES,
    publishWhenHealthy = false, options: RegistrationOptions = {},
  ): Registration {
    checkLiteralName(name, where);
    const fqdn = recordNameFor(name, this.props.zoneName);
    const ttlTagged = dnsTtl !== undefined;
    const ttl = dnsTtl !== undefined ? ttlSeconds(dnsTtl) : DEFAULT_TTL_SECONDS;
    const zones = options.zones ?? [];
    // Task names and SRV names are checked per zone: they lie below each zone's name.
    const names = [fqdn, ...zones.map(z => z.fqdn)].map(f => taskNamesSettings(service, f, options, where));
    const registration: Registration = {
      service,
      serviceName: serviceNameOf(service),
      name,
      fqdn,
      ttl,
      ttlTagged,
      recordTypes,
      publishWhenHealthy,
      zones,
      names,
      ...(options.healthCheck !== undefined ? { healthCheck: options.healthCheck } : {}),
    };
    // A name belongs to one service within its zone (the same name in a public and a private zone is split-horizon DNS).
    const existing = this.entries();
    for (const entry of this.entriesOf(registration)) {
      const { zone } = entry;
      const inZone = zone.hostedZone === this.props.hostedZone ? '' : ` in the zone '${zone.hostedZone.node.path}'`;
      const sameZoneEntries = existing.filter(e => sameZone(e.zone.hostedZone, zone.hostedZone));
      const owner = sameZoneEntries.find(e => e.zone.fqdn === zone.fqdn);
      if (owner) {
        throw new Error(`The DNS name '${zone.givenName}' of the ${where} is the record name '${zone.fqdn}'${inZone}, which is already published for `
          + `the service '${owner.registration.service.node.path}' (given as '${owner.zone.givenName}'): a name belongs to exactly one service; `
          + 'give each service its own name.');
      }
      for (const other of sameZoneEntries) {
        const overlap = overlapOf({ fqdn: zone.fqdn, ...entry.names }, { fqdn: other.zone.fqdn, ...other.names });
        if (overlap) {
          throw new Error(`The names of the ${where} (given as '${zone.givenName}'${inZone}, with its task host names and SRV name) overlap those of the `
            + `service '${other.registration.service.node.path}' (given as '${other.zone.givenName}'): ${overlap}; a name belongs to exactly one service: `
            + 'give each service its own name.');
        }
      }
    }
    boundLength(this.scope, registration.serviceName, AWS_LIMITS.ecsServiceName);

    // Everything that depends on the full list of registrations is recomputed, and checked against AWS's
    // limits, before the registration is kept: a registration that does not fit is refused here.
    const all = [...this.registrations, registration];
    const entries = this.entries(all);
    const writes = this.props.writes.plan(
      entries.map(e => normalizedRecordName(e.zone.fqdn)), entries.map(e => e.registration.recordTypes),
      entries.map(e => ({ names: extraWriteNames(normalizedRecordName(e.zone.fqdn), e.names), srv: e.names.srv !== undefined })),
      entries.map(e => e.zone.hostedZone));
    const services = entries.map((e, i) => (this.services[i] && (this.services[i].writeGroup ?? 0) === writes.groups[i]
      ? this.services[i] : this.registeredService(e, writes.groups[i])));
    const config = this.props.config.plan(services);
    this.checkLifecycleSize(all, writes.groups);
    // Every limit holds: only now is anything changed (policies and parameters created, the lists extended).
    writes.commit();
    config.commit();
    this.services = services;
    this.writeGroups = writes.groups;
    this.registrations.push(registration);
    return registration;
  }

  /** The registered names as the lifecycle resource carries them. */
  public lifecycleNames(groups: readonly number[] = this.writeGroups, registrations: readonly Registration[] = this.registrations): LifecycleName[] {
    return this.entries(registrations).map(({ registration: r, zone, names }, i) => ({
      hostedZoneId: zone.hostedZone.hostedZoneId,
      fqdn: zone.fqdn,
      serviceName: r.serviceName,
      ...(groups[i] > 0 ? { writeGroup: groups[i] } : {}),
      ...recordTypesField(r.recordTypes),
      ...(names.taskNames ? { taskNames: true } : {}),
      ...(names.srv ? { srvFqdn: names.srv.fqdn } : {}),
    }));
  }

  /** The construct's own hosted zone. */
  public get primaryZone(): route53.IHostedZone {
    return this.props.hostedZone;
  }

  /** The hosted zones the registrations publish in: the construct's, then the others in the order they were first given. */
  public get hostedZones(): route53.IHostedZone[] {
    const zones: route53.IHostedZone[] = [this.props.hostedZone];
    for (const { zone } of this.entries()) {
      if (!zones.some(z => sameZone(z, zone.hostedZone))) {
        zones.push(zone.hostedZone);
      }
    }
    return zones;
  }

  /** Every (zone, name) of the registrations, registration by registration: the construct's zone first. */
  private entries(registrations: readonly Registration[] = this.registrations): Entry[] {
    return registrations.flatMap(r => this.entriesOf(r));
  }

  private entriesOf(registration: Registration): Entry[] {
    const primary: ZoneEntry = {
      hostedZone: this.props.hostedZone, zoneName: this.props.zoneName, givenName: registration.name, fqdn: registration.fqdn,
    };
    return [primary, ...registration.zones].map((zone, i) => ({ registration, zone, names: registration.names[i] }));
  }

  /** Warns (it returns no error) when no service is registered. */
  public validate(): string[] {
    if (this.registrations.length === 0) {
      addWarning(this.scope, 'noServices',
        'No service is registered with this EcsPublicDiscovery, so no DNS record will be published and the rule '
        + 'forwards every task state change of the cluster: call addService() for each service to publish.');
    }
    return [];
  }

  private registeredService({ registration: r, zone, names }: Entry, writeGroup: number): RegisteredService {
    return {
      serviceName: r.serviceName,
      name: r.name,
      fqdn: zone.fqdn,
      ttl: r.ttl,
      ttlTagged: r.ttlTagged,
      hostedZoneId: zone.hostedZone.hostedZoneId,
      ...(writeGroup > 0 ? { writeGroup } : {}),
      ...recordTypesField(r.recordTypes),
      // Absent when false, so the configuration of an ungated service reads as before health gating.
      ...(r.publishWhenHealthy ? { publishWhenHealthy: true } : {}),
      // Absent for the public address, so the configuration of a public-only service reads as before.
      ...(zone.addressScope === 'atSynthesis' ? { addressScope: addressScopeAtSynthesis(zone.hostedZone) } : {}),
      ...(zone.addressScope === 'private' ? { addressScope: zone.addressScope } : {}),
      // Absent unless set, so the configuration of a service without them reads as before.
      ...(names.taskNames ? { taskNames: true } : {}),
      ...(names.srv ? { srv: names.srv } : {}),
      ...(r.healthCheck !== undefined ? { healthCheck: r.healthCheck } : {}),
    };
  }

  /**
   * CloudFormation hands the custom resource its old and new properties in one asynchronous invocation,
   * whose payload Lambda limits: refuse a registration that would not fit.
   */
  private checkLifecycleSize(registrations: readonly Registration[], groups: readonly number[]): void {
    // Old and new properties travel together, with about 4 KB of request fields around them.
    const bytes = 2 * resolvedJsonLength(this.scope, this.lifecycleNames(groups, registrations)) + 4096;
    if (bytes > AWS_LIMITS.asyncInvokePayloadBytes) {
      throw new Error(`${registrations.length} registrations make the EcsPublicDiscovery lifecycle request up to ${bytes} bytes, above `
        + `Lambda's ${AWS_LIMITS.asyncInvokePayloadBytes} bytes for the asynchronous invocation CloudFormation makes: register fewer `
        + 'services per construct, e.g. by creating one EcsPublicDiscovery per group of services.');
    }
  }
}
