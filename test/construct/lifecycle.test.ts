/**
 * The lifecycle custom resource in the template: what it carries, and the dependencies that make
 * CloudFormation delete it (and so the records) before everything the function needs, and the event source
 * and the schedule before it.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { discovery, fargateService, logicalId, testStack } from './helpers';
import { EcsPublicDiscovery } from '../../src';

function synth(props: Parameters<typeof discovery>[1] = {}) {
  const t = testStack();
  const d = discovery(t, props);
  const web = fargateService(t, 'web');
  d.addService({ service: web, name: 'www' });
  d.addService({ service: fargateService(t, 'game'), name: 'play' });
  const template = Template.fromStack(t.stack);
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties?: any; DependsOn?: string[]; DeletionPolicy?: string }>;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const [lifecycleId, lifecycle] = ofType('Custom::EcsPublicDiscovery')[0];
  return { ...t, d, web, template, resources, ofType, lifecycleId, lifecycle };
}

test('one Custom::EcsPublicDiscovery, served by the discovery function itself (no provider framework)', () => {
  const { ofType, lifecycle, stack, d } = synth();
  expect(ofType('Custom::EcsPublicDiscovery')).toHaveLength(1);
  expect(lifecycle.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': [logicalId(stack, d.handler.node.defaultChild as any), 'Arn'] });
  // The discovery function is the only function of the construct: no provider function was added.
  expect(ofType('AWS::Lambda::Function').filter(([id]) => id.startsWith('Discovery'))).toHaveLength(1);
});

test('it carries each registered name with its zone, service and write group, and a fingerprint of the registrations', () => {
  const { lifecycle, stack, zone } = synth();
  expect(lifecycle.Properties.Names).toEqual([
    { hostedZoneId: { Ref: logicalId(stack, zone) }, fqdn: 'www.example.com.', serviceName: 'web' },
    { hostedZoneId: { Ref: logicalId(stack, zone) }, fqdn: 'play.example.com.', serviceName: 'game' },
  ]);
  expect(lifecycle.Properties.Fingerprint).toMatch(/^[0-9A-F]{8}$/);
});

test('the fingerprint changes with a registration\'s TTL, so the deployment reconciles', () => {
  const a = testStack();
  discovery(a).addService({ service: fargateService(a, 'web'), name: 'www' });
  const b = testStack();
  discovery(b).addService({ service: fargateService(b, 'web'), name: 'www', dnsTtl: Duration.seconds(5) });
  const fingerprint = (t: ReturnType<typeof testStack>) => Object.values(Template.fromStack(t.stack).findResources('Custom::EcsPublicDiscovery'))[0].Properties.Fingerprint;
  expect(fingerprint(a)).not.toEqual(fingerprint(b));
});

test('it depends on everything the purge needs, so CloudFormation deletes it first', () => {
  const { lifecycle, resources, ofType } = synth();
  const needed = [
    ...ofType('AWS::IAM::Role'), ...ofType('AWS::IAM::Policy'), ...ofType('AWS::IAM::ManagedPolicy'),
    ...ofType('AWS::Logs::LogGroup'), ...ofType('AWS::SQS::Queue'),
  ].map(([id]) => id).filter(id => id.startsWith('Discovery') && !id.startsWith('DiscoveryDeadLetterQueue'));
  const rule = Object.entries(resources).find(([id, r]) => r.Type === 'AWS::Events::Rule' && id.startsWith('DiscoveryTaskStateChangeRule'))![0];
  expect(lifecycle.DependsOn).toEqual(expect.arrayContaining([...needed, rule]));
  expect(needed.some(id => id.startsWith('DiscoveryRecordWrites'))).toBe(true);
});

test('the event source mapping, the schedule and its permission depend on it, so they go first and no event is handled after the purge', () => {
  const { lifecycleId, ofType } = synth();
  const dependants = [
    ...ofType('AWS::Lambda::EventSourceMapping'),
    ...ofType('AWS::Events::Rule').filter(([id]) => id.startsWith('DiscoveryReconciliationSchedule')),
    ...ofType('AWS::Lambda::Permission').filter(([id]) => id.startsWith('DiscoveryReconciliationSchedule')),
  ];
  expect(dependants).toHaveLength(3);
  for (const [, r] of dependants) {
    expect(r.DependsOn).toContain(lifecycleId);
  }
});

test('the rule and the function do not depend on it (it is deleted before them)', () => {
  const { lifecycleId, resources } = synth();
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type === 'AWS::Lambda::Function' || id.startsWith('DiscoveryTaskStateChangeRule') || r.Type.startsWith('AWS::IAM::')) {
      expect(r.DependsOn ?? []).not.toContain(lifecycleId);
    }
  }
});

test.each([
  [undefined, 'Delete'],
  [RemovalPolicy.DESTROY, 'Delete'],
  [RemovalPolicy.RETAIN, 'Retain'],
])('removalPolicy %p: the resource\'s DeletionPolicy is %s', (removalPolicy, deletionPolicy) => {
  const { lifecycle } = synth(removalPolicy === undefined ? {} : { removalPolicy });
  expect(lifecycle.DeletionPolicy).toBe(deletionPolicy);
});

test('the public lifecycle property is the resource', () => {
  const { d, stack, lifecycleId } = synth({ tracing: lambda.Tracing.DISABLED });
  expect(d).toBeInstanceOf(EcsPublicDiscovery);
  expect(logicalId(stack, d.lifecycle.node.defaultChild as any)).toBe(lifecycleId);
});
