/**
 * Pure validation helpers of the EcsPublicDiscovery construct.
 *
 * Nothing here creates constructs, so every rule can be exercised from a table in the tests.
 * Every function throws an `Error` whose message names the offending value and says how to fix
 * it, and returns unresolved tokens untouched: a value only known at deploy time cannot be
 * checked at synth time. The exception is the hosted zone's name ({@link zoneNameOf}), which the
 * record names and the IAM conditions need at synthesis. This module is internal: it is not
 * exported from the package index.
 */
import { Duration, Token, aws_route53 as route53 } from 'aws-cdk-lib';
import { MAX_TTL_SECONDS } from '../shared/contract';
import { LABEL_PATTERN, labelFault, MAX_LABEL_LENGTH, MAX_NAME_LENGTH, stripDot } from '../shared/dns-name';

// The spelling rules of a DNS name are shared with the handler and the contract (src/shared/dns-name.ts).
export { MAX_LABEL_LENGTH, MAX_NAME_LENGTH };

/**
 * Turns the name given to `addService` into the record name the handler writes: lower case with a
 * trailing dot.
 *
 * - A relative name (no trailing dot) lives under the zone: `mc` in `example.com` is `mc.example.com.`,
 *   and `eu.mc` is `eu.mc.example.com.`.
 * - An absolute name (trailing dot) must be the zone apex or a name inside the zone.
 *
 * Labels may hold letters, digits, `_` and `-`; no wildcard, no empty label.
 *
 * @param name the name as given to `addService`
 * @param zoneName the hosted zone's name, with or without a trailing dot; may be a token
 * @returns the fully qualified record name; when `name` is a token it is returned as `<name>.<zone>.`
 *          without any check, and when only `zoneName` is a token the zone-relative checks are skipped
 */
export function recordNameFor(name: string, zoneName: string): string {
  if (Token.isUnresolved(name)) {
    return `${name}.${Token.isUnresolved(zoneName) ? zoneName : stripDot(zoneName.toLowerCase())}.`;
  }
  if (name === '') {
    throw new Error('The DNS name of a service must not be empty: give a name relative to the hosted zone (e.g. \'mc\') or an absolute name ending with \'.\' (e.g. \'mc.example.com.\').');
  }

  const absolute = name.endsWith('.');
  const body = absolute ? name.slice(0, -1) : name;
  checkLabels(name, body);

  let fqdn: string;
  if (Token.isUnresolved(zoneName)) {
    // The zone is only known at deploy time: the name cannot be placed inside it here.
    return absolute ? name.toLowerCase() : `${body.toLowerCase()}.${zoneName}.`;
  }
  const zone = stripDot(zoneName.toLowerCase());
  if (absolute) {
    fqdn = body.toLowerCase();
    if (fqdn !== zone && !fqdn.endsWith(`.${zone}`)) {
      throw new Error(`The DNS name '${name}' is absolute (it ends with '.') but is not inside the hosted zone '${zone}': `
        + `use a name relative to the zone (e.g. '${body.split('.')[0]}', which means '${body.split('.')[0]}.${zone}.') `
        + `or an absolute name ending with '.${zone}.'.`);
    }
  } else {
    fqdn = `${body.toLowerCase()}.${zone}`;
  }

  if (fqdn.length > MAX_NAME_LENGTH) {
    throw new Error(`The DNS name '${name}' makes the record name '${fqdn}.' ${fqdn.length} characters long; `
      + `DNS allows at most ${MAX_NAME_LENGTH} (255 octets on the wire): use a shorter name.`);
  }
  return `${fqdn}.`;
}

/** The hosted zone's name, lower case without a trailing dot; fails clearly when it is not known at synthesis. */
export function zoneNameOf(zone: route53.IHostedZone): string {
  let name: string;
  try {
    name = zone.zoneName;
  } catch (e) {
    throw new Error(`The hosted zone '${zone.node.path}' does not expose its name (${(e as Error).message}): EcsPublicDiscovery `
      + 'needs it to build the record names; import the zone with HostedZone.fromHostedZoneAttributes({ hostedZoneId, zoneName }) '
      + 'or HostedZone.fromLookup() instead of HostedZone.fromHostedZoneId().');
  }
  if (Token.isUnresolved(name)) {
    throw new Error(`The name of the hosted zone '${zone.node.path}' is only known at deploy time (a parameter, an import or a reference), `
      + 'but EcsPublicDiscovery writes the record names into IAM conditions that compare them exactly, lower case and without '
      + 'a trailing dot, which CloudFormation cannot normalize: give the zone name as a literal, e.g. '
      + 'HostedZone.fromHostedZoneAttributes(this, \'Zone\', { hostedZoneId, zoneName: \'example.com\' }).');
  }
  return stripDot(name.toLowerCase());
}

/**
 * The record name in the form Route53 uses for the
 * `route53:ChangeResourceRecordSetsNormalizedRecordNames` condition key: lower case, without the
 * trailing dot. Tokens are returned untouched.
 */
export function normalizedRecordName(fqdn: string): string {
  if (Token.isUnresolved(fqdn)) {
    // A trailing '.' we appended after a token can still be removed safely.
    return fqdn.endsWith('.') ? fqdn.slice(0, -1) : fqdn;
  }
  return stripDot(fqdn.toLowerCase());
}

/**
 * Converts a `dnsTtl` into whole seconds within what Route53 accepts (0..2147483647).
 *
 * @returns the TTL in seconds, or the token when the duration is not known at synth time
 */
export function ttlSeconds(ttl: Duration): number {
  const seconds = convert('dnsTtl', ttl, 'seconds', 'DNS TTLs are counted in whole seconds, give e.g. Duration.seconds(30).');
  if (Token.isUnresolved(seconds)) {
    return seconds;
  }
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_TTL_SECONDS) {
    throw new Error(`dnsTtl ${ttl.toHumanString()} is ${seconds} seconds, outside the range Route53 accepts `
      + `(0..${MAX_TTL_SECONDS} seconds): give a TTL within it, typically Duration.seconds(60) or less so that `
      + 'clients follow task changes quickly.');
  }
  return seconds;
}

/**
 * Checks that a numeric property is a whole number in `min..max`. Tokens and `undefined` pass.
 *
 * @param property the property name, as the user wrote it
 * @param value the value to check
 * @param min smallest accepted value
 * @param max largest accepted value
 * @param hint what the value means or what to choose, appended to the message
 */
export function checkWholeNumber(property: string, value: number | undefined, min: number, max: number, hint: string): void {
  if (value === undefined || Token.isUnresolved(value)) {
    return;
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${property} is ${value}, but it must be a whole number from ${min} to ${max}: ${hint}`);
  }
}

/**
 * Converts a duration property into whole seconds within `minSeconds..maxSeconds`.
 *
 * @returns the number of seconds, or the token when the duration is not known at synth time
 */
export function wholeSeconds(property: string, value: Duration, minSeconds: number, maxSeconds: number, hint: string): number {
  const seconds = convert(property, value, 'seconds', hint);
  if (Token.isUnresolved(seconds)) {
    return seconds;
  }
  if (seconds < minSeconds || seconds > maxSeconds) {
    throw new Error(`${property} is ${value.toHumanString()}, but it must be from ${minSeconds} to ${maxSeconds} seconds: ${hint}`);
  }
  return seconds;
}

/**
 * Converts a duration property into whole minutes, at least `minMinutes`.
 *
 * @returns the number of minutes, or the token when the duration is not known at synth time
 */
export function wholeMinutes(property: string, value: Duration, minMinutes: number, hint: string): number {
  const minutes = convert(property, value, 'minutes', hint);
  if (Token.isUnresolved(minutes)) {
    return minutes;
  }
  if (minutes < minMinutes) {
    throw new Error(`${property} is ${value.toHumanString()}, but it must be at least ${minMinutes} minute(s): ${hint}`);
  }
  return minutes;
}

/** A duration in whole seconds or minutes, with an error naming the property when it cannot be converted. */
function convert(property: string, value: Duration, unit: 'seconds' | 'minutes', hint: string): number {
  try {
    return unit === 'seconds' ? value.toSeconds() : value.toMinutes();
  } catch (e) {
    if (value.isUnresolved()) {
      throw new Error(`${property} comes from a token in another unit, so it cannot be converted into ${unit} at synth time `
        + `(${(e as Error).message}): give it as Duration.${unit}(<token>).`);
    }
    throw new Error(`${property} ${value.toHumanString()} is not a whole number of ${unit} (${(e as Error).message}): ${hint}`);
  }
}

/** Refuses the first label that breaks the shared spelling rules ({@link labelFault}), saying how to fix it. */
function checkLabels(name: string, body: string): void {
  for (const label of body.split('.')) {
    switch (labelFault(label)) {
      case 'empty':
        throw new Error(`The DNS name '${name}' contains an empty label (a leading dot, two dots in a row, or only a dot): `
          + 'separate non-empty labels with single dots, e.g. \'eu.mc\'.');
      case 'wildcard':
        throw new Error(`The DNS name '${name}' contains a wildcard '*': records are published per name, `
          + 'wildcards are not supported; give the exact name clients resolve, e.g. \'mc\'.');
      case 'characters': {
        const bad = [...label].filter(c => !LABEL_PATTERN.test(c));
        throw new Error(`The DNS name '${name}' has the label '${label}' with character(s) ${bad.map(c => JSON.stringify(c)).join(', ')} `
          + 'that are not allowed: use only letters, digits, \'_\' and \'-\' in each label.');
      }
      case 'too-long':
        throw new Error(`The DNS name '${name}' has a label of ${label.length} characters ('${label.slice(0, 20)}...'); `
          + `DNS allows at most ${MAX_LABEL_LENGTH} per label: shorten it or split it with dots.`);
      case 'hyphen-at-edge':
        throw new Error(`The DNS name '${name}' has the label '${label}' that starts or ends with '-': `
          + 'a hyphen is only allowed inside a label, e.g. \'my-game\'.');
      default:
        break;
    }
  }
}
