/**
 * Thin adapters around the AWS SDK v3 clients: they translate between the SDK's shapes and the
 * planner's (an error that only means "there is none" becomes an empty answer), page, batch to each
 * API's limits, and retry throttling. No decisions are made here.
 */
import { DescribeNetworkInterfacesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeTasksCommand, ECSClient, ListTasksCommand, ListTasksCommandOutput } from '@aws-sdk/client-ecs';
import {
  ChangeResourceRecordSetsCommand, ChangeTagsForResourceCommand, CreateHealthCheckCommand, DeleteHealthCheckCommand, ListHealthChecksCommand,
  ListResourceRecordSetsCommand, ListResourceRecordSetsCommandOutput, ListTagsForResourcesCommand, ResourceRecordSet, Route53Client,
} from '@aws-sdk/client-route-53';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { DiscoveryApi, EniObservation, HealthCheckSpec, HealthCheckSummary, RecordSet, TaskObservation } from './model';
import { eniFromAttachments, tagMap } from './parse';
import { RetryPolicy, withRetry } from './retry';
import { errorName, Logger } from './telemetry';
import { GET_PARAMETERS_LIMIT } from '../shared/contract';
import { inSubtree, normalizeName } from '../shared/dns-name';

/** DescribeTasks takes at most 100 tasks per request. */
export const DESCRIBE_TASKS_LIMIT = 100;
/** EC2 filters take at most 200 values. */
export const ENI_FILTER_LIMIT = 200;
/** ListResourceRecordSets returns at most 300 records per page. */
export const RECORDS_PAGE_SIZE = 300;
/** ListHealthChecks returns at most 1000 health checks per page. */
export const HEALTH_CHECKS_PAGE_SIZE = 1000;
/** ListTagsForResources takes at most 10 resource ids per request. */
export const TAGS_RESOURCES_LIMIT = 10;

/** Splits a list into chunks of at most `size` items. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(items.slice(i, i + size));
  }
  return out;
}

/** Longest wait for a connection to an AWS endpoint. */
export const CONNECTION_TIMEOUT_MS = 2_000;
/** Longest wait for an AWS answer once the request is sent. */
export const REQUEST_TIMEOUT_MS = 5_000;

/** Settings of every client: a call that hangs is abandoned (and retried) instead of running the invocation into its timeout. */
const CLIENT_DEFAULTS = {
  maxAttempts: 1,
  requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
};

/** The SDK clients the adapters use. */
export interface AwsClients {
  readonly ecs: ECSClient;
  readonly ec2: EC2Client;
  readonly route53: Route53Client;
  /**
   * Only constructs with too many registrations for the environment read SSM: the client is loaded on its
   * first use, from a chunk of its own in the bundle (see ssm.ts), so the others never load it.
   */
  ssm?: SSMClient;
}

/**
 * Builds the clients. `maxAttempts: 1` leaves all retrying to {@link withRetry}; endpoints and
 * region come from the standard environment (`AWS_REGION`, `AWS_ENDPOINT_URL`, ...).
 */
export function createClients(): AwsClients {
  const common = CLIENT_DEFAULTS;
  return {
    ecs: new ECSClient(common),
    ec2: new EC2Client(common),
    // Route53 is a global service whose API lives in us-east-1 (aws partition).
    route53: new Route53Client({ ...common, region: process.env.AWS_REGION ?? 'us-east-1' }),
  };
}

/** The production {@link DiscoveryApi} over the SDK clients. */
export class SdkDiscoveryApi implements DiscoveryApi {
  /**
   * @param loadSsm loads the SSM part of the adapters; by default from its own bundle chunk, on first use
   */
  constructor(
    private readonly clients: AwsClients,
    private readonly retry: RetryPolicy,
    private readonly log?: Logger,
    private readonly loadSsm: () => Promise<typeof import('./ssm.js')> = () => import('./ssm.js'),
  ) {}

  public async describeTasks(clusterArn: string, taskArns: readonly string[]): Promise<Map<string, TaskObservation>> {
    const out = new Map<string, TaskObservation>();
    for (const part of chunk([...new Set(taskArns)], DESCRIBE_TASKS_LIMIT)) {
      const res = await withRetry('ecs:DescribeTasks', this.retry,
        () => this.clients.ecs.send(new DescribeTasksCommand({ cluster: clusterArn, tasks: part, include: ['TAGS'] })));
      for (const t of res.tasks ?? []) {
        if (!t.taskArn) {
          continue;
        }
        out.set(t.taskArn, {
          taskArn: t.taskArn,
          lastStatus: t.lastStatus,
          desiredStatus: t.desiredStatus,
          group: t.group,
          eniId: eniFromAttachments(t.attachments),
          ...(t.healthStatus !== undefined ? { healthStatus: t.healthStatus } : {}),
          tags: tagMap(t.tags),
        });
      }
    }
    return out;
  }

  public async listServiceTasks(clusterArn: string, serviceName: string): Promise<string[]> {
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      let res: ListTasksCommandOutput;
      try {
        res = await withRetry('ecs:ListTasks', this.retry,
          () => this.clients.ecs.send(new ListTasksCommand({ cluster: clusterArn, serviceName, desiredStatus: 'RUNNING', nextToken })));
      } catch (err) {
        if (errorName(err) !== 'ServiceNotFoundException') {
          throw err;
        }
        // ECS answers so for a service deleted outside the stack: no task of it runs.
        this.log?.warn('ECS does not know the service (deleted outside the stack?); it is read as a service with no tasks', {
          service: serviceName, clusterArn, error: errorName(err),
        });
        return [];
      }
      arns.push(...(res.taskArns ?? []));
      nextToken = res.nextToken;
    } while (nextToken);
    return arns;
  }

  public async describeNetworkInterfaces(eniIds: readonly string[]): Promise<Map<string, EniObservation>> {
    const out = new Map<string, EniObservation>();
    for (const part of chunk([...new Set(eniIds)], ENI_FILTER_LIMIT)) {
      let nextToken: string | undefined;
      do {
        // A filter (rather than NetworkInterfaceIds) makes a deleted ENI simply absent instead of failing the call.
        const res = await withRetry('ec2:DescribeNetworkInterfaces', this.retry, () => this.clients.ec2.send(new DescribeNetworkInterfacesCommand({
          Filters: [{ Name: 'network-interface-id', Values: part }],
          NextToken: nextToken,
        })));
        for (const ni of res.NetworkInterfaces ?? []) {
          if (!ni.NetworkInterfaceId) {
            continue;
          }
          // Only the addresses are read. The ENI's tags are not: ECS does not copy a task's tags there, and
          // anyone allowed ec2:CreateTags could write them.
          // The first IPv6 address is the one published (an ENI of a task gets one, from its subnet's IPv6 block).
          const ipv6Address = ni.Ipv6Addresses?.find(a => a.Ipv6Address)?.Ipv6Address;
          out.set(ni.NetworkInterfaceId, {
            eniId: ni.NetworkInterfaceId,
            publicIp: ni.Association?.PublicIp || undefined,
            ...(ipv6Address ? { ipv6Address } : {}),
            ...(ni.PrivateIpAddress ? { privateIp: ni.PrivateIpAddress } : {}),
          });
        }
        nextToken = res.NextToken;
      } while (nextToken);
    }
    return out;
  }

  public async listRecordsAt(hostedZoneId: string, fqdn: string, subtree = false): Promise<RecordSet[]> {
    const out: RecordSet[] = [];
    // The names below fqdn follow it in Route53's order (labels reversed, `com.example.mc.` then
    // `com.example.mc.<label>.`), so its subtree is read in the same listing.
    const wanted = (name: string | undefined) => (subtree ? inSubtree(name ?? '', fqdn) : normalizeName(name ?? '') === fqdn);
    let start: RecordsStart | undefined = { name: fqdn };
    while (start) {
      const res = await this.listRecordsPage(hostedZoneId, start);
      // The listing is sorted by name (labels reversed) and starts at fqdn: the first record of
      // another name ends the search, so the rest of the zone is never read.
      let passed = false;
      for (const r of res.ResourceRecordSets ?? []) {
        if (!wanted(r.Name)) {
          passed = true;
          break;
        }
        out.push(r as RecordSet);
      }
      const next = nextRecordsStart(res);
      start = !passed && next && wanted(next.name) ? next : undefined;
    }
    return out;
  }

  public async listZoneRecords(hostedZoneId: string, maxPages: number): Promise<RecordSet[] | undefined> {
    const out: RecordSet[] = [];
    let start: RecordsStart | undefined = {};
    for (let page = 1; start; page++) {
      if (page > maxPages) {
        return undefined;
      }
      const res = await this.listRecordsPage(hostedZoneId, start);
      out.push(...(res.ResourceRecordSets ?? []) as RecordSet[]);
      start = nextRecordsStart(res);
    }
    return out;
  }

  public async changeRecords(hostedZoneId: string, changes: ReadonlyArray<{ readonly action: 'UPSERT' | 'DELETE'; readonly record: RecordSet }>): Promise<void> {
    await withRetry('route53:ChangeResourceRecordSets', this.retry, () => this.clients.route53.send(new ChangeResourceRecordSetsCommand({
      HostedZoneId: hostedZoneId,
      ChangeBatch: {
        Comment: 'cdk-ecs-public-discovery',
        Changes: changes.map(c => ({ Action: c.action, ResourceRecordSet: c.record as ResourceRecordSet })),
      },
    })));
  }

  public async getParameters(names: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const ssmModule = await this.loadSsm();
    const ssm = this.clients.ssm ??= ssmModule.ssmClient({ ...CLIENT_DEFAULTS });
    for (const part of chunk([...new Set(names)], GET_PARAMETERS_LIMIT)) {
      const parameters = await withRetry('ssm:GetParameters', this.retry, () => ssmModule.getParameters(ssm, part));
      for (const p of parameters) {
        if (p.Name !== undefined && p.Value !== undefined) {
          out.set(p.Name, p.Value);
        }
      }
    }
    return out;
  }

  public async createHealthCheck(spec: HealthCheckSpec): Promise<string> {
    const res = await withRetry('route53:CreateHealthCheck', this.retry, () => this.clients.route53.send(new CreateHealthCheckCommand({
      CallerReference: spec.callerReference,
      HealthCheckConfig: {
        Type: spec.type,
        IPAddress: spec.ipAddress,
        Port: spec.port,
        ...(spec.path !== undefined ? { ResourcePath: spec.path } : {}),
        RequestInterval: spec.intervalSeconds,
        FailureThreshold: spec.failureThreshold,
      },
    })));
    const id = res.HealthCheck?.Id;
    if (!id) {
      throw new Error('CreateHealthCheck answered without a health check id');
    }
    return id;
  }

  public async tagHealthCheck(id: string, tags: Readonly<Record<string, string>>): Promise<void> {
    await withRetry('route53:ChangeTagsForResource', this.retry, () => this.clients.route53.send(new ChangeTagsForResourceCommand({
      ResourceType: 'healthcheck',
      ResourceId: id,
      AddTags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    })));
  }

  public async listHealthChecks(): Promise<HealthCheckSummary[]> {
    const out: HealthCheckSummary[] = [];
    let marker: string | undefined;
    do {
      const res = await withRetry('route53:ListHealthChecks', this.retry, () => this.clients.route53.send(new ListHealthChecksCommand({
        Marker: marker, MaxItems: HEALTH_CHECKS_PAGE_SIZE,
      })));
      for (const c of res.HealthChecks ?? []) {
        if (c.Id && c.CallerReference !== undefined) {
          out.push({ id: c.Id, callerReference: c.CallerReference });
        }
      }
      marker = res.IsTruncated ? res.NextMarker : undefined;
    } while (marker);
    return out;
  }

  public async listHealthCheckTags(ids: readonly string[]): Promise<Map<string, Record<string, string>>> {
    const out = new Map<string, Record<string, string>>();
    for (const part of chunk([...new Set(ids)], TAGS_RESOURCES_LIMIT)) {
      const res = await withRetry('route53:ListTagsForResources', this.retry, () => this.clients.route53.send(new ListTagsForResourcesCommand({
        ResourceType: 'healthcheck', ResourceIds: part,
      })));
      for (const set of res.ResourceTagSets ?? []) {
        if (set.ResourceId) {
          out.set(set.ResourceId, Object.fromEntries((set.Tags ?? []).filter(t => t.Key !== undefined).map(t => [t.Key!, t.Value ?? ''])));
        }
      }
    }
    return out;
  }

  public async deleteHealthCheck(id: string): Promise<void> {
    try {
      await withRetry('route53:DeleteHealthCheck', this.retry, () => this.clients.route53.send(new DeleteHealthCheckCommand({ HealthCheckId: id })));
    } catch (err) {
      // Already deleted (by a concurrent invocation, or by hand): what was asked for holds.
      if (errorName(err) !== 'NoSuchHealthCheck') {
        throw err;
      }
    }
  }

  /** One page of ListResourceRecordSets from `from` (the zone's start when `from` is empty). */
  private listRecordsPage(hostedZoneId: string, from: RecordsStart): Promise<ListResourceRecordSetsCommandOutput> {
    return withRetry('route53:ListResourceRecordSets', this.retry, () => this.clients.route53.send(new ListResourceRecordSetsCommand({
      HostedZoneId: hostedZoneId,
      StartRecordName: from.name,
      StartRecordType: from.type as ResourceRecordSet['Type'],
      StartRecordIdentifier: from.identifier,
      MaxItems: RECORDS_PAGE_SIZE,
    })));
  }
}

/** Where a page of ListResourceRecordSets starts. */
interface RecordsStart {
  readonly name?: string;
  readonly type?: string;
  readonly identifier?: string;
}

/** Where the next page of a listing starts, or undefined when the page was the last. */
function nextRecordsStart(res: ListResourceRecordSetsCommandOutput): RecordsStart | undefined {
  return res.IsTruncated && res.NextRecordName
    ? { name: res.NextRecordName, type: res.NextRecordType, identifier: res.NextRecordIdentifier }
    : undefined;
}
