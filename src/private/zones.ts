/**
 * The hosted zones a service is published in: the construct's own zone (public addresses) and the
 * `additionalZones` of its registration, each with its record name and the address its A records hold.
 * Split-horizon DNS is a public and a private zone of the same name: the same record name, a public
 * address outside the VPC and the private one inside.
 */
import { Lazy, Stack, Token, aws_route53 as route53 } from 'aws-cdk-lib';
import { IConstruct, IValidation } from 'constructs';
import { recordNameFor, zoneNameOf } from './validation';
import { addWarning } from './warnings';
import { RecordAddress, ZonePublication } from '../zone-publication';

/** One (zone, name) a service is published at. */
export interface ZoneEntry {
  readonly hostedZone: route53.IHostedZone;
  /** The zone's name, lower case without a trailing dot. */
  readonly zoneName: string;
  /** The name as given for this zone (the service's `name` unless the publication gives its own). */
  readonly givenName: string;
  /** The record name: lower case with a trailing dot. */
  readonly fqdn: string;
  /**
   * `private` when the A records hold the private IPv4 address; absent for the public one; `atSynthesis` when
   * `address` was not given and the zone's kind may still change (a `HostedZone` given VPCs after addService):
   * the default is decided at synthesis (see {@link addressScopeAtSynthesis}).
   */
  readonly addressScope?: 'private' | 'atSynthesis';
}

/** A publication as remembered for the checks made at synthesis (see {@link zoneAddressValidation}). */
interface Publication {
  readonly at: string;
  readonly zone: route53.IHostedZone;
  readonly zoneName: string;
  /** The address given, if any. */
  readonly address?: RecordAddress;
  /** The default decided when addService ran, for a zone whose kind was not to change. */
  readonly decided?: RecordAddress;
}

/**
 * True when both are the same hosted zone: the same object, two literal ids that are equal (with or without
 * the `/hostedzone/` prefix), or two zones of the same stack whose ids resolve to the same value. Ids that
 * are tokens are never compared across stacks: a zone of another stack resolves to a reference to its
 * logical id, which only depends on its path inside its own stack (`Dns` in two stacks would look alike).
 */
export function sameZone(a: route53.IHostedZone, b: route53.IHostedZone): boolean {
  if (a === b) {
    return true;
  }
  const idA = a.hostedZoneId;
  const idB = b.hostedZoneId;
  const tokenA = Token.isUnresolved(idA);
  const tokenB = Token.isUnresolved(idB);
  if (!tokenA && !tokenB) {
    return bareZoneId(idA) === bareZoneId(idB);
  }
  if (tokenA !== tokenB || Stack.of(a) !== Stack.of(b)) {
    return false;
  }
  const stack = Stack.of(a);
  return JSON.stringify(stack.resolve(idA)) === JSON.stringify(stack.resolve(idB));
}

/** A literal zone id without its `/hostedzone/` prefix. */
function bareZoneId(id: string): string {
  return id.replace(/^\/?hostedzone\//, '');
}

/**
 * What identifies a zone in the logical ids of the record-write policies of a construct in `scope`'s stack,
 * whose own zone is `primary`. The construct's zone, and any zone whose id is a literal or lives in that
 * stack, is its id as that stack resolves it, as before several zones (so existing templates keep their
 * logical ids). A zone of another stack would resolve to a reference naming only its logical id, which two
 * zones of two stacks may share: it is identified by its stack and path instead, which are unique in the app.
 */
export function zoneIdentity(scope: IConstruct, zone: route53.IHostedZone, primary: route53.IHostedZone): string {
  const stack = Stack.of(scope);
  const resolved = (z: route53.IHostedZone) => JSON.stringify(stack.resolve(z.hostedZoneId));
  if (zone === primary) {
    return resolved(zone);
  }
  if ((!Token.isUnresolved(zone.hostedZoneId) || Stack.of(zone) === stack) && resolved(zone) !== resolved(primary)) {
    return resolved(zone);
  }
  return JSON.stringify({ stack: Stack.of(zone).node.path, zone: zone.node.path });
}

/**
 * Whether a zone is private as far as synthesis can tell: true for a `PrivateHostedZone` or a zone whose
 * CloudFormation resource is associated with VPCs, false for a zone of the app without VPCs, undefined for
 * an imported zone (its kind is not known).
 */
export function isPrivateZone(zone: route53.IHostedZone): boolean | undefined {
  if (zone instanceof route53.PrivateHostedZone) {
    return true;
  }
  const cfn = zone.node.defaultChild;
  if (!(cfn instanceof route53.CfnHostedZone)) {
    return undefined;
  }
  const vpcs = Stack.of(cfn).resolve(cfn.vpcs) as unknown;
  return Array.isArray(vpcs) && vpcs.length > 0;
}

/** Refuses a value that is not one of the enum's (jsii languages may pass any string). */
function checkAddress(value: RecordAddress, where: string): void {
  if (!Object.values(RecordAddress).includes(value)) {
    throw new Error(`The address of a publication of the ${where} is ${JSON.stringify(value)}, which is not one of `
      + `${Object.values(RecordAddress).map(v => JSON.stringify(v)).join(', ')}: use RecordAddress.PUBLIC or RecordAddress.PRIVATE.`);
  }
}

/**
 * The service's publications in its additional zones, validated: every zone's name known at synthesis,
 * each zone given once and not the construct's own, each name a literal inside its zone; with the validation
 * that checks, at synthesis, each address against what its zone is then (add it once the registration is kept).
 */
export function additionalZoneEntries(
  scope: IConstruct, primary: route53.IHostedZone, name: string, publications: readonly ZonePublication[] | undefined, where: string,
): { readonly entries: ZoneEntry[]; readonly validation: IValidation } {
  const entries: ZoneEntry[] = [];
  const checks: Publication[] = [];
  (publications ?? []).forEach((p, i) => {
    const at = `additionalZones[${i}] of the ${where}`;
    if (!p || !p.hostedZone) {
      throw new Error(`The ${at} has no hostedZone: give each publication the hosted zone to publish in.`);
    }
    const zone = p.hostedZone;
    if (sameZone(zone, primary)) {
      throw new Error(`The ${at} is the construct's own hosted zone '${zone.node.path}', where the service is always published: `
        + 'remove it from additionalZones.');
    }
    const twice = entries.find(e => sameZone(e.hostedZone, zone));
    if (twice) {
      throw new Error(`The ${at} gives the hosted zone '${zone.node.path}' a second time: a service has one name per zone; `
        + 'remove one of the two publications.');
    }
    const zoneName = zoneNameOf(zone);
    const givenName = p.name ?? name;
    if (Token.isUnresolved(givenName)) {
      throw new Error(`The name of the ${at} is only known at deploy time (a parameter, an import or a reference), but `
        + 'EcsPublicDiscovery writes it into IAM conditions that compare record names exactly: give the name as a literal string, e.g. \'mc\'.');
    }
    let fqdn: string;
    try {
      fqdn = recordNameFor(givenName, zoneName);
    } catch (e) {
      const hint = p.name === undefined
        ? ` (the service's name '${name}' is used in this zone too: give the publication a name of its own, e.g. name: '${name.split('.')[0]}')`
        : '';
      throw new Error(`In the ${at} (zone '${zoneName}'): ${(e as Error).message}${hint}`);
    }
    if (p.address !== undefined) {
      checkAddress(p.address, where);
    }
    const atSynthesis = p.address === undefined && kindMayChange(zone);
    const decided = p.address ?? (atSynthesis ? undefined : defaultAddress(zone));
    checks.push({ at, zone, zoneName, address: p.address, decided: p.address === undefined ? decided : undefined });
    entries.push({
      hostedZone: zone,
      zoneName,
      givenName,
      fqdn,
      ...(atSynthesis ? { addressScope: 'atSynthesis' as const } : decided === RecordAddress.PRIVATE ? { addressScope: 'private' as const } : {}),
    });
  });
  return { entries, validation: zoneAddressValidation(scope, checks) };
}

/** The default address of a zone as it is now: PRIVATE for a private zone, PUBLIC otherwise (an imported zone too). */
function defaultAddress(zone: route53.IHostedZone): RecordAddress {
  return isPrivateZone(zone) === true ? RecordAddress.PRIVATE : RecordAddress.PUBLIC;
}

/**
 * Whether the zone may yet become private before synthesis: a zone of the app other than a `PrivateHostedZone`
 * (always private) and a `PublicHostedZone` (which refuses VPCs), e.g. a `HostedZone` given VPCs with `addVpc`.
 */
function kindMayChange(zone: route53.IHostedZone): boolean {
  return !(zone instanceof route53.PrivateHostedZone) && !(zone instanceof route53.PublicHostedZone)
    && zone.node.defaultChild instanceof route53.CfnHostedZone;
}

/**
 * The `addressScope` of a registration whose default is decided at synthesis: `private` once the zone is
 * associated with VPCs, absent (the public address) otherwise. The handler configuration measures it at its
 * longest, `private`, so that the sizes checked when the service is registered hold at synthesis.
 */
export function addressScopeAtSynthesis(zone: route53.IHostedZone): 'private' {
  // A token standing for 'private' or nothing: resolving drops a property whose value is undefined.
  return Lazy.any({ produce: () => (isPrivateZone(zone) === true ? 'private' : undefined) }) as unknown as 'private';
}

/**
 * Checks, at synthesis, the addresses against the zones as they are then: warns when the address does not suit
 * the zone or the zone's kind cannot be known (an imported zone without `address`), and refuses a default
 * decided when addService ran that the zone no longer matches (e.g. a `PublicHostedZone` given VPCs through
 * its CloudFormation resource). Added to the construct once the registration is kept.
 */
function zoneAddressValidation(scope: IConstruct, publications: readonly Publication[]): IValidation {
  return {
    validate: () => {
      const errors: string[] = [];
      for (const { at, zone, zoneName, address, decided } of publications) {
        const known = isPrivateZone(zone);
        if (decided !== undefined && decided !== defaultAddress(zone)) {
          errors.push(`The ${at} gives no address, so its A records were to hold the tasks' ${decided} addresses, as the zone '${zoneName}' `
            + `was ${decided === RecordAddress.PRIVATE ? 'private' : 'public'} when addService() ran, but it is no longer at synthesis: `
            + 'give the publication\'s address explicitly (RecordAddress.PUBLIC or RecordAddress.PRIVATE).');
          continue;
        }
        const effective = address ?? defaultAddress(zone);
        if (known === undefined && address === undefined) {
          addWarning(scope, 'zoneKindUnknown', `The ${at} publishes in the imported zone '${zoneName}', whose kind (public or private) is `
            + 'not known at synthesis, so its A records hold the tasks\' public addresses (RecordAddress.PUBLIC, the default). '
            + 'Give the publication an address (RecordAddress.PRIVATE for a private zone, or RecordAddress.PUBLIC) to choose and silence this warning.');
        } else if (known === false && effective === RecordAddress.PRIVATE) {
          addWarning(scope, 'privateAddressInPublicZone', `The ${at} publishes the tasks' private addresses in the zone '${zoneName}', `
            + 'which is not associated with any VPC (a public zone): anyone can resolve them. Use a PrivateHostedZone, or RecordAddress.PUBLIC.');
        } else if (known === true && effective === RecordAddress.PUBLIC) {
          addWarning(scope, 'publicAddressInPrivateZone', `The ${at} publishes the tasks' public addresses in the private zone '${zoneName}': `
            + 'clients inside the VPC then leave it to reach the tasks. Use RecordAddress.PRIVATE unless that is what you want.');
        }
      }
      return errors;
    },
  };
}
