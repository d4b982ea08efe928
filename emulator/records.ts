/**
 * Record helpers: the unrelated records a scenario's zone is pre-filled with, the ownership rule of
 * docs/design.md ("Ownership") restated independently of the handler, and canonical snapshots
 * for byte-for-byte comparisons.
 */
import type { ResourceRecordSet } from '@aws-sdk/client-route-53';

/** Lower case with a trailing dot, Route53's `\ooo` escapes decoded. */
export function canonicalName(name: string): string {
  const decoded = name.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
  const lower = decoded.toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

/**
 * A registered name: its fqdn alone (A records), or with the record types it publishes (absent: A), and whether
 * it publishes task host names and SRV records.
 */
export type RegisteredName = string | {
  readonly fqdn: string;
  readonly recordTypes?: readonly string[];
  readonly taskNames?: boolean;
  readonly srv?: { readonly fqdn: string };
};

/**
 * Owned = a set identifier, multi-value answer routing, and: a registered name with a type it publishes (A, or
 * AAAA for a dual-stack or IPv6-only registration); or, for a registration with task names, the name
 * `<set identifier>.<registered name>` with such a type, the set identifier a task id (32 hexadecimal
 * characters); or its SRV name with the type SRV, the set identifier a task id too.
 */
export function isOwnedRecord(r: ResourceRecordSet, registered: readonly RegisteredName[]): boolean {
  if (typeof r.SetIdentifier !== 'string' || r.SetIdentifier === '' || r.MultiValueAnswer !== true) {
    return false;
  }
  const name = canonicalName(r.Name ?? '');
  const type = r.Type ?? '';
  return registered.some((n) => {
    const o = typeof n === 'string' ? { fqdn: n } : n;
    const types = o.recordTypes ?? ['A'];
    const taskName = o.taskNames === true && /^[0-9a-f]{32}$/.test(r.SetIdentifier!) && name === `${r.SetIdentifier}.${o.fqdn}`;
    return (types.includes(type) && (name === o.fqdn || taskName))
      || (o.srv !== undefined && type === 'SRV' && name === o.srv.fqdn && /^[0-9a-f]{32}$/.test(r.SetIdentifier!));
  });
}

/** The owned records at one name (of the given types; A by default). */
export function ownedAt(records: readonly ResourceRecordSet[], fqdn: string, recordTypes: readonly string[] = ['A']): ResourceRecordSet[] {
  return records.filter((r) => isOwnedRecord(r, [{ fqdn, recordTypes }]));
}

/** Every record the handler must leave alone. */
export function notOwned(records: readonly ResourceRecordSet[], registered: readonly RegisteredName[]): ResourceRecordSet[] {
  return records.filter((r) => !isOwnedRecord(r, registered));
}

/** A stable text form of a record list (keys sorted, records sorted) for exact comparisons. */
export function snapshot(records: readonly ResourceRecordSet[]): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) {
      return v.map(sortKeys);
    }
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
    }
    return v;
  };
  return records.map((r) => JSON.stringify(sortKeys(r))).sort().join('\n');
}

/** An owned record as the handler should write it, for exact expectations. */
export interface Published {
  readonly name: string;
  readonly setIdentifier: string;
  readonly address: string;
  readonly ttl: number;
}

/** The owned records at a name (of one type; A by default) as `Published` rows, sorted by set identifier. */
export function published(records: readonly ResourceRecordSet[], fqdn: string, type = 'A'): Published[] {
  return ownedAt(records, fqdn, [type]).map((r) => ({
    name: canonicalName(r.Name ?? ''),
    setIdentifier: r.SetIdentifier ?? '',
    address: (r.ResourceRecords ?? []).map((v) => v.Value).join(','),
    ttl: r.TTL ?? -1,
  })).sort((a, b) => a.setIdentifier.localeCompare(b.setIdentifier));
}

/** Expected rows for tasks, sorted like {@link published}. */
export function expectedRows(tasks: ReadonlyArray<{ taskId: string; publicIp?: string }>, fqdn: string, ttl: number): Published[] {
  return tasks.map((t) => ({ name: fqdn, setIdentifier: t.taskId, address: t.publicIp ?? '<none>', ttl }))
    .sort((a, b) => a.setIdentifier.localeCompare(b.setIdentifier));
}

const a = (name: string, value: string, ttl = 300): ResourceRecordSet => ({ Name: name, Type: 'A', TTL: ttl, ResourceRecords: [{ Value: value }] });

/**
 * Records that belong to someone else, placed around the registered names (a sub-name, names that
 * sort right before and after, other routing policies, other types) so that a handler that strays
 * from its own records is caught. None sits at a registered name itself.
 */
export function neighbourRecords(zoneName: string): ResourceRecordSet[] {
  const z = zoneName.endsWith('.') ? zoneName : `${zoneName}.`;
  return [
    a(`www.${z}`, '192.0.2.10'),
    a(`web-old.${z}`, '192.0.2.11', 60),
    a(`webx.${z}`, '192.0.2.12'),
    { Name: `a.web.${z}`, Type: 'A', SetIdentifier: 'neighbour-1', MultiValueAnswer: true, TTL: 60, ResourceRecords: [{ Value: '198.51.100.1' }] },
    { Name: `a.web.${z}`, Type: 'A', SetIdentifier: 'neighbour-2', MultiValueAnswer: true, TTL: 60, ResourceRecords: [{ Value: '198.51.100.2' }] },
    { Name: `_acme-challenge.web.${z}`, Type: 'TXT', TTL: 60, ResourceRecords: [{ Value: '"token-123"' }] },
    { Name: `legacy.${z}`, Type: 'A', SetIdentifier: 'legacy-1', MultiValueAnswer: true, TTL: 30, ResourceRecords: [{ Value: '198.51.100.21' }] },
    { Name: `legacy.${z}`, Type: 'A', SetIdentifier: 'legacy-2', MultiValueAnswer: true, TTL: 30, ResourceRecords: [{ Value: '198.51.100.22' }] },
    { Name: `blue.${z}`, Type: 'A', SetIdentifier: 'blue', Weight: 90, TTL: 60, ResourceRecords: [{ Value: '203.0.113.1' }] },
    { Name: `blue.${z}`, Type: 'A', SetIdentifier: 'green', Weight: 10, TTL: 60, ResourceRecords: [{ Value: '203.0.113.2' }] },
    { Name: `apix.${z}`, Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: `www.${z}` }] },
    { Name: `mail.${z}`, Type: 'MX', TTL: 300, ResourceRecords: [{ Value: `10 mx.${z}` }] },
    { Name: `play6.${z}`, Type: 'AAAA', TTL: 300, ResourceRecords: [{ Value: '2001:db8::1' }] },
    { Name: `x.play.${z}`, Type: 'A', SetIdentifier: 'x', MultiValueAnswer: true, TTL: 60, ResourceRecords: [{ Value: '198.51.100.31' }] },
    a(`zz.${z}`, '192.0.2.99'),
  ];
}

/** `count` unrelated simple A records (`host-00001.<zone>` ...), for the large-zone scenario. */
export function bulkRecords(zoneName: string, count: number, prefix = 'host'): ResourceRecordSet[] {
  const z = zoneName.endsWith('.') ? zoneName : `${zoneName}.`;
  return Array.from({ length: count }, (_v, i) => a(`${prefix}-${String(i).padStart(5, '0')}.${z}`, `10.${Math.floor(i / 65536) % 256}.${Math.floor(i / 256) % 256}.${i % 256}`));
}
