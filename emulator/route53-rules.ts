/**
 * Route53's change-batch rules, applied by the proxy before a ChangeResourceRecordSets call reaches
 * moto. moto 5.2.5 is looser than Route53: it deletes a record by SetIdentifier alone (any name),
 * accepts a DELETE whose values differ from the record's, lets a simple and a multi-value record
 * share a name, and applies a batch change by change (not atomically). Simulating the batch here,
 * in order, against the records the zone holds and refusing it as a whole on the first violation
 * makes every batch the handler sends pass (or fail) as it would in Route53.
 *
 * The messages follow Route53's wording where it is known; the per-name limit message is the
 * harness's own.
 */
import type { ResourceRecordSet } from '@aws-sdk/client-route-53';
import { XMLParser } from 'fast-xml-parser';

/** Route53 answers for (and this harness allows) at most this many routed records per name and type. */
export const MAX_ROUTED_RECORDS_PER_NAME_AND_TYPE = 100;
/** ResourceRecord elements per request (an UPSERT's count twice). */
export const MAX_RECORDS_PER_CHANGE_BATCH = 1000;
/** Characters of all Value elements per request (an UPSERT's count twice). */
export const MAX_VALUE_CHARS_PER_CHANGE_BATCH = 32000;

export interface Rrset {
  readonly name: string;
  readonly type: string;
  readonly setIdentifier?: string;
  readonly multiValueAnswer?: boolean;
  readonly weight?: number;
  readonly failover?: string;
  readonly region?: string;
  readonly geo?: string;
  readonly healthCheckId?: string;
  readonly ttl?: number;
  readonly values: string[];
  readonly alias?: string;
}

export type ChangeAction = 'CREATE' | 'UPSERT' | 'DELETE';

export interface Change {
  readonly action: ChangeAction;
  readonly rrset: Rrset;
}

/** Lower case, trailing dot, Route53's `\ooo` octal escapes decoded. */
export function normalizeName(name: string): string {
  const decoded = name.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
  const lower = decoded.toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

/** Route53's REST-XML as the SDK writes it: every value kept as text, lists always arrays. */
const requestParser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: true,
  isArray: (name) => name === 'Change' || name === 'ResourceRecord',
});

type XmlNode = Record<string, unknown>;

/** Reads the changes of a ChangeResourceRecordSets request body. */
export function parseChangeBatch(body: string): Change[] {
  const doc = requestParser.parse(body, true) as XmlNode;
  const request = doc.ChangeResourceRecordSetsRequest as XmlNode | undefined;
  const batch = request?.ChangeBatch as XmlNode | undefined;
  if (!batch) {
    throw new Error('no ChangeResourceRecordSetsRequest/ChangeBatch element');
  }
  const changes = ((batch.Changes as XmlNode | undefined)?.Change ?? []) as XmlNode[];
  return changes.map((c) => {
    const rr = (c.ResourceRecordSet ?? {}) as Record<string, string | undefined> & XmlNode;
    const num = (s: unknown) => (s === undefined ? undefined : Number(s));
    const text = (s: unknown) => (s === undefined ? undefined : String(s));
    const values = ((rr.ResourceRecords as XmlNode | undefined)?.ResourceRecord ?? []) as XmlNode[];
    const geo = rr.GeoLocation as XmlNode | undefined;
    const alias = rr.AliasTarget as XmlNode | undefined;
    return {
      action: String(c.Action ?? '') as ChangeAction,
      rrset: {
        name: text(rr.Name) ?? '',
        type: text(rr.Type) ?? '',
        setIdentifier: text(rr.SetIdentifier),
        multiValueAnswer: rr.MultiValueAnswer === undefined ? undefined : rr.MultiValueAnswer === 'true',
        weight: num(rr.Weight),
        failover: text(rr.Failover),
        region: text(rr.Region),
        geo: geo ? JSON.stringify(Object.entries(geo)) : undefined,
        healthCheckId: text(rr.HealthCheckId),
        ttl: num(rr.TTL),
        values: values.map((r) => text(r.Value) ?? ''),
        alias: alias ? `${alias.HostedZoneId}|${alias.DNSName}|${alias.EvaluateTargetHealth}` : undefined,
      },
    };
  });
}

/** Converts a record as the SDK lists it. */
export function fromSdk(r: ResourceRecordSet): Rrset {
  return {
    name: r.Name ?? '',
    type: r.Type ?? '',
    setIdentifier: r.SetIdentifier,
    multiValueAnswer: r.MultiValueAnswer,
    weight: r.Weight,
    failover: r.Failover,
    region: r.Region,
    geo: r.GeoLocation ? JSON.stringify(Object.entries(r.GeoLocation)) : undefined,
    healthCheckId: r.HealthCheckId,
    ttl: r.TTL,
    values: (r.ResourceRecords ?? []).map((v) => v.Value ?? ''),
    alias: r.AliasTarget ? `${r.AliasTarget.HostedZoneId}|${r.AliasTarget.DNSName}|${r.AliasTarget.EvaluateTargetHealth}` : undefined,
  };
}

function routing(r: Rrset): string {
  if (r.setIdentifier === undefined) {
    return 'simple';
  }
  if (r.multiValueAnswer) {
    return 'multivalue';
  }
  if (r.weight !== undefined) {
    return 'weighted';
  }
  if (r.failover !== undefined) {
    return 'failover';
  }
  if (r.region !== undefined) {
    return 'latency';
  }
  if (r.geo !== undefined) {
    return 'geolocation';
  }
  return 'unknown';
}

function describe(r: Rrset): string {
  const id = r.setIdentifier === undefined ? '' : `, set-identifier='${r.setIdentifier}'`;
  return `[name='${normalizeName(r.name)}', type='${r.type}'${id}]`;
}

function sameKey(a: Rrset, b: Rrset): boolean {
  return normalizeName(a.name) === normalizeName(b.name) && a.type === b.type && a.setIdentifier === b.setIdentifier;
}

function sameValues(a: Rrset, b: Rrset): boolean {
  const canon = (r: Rrset) => JSON.stringify([
    routing(r), r.weight, r.failover, r.region, r.geo, r.healthCheckId ?? null, r.ttl ?? null,
    [...r.values].sort(), r.alias ?? null,
  ]);
  return canon(a) === canon(b);
}

/**
 * Applies the changes in order to a copy of `current` (the records of every name the batch touches)
 * and returns Route53's complaints; an empty list means Route53 would accept the batch.
 */
export function checkChangeBatch(zoneName: string, current: readonly Rrset[], changes: readonly Change[]): string[] {
  const errors: string[] = [];
  if (changes.length === 0) {
    return ['ChangeBatch.Changes must hold at least one change'];
  }
  let records = 0;
  let chars = 0;
  for (const c of changes) {
    const weight = c.action === 'UPSERT' ? 2 : 1;
    records += c.rrset.values.length * weight;
    chars += c.rrset.values.reduce((n, v) => n + v.length, 0) * weight;
  }
  if (records > MAX_RECORDS_PER_CHANGE_BATCH) {
    return [`Number of records limit of ${MAX_RECORDS_PER_CHANGE_BATCH} exceeded.`];
  }
  if (chars > MAX_VALUE_CHARS_PER_CHANGE_BATCH) {
    return [`Number of characters limit of ${MAX_VALUE_CHARS_PER_CHANGE_BATCH} exceeded.`];
  }
  const zone = normalizeName(zoneName);
  let state = [...current];
  for (const c of changes) {
    const r = c.rrset;
    const name = normalizeName(r.name);
    if (name !== zone && !name.endsWith(`.${zone}`)) {
      errors.push(`RRSet with DNS name ${name} is not permitted in zone ${zone}`);
      continue;
    }
    const existing = state.find((s) => sameKey(s, r));
    if (c.action === 'DELETE') {
      if (!existing) {
        errors.push(`Tried to delete resource record set ${describe(r)} but it was not found`);
      } else if (!sameValues(existing, r)) {
        errors.push(`Tried to delete resource record set ${describe(r)} but the values provided do not match the current values`);
      } else {
        state = state.filter((s) => s !== existing);
      }
      continue;
    }
    if (c.action !== 'CREATE' && c.action !== 'UPSERT') {
      errors.push(`Invalid action ${JSON.stringify(c.action)}`);
      continue;
    }
    if (c.action === 'CREATE' && existing) {
      errors.push(`Tried to create resource record set ${describe(r)} but it already exists`);
      continue;
    }
    const others = state.filter((s) => normalizeName(s.name) === name && s !== existing);
    if (r.type === 'CNAME' && others.some((s) => s.type !== 'CNAME' || (s.setIdentifier === undefined) !== (r.setIdentifier === undefined))) {
      errors.push(`RRSet of type CNAME with DNS name ${name} is not permitted as it conflicts with other records with the same DNS name in zone ${zone}`);
      continue;
    }
    if (r.type !== 'CNAME' && others.some((s) => s.type === 'CNAME')) {
      errors.push(`RRSet of type ${r.type} with DNS name ${name} is not permitted because a conflicting RRSet of type CNAME with the same DNS name already exists in zone ${zone}`);
      continue;
    }
    const sameType = others.filter((s) => s.type === r.type);
    if (r.setIdentifier === undefined && sameType.length > 0) {
      errors.push(`RRSet with DNS name ${name}, type ${r.type} cannot be created as other RRSets exist with the same name and type.`);
      continue;
    }
    const mismatch = sameType.find((s) => routing(s) !== routing(r));
    if (mismatch) {
      errors.push(routing(r) === 'multivalue'
        ? `RRSet with DNS name ${name}, type ${r.type}, SetIdentifier ${r.setIdentifier} cannot be created because a non multivalue answer rrset exists with the same name and type.`
        : `RRSet with DNS name ${name}, type ${r.type}, SetIdentifier ${r.setIdentifier} cannot be created because a ${routing(mismatch)} rrset exists with the same name and type.`);
      continue;
    }
    if (r.setIdentifier !== undefined && !existing && sameType.length >= MAX_ROUTED_RECORDS_PER_NAME_AND_TYPE) {
      errors.push(`Tried to create resource record set ${describe(r)} but ${name} already holds ${MAX_ROUTED_RECORDS_PER_NAME_AND_TYPE} `
        + `records of type ${r.type} (limit of routed records per name and type)`);
      continue;
    }
    state = existing ? state.map((s) => (s === existing ? r : s)) : [...state, r];
  }
  return errors;
}
