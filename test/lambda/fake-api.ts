/**
 * An in-memory {@link DiscoveryApi}: ECS tasks, EC2 network interfaces and Route53 hosted zones.
 *
 * `changeRecords` applies Route53's change-batch rules, the same ones the emulator proxy applies in front of
 * moto (emulator/route53-rules.ts): a batch is applied atomically (all or nothing), a DELETE must repeat the
 * record's exact current values, a record appears once per batch, a CNAME cannot share a name with other
 * records, simple and multi-value records cannot share a name and type, a name holds at most 100 routed
 * records of one type, and a batch holds at most 1000 records (an UPSERT's counting twice). Violations throw
 * an error named `InvalidChangeBatch` (an empty batch: `InvalidInput`) with Route53's wording.
 */
import { CLUSTER_ARN, taskArn } from './fixtures';
import { applyChangeBatch, fromSdk, SdkRecordSet } from '../../emulator/route53-rules';
import type { DiscoveryApi, EniObservation, HealthCheckSpec, HealthCheckSummary, RecordSet, TaskObservation } from '../../src/lambda/model';
import { RegisteredService, TAG_NAME } from '../../src/shared/contract';
import { inSubtree, normalizeName } from '../../src/shared/dns-name';

export type Method = 'describeTasks' | 'listServiceTasks' | 'describeNetworkInterfaces' | 'listRecordsAt' | 'changeRecords' | 'getParameters' | 'listZoneRecords'
  | 'createHealthCheck' | 'tagHealthCheck' | 'listHealthChecks' | 'listHealthCheckTags' | 'deleteHealthCheck';

/** A Route53 health check of the fake account. */
export interface StoredHealthCheck {
  readonly id: string;
  readonly spec: HealthCheckSpec;
  tags: Record<string, string>;
}

type Change = { readonly action: 'UPSERT' | 'DELETE'; readonly record: RecordSet };

interface StoredTask {
  taskArn: string;
  clusterArn: string;
  group?: string;
  lastStatus: string;
  desiredStatus: string;
  eniId?: string;
  tags: Record<string, string>;
  healthStatus?: string;
}

/** An error shaped like the AWS SDK's service exceptions. */
export function awsError(name: string, message = `${name} (fake)`, status = 400): Error {
  return Object.assign(new Error(message), { name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });
}

export interface AddTaskOptions {
  readonly service?: RegisteredService;
  /** `service:<name>` by default (from `service`); `null` for a standalone task. */
  readonly group?: string | null;
  readonly lastStatus?: string;
  readonly desiredStatus?: string;
  /** Public IP of the ENI; `null` for none. */
  readonly ip?: string | null;
  /** IPv6 address of the ENI; none by default. */
  readonly ipv6?: string;
  /** Private IPv4 address of the ENI; none by default. */
  readonly privateIp?: string;
  /** ENI id; `null` for a task without ENI attachment. */
  readonly eniId?: string | null;
  /** Tags of the task (what ECS propagated from the service); the name tag of `service` by default. ENIs carry none the handler reads. */
  readonly tags?: Record<string, string>;
  /** Create the task without its ENI (already deleted). */
  readonly withoutEni?: boolean;
  readonly clusterArn?: string;
  /** The task's health status as DescribeTasks reports it (HEALTHY, UNHEALTHY, UNKNOWN); absent by default. */
  readonly healthStatus?: string;
}

export class FakeDiscoveryApi implements DiscoveryApi {
  public readonly tasks = new Map<string, StoredTask>();
  public readonly enis = new Map<string, EniObservation>();
  public readonly zones = new Map<string, RecordSet[]>();
  /** SSM parameters by name, for configurations whose registrations live in Parameter Store. */
  public readonly parameters = new Map<string, string>();
  /** Every call, in order, with its arguments. */
  public readonly calls: Array<{ method: Method; args: unknown[] }> = [];
  /** Changes of every successful changeRecords call, per call. */
  public readonly appliedBatches: Array<{ hostedZoneId: string; changes: Change[] }> = [];
  /** A change for which this returns a message makes Route53 refuse the whole batch (`InvalidChangeBatch`). */
  public rejectChange?: (change: Change) => string | undefined;
  /** Runs before a changeRecords call is checked (e.g. to let another writer change the zone first). */
  public beforeChange?: (hostedZoneId: string, changes: readonly Change[]) => void;
  private readonly failures: Array<{ method: Method; error: Error; remaining: number; when?: (args: unknown[]) => boolean }> = [];
  /** The account's health checks by id. */
  public readonly healthChecks = new Map<string, StoredHealthCheck>();
  /** Caller references of deleted health checks: Route53 refuses them again. */
  public readonly deletedReferences = new Set<string>();
  /** Most health checks the account may hold (Route53's quota, 200 by default). */
  public healthCheckQuota = 200;
  private nextHealthCheck = 1;

  /** Route53 CreateHealthCheck: idempotent by caller reference and settings; refuses a deleted reference and past the quota. */
  public async createHealthCheck(spec: HealthCheckSpec): Promise<string> {
    this.enter('createHealthCheck', [{ ...spec }]);
    const existing = [...this.healthChecks.values()].find(c => c.spec.callerReference === spec.callerReference);
    if (existing) {
      if (JSON.stringify(existing.spec) !== JSON.stringify(spec)) {
        throw awsError('HealthCheckAlreadyExists', 'A health check with this caller reference and other settings exists', 409);
      }
      return existing.id;
    }
    if (this.deletedReferences.has(spec.callerReference)) {
      throw awsError('HealthCheckAlreadyExists', 'The caller reference belongs to a deleted health check', 409);
    }
    if (this.healthChecks.size >= this.healthCheckQuota) {
      throw awsError('TooManyHealthChecks', `You have reached the maximum number of active health checks (${this.healthCheckQuota})`);
    }
    const id = `hc-${String(this.nextHealthCheck++).padStart(4, '0')}`;
    this.healthChecks.set(id, { id, spec: { ...spec }, tags: {} });
    return id;
  }

  public async tagHealthCheck(id: string, tags: Readonly<Record<string, string>>): Promise<void> {
    this.enter('tagHealthCheck', [id, { ...tags }]);
    const c = this.healthChecks.get(id);
    if (!c) {
      throw awsError('NoSuchHealthCheck', `No health check exists with the ID ${id}`, 404);
    }
    Object.assign(c.tags, tags);
  }

  public async listHealthChecks(): Promise<HealthCheckSummary[]> {
    this.enter('listHealthChecks', []);
    return [...this.healthChecks.values()].map(c => ({ id: c.id, callerReference: c.spec.callerReference }));
  }

  public async listHealthCheckTags(ids: readonly string[]): Promise<Map<string, Record<string, string>>> {
    this.enter('listHealthCheckTags', [[...ids]]);
    return new Map(ids.filter(id => this.healthChecks.has(id)).map(id => [id, { ...this.healthChecks.get(id)!.tags }] as const));
  }

  public async deleteHealthCheck(id: string): Promise<void> {
    this.enter('deleteHealthCheck', [id]);
    const c = this.healthChecks.get(id);
    if (c) {
      this.healthChecks.delete(id);
      this.deletedReferences.add(c.spec.callerReference);
    }
  }

  /** Makes the next `times` calls of `method` (matching `when`, if given) throw `error`. */
  public fail(method: Method, error: Error, times = 1, when?: (args: unknown[]) => boolean): this {
    this.failures.push({ method, error, remaining: times, when });
    return this;
  }

  /** Makes every call of `method` matching `when` throw `error`. */
  public failAlways(method: Method, error: Error, when?: (args: unknown[]) => boolean): this {
    return this.fail(method, error, Number.POSITIVE_INFINITY, when);
  }

  public count(method?: Method): number {
    return method ? this.calls.filter(c => c.method === method).length : this.calls.length;
  }

  public callsOf(method: Method): unknown[][] {
    return this.calls.filter(c => c.method === method).map(c => c.args);
  }

  /** Adds a task with an ENI (unless told otherwise); returns its ARN. */
  public addTask(id: string, o: AddTaskOptions = {}): string {
    const arn = taskArn(id);
    const tags = o.tags ?? (o.service ? { [TAG_NAME]: o.service.name } : {});
    const eniId = o.eniId === null ? undefined : o.eniId ?? `eni-${id}`;
    const group = o.group === null ? undefined : o.group ?? (o.service ? `service:${o.service.serviceName}` : undefined);
    this.tasks.set(arn, {
      taskArn: arn,
      clusterArn: o.clusterArn ?? CLUSTER_ARN,
      group,
      lastStatus: o.lastStatus ?? 'RUNNING',
      desiredStatus: o.desiredStatus ?? 'RUNNING',
      eniId,
      tags,
      ...(o.healthStatus !== undefined ? { healthStatus: o.healthStatus } : {}),
    });
    if (eniId && !o.withoutEni) {
      this.enis.set(eniId, { eniId, publicIp: o.ip === null ? undefined : o.ip ?? '203.0.113.10', ...(o.ipv6 ? { ipv6Address: o.ipv6 } : {}), ...(o.privateIp ? { privateIp: o.privateIp } : {}) });
    }
    return arn;
  }

  /** Sets a task's health status, as ECS does when its containers' health checks report. */
  public setHealth(id: string, healthStatus: string): void {
    const t = this.tasks.get(taskArn(id));
    if (!t) {
      throw new Error(`no task ${id}`);
    }
    t.healthStatus = healthStatus;
  }

  /** Marks a task stopped and deletes its ENI, as ECS does. */
  public stopTask(id: string): void {
    const t = this.tasks.get(taskArn(id));
    if (!t) {
      throw new Error(`no task ${id}`);
    }
    t.lastStatus = 'STOPPED';
    t.desiredStatus = 'STOPPED';
    if (t.eniId) {
      this.enis.delete(t.eniId);
    }
  }

  /** Puts records into a zone as they are (no checks), e.g. records made by someone else. */
  public put(hostedZoneId: string, ...records: RecordSet[]): void {
    this.zone(hostedZoneId).push(...records.map(clone));
  }

  /** The records of a zone (at one name when given), as copies. */
  public records(hostedZoneId: string, fqdn?: string): RecordSet[] {
    return this.zone(hostedZoneId).filter(r => fqdn === undefined || normalizeName(r.Name) === fqdn).map(clone);
  }

  /** `taskId → ip` of the multi-value A records at a name. */
  public addresses(hostedZoneId: string, fqdn: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const r of this.records(hostedZoneId, fqdn)) {
      if (r.Type === 'A' && r.SetIdentifier && r.MultiValueAnswer) {
        out[r.SetIdentifier] = (r.ResourceRecords ?? []).map(v => v.Value).join(',');
      }
    }
    return out;
  }

  public async describeTasks(clusterArn: string, taskArns: readonly string[]): Promise<Map<string, TaskObservation>> {
    this.enter('describeTasks', [clusterArn, [...taskArns]]);
    const out = new Map<string, TaskObservation>();
    for (const arn of taskArns) {
      const t = this.tasks.get(arn);
      if (t && t.clusterArn === clusterArn) {
        const health = t.healthStatus !== undefined ? { healthStatus: t.healthStatus } : {};
        const { lastStatus, desiredStatus, group, eniId } = t;
        out.set(arn, { taskArn: arn, lastStatus, desiredStatus, group, eniId, ...health, tags: { ...t.tags } });
      }
    }
    return out;
  }

  public async listServiceTasks(clusterArn: string, serviceName: string): Promise<string[]> {
    this.enter('listServiceTasks', [clusterArn, serviceName]);
    return [...this.tasks.values()]
      .filter(t => t.clusterArn === clusterArn && t.group === `service:${serviceName}` && t.desiredStatus === 'RUNNING')
      .map(t => t.taskArn);
  }

  public async describeNetworkInterfaces(eniIds: readonly string[]): Promise<Map<string, EniObservation>> {
    this.enter('describeNetworkInterfaces', [[...eniIds]]);
    const out = new Map<string, EniObservation>();
    for (const id of eniIds) {
      const eni = this.enis.get(id);
      if (eni) {
        out.set(id, { ...eni });
      }
    }
    return out;
  }

  public async getParameters(names: readonly string[]): Promise<Map<string, string>> {
    this.enter('getParameters', [[...names]]);
    return new Map(names.filter(n => this.parameters.has(n)).map(n => [n, this.parameters.get(n)!] as const));
  }

  public async listRecordsAt(hostedZoneId: string, fqdn: string, subtree?: boolean): Promise<RecordSet[]> {
    this.enter('listRecordsAt', subtree ? [hostedZoneId, fqdn, true] : [hostedZoneId, fqdn]);
    return subtree ? this.records(hostedZoneId).filter(r => inSubtree(r.Name, fqdn)) : this.records(hostedZoneId, fqdn);
  }

  /** Lists the zone in pages of 300 records, as Route53 does; undefined when it takes more than `maxPages`. */
  public async listZoneRecords(hostedZoneId: string, maxPages: number): Promise<RecordSet[] | undefined> {
    this.enter('listZoneRecords', [hostedZoneId, maxPages]);
    const all = this.records(hostedZoneId);
    return Math.max(1, Math.ceil(all.length / 300)) > maxPages ? undefined : all;
  }

  public async changeRecords(hostedZoneId: string, changes: readonly Change[]): Promise<void> {
    this.enter('changeRecords', [hostedZoneId, changes.map(c => ({ action: c.action, record: clone(c.record) }))]);
    this.beforeChange?.(hostedZoneId, changes);
    // Route53 refuses a record naming a health check that does not exist (deleted meanwhile).
    const missing = changes.find(c => c.action !== 'DELETE' && typeof c.record.HealthCheckId === 'string' && !this.healthChecks.has(c.record.HealthCheckId));
    if (missing) {
      throw awsError('NoSuchHealthCheck', `No health check exists with the specified ID ${missing.record.HealthCheckId}`, 404);
    }
    const result = applyChangeBatch(this.zone(hostedZoneId), changes, {
      view: r => fromSdk(r as SdkRecordSet),
      veto: this.rejectChange,
    });
    if (result.rejection) {
      const { code, messages } = result.rejection;
      throw awsError(code, code === 'InvalidInput' ? messages.join(' ') : `[${messages.join(', ')}]`);
    }
    const next = result.records.map(clone);
    this.zones.set(hostedZoneId, next);
    this.appliedBatches.push({ hostedZoneId, changes: changes.map(c => ({ action: c.action, record: clone(c.record) })) });
  }

  private enter(method: Method, args: unknown[]): void {
    this.calls.push({ method, args });
    const f = this.failures.find(x => x.method === method && x.remaining > 0 && (!x.when || x.when(args)));
    if (f) {
      f.remaining--;
      throw f.error;
    }
  }

  private zone(id: string): RecordSet[] {
    let z = this.zones.get(id);
    if (!z) {
      z = [];
      this.zones.set(id, z);
    }
    return z;
  }
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v));
}
