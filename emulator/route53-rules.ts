/**
 * Route53's change-batch rules, written once for both fakes of Route53 in this repository: the in-memory
 * `FakeDiscoveryApi` of the handler's unit tests (test/lambda/fake-api.ts) applies them to its zones, and the
 * emulator proxy (proxy.ts, see moto-gaps.ts) checks every ChangeResourceRecordSets request with them before
 * moto sees it, because moto 5.2.5 is looser than Route53 (it deletes a record by SetIdentifier alone, accepts
 * a DELETE whose values differ from the record's, lets a simple and a multi-value record share a name, and
 * applies a batch change by change instead of atomically).
 *
 * The rules, as Route53 applies them to one request (a change batch):
 * - at least one change (`InvalidInput`); at most 1000 `ResourceRecord` elements and 32,000 characters of
 *   values, an UPSERT's counting twice;
 * - the changes apply in order, all or nothing: one violation refuses the whole batch (`InvalidChangeBatch`,
 *   every violation listed);
 * - a record (name, type, set identifier) appears once per batch, except a DELETE followed by a CREATE of
 *   it (how a record was replaced before UPSERT existed);
 * - a DELETE names a record that exists, with exactly its current values (TTL, values, routing);
 * - a CREATE names a record that does not exist yet;
 * - a CNAME shares its name with no other type, and simple and routed CNAMEs do not mix;
 * - a simple record shares its name and type with no other record; routed records of one name and type all
 *   use the same routing policy (so no multi-value record beside a simple or a weighted one);
 * - at most 100 routed records per name and type (what the handler plans for; the message is the harness's own);
 * - every name lies in the zone (checked where the zone's name is known).
 *
 * The other messages follow Route53's wording where it is known.
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

/** One change of a batch; `record` is an {@link Rrset} or any record shape the caller can view as one. */
export interface Change<T = Rrset> {
  readonly action: ChangeAction;
  readonly record: T;
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
      record: {
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

/** A record set as the SDK lists it, or as the handler's model holds it (`RecordSet`). */
export type SdkRecordSet = Pick<ResourceRecordSet, 'SetIdentifier' | 'MultiValueAnswer' | 'Weight' | 'Region' | 'HealthCheckId' | 'TTL'> & {
  readonly Name?: string;
  readonly Type?: string;
  readonly Failover?: string;
  readonly GeoLocation?: object;
  readonly ResourceRecords?: ReadonlyArray<{ readonly Value?: string }>;
  readonly AliasTarget?: { readonly HostedZoneId?: string; readonly DNSName?: string; readonly EvaluateTargetHealth?: boolean };
};

/** Converts a record as the SDK lists it. */
export function fromSdk(r: SdkRecordSet): Rrset {
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

/** A record's identity in its zone: name, type and set identifier. */
function keyOf(r: Rrset): string {
  return JSON.stringify([normalizeName(r.name), r.type, r.setIdentifier ?? null]);
}

function sameValues(a: Rrset, b: Rrset): boolean {
  const canon = (r: Rrset) => JSON.stringify([
    routing(r), r.weight, r.failover, r.region, r.geo, r.healthCheckId ?? null, r.ttl ?? null,
    [...r.values].sort(), r.alias ?? null,
  ]);
  return canon(a) === canon(b);
}

/** Why Route53 refuses a batch: the error code and its messages. */
export interface BatchRejection {
  readonly code: 'InvalidInput' | 'InvalidChangeBatch';
  readonly messages: string[];
}

export interface BatchOptions<T, C extends Change<T> = Change<T>> {
  /** The zone's name; when given, every record must lie in it. */
  readonly zoneName?: string;
  /** How to read a record of type T as an {@link Rrset} (identity by default). */
  readonly view?: (record: T) => Rrset;
  /** A test's own veto: a message refuses the batch holding the change, as a rule would. */
  readonly veto?: (change: C) => string | undefined;
}

export type BatchResult<T> =
  | { readonly records: T[]; readonly rejection?: undefined }
  | { readonly records?: undefined; readonly rejection: BatchRejection };

/**
 * Applies the changes in order to a copy of `current` (the records of every name the batch touches, or the
 * whole zone) and returns the records after the batch, or Route53's refusal of the whole batch.
 */
export function applyChangeBatch<T, C extends Change<T> = Change<T>>(
  current: readonly T[],
  changes: readonly C[],
  options: BatchOptions<T, C> = {},
): BatchResult<T> {
  const view = options.view ?? ((r: T) => r as unknown as Rrset);
  if (changes.length === 0) {
    return { rejection: { code: 'InvalidInput', messages: ['Invalid request: Expected at least 1 Change'] } };
  }
  let records = 0;
  let chars = 0;
  for (const c of changes) {
    const weight = c.action === 'UPSERT' ? 2 : 1;
    const values = view(c.record).values;
    records += values.length * weight;
    chars += values.reduce((n, v) => n + v.length, 0) * weight;
  }
  if (records > MAX_RECORDS_PER_CHANGE_BATCH) {
    return { rejection: { code: 'InvalidChangeBatch', messages: [`Number of records limit of ${MAX_RECORDS_PER_CHANGE_BATCH} exceeded.`] } };
  }
  if (chars > MAX_VALUE_CHARS_PER_CHANGE_BATCH) {
    return { rejection: { code: 'InvalidChangeBatch', messages: [`Number of characters limit of ${MAX_VALUE_CHARS_PER_CHANGE_BATCH} exceeded.`] } };
  }
  const zone = options.zoneName === undefined ? undefined : normalizeName(options.zoneName);
  const errors: string[] = [];
  let state = current.map((record) => ({ record, rrset: view(record) }));
  const seen = new Map<string, ChangeAction>();
  for (const c of changes) {
    const r = view(c.record);
    const name = normalizeName(r.name);
    const key = keyOf(r);
    const before = seen.get(key);
    seen.set(key, c.action);
    if (before !== undefined && !(before === 'DELETE' && c.action === 'CREATE')) {
      errors.push(`Duplicate Resource Record: ${describe(r)}`);
      continue;
    }
    const vetoed = options.veto?.(c);
    if (vetoed !== undefined) {
      errors.push(vetoed);
      continue;
    }
    if (zone !== undefined && name !== zone && !name.endsWith(`.${zone}`)) {
      errors.push(`RRSet with DNS name ${name} is not permitted in zone ${zone}`);
      continue;
    }
    const existing = state.find((s) => keyOf(s.rrset) === key);
    if (c.action === 'DELETE') {
      if (!existing) {
        errors.push(`Tried to delete resource record set ${describe(r)} but it was not found`);
      } else if (!sameValues(existing.rrset, r)) {
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
    const others = state.map((s) => s.rrset).filter((s) => normalizeName(s.name) === name && s !== existing?.rrset);
    const problem = conflict(others, r, existing !== undefined, zone);
    if (problem) {
      errors.push(problem);
      continue;
    }
    const next = { record: c.record, rrset: r };
    state = existing ? state.map((s) => (s === existing ? next : s)) : [...state, next];
  }
  if (errors.length > 0) {
    return { rejection: { code: 'InvalidChangeBatch', messages: errors } };
  }
  return { records: state.map((s) => s.record) };
}

/** Why `r` cannot be written beside `others` (the other records at its name), if it cannot. */
function conflict(others: readonly Rrset[], r: Rrset, replaces: boolean, zone: string | undefined): string | undefined {
  const name = normalizeName(r.name);
  const inZone = zone === undefined ? 'zone' : `zone ${zone}`;
  if (r.type === 'CNAME' && others.some((s) => s.type !== 'CNAME' || (s.setIdentifier === undefined) !== (r.setIdentifier === undefined))) {
    return `RRSet of type CNAME with DNS name ${name} is not permitted as it conflicts with other records with the same DNS name in ${inZone}`;
  }
  if (r.type !== 'CNAME' && others.some((s) => s.type === 'CNAME')) {
    return `RRSet of type ${r.type} with DNS name ${name} is not permitted because a conflicting RRSet of type CNAME with the same DNS name already exists in ${inZone}`;
  }
  const sameType = others.filter((s) => s.type === r.type);
  if (r.setIdentifier === undefined && sameType.length > 0) {
    return `RRSet with DNS name ${name}, type ${r.type} cannot be created as other RRSets exist with the same name and type.`;
  }
  const mismatch = sameType.find((s) => routing(s) !== routing(r));
  if (mismatch) {
    return routing(r) === 'multivalue'
      ? `RRSet with DNS name ${name}, type ${r.type}, SetIdentifier ${r.setIdentifier} cannot be created because a non multivalue answer rrset exists with the same name and type.`
      : `RRSet with DNS name ${name}, type ${r.type}, SetIdentifier ${r.setIdentifier} cannot be created because a ${routing(mismatch)} rrset exists with the same name and type.`;
  }
  if (r.setIdentifier !== undefined && !replaces && sameType.length >= MAX_ROUTED_RECORDS_PER_NAME_AND_TYPE) {
    return `Tried to create resource record set ${describe(r)} but ${name} already holds ${MAX_ROUTED_RECORDS_PER_NAME_AND_TYPE} `
      + `records of type ${r.type} (limit of routed records per name and type)`;
  }
  return undefined;
}

/** The proxy's check: Route53's refusal of the batch, or undefined when Route53 would accept it. */
export function checkChangeBatch(zoneName: string, current: readonly Rrset[], changes: readonly Change[]): BatchRejection | undefined {
  return applyChangeBatch(current, changes, { zoneName }).rejection;
}
