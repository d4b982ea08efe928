/**
 * Health gating: the `publishWhenHealthy` option of addService, what it registers in the handler's
 * configuration, and its synth-time validation (a container health check is required).
 */
import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { discovery, fargateService, renderedConfig, testStack } from './helpers';

const withHealthCheck = (t: ReturnType<typeof testStack>) => {
  const taskDefinition = new ecs.FargateTaskDefinition(t.stack, 'CheckedTaskDef');
  taskDefinition.addContainer('app', {
    image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable'),
    healthCheck: { command: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'], interval: Duration.seconds(10) },
  });
  return taskDefinition;
};

describe('publishWhenHealthy', () => {
  test('absent by default: the registration reads as before', () => {
    const t = testStack();
    discovery(t).addService({ service: fargateService(t, 'web'), name: 'www' });
    const [service] = renderedConfig(Template.fromStack(t.stack)).services;
    expect(service).not.toHaveProperty('publishWhenHealthy');
  });

  test('false registers nothing either', () => {
    const t = testStack();
    discovery(t).addService({ service: fargateService(t, 'web'), name: 'www', publishWhenHealthy: false });
    expect(renderedConfig(Template.fromStack(t.stack)).services[0]).not.toHaveProperty('publishWhenHealthy');
  });

  test('true is carried by the registered service, beside an ungated one', () => {
    const t = testStack();
    const d = discovery(t);
    d.addService({ service: fargateService(t, 'web', { taskDefinition: withHealthCheck(t) }), name: 'www', publishWhenHealthy: true });
    d.addService({ service: fargateService(t, 'api'), name: 'api' });
    const services = renderedConfig(Template.fromStack(t.stack)).services;
    expect(services[0]).toMatchObject({ serviceName: 'web', publishWhenHealthy: true });
    expect(services[1]).not.toHaveProperty('publishWhenHealthy');
  });

  test('a health check added to the container after addService is seen (checked at synthesis)', () => {
    const t = testStack();
    const taskDefinition = new ecs.FargateTaskDefinition(t.stack, 'LateTaskDef');
    discovery(t).addService({ service: fargateService(t, 'web', { taskDefinition }), name: 'www', publishWhenHealthy: true });
    taskDefinition.addContainer('app', {
      image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable'),
      healthCheck: { command: ['CMD', 'true'] },
    });
    expect(() => t.app.synth()).not.toThrow();
  });

  test('without a container health check, synthesis fails naming the service and the fix', () => {
    const t = testStack();
    discovery(t).addService({ service: fargateService(t, 'web'), name: 'www', publishWhenHealthy: true });
    expect(() => t.app.synth()).toThrow(/service 'Test\/Service-web' is registered with publishWhenHealthy, but no container of its task definition 'Test\/TaskDef' has a health check.*healthCheck.*or remove publishWhenHealthy/s);
  });

  test('an ungated service needs no health check', () => {
    const t = testStack();
    discovery(t).addService({ service: fargateService(t, 'web'), name: 'www' });
    expect(() => t.app.synth()).not.toThrow();
  });

  test('the rule routes a running task\'s health changes: it filters on cluster, group and lastStatus (RUNNING included) only', () => {
    const t = testStack();
    discovery(t).addService({ service: fargateService(t, 'web', { taskDefinition: withHealthCheck(t) }), name: 'www', publishWhenHealthy: true });
    const rules = Object.values(Template.fromStack(t.stack).findResources('AWS::Events::Rule'))
      .filter(r => r.Properties.EventPattern?.['detail-type']?.includes('ECS Task State Change'));
    expect(rules).toHaveLength(1);
    const detail = rules[0].Properties.EventPattern.detail;
    expect(Object.keys(detail).sort()).toEqual(['clusterArn', 'group', 'lastStatus']);
    expect(detail.lastStatus).toContain('RUNNING');
  });
});
