/**
 * The hosted zones a service is published in: the construct's own zone (public addresses) and the
 * `additionalZones` of its registration, each with its record name and the address its A records hold.
 * Split-horizon DNS is a public and a private zone of the same name: the same record name, a public
 * address outside the VPC and the private one inside.
 */
import { Stack, Token, aws_route53 as route53 } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
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
  /** `private` when the A records hold the private IPv4 address; absent for the public one. */
  readonly addressScope?: 'private';
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
 * each zone given once and not the construct's own, each name a literal inside its zone. Warns when the
 * address does not suit what the zone is known to be.
 */
export function additionalZoneEntries(
  scope: IConstruct, primary: route53.IHostedZone, name: string, publications: readonly ZonePublication[] | undefined, where: string,
): ZoneEntry[] {
  const entries: ZoneEntry[] = [];
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
    const known = isPrivateZone(zone);
    const address = p.address ?? (known === true ? RecordAddress.PRIVATE : RecordAddress.PUBLIC);
    checkAddress(address, where);
    if (known === false && address === RecordAddress.PRIVATE) {
      addWarning(scope, 'privateAddressInPublicZone', `The ${at} publishes the tasks' private addresses in the zone '${zoneName}', `
        + 'which is not associated with any VPC (a public zone): anyone can resolve them. Use a PrivateHostedZone, or RecordAddress.PUBLIC.');
    } else if (known === true && address === RecordAddress.PUBLIC) {
      addWarning(scope, 'publicAddressInPrivateZone', `The ${at} publishes the tasks' public addresses in the private zone '${zoneName}': `
        + 'clients inside the VPC then leave it to reach the tasks. Use RecordAddress.PRIVATE unless that is what you want.');
    }
    entries.push({
      hostedZone: zone,
      zoneName,
      givenName,
      fqdn,
      ...(address === RecordAddress.PRIVATE ? { addressScope: 'private' as const } : {}),
    });
  });
  return entries;
}
