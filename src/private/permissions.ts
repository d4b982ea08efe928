/**
 * The discovery function's permissions: functions over its role, each statement scoped as tightly as the
 * service allows, with the reason for every wildcard next to it.
 *
 * Route53 writes live in customer managed policies of their own (see {@link RecordWritePolicies}); all
 * other statements are in the role's default (inline) policy.
 */
import { createHash } from 'crypto';
import { Arn, ArnFormat, CfnResource, Lazy, Stack, Token, aws_ecs as ecs, aws_iam as iam, aws_logs as logs, aws_route53 as route53 } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AWS_LIMITS, resolvedJsonLength } from './limits';
import { acknowledgeNagFindings } from './nag';
import { sameZone, zoneIdentity } from './zones';
import { DEFAULT_RECORD_TYPES, RECORD_TYPES, RecordType } from '../shared/contract';

/** The record types a write policy may allow, in the order it lists them: the address types, then SRV. */
const WRITE_TYPES: readonly string[] = [...RECORD_TYPES, 'SRV'];

/** What a registration writes besides its own name: its task-name pattern and SRV name, and whether it writes SRV. */
export interface ExtraWrites {
  readonly names: readonly string[];
  readonly srv: boolean;
}

/** What the read permissions cover. */
export interface ReadPermissions {
  readonly cluster: ecs.ICluster;
  readonly logGroup: logs.ILogGroup;
  readonly hostedZone: route53.IHostedZone;
}

/** Grants the logs, ECS, EC2 and Route53 read permissions and acknowledges their cdk-nag findings. */
export function grantReads(role: iam.Role, props: ReadPermissions): void {
  const clusterCondition = { ArnEquals: { 'ecs:cluster': props.cluster.clusterArn } };
  const tasksArn = clusterTasksArn(role, props.cluster);

  // Writing to the function's own log group only (its ARN covers the group's log streams). The
  // role has no managed policy, so AWSLambdaBasicExecutionRole's logs:* on every group is not granted.
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    sid: 'WriteOwnLogs',
    actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    resources: [props.logGroup.logGroupArn],
  }));

  // ec2:DescribeNetworkInterfaces supports no resource-level permissions (its only resource is "*"),
  // so it cannot be narrowed to the tasks' ENIs. It only reads network interface descriptions.
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    sid: 'ReadTaskNetworkInterfaces',
    actions: ['ec2:DescribeNetworkInterfaces'],
    resources: ['*'],
  }));

  // ecs:DescribeTasks on the tasks of this cluster only: the task ARN embeds the cluster name and
  // the task id, which is random, hence the "/*". The ecs:cluster condition pins the cluster ARN.
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    sid: 'DescribeClusterTasks',
    actions: ['ecs:DescribeTasks'],
    resources: [tasksArn],
    conditions: clusterCondition,
  }));

  // ecs:ListTasks is documented with the container-instance resource type, but that only applies
  // when a container instance is named in the request. Listing a service's tasks across the cluster
  // (what the reconciler does, and the only thing possible on Fargate) is authorized against "*",
  // so a container-instance ARN would deny it. The ecs:cluster condition confines it to this cluster.
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    sid: 'ListClusterTasks',
    actions: ['ecs:ListTasks'],
    resources: ['*'],
    conditions: clusterCondition,
  }));

  // Reading the zone's records is granted with the writes, in the record-write policies (see RecordWritePolicies).

  const policy = role.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
  if (policy) {
    acknowledgeNagFindings(policy.node.defaultChild as CfnResource, [{
      id: 'AwsSolutions-IAM5',
      reason: 'Resource "*" is required by actions without resource-level permissions: ec2:DescribeNetworkInterfaces '
        + '(reads the public IP of a task ENI), ecs:ListTasks across a cluster (confined to this cluster by an ecs:cluster '
        + 'condition) and, when tracing is enabled, xray:PutTraceSegments/PutTelemetryRecords.',
      appliesTo: ['Resource::*'],
    }, {
      id: 'AwsSolutions-IAM5',
      reason: 'ecs:DescribeTasks is limited to the tasks of the watched cluster (task/<cluster>/<task id>); task ids are '
        + 'random, so they can only be matched with a wildcard, and an ecs:cluster condition pins the cluster ARN.',
      appliesTo: [`Resource::${tasksArn}`],
    }]);
  }
}

/**
 * Grants reading the SSM parameters that hold the registrations; the caller adds each parameter's exact
 * ARN to the returned statement.
 */
export function grantParameterReads(role: iam.Role): iam.PolicyStatement {
  const statement = new iam.PolicyStatement({ sid: 'ReadRegistrations', actions: ['ssm:GetParameters'] });
  role.addToPrincipalPolicy(statement);
  return statement;
}

/**
 * `arn:<partition>:ecs:<region>:<account>:task/<cluster name>/*` for the watched cluster. A concrete
 * cluster ARN gives every part (an imported cluster may live in another account or region than the
 * stack); otherwise the cluster's name and environment are used, which resolve at deploy time.
 */
export function clusterTasksArn(scope: Construct, cluster: ecs.ICluster): string {
  const stack = Stack.of(scope);
  const clusterArn = cluster.clusterArn;
  if (!Token.isUnresolved(clusterArn)) {
    const parts = Arn.split(clusterArn, ArnFormat.SLASH_RESOURCE_NAME);
    return stack.formatArn({
      partition: parts.partition,
      service: 'ecs',
      region: parts.region,
      account: parts.account,
      resource: 'task',
      resourceName: `${parts.resourceName}/*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }
  return stack.formatArn({
    service: 'ecs',
    region: cluster.env.region,
    account: cluster.env.account,
    resource: 'task',
    resourceName: `${cluster.clusterName}/*`,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}

/** Most record-write policies: an update may hold the old and the new ones at once, within the role's quota. */
export const MAX_WRITE_POLICIES = Math.floor(AWS_LIMITS.managedPoliciesPerRole / 2);

/**
 * Route53 writes: only the registered names, only the record types they publish (A, and AAAA only in a
 * policy that allows a name of a service publishing IPv6), only UPSERT and DELETE, in the configured zone
 * only, spread over as few customer managed policies as their size allows; each also lets the function read
 * the zone's records.
 *
 * Each policy's logical id carries a hash of the names it allows (and of its record types, when they are
 * more than A). Renaming or removing a registration, or changing the record types a policy allows,
 * therefore creates a new policy and leaves the old one to CloudFormation's cleanup phase, which runs
 * after every create and update: while the custom resource's update deletes the old name's records (an
 * IPv6 name's AAAA records too), the role may still write them, and afterwards it may not.
 *
 * IAM evaluates `ForAllValues` per statement, so one change request may only touch the names of one
 * policy: each name's *write group* (the index of its policy) goes into the handler's configuration and
 * the handler sends one request per zone and write group.
 */
export class RecordWritePolicies {
  private readonly policies: iam.ManagedPolicy[] = [];
  private groups: string[][] = [];
  private groupTypes: string[][] = [];
  /** The hosted zone of each policy: a policy allows the names of one zone only. */
  private groupZones: route53.IHostedZone[] = [];
  /** Room for names in a policy of each zone (its ARN's length counts), by zone. */
  private readonly budgets = new Map<route53.IHostedZone, number>();

  constructor(private readonly scope: Construct, private readonly role: iam.IRole, private readonly zone: route53.IHostedZone) {}

  /** The policies, for dependencies. */
  public get resources(): readonly iam.ManagedPolicy[] {
    return this.policies;
  }

  /**
   * Spreads the normalized record names (in registration order) over the policies: returns the write group
   * of each name, and `commit` to apply it. A policy holds the names of one hosted zone (`zonesOf`, the
   * construct's zone when absent): each zone's names fill policies of their own. Throws, before anything is
   * changed, when the names need more policies than {@link MAX_WRITE_POLICIES}.
   */
  public plan(
    names: readonly string[], typesOf: ReadonlyArray<readonly RecordType[]> = [], extrasOf: ReadonlyArray<ExtraWrites> = [],
    zonesOf: readonly route53.IHostedZone[] = [],
  ): { readonly groups: number[]; commit(): void } {
    const groups: string[][] = [];
    const groupTypes: Array<Set<string>> = [];
    const groupZones: route53.IHostedZone[] = [];
    const assignment: number[] = [];
    // The budget is measured with the record types ["A"]: a group's own list of types costs what it differs by.
    const typesLength = (types: ReadonlySet<string>) =>
      JSON.stringify(types.size > 0 ? WRITE_TYPES.filter(t => types.has(t)) : DEFAULT_RECORD_TYPES).length;
    // The group each zone is filling, and the characters it uses.
    const open = new Map<route53.IHostedZone, { index: number; used: number }>();
    names.forEach((name, i) => {
      const extra = extrasOf[i] ?? { names: [], srv: false };
      const types: readonly string[] = [...(typesOf[i] ?? DEFAULT_RECORD_TYPES), ...(extra.srv ? ['SRV'] : [])];
      const zone = this.zoneKey(zonesOf[i] ?? this.zone, groupZones);
      const existing = groups.findIndex((g, gi) => groupZones[gi] === zone && g.includes(name));
      if (existing >= 0) {
        // A name given twice in a zone (it is not: a name belongs to one service) keeps its group; its types join it.
        types.forEach(t => groupTypes[existing].add(t));
        assignment.push(existing);
        return;
      }
      const budget = this.budgetOf(zone);
      // The first task-name pattern of a group moves its names under a StringLike operator of their own.
      const patterned = extra.names.some(n => n.includes('?'));
      const likeCost = (index: number) => (patterned && !(groups[index] ?? []).some(n => n.includes('?')) ? STRING_LIKE_OVERHEAD : 0);
      const cost = (group: ReadonlySet<string>, index: number) => [name, ...extra.names].reduce((sum, n) => sum + JSON.stringify(n).length + 1, 0)
        + typesLength(new Set([...group, ...types])) - typesLength(group) + likeCost(index);
      let current = open.get(zone);
      if (!current || current.used + cost(groupTypes[current.index], current.index) > budget) {
        groups.push([]);
        groupTypes.push(new Set());
        groupZones.push(zone);
        current = { index: groups.length - 1, used: 0 };
        open.set(zone, current);
      }
      const group = groupTypes[current.index];
      current.used += cost(group, current.index);
      types.forEach(t => group.add(t));
      groups[current.index].push(name, ...extra.names);
      assignment.push(current.index);
    });
    if (groups.length > MAX_WRITE_POLICIES) {
      throw new Error(`The ${names.length} registered names need ${groups.length} IAM policies of at most ${AWS_LIMITS.managedPolicyChars} `
        + `characters to list them, but EcsPublicDiscovery uses at most ${MAX_WRITE_POLICIES} (an update may attach the old and the new `
        + `ones at once, and a role takes ${AWS_LIMITS.managedPoliciesPerRole} managed policies; each hosted zone has policies of its own): register fewer or shorter names per `
        + 'construct (or fewer zones), e.g. by creating one EcsPublicDiscovery per group of services.');
    }
    // Each policy lists exactly the record types its names publish.
    const types = groupTypes.map(g => WRITE_TYPES.filter(t => g.has(t)));
    return { groups: assignment, commit: () => this.apply(groups, types, groupZones) };
  }

  /** Plans and commits at once (see {@link plan}). */
  public assign(names: readonly string[], typesOf: ReadonlyArray<readonly RecordType[]> = []): number[] {
    const planned = this.plan(names, typesOf);
    planned.commit();
    return planned.groups;
  }

  /** The zone object that stands for `zone` (the same zone given as two objects is one, see {@link sameZone}). */
  private zoneKey(zone: route53.IHostedZone, known: readonly route53.IHostedZone[]): route53.IHostedZone {
    return [this.zone, ...known].find(z => sameZone(z, zone)) ?? zone;
  }

  private budgetOf(zone: route53.IHostedZone): number {
    let budget = this.budgets.get(zone);
    if (budget === undefined) {
      budget = AWS_LIMITS.managedPolicyChars - resolvedJsonLength(this.scope, this.documentJson([], DEFAULT_RECORD_TYPES, zone.hostedZoneArn));
      this.budgets.set(zone, budget);
    }
    return budget;
  }

  private apply(groups: string[][], types: string[][], zones: route53.IHostedZone[]): void {
    this.groups = groups;
    this.groupTypes = types;
    this.groupZones = zones;
    while (this.policies.length < groups.length) {
      const index = this.policies.length;
      // The construct's zone is written as it is (so templates read as before several zones); a policy that
      // may belong to another zone resolves its zone's ARN at synthesis.
      const arn = zones[index] === this.zone && index === 0
        ? this.zone.hostedZoneArn
        : Lazy.string({ produce: () => (this.groupZones[index] ?? this.zone).hostedZoneArn });
      this.policies.push(new iam.ManagedPolicy(this.scope, `RecordWrites${index + 1}`, {
        description: Lazy.string({
          produce: () => `Route53 writes of the ECS public discovery function: ${(this.groupTypes[index] ?? DEFAULT_RECORD_TYPES).join(' and ')} `
            + 'records at the registered names only',
        }),
        roles: [this.role],
        document: iam.PolicyDocument.fromJson(this.documentJson(
          Lazy.list({ produce: () => this.groups[index] ?? [] }),
          Lazy.list({ produce: () => this.groupTypes[index] ?? [...DEFAULT_RECORD_TYPES] }),
          arn,
        )),
      }));
    }
    this.policies.forEach((policy, i) => {
      const cfn = policy.node.defaultChild as iam.CfnManagedPolicy;
      // The zone is part of the hash: a policy of another zone is a new policy, and the old one stays until cleanup.
      // Zones of other stacks are told apart by their paths (see zoneIdentity), not by their logical ids.
      // Record types join the hash only when they are more than A.
      const zone = zoneIdentity(this.scope, zones[i] ?? this.zone, this.zone);
      const typesKey = (types[i] ?? DEFAULT_RECORD_TYPES).join(',');
      const hashed = [zone, ...[...(groups[i] ?? [])].sort()];
      const key = typesKey === DEFAULT_RECORD_TYPES.join(',') ? hashed : [...hashed, `record types: ${typesKey}`];
      if ((groups[i] ?? []).some(n => n.includes('?'))) {
        // The group lists a task-name pattern: its names are compared with StringLike, where `?` matches exactly one
        // character (a registered name holds no `?` or `*`, so StringLike matches it exactly as StringEquals would);
        // the record types and actions stay under StringEquals. Groups without a pattern keep StringEquals for the
        // names too, so their policies read as before task names.
        cfn.addPropertyDeletionOverride(`${CONDITION_PATH}.ForAllValues:StringEquals.${NAMES_KEY}`);
        cfn.addPropertyOverride(`${CONDITION_PATH}.ForAllValues:StringLike.${NAMES_KEY}`, Lazy.list({ produce: () => this.groups[i] ?? [] }));
      }
      cfn.overrideLogicalId(`${Stack.of(this.scope).getLogicalId(cfn).replace(/[0-9A-F]{8}$/, '')}${hashOf(key)}`);
    });
  }

  private documentJson(names: string[], types: readonly string[], zoneArn: string = this.zone.hostedZoneArn): Record<string, unknown> {
    return {
      Version: '2012-10-17',
      Statement: [{
        // Reading the zone's records only. It lives here rather than in the role's default policy, which
        // CloudFormation updates in place: when the zone changes, the old zone's read permission then stays
        // until the cleanup phase, as its write permission does, so the update (and a rollback) can purge it.
        Sid: 'ListZoneRecords',
        Effect: 'Allow',
        Action: 'route53:ListResourceRecordSets',
        Resource: zoneArn,
      }, {
        Sid: 'ChangeRegisteredRecords',
        Effect: 'Allow',
        Action: 'route53:ChangeResourceRecordSets',
        Resource: zoneArn,
        Condition: {
          'ForAllValues:StringEquals': {
            'route53:ChangeResourceRecordSetsNormalizedRecordNames': names,
            'route53:ChangeResourceRecordSetsRecordTypes': types,
            'route53:ChangeResourceRecordSetsActions': ['UPSERT', 'DELETE'],
          },
        },
      }],
    };
  }
}

/** Where the ChangeRegisteredRecords statement's condition is in a record-write policy's template properties. */
const CONDITION_PATH = 'PolicyDocument.Statement.1.Condition';
/** The condition key of the normalized record names. */
const NAMES_KEY = 'route53:ChangeResourceRecordSetsNormalizedRecordNames';
/** What a policy's document grows by when its names move under a StringLike operator of their own (counted whole). */
const STRING_LIKE_OVERHEAD = JSON.stringify({ 'ForAllValues:StringLike': { [NAMES_KEY]: [] } }).length + 1;

/** Eight hex digits identifying a list of values (stable across runs and Node versions). */
export function hashOf(values: readonly string[]): string {
  return createHash('sha256').update(values.join('\n')).digest('hex').slice(0, 8).toUpperCase();
}
