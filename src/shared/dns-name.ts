/**
 * The spelling rules of a DNS name, in one place for every side that reads or writes one: the construct
 * (its checks of the names given to `addService`), the contract (its checks of the configuration the
 * handler reads) and the handler (its comparisons of the names Route53 answers with).
 *
 * Like the contract, it must stay free of aws-cdk-lib and AWS SDK imports: it bundles into the handler.
 * Nothing here is part of the jsii public API.
 */

/** Longest DNS label, in characters (RFC 1035). */
export const MAX_LABEL_LENGTH = 63;
/** Longest name in presentation form without the trailing dot (255 octets on the wire). */
export const MAX_NAME_LENGTH = 253;

/** Characters a label of a registered name may hold: letters, digits, `_` and `-`. */
export const LABEL_PATTERN = /^[A-Za-z0-9_-]+$/;

/** Why a label of a registered name is refused, or undefined when it is fine (the checks in this order). */
export type LabelFault = 'empty' | 'wildcard' | 'characters' | 'too-long' | 'hyphen-at-edge';

/**
 * The first rule one label of a registered name breaks: it must not be empty, must not be (or hold) a
 * wildcard, may only hold {@link LABEL_PATTERN}'s characters, at most {@link MAX_LABEL_LENGTH} of them,
 * and may not start or end with a hyphen.
 */
export function labelFault(label: string): LabelFault | undefined {
  if (label === '') {
    return 'empty';
  }
  if (label.includes('*')) {
    return 'wildcard';
  }
  if (!LABEL_PATTERN.test(label)) {
    return 'characters';
  }
  if (label.length > MAX_LABEL_LENGTH) {
    return 'too-long';
  }
  if (label.startsWith('-') || label.endsWith('-')) {
    return 'hyphen-at-edge';
  }
  return undefined;
}

/** The name without its trailing dot, if it has one. */
export function stripDot(name: string): string {
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

/** Lower-cases a DNS name and makes sure it ends with a dot: the form record names are compared in. */
export function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

/** True when the name is already in the form {@link normalizeName} gives: lower case, with a trailing dot. */
export function isNormalizedName(name: string): boolean {
  return name.endsWith('.') && name === name.toLowerCase();
}

/** True when `name` is `fqdn` (normalized) or a name below it. */
export function inSubtree(name: string, fqdn: string): boolean {
  const n = normalizeName(name);
  return n === fqdn || n.endsWith(`.${fqdn}`);
}
