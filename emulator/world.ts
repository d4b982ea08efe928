/**
 * Builds the AWS resources a scenario needs in the emulator: network, cluster, task definition,
 * hosted zone, tasks with their ENIs and public IPs. It talks to moto directly (not through the
 * counting proxy), so setup and assertions never show up in the handler's call counts.
 *
 * Tasks are created the way ECS creates a service's tasks: RunTask with `group: service:<name>` and
 * the service's tags (ECS propagates them to the task, not to its ENI: the ENI stays untagged unless a
 * test tags it, as anyone allowed ec2:CreateTags could), then the ENI gets a public IP (moto gives
 * none: an Elastic IP is associated instead).
 */
import {
  AllocateAddressCommand, AssociateAddressCommand, AssociateVpcCidrBlockCommand, CreateSecurityGroupCommand, CreateSubnetCommand,
  CreateTagsCommand, CreateVpcCommand, DeleteNetworkInterfaceCommand, DescribeVpcsCommand, DisassociateAddressCommand, EC2Client,
  ModifySubnetAttributeCommand, ModifyVpcAttributeCommand,
} from '@aws-sdk/client-ec2';
import { CreateClusterCommand, ECSClient, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand, Task } from '@aws-sdk/client-ecs';
import {
  ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, HealthCheck, ListHealthChecksCommand, ListResourceRecordSetsCommand,
  ListTagsForResourceCommand, ResourceRecordSet, Route53Client,
} from '@aws-sdk/client-route-53';
import { assignIpv6OnCreation, awsTaskArns, motoTaskArns, startedByForService } from './moto-gaps';
import { DiscoveryConfig, RegisteredService, TAG_NAME, TAG_TTL, taskIdFromArn } from '../src/shared/contract';

export const REGION = 'us-east-1';
export const ACCOUNT = '123456789012';

/** SDK clients pointed straight at the emulator (never at the counting proxy). */
export interface DirectClients {
  readonly ec2: EC2Client;
  readonly ecs: ECSClient;
  readonly route53: Route53Client;
}

export function directClients(motoEndpoint: string): DirectClients {
  const common = {
    endpoint: motoEndpoint,
    region: REGION,
    credentials: { accessKeyId: 'harness', secretAccessKey: 'harness' },
    maxAttempts: 1,
  };
  const ecs = new ECSClient(common);
  // Task ids in ECS's form on this side, in moto's on moto's (see awsTaskArns in moto-gaps.ts).
  ecs.middlewareStack.add((next) => async (args) => {
    const result = await next({ ...args, input: mapStrings(args.input, motoTaskArns) });
    return { ...result, output: mapStrings(result.output, awsTaskArns) };
  }, { step: 'initialize', name: 'ecsTaskIdForm' });
  return { ec2: new EC2Client(common), ecs, route53: new Route53Client(common) };
}

/** A copy of a value with every string in it mapped (plain objects and arrays are walked; anything else is kept). */
function mapStrings<T>(value: T, map: (s: string) => string): T {
  if (typeof value === 'string') {
    return map(value) as T;
  }
  if (Array.isArray(value)) {
    return value.map((v) => mapStrings(v, map)) as T;
  }
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, map)])) as T;
  }
  return value;
}

/** A tag as ECS spells it. */
export interface EcsTag {
  readonly key: string;
  readonly value: string;
}

export interface StartTaskOptions {
  /** Tags on the task; default: the tags ECS propagates from the registered service (name, and TTL when set). */
  readonly taskTags?: readonly EcsTag[];
  /**
   * Tags on the ENI: `'none'` (default) leaves it untagged, as ECS does; `'task'` copies the task tags; or
   * explicit tags (what someone allowed ec2:CreateTags could write).
   */
  readonly eniTags?: 'task' | 'none' | readonly EcsTag[];
  /** Whether the ENI gets a public IPv4 address (default true). */
  readonly publicIp?: boolean;
  /**
   * Whether the task runs in the dual-stack subnet (an IPv6 CIDR block, AssignIpv6AddressOnCreation) and so
   * gets an IPv6 address on its ENI (default false: the IPv4-only subnet).
   */
  readonly ipv6?: boolean;
  /** Task group; default `service:<serviceName>`. */
  readonly group?: string;
}

/** A task created in the emulator. */
export interface TaskInfo {
  readonly taskArn: string;
  readonly taskId: string;
  readonly serviceName: string;
  readonly group: string;
  readonly clusterArn: string;
  readonly taskDefinitionArn: string;
  readonly eniId: string;
  readonly macAddress: string;
  readonly privateIp: string;
  readonly subnetId: string;
  readonly availabilityZone: string;
  readonly publicIp?: string;
  readonly associationId?: string;
  /** The ENI's IPv6 address, when the task was started with `ipv6`. */
  readonly ipv6Address?: string;
  readonly tags: readonly EcsTag[];
  readonly createdAt: Date;
  /** The task's health status once {@link World.setHealth} set it (ECS reports UNKNOWN before). */
  readonly healthStatus?: 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';
}

/** Where a task's health status is reported: the proxy, which adds it to DescribeTasks (moto has none). */
export interface HealthReporter {
  setTaskHealth(taskArn: string, healthStatus: string): void;
}

export interface WorldOptions {
  readonly clusterName?: string;
  readonly zoneName?: string;
}

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) {
        return;
      }
      out[i] = await fn(items[i], i);
    }
  });
  await Promise.all(workers);
  return out;
}

function detail(task: Task, name: string): string {
  const att = (task.attachments ?? []).find((a) => a.type === 'ElasticNetworkInterface' || a.type === 'eni');
  const value = att?.details?.find((d) => d.name === name)?.value;
  if (!value) {
    throw new Error(`task ${task.taskArn} has no ${name} in its ENI attachment`);
  }
  return value;
}

/** Route53 limit on ResourceRecord elements per request (an UPSERT counts twice). */
const CHANGE_BATCH_WEIGHT = 1000;

export class World {
  /** Creates the VPC (DNS hostnames on), subnet, security group, cluster, task definition and hosted zone. */
  public static async create(motoEndpoint: string, options: WorldOptions = {}): Promise<World> {
    const clients = directClients(motoEndpoint);
    const clusterName = options.clusterName ?? 'games';
    const zoneName = options.zoneName ?? 'example.com';
    const [network, cluster, taskDef, zone] = await Promise.all([
      (async () => {
        const vpc = await clients.ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }));
        const vpcId = vpc.Vpc!.VpcId!;
        // moto's RunTask (awsvpc) needs DNS hostnames, as a public Fargate subnet would have.
        await clients.ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: true } }));
        const [subnet, sg] = await Promise.all([
          clients.ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.0.0.0/18', AvailabilityZone: `${REGION}a` })),
          clients.ec2.send(new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: 'tasks', Description: 'task ENIs' })),
        ]);
        return { vpcId, subnetId: subnet.Subnet!.SubnetId!, securityGroupId: sg.GroupId! };
      })(),
      clients.ecs.send(new CreateClusterCommand({ clusterName })),
      clients.ecs.send(new RegisterTaskDefinitionCommand({
        family: 'app',
        networkMode: 'awsvpc',
        requiresCompatibilities: ['FARGATE'],
        cpu: '256',
        memory: '512',
        containerDefinitions: [{ name: 'app', image: 'public.ecr.aws/docker/library/nginx:stable', essential: true, cpu: 256, memory: 512 }],
      })),
      clients.route53.send(new CreateHostedZoneCommand({ Name: zoneName, CallerReference: `world-${Date.now()}-${Math.random()}` })),
    ]);
    return new World(clients, {
      ...network,
      clusterName,
      clusterArn: cluster.cluster!.clusterArn!,
      taskDefinitionArn: taskDef.taskDefinition!.taskDefinitionArn!,
      zoneId: zone.HostedZone!.Id!.replace('/hostedzone/', ''),
      zoneName: zoneName.endsWith('.') ? zoneName : `${zoneName}.`,
    });
  }

  public readonly vpcId: string;
  public readonly subnetId: string;
  public readonly securityGroupId: string;
  public readonly clusterName: string;
  public readonly clusterArn: string;
  public readonly taskDefinitionArn: string;
  /** Hosted zone id without the `/hostedzone/` prefix. */
  public readonly zoneId: string;
  /** Zone name with a trailing dot. */
  public readonly zoneName: string;
  private readonly registrations = new Map<string, RegisteredService>();
  private addressCount = 0;
  private ipv6Count = 0;
  private ipv6Subnet?: Promise<{ subnetId: string; prefix: string }>;

  private constructor(public readonly clients: DirectClients, ids: {
    vpcId: string;
    subnetId: string;
    securityGroupId: string;
    clusterName: string;
    clusterArn: string;
    taskDefinitionArn: string;
    zoneId: string;
    zoneName: string;
  }) {
    this.vpcId = ids.vpcId;
    this.subnetId = ids.subnetId;
    this.securityGroupId = ids.securityGroupId;
    this.clusterName = ids.clusterName;
    this.clusterArn = ids.clusterArn;
    this.taskDefinitionArn = ids.taskDefinitionArn;
    this.zoneId = ids.zoneId;
    this.zoneName = ids.zoneName;
  }

  /** Tells the world which services are registered (their tags become the default task tags). */
  public register(config: DiscoveryConfig): void {
    for (const s of config.services) {
      this.registrations.set(s.serviceName, s);
    }
  }

  /** The tags ECS propagates from a registered service to its tasks (none for an unregistered one). */
  public serviceTags(serviceName: string): EcsTag[] {
    const s = this.registrations.get(serviceName);
    if (!s) {
      return [];
    }
    const tags: EcsTag[] = [{ key: TAG_NAME, value: s.name }];
    if (s.ttlTagged) {
      tags.push({ key: TAG_TTL, value: String(s.ttl) });
    }
    return tags;
  }

  /** Starts one task of a service. */
  public async startTask(serviceName: string, options: StartTaskOptions = {}): Promise<TaskInfo> {
    return (await this.startTasks(serviceName, 1, options))[0];
  }

  /** Starts `count` tasks of a service (RunTask by tens, like a service scaling out). */
  public async startTasks(serviceName: string, count: number, options: StartTaskOptions = {}): Promise<TaskInfo[]> {
    const taskTags = options.taskTags ?? this.serviceTags(serviceName);
    const group = options.group ?? `service:${serviceName}`;
    const ipv6Subnet = options.ipv6 ? await this.dualStackSubnet() : undefined;
    const sizes: number[] = [];
    for (let left = count; left > 0; left -= 10) {
      sizes.push(Math.min(10, left));
    }
    const runs = await mapLimit(sizes, 4, async (n) => {
      const res = await this.clients.ecs.send(new RunTaskCommand({
        cluster: this.clusterName,
        taskDefinition: this.taskDefinitionArn,
        count: n,
        group,
        launchType: 'FARGATE',
        startedBy: startedByForService(serviceName),
        tags: taskTags.length > 0 ? taskTags.map((t) => ({ key: t.key, value: t.value })) : undefined,
        networkConfiguration: {
          awsvpcConfiguration: {
            subnets: [ipv6Subnet?.subnetId ?? this.subnetId],
            securityGroups: [this.securityGroupId],
            assignPublicIp: options.publicIp === false ? 'DISABLED' : 'ENABLED',
          },
        },
      }));
      if ((res.failures ?? []).length > 0 || (res.tasks ?? []).length !== n) {
        throw new Error(`RunTask failed: ${JSON.stringify(res.failures)}`);
      }
      const tasks = res.tasks!;
      const eniTags = options.eniTags === undefined || options.eniTags === 'none' ? []
        : options.eniTags === 'task' ? taskTags : options.eniTags;
      if (eniTags.length > 0) {
        await this.clients.ec2.send(new CreateTagsCommand({
          Resources: tasks.map((t) => detail(t, 'networkInterfaceId')),
          Tags: eniTags.map((t) => ({ Key: t.key, Value: t.value })),
        }));
      }
      return tasks;
    });
    const tasks = runs.flat();
    return mapLimit(tasks, 8, async (t) => {
      const eniId = detail(t, 'networkInterfaceId');
      let publicIp: string | undefined;
      let associationId: string | undefined;
      if (options.publicIp !== false) {
        const eip = await this.clients.ec2.send(new AllocateAddressCommand({ Domain: 'vpc', Address: this.nextAddress() }));
        const assoc = await this.clients.ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, NetworkInterfaceId: eniId }));
        publicIp = eip.PublicIp;
        associationId = assoc.AssociationId;
      }
      let ipv6Address: string | undefined;
      if (ipv6Subnet) {
        ipv6Address = `${ipv6Subnet.prefix}${(++this.ipv6Count).toString(16)}`;
        await assignIpv6OnCreation(this.clients.ec2, eniId, ipv6Address);
      }
      return {
        taskArn: t.taskArn!,
        taskId: taskIdFromArn(t.taskArn!),
        serviceName,
        group,
        clusterArn: t.clusterArn ?? this.clusterArn,
        taskDefinitionArn: t.taskDefinitionArn ?? this.taskDefinitionArn,
        eniId,
        macAddress: detail(t, 'macAddress'),
        privateIp: detail(t, 'privateIPv4Address'),
        subnetId: detail(t, 'subnetId'),
        availabilityZone: `${REGION}a`,
        publicIp,
        associationId,
        ...(ipv6Address ? { ipv6Address } : {}),
        tags: taskTags,
        createdAt: new Date(),
      };
    });
  }

  /**
   * The dual-stack subnet, created on first use: the VPC gets an Amazon-provided IPv6 block, the subnet its
   * first /64 and AssignIpv6AddressOnCreation, as a Fargate subnet for IPv6 tasks would have.
   */
  private dualStackSubnet(): Promise<{ subnetId: string; prefix: string }> {
    this.ipv6Subnet ??= (async () => {
      const vpc = (await this.clients.ec2.send(new DescribeVpcsCommand({ VpcIds: [this.vpcId] }))).Vpcs?.[0];
      let block = vpc?.Ipv6CidrBlockAssociationSet?.[0]?.Ipv6CidrBlock;
      if (!block) {
        const assoc = await this.clients.ec2.send(new AssociateVpcCidrBlockCommand({ VpcId: this.vpcId, AmazonProvidedIpv6CidrBlock: true }));
        block = assoc.Ipv6CidrBlockAssociation?.Ipv6CidrBlock;
      }
      if (!block || !block.endsWith('::/56')) {
        throw new Error(`world: the VPC got no /56 IPv6 block (${block})`);
      }
      const cidr = block.replace('::/56', '::/64');
      const subnet = await this.clients.ec2.send(new CreateSubnetCommand({
        VpcId: this.vpcId, CidrBlock: '10.0.64.0/18', Ipv6CidrBlock: cidr, AvailabilityZone: `${REGION}a`,
      }));
      const subnetId = subnet.Subnet!.SubnetId!;
      await this.clients.ec2.send(new ModifySubnetAttributeCommand({ SubnetId: subnetId, AssignIpv6AddressOnCreation: { Value: true } }));
      return { subnetId, prefix: cidr.replace('::/64', '::') };
    })();
    return this.ipv6Subnet;
  }

  /**
   * The next public address to hand out: the documentation ranges (203.0.113.10 and up, then
   * 198.51.100.0/24 and 192.0.2.0/24) read better than moto's own 127.x addresses; past them moto picks.
   */
  private nextAddress(): string | undefined {
    const ranges = ['203.0.113', '198.51.100', '192.0.2'];
    const n = this.addressCount++ + 10;
    const range = Math.floor(n / 250);
    return range < ranges.length ? `${ranges[range]}.${(n % 250) + 1}` : undefined;
  }

  /**
   * Sets a running task's health status, as ECS does when its containers' health checks report, through the
   * proxy (moto 5.2.5's tasks have none, see moto-gaps.ts). Returns the task with its new status, for the
   * event builders (`events.ts`), which put it in `detail.healthStatus`.
   */
  public setHealth(task: TaskInfo, healthStatus: 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN', reporter: HealthReporter): TaskInfo {
    reporter.setTaskHealth(task.taskArn, healthStatus);
    return { ...task, healthStatus };
  }

  /** Releases the task's public IP and deletes its ENI (what ECS does while a task stops). The task keeps running. */
  public async deleteEni(task: TaskInfo): Promise<void> {
    if (task.associationId) {
      await this.clients.ec2.send(new DisassociateAddressCommand({ AssociationId: task.associationId }));
    }
    await this.clients.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: task.eniId }));
  }

  /** Stops a task as ECS does: the ENI (and its public IP) goes away, then the task is STOPPED. */
  public async stopTask(task: TaskInfo, options: { keepEni?: boolean; reason?: string } = {}): Promise<void> {
    if (!options.keepEni) {
      await this.deleteEni(task);
    }
    await this.clients.ecs.send(new StopTaskCommand({ cluster: this.clusterName, task: task.taskArn, reason: options.reason ?? 'Scaling activity initiated by (deployment ecs-svc/test)' }));
  }

  public async stopTasks(tasks: readonly TaskInfo[], options: { keepEni?: boolean; reason?: string } = {}): Promise<void> {
    await mapLimit(tasks, 8, (t) => this.stopTask(t, options));
  }

  /**
   * Creates one more hosted zone (moto accepts several zones of one name, as Route53 does): a private one,
   * associated with the world's VPC, when `private` is set. Returns its id without the `/hostedzone/` prefix.
   */
  public async createZone(zoneName: string, options: { private?: boolean } = {}): Promise<string> {
    const zone = await this.clients.route53.send(new CreateHostedZoneCommand({
      Name: zoneName,
      CallerReference: `world-${Date.now()}-${Math.random()}`,
      ...(options.private ? { VPC: { VPCRegion: REGION, VPCId: this.vpcId }, HostedZoneConfig: { PrivateZone: true } } : {}),
    }));
    return zone.HostedZone!.Id!.replace('/hostedzone/', '');
  }

  /** Every Route53 health check of the account, with its tags. */
  public async healthChecks(): Promise<Array<HealthCheck & { tags: Record<string, string> }>> {
    const list = (await this.clients.route53.send(new ListHealthChecksCommand({}))).HealthChecks ?? [];
    return Promise.all(list.map(async (c) => {
      const res = await this.clients.route53.send(new ListTagsForResourceCommand({ ResourceType: 'healthcheck', ResourceId: c.Id! }));
      return { ...c, tags: Object.fromEntries((res.ResourceTagSet?.Tags ?? []).map((t) => [t.Key!, t.Value!])) };
    }));
  }

  /** Every record set of the zone (the world's own unless another is given), in Route53's order. */
  public async zoneRecords(zoneId: string = this.zoneId): Promise<ResourceRecordSet[]> {
    const out: ResourceRecordSet[] = [];
    let start: { name?: string; type?: string } = {};
    for (let page = 0; page < 1000; page++) {
      const res = await this.clients.route53.send(new ListResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        StartRecordName: start.name,
        StartRecordType: start.type as never,
        MaxItems: 100_000,
      }));
      out.push(...(res.ResourceRecordSets ?? []));
      if (!res.IsTruncated || !res.NextRecordName) {
        return out;
      }
      start = { name: res.NextRecordName, type: res.NextRecordType };
    }
    throw new Error('zoneRecords: the listing did not end');
  }

  /** Writes records in as few requests as Route53 allows (each at most 1000 weighted ResourceRecord elements). */
  public async putRecords(records: readonly ResourceRecordSet[], action: 'CREATE' | 'UPSERT' = 'CREATE', zoneId: string = this.zoneId): Promise<void> {
    const weight = (r: ResourceRecordSet) => Math.max(1, r.ResourceRecords?.length ?? 1) * (action === 'UPSERT' ? 2 : 1);
    const batches: ResourceRecordSet[][] = [];
    let current: ResourceRecordSet[] = [];
    let w = 0;
    for (const r of records) {
      if (w + weight(r) > CHANGE_BATCH_WEIGHT) {
        batches.push(current);
        current = [];
        w = 0;
      }
      current.push(r);
      w += weight(r);
    }
    if (current.length > 0) {
      batches.push(current);
    }
    for (const batch of batches) {
      await this.clients.route53.send(new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: { Changes: batch.map((r) => ({ Action: action, ResourceRecordSet: r })) },
      }));
    }
  }

  /** Deletes records exactly as they are. */
  public async deleteRecords(records: readonly ResourceRecordSet[], zoneId: string = this.zoneId): Promise<void> {
    if (records.length === 0) {
      return;
    }
    await this.clients.route53.send(new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: { Changes: records.map((r) => ({ Action: 'DELETE', ResourceRecordSet: r })) },
    }));
  }

  /** Absolute name in this zone: `web` → `web.example.com.` */
  public fqdn(label: string): string {
    return `${label}.${this.zoneName}`;
  }
}
