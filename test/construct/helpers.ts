/**
 * Small builders shared by the construct tests: a stack with a real VPC, ECS cluster and public hosted
 * zone, Fargate services that assign public IPs, and helpers to read the synthesized template.
 */
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { EcsPublicDiscovery, EcsPublicDiscoveryProps } from '../../src';

export interface TestStack {
  readonly app: App;
  readonly stack: Stack;
  readonly vpc: ec2.Vpc;
  readonly cluster: ecs.Cluster;
  readonly zone: route53.PublicHostedZone;
  readonly taskDefinition: ecs.FargateTaskDefinition;
}

/** A stack with a VPC (public subnets only), a cluster, a public zone `example.com` and a Fargate task definition. */
export function testStack(): TestStack {
  const app = new App();
  const stack = new Stack(app, 'Test');
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }],
  });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
  const zone = new route53.PublicHostedZone(stack, 'Zone', { zoneName: 'example.com' });
  const taskDefinition = new ecs.FargateTaskDefinition(stack, 'TaskDef');
  taskDefinition.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable') });
  return { app, stack, vpc, cluster, zone, taskDefinition };
}

/** A Fargate service named `serviceName` that assigns public IPs, in the test cluster unless overridden. */
export function fargateService(t: TestStack, serviceName: string, props: Partial<ecs.FargateServiceProps> = {}): ecs.FargateService {
  return new ecs.FargateService(t.stack, `Service-${serviceName}`, {
    cluster: t.cluster,
    taskDefinition: t.taskDefinition,
    serviceName,
    assignPublicIp: true,
    minHealthyPercent: 100,
    ...props,
  });
}

/** The discovery construct over the test cluster and zone. */
export function discovery(t: TestStack, props: Partial<EcsPublicDiscoveryProps> = {}): EcsPublicDiscovery {
  return new EcsPublicDiscovery(t.stack, 'Discovery', { cluster: t.cluster, hostedZone: t.zone, ...props });
}

/** The logical id of a construct's CloudFormation resource. */
export function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } } | CfnElement): string {
  const element = construct instanceof CfnElement ? construct : construct.node.defaultChild as CfnElement;
  return stack.getLogicalId(element);
}

/**
 * Renders a resolved CloudFormation value as a string, writing references as `<LogicalId>`,
 * `<LogicalId.Attribute>` and `<import:Name>` so that a JSON document built with Fn::Join can be parsed and compared.
 */
export function render(value: unknown): string {
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'number') {
    return String(value);
  }
  const v = value as Record<string, unknown>;
  if (v['Fn::Join']) {
    const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(render).join(separator);
  }
  if (typeof v.Ref === 'string') {
    return `<${v.Ref}>`;
  }
  if (Array.isArray(v['Fn::GetAtt'])) {
    return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
  }
  if (typeof v['Fn::ImportValue'] === 'string') {
    return `<import:${v['Fn::ImportValue']}>`;
  }
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

/** The statements of the discovery role's policy, by Sid (statements without a Sid under their first action). */
export function roleStatements(template: Template): Record<string, any> {
  const policies = template.findResources('AWS::IAM::Policy');
  const mine = Object.entries(policies).filter(([id]) => id.startsWith('DiscoveryRoleDefaultPolicy'));
  if (mine.length !== 1) {
    throw new Error(`expected one policy on the discovery role, found ${mine.map(([id]) => id).join(', ') || 'none'}`);
  }
  // The record writes live in customer managed policies attached to the same role.
  const managed = Object.entries(template.findResources('AWS::IAM::ManagedPolicy')).filter(([id]) => id.startsWith('DiscoveryRecordWrites'));
  // The health check permissions live in a policy of their own, attached to the same role.
  const healthChecks = Object.entries(policies).filter(([id]) => id.startsWith('DiscoveryHealthChecks'));
  const result: Record<string, any> = {};
  for (const [, policy] of [...mine, ...managed, ...healthChecks]) {
    for (const statement of policy.Properties.PolicyDocument.Statement) {
      const key = statement.Sid ?? [statement.Action].flat()[0];
      if (result[key] !== undefined && JSON.stringify(result[key]) !== JSON.stringify(statement)) {
        throw new Error(`two different statements of the discovery role are both keyed ${key}`);
      }
      result[key] = statement;
    }
  }
  return result;
}

/** The synthesized value of the handler's configuration variable, parsed, with references rendered as `<...>`. */
export function renderedConfig(template: Template): any {
  const functions = Object.values(template.findResources('AWS::Lambda::Function'))
    .filter(f => f.Properties.Environment?.Variables?.PUBLIC_DISCOVERY_CONFIG !== undefined);
  if (functions.length !== 1) {
    throw new Error(`expected one discovery function, found ${functions.length}`);
  }
  return JSON.parse(render(functions[0].Properties.Environment.Variables.PUBLIC_DISCOVERY_CONFIG));
}
