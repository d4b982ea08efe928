/**
 * Route53 health checks per task: the `healthCheck` option of addService, its defaults and validation, the
 * owner the construct sets, the role's permissions, the lifecycle resource's property and the metric; and
 * that none of it appears without the option.
 */
import { App, Duration, Stack, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { discovery, fargateService, render, renderedConfig, roleStatements, testStack } from './helpers';
import { EcsPublicDiscovery, TaskHealthCheckType } from '../../src';
import { ownerPrefix } from '../../src/lambda/health-checks';
import { FEATURE_METRIC } from '../../src/shared/contract';

/** A task definition whose default container maps port 25565. */
const withPort = (t: ReturnType<typeof testStack>) => {
  const taskDefinition = new ecs.FargateTaskDefinition(t.stack, 'PortTaskDef');
  taskDefinition.addContainer('app', {
    image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable'),
    portMappings: [{ containerPort: 25565 }, { containerPort: 8080 }],
  });
  return taskDefinition;
};

const HEALTH_CHECK_ACTIONS = ['route53:CreateHealthCheck', 'route53:ListHealthChecks', 'route53:DeleteHealthCheck',
  'route53:ChangeTagsForResource', 'route53:ListTagsForResources'];

function allActions(template: Template): string[] {
  return Object.values(roleStatements(template)).flatMap((s: any) => [s.Action].flat());
}

describe('without the option', () => {
  test('the registration, the configuration, the role and the lifecycle resource read as before', () => {
    const t = testStack();
    discovery(t).addService({ service: fargateService(t, 'web'), name: 'www' });
    const template = Template.fromStack(t.stack);
    const config = renderedConfig(template);
    expect(config.services[0]).not.toHaveProperty('healthCheck');
    expect(config).not.toHaveProperty('owner');
    expect(allActions(template).filter(a => HEALTH_CHECK_ACTIONS.includes(a))).toEqual([]);
    const [lifecycle] = Object.values(template.findResources('Custom::EcsPublicDiscovery'));
    expect(lifecycle.Properties).not.toHaveProperty('HealthCheckOwner');
  });
});

describe('healthCheck', () => {
  test('defaults: TCP, the default container\'s first container port, 30 s, threshold 3, no path', () => {
    const t = testStack();
    discovery(t).addService({ service: fargateService(t, 'game', { taskDefinition: withPort(t) }), name: 'play', healthCheck: {} });
    const [service] = renderedConfig(Template.fromStack(t.stack)).services;
    expect(service.healthCheck).toEqual({ type: 'TCP', port: 25565, intervalSeconds: 30, failureThreshold: 3 });
  });

  test('HTTP without a path requests /; every setting given is carried', () => {
    const t = testStack();
    const d = discovery(t);
    d.addService({ service: fargateService(t, 'web'), name: 'www', healthCheck: { type: TaskHealthCheckType.HTTP, port: 8080 } });
    d.addService({
      service: fargateService(t, 'api'),
      name: 'api',
      healthCheck: { type: TaskHealthCheckType.HTTPS, port: 443, path: '/healthz', interval: Duration.seconds(10), failureThreshold: 1 },
    });
    const services = renderedConfig(Template.fromStack(t.stack)).services;
    expect(services[0].healthCheck).toEqual({ type: 'HTTP', port: 8080, path: '/', intervalSeconds: 30, failureThreshold: 3 });
    expect(services[1].healthCheck).toEqual({ type: 'HTTPS', port: 443, path: '/healthz', intervalSeconds: 10, failureThreshold: 1 });
  });

  test('the configuration carries the owner: account, region, stack name and the construct\'s address', () => {
    const t = testStack();
    const d = discovery(t);
    d.addService({ service: fargateService(t, 'web'), name: 'www', healthCheck: { port: 80 } });
    d.addService({ service: fargateService(t, 'api'), name: 'api' });
    const config = renderedConfig(Template.fromStack(t.stack));
    expect(config.owner).toBe(`<AWS::AccountId>/<AWS::Region>/Test/${d.node.addr}`);
    expect(config.services[1]).not.toHaveProperty('healthCheck');
  });

  test('two constructs of one stack have different owners (and a stack deployed elsewhere, other account and region tokens)', () => {
    const t = testStack();
    const a = discovery(t);
    a.addService({ service: fargateService(t, 'web'), name: 'www', healthCheck: { port: 80 } });
    const b = new EcsPublicDiscovery(t.stack, 'Other', { cluster: t.cluster, hostedZone: t.zone });
    b.addService({ service: fargateService(t, 'api'), name: 'api', healthCheck: { port: 80 } });
    const owners = Object.values(Template.fromStack(t.stack).findResources('AWS::Lambda::Function'))
      .map(f => f.Properties.Environment?.Variables?.PUBLIC_DISCOVERY_CONFIG)
      .filter(v => v !== undefined)
      .map(v => JSON.parse(render(v)).owner);
    expect(owners.sort()).toEqual([`<AWS::AccountId>/<AWS::Region>/Test/${a.node.addr}`, `<AWS::AccountId>/<AWS::Region>/Test/${b.node.addr}`].sort());
    expect(a.node.addr).not.toBe(b.node.addr);
  });

  test('the same code deployed as two stacks (stack name from context) in one account and region: two owners', () => {
    const owners = ['games-blue', 'games-green'].map(stackName => {
      const app = new App({ context: { stackName } });
      const stack = new Stack(app, 'Games', { stackName: app.node.tryGetContext('stackName'), env: { account: '123456789012', region: 'eu-west-1' } });
      const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }] });
      const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
      const hostedZone = new route53.PublicHostedZone(stack, 'Zone', { zoneName: 'example.com' });
      const taskDefinition = new ecs.FargateTaskDefinition(stack, 'TaskDef');
      taskDefinition.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable') });
      const service = new ecs.FargateService(stack, 'Web', { cluster, taskDefinition, assignPublicIp: true });
      const d = new EcsPublicDiscovery(stack, 'Discovery', { cluster, hostedZone });
      d.addService({ service, name: 'www', healthCheck: { port: 80 } });
      return { owner: renderedConfig(Template.fromStack(stack)).owner as string, addr: d.node.addr };
    });
    // The same construct path, so the same address: only the stack name tells the two apart.
    expect(owners[0].addr).toBe(owners[1].addr);
    expect(owners.map(o => o.owner)).toEqual([
      `123456789012/eu-west-1/games-blue/${owners[0].addr}`, `123456789012/eu-west-1/games-green/${owners[1].addr}`,
    ]);
    expect(ownerPrefix(owners[0].owner)).not.toBe(ownerPrefix(owners[1].owner));
    // The longest owner (a stack name of 128 characters) fits Route53's 256 characters of a tag value.
    expect(`123456789012/ap-southeast-5/${'s'.repeat(128)}/${owners[0].addr}`.length).toBeLessThanOrEqual(256);
  });

  test('the lifecycle resource names the owner, so stack deletion deletes its checks', () => {
    const t = testStack();
    const d = discovery(t);
    d.addService({ service: fargateService(t, 'web'), name: 'www', healthCheck: { port: 80 } });
    const template = Template.fromStack(t.stack);
    const [lifecycle] = Object.values(template.findResources('Custom::EcsPublicDiscovery'));
    expect(render(lifecycle.Properties.HealthCheckOwner)).toBe(`<AWS::AccountId>/<AWS::Region>/Test/${d.node.addr}`);
  });

  test('IAM: create and list on "*" (no resource-level permissions), tag, list tags and delete on health checks only', () => {
    const t = testStack();
    const d = discovery(t);
    d.addService({ service: fargateService(t, 'web'), name: 'www', healthCheck: { port: 80 } });
    d.addService({ service: fargateService(t, 'api'), name: 'api', healthCheck: { port: 81 } });
    const template = Template.fromStack(t.stack);
    const statements = roleStatements(template);
    expect(statements.CreateAndListHealthChecks).toEqual({
      Sid: 'CreateAndListHealthChecks', Effect: 'Allow', Action: ['route53:CreateHealthCheck', 'route53:ListHealthChecks'], Resource: '*',
    });
    expect(statements.TagAndDeleteHealthChecks).toMatchObject({
      Effect: 'Allow',
      Action: ['route53:ChangeTagsForResource', 'route53:ListTagsForResources', 'route53:DeleteHealthCheck'],
    });
    expect(render(statements.TagAndDeleteHealthChecks.Resource)).toBe('arn:<AWS::Partition>:route53:::healthcheck/*');
    // Granted once, however many services have checks.
    expect(allActions(template).filter(a => a === 'route53:CreateHealthCheck')).toHaveLength(1);
    template.hasResource('AWS::IAM::Policy', {
      Metadata: Match.objectLike({
        cdk_nag: {
          rules_to_suppress: Match.arrayWith([Match.objectLike({
            id: 'AwsSolutions-IAM5', applies_to: ['Resource::arn:<AWS::Partition>:route53:::healthcheck/*'],
          })]),
        },
      }),
    });
  });

  test('IAM: the health check statements are in a policy of their own, which the lifecycle resource depends on', () => {
    const t = testStack();
    const d = discovery(t);
    d.addService({ service: fargateService(t, 'web'), name: 'www', healthCheck: { port: 80 } });
    const template = Template.fromStack(t.stack);
    const policies = template.findResources('AWS::IAM::Policy');
    const [defaultPolicy] = Object.entries(policies).filter(([id]) => id.startsWith('DiscoveryRoleDefaultPolicy'));
    const [healthChecks, ...more] = Object.entries(policies).filter(([id]) => id.startsWith('DiscoveryHealthChecks'));
    expect(more).toEqual([]);
    expect(JSON.stringify(defaultPolicy[1].Properties.PolicyDocument)).not.toMatch(/HealthCheck/);
    expect(healthChecks[1].Properties.PolicyDocument.Statement.map((st: any) => st.Sid)).toEqual(['CreateAndListHealthChecks', 'TagAndDeleteHealthChecks']);
    expect(healthChecks[1].Properties.Roles).toEqual([{ Ref: expect.stringMatching(/^DiscoveryRole/) }]);
    // Removing the last healthCheck deletes this policy in CloudFormation's cleanup phase, after the lifecycle
    // resource's Update, which still needs it to delete the previous owner's checks.
    const [lifecycle] = Object.values(template.findResources('Custom::EcsPublicDiscovery'));
    expect(lifecycle.DependsOn).toContain(healthChecks[0]);
  });

  test('metricHealthCheckQuotaExceeded: the handler\'s metric, with its function', () => {
    const t = testStack();
    const d = discovery(t);
    const metric = d.metricHealthCheckQuotaExceeded();
    expect(metric.metricName).toBe(FEATURE_METRIC.HEALTH_CHECK_QUOTA_EXCEEDED);
    expect(metric.namespace).toBe('EcsPublicDiscovery');
    expect(metric.statistic).toBe('Sum');
    expect(Object.keys(metric.dimensions ?? {})).toEqual(['FunctionName']);
  });

  test.each([
    ['an unknown type', { type: 'ICMP' as TaskHealthCheckType, port: 80 }, /healthCheck.type .* is "ICMP".*TaskHealthCheckType.TCP, HTTP or HTTPS/],
    ['a path on a TCP check', { port: 80, path: '/x' }, /TCP check, which requests no path, but path is "\/x": remove the path/],
    ['a path without a leading slash', { type: TaskHealthCheckType.HTTP, port: 80, path: 'health' }, /healthCheck.path .* is "health".*starting with "\/"/],
    ['a path only known at deploy time', { type: TaskHealthCheckType.HTTP, port: 80, path: Token.asString({ Ref: 'P' }) }, /only known at deploy time/],
    ['an interval of 20 s', { port: 80, interval: Duration.seconds(20) }, /healthCheck.interval .* is 20 seconds.*10 or 30 seconds/],
    ['a failure threshold of 0', { port: 80, failureThreshold: 0 }, /failureThreshold .* is 0.*from 1 to 10/],
    ['a failure threshold of 11', { port: 80, failureThreshold: 11 }, /failureThreshold .* is 11/],
    ['a port of 0', { port: 0 }, /healthCheck.port .* is 0.*1\.\.65535/],
    ['no port and no port mapping', {}, /takes its port from the task definition .* has no port mapping: give the port explicitly \(healthCheck.port\)/],
  ])('refuses %s, naming the value and the fix, and keeps nothing', (_what, healthCheck, message) => {
    const t = testStack();
    const d = discovery(t);
    expect(() => d.addService({ service: fargateService(t, 'web'), name: 'www', healthCheck })).toThrow(message);
    d.addService({ service: fargateService(t, 'api'), name: 'api' });
    const template = Template.fromStack(t.stack);
    expect(renderedConfig(template)).not.toHaveProperty('owner');
    expect(renderedConfig(template).services.map((s: any) => s.name)).toEqual(['api']);
  });
});

describe('healthCheck needs the reconciliation', () => {
  test('refused with reconciliation: false, naming both settings; nothing of the service is kept', () => {
    const t = testStack();
    const d = discovery(t, { reconciliation: false });
    const service = fargateService(t, 'web');
    expect(() => d.addService({ service, name: 'www', healthCheck: { port: 80 } }))
      .toThrow(/asks for Route53 health checks \(healthCheck\), but this EcsPublicDiscovery has reconciliation: false.*Remove reconciliation: false, or remove healthCheck/);
    // The same service registers without the option: the refusal kept nothing of it.
    d.addService({ service, name: 'www' });
    expect(renderedConfig(Template.fromStack(t.stack)).services.map((s: { serviceName: string }) => s.serviceName)).toHaveLength(1);
  });
});
