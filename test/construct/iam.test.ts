/**
 * The discovery function's permissions: one statement per need, each as narrow as the action allows.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { NagSuppressions } from 'cdk-nag';
import { discovery, fargateService, logicalId, roleStatements, testStack } from './helpers';
import { EcsPublicDiscovery } from '../../src';

function synth() {
  const t = testStack();
  const d = discovery(t);
  d.addService({ service: fargateService(t, 'web'), name: 'WWW' });
  d.addService({ service: fargateService(t, 'game'), name: 'Play.EU', dnsTtl: Duration.seconds(5) });
  d.addService({ service: fargateService(t, 'apex'), name: 'Example.COM.' });
  const template = Template.fromStack(t.stack);
  return { ...t, d, template, statements: roleStatements(template) };
}

const partitionArn = (...parts: unknown[]) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ...parts]] });

describe('role', () => {
  test('is assumed by Lambda only and has no AWS managed policy', () => {
    const { template } = synth();

    const roles = Object.entries(template.findResources('AWS::IAM::Role')).filter(([id]) => id.startsWith('Discovery'));
    expect(roles).toHaveLength(1);
    const role = roles[0][1];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties.Policies).toBeUndefined();
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([{
      Action: 'sts:AssumeRole',
      Effect: 'Allow',
      Principal: { Service: 'lambda.amazonaws.com' },
    }]);
  });

  test('grants exactly these statements', () => {
    const { statements } = synth();

    expect(Object.keys(statements).sort()).toEqual([
      'ChangeRegisteredRecords',
      'DescribeClusterTasks',
      'ListClusterTasks',
      'ListZoneRecords',
      'ReadTaskNetworkInterfaces',
      'WriteOwnLogs',
      'sqs:ReceiveMessage',
    ]);
    for (const statement of Object.values(statements)) {
      expect(statement.Effect).toBe('Allow');
    }
  });
});

describe('statements', () => {
  test('logs: create streams and write events in its own log group only', () => {
    const { stack, d, statements } = synth();

    expect(statements.WriteOwnLogs).toEqual({
      Sid: 'WriteOwnLogs',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: { 'Fn::GetAtt': [logicalId(stack, d.logGroup), 'Arn'] },
    });
  });

  test('ec2:DescribeNetworkInterfaces on * (no resource-level permissions exist for it)', () => {
    const { statements } = synth();

    expect(statements.ReadTaskNetworkInterfaces).toEqual({
      Sid: 'ReadTaskNetworkInterfaces',
      Effect: 'Allow',
      Action: 'ec2:DescribeNetworkInterfaces',
      Resource: '*',
    });
  });

  test('ecs:DescribeTasks on the tasks of this cluster, pinned by the ecs:cluster condition', () => {
    const { stack, cluster, statements } = synth();
    const clusterId = logicalId(stack, cluster);

    expect(statements.DescribeClusterTasks).toEqual({
      Sid: 'DescribeClusterTasks',
      Effect: 'Allow',
      Action: 'ecs:DescribeTasks',
      Resource: partitionArn(':ecs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':task/', { Ref: clusterId }, '/*'),
      Condition: { ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [clusterId, 'Arn'] } } },
    });
  });

  test('ecs:ListTasks across the cluster (authorized on *), confined by the ecs:cluster condition', () => {
    const { stack, cluster, statements } = synth();

    expect(statements.ListClusterTasks).toEqual({
      Sid: 'ListClusterTasks',
      Effect: 'Allow',
      Action: 'ecs:ListTasks',
      Resource: '*',
      Condition: { ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [logicalId(stack, cluster), 'Arn'] } } },
    });
  });

  test('route53:ListResourceRecordSets on the hosted zone only', () => {
    const { stack, zone, statements } = synth();

    expect(statements.ListZoneRecords).toEqual({
      Sid: 'ListZoneRecords',
      Effect: 'Allow',
      Action: 'route53:ListResourceRecordSets',
      Resource: partitionArn(':route53:::hostedzone/', { Ref: logicalId(stack, zone) }),
    });
  });

  test('route53:ChangeResourceRecordSets: the zone, the registered names (normalized), A records, UPSERT and DELETE only', () => {
    const { stack, zone, statements } = synth();

    expect(statements.ChangeRegisteredRecords).toEqual({
      Sid: 'ChangeRegisteredRecords',
      Effect: 'Allow',
      Action: 'route53:ChangeResourceRecordSets',
      Resource: partitionArn(':route53:::hostedzone/', { Ref: logicalId(stack, zone) }),
      Condition: {
        'ForAllValues:StringEquals': {
          'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['www.example.com', 'play.eu.example.com', 'example.com'],
          'route53:ChangeResourceRecordSetsRecordTypes': ['A'],
          'route53:ChangeResourceRecordSetsActions': ['UPSERT', 'DELETE'],
        },
      },
    });
  });

  test('SQS: consume the discovery queue only (from the event source mapping)', () => {
    const { stack, d, statements } = synth();

    expect(statements['sqs:ReceiveMessage']).toEqual({
      Effect: 'Allow',
      Action: ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
      Resource: { 'Fn::GetAtt': [logicalId(stack, d.queue), 'Arn'] },
    });
  });

  test('X-Ray permissions come with tracing', () => {
    const t = testStack();
    discovery(t, { tracing: lambda.Tracing.ACTIVE }).addService({ service: fargateService(t, 'web'), name: 'www' });

    const statements = roleStatements(Template.fromStack(t.stack));

    expect(statements['xray:PutTraceSegments']).toEqual({
      Effect: 'Allow',
      Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
      Resource: '*',
    });
  });

  test('no record may be changed before a service is registered', () => {
    const t = testStack();
    discovery(t);

    const statements = roleStatements(Template.fromStack(t.stack));

    expect(statements.ChangeRegisteredRecords).toBeUndefined();
    expect(JSON.stringify(statements)).not.toContain('route53:ChangeResourceRecordSets');
  });

  test('names registered after the first one are added to the condition', () => {
    const t = testStack();
    const d = discovery(t);
    d.addService({ service: fargateService(t, 'a'), name: 'a' });
    d.addService({ service: fargateService(t, 'b'), name: 'b.' + 'example.com.' });

    const statements = roleStatements(Template.fromStack(t.stack));

    expect(statements.ChangeRegisteredRecords.Condition['ForAllValues:StringEquals']['route53:ChangeResourceRecordSetsNormalizedRecordNames'])
      .toEqual(['a.example.com', 'b.example.com']);
  });

  test('an imported cluster is addressed by its own region, account and name', () => {
    const t = testStack();
    const cluster = ecs.Cluster.fromClusterAttributes(t.stack, 'Imported', {
      clusterName: 'games',
      clusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/games',
      vpc: t.vpc,
    });
    const zone = route53.HostedZone.fromHostedZoneAttributes(t.stack, 'ImportedZone', { hostedZoneId: 'Z123', zoneName: 'example.org' });
    new EcsPublicDiscovery(t.stack, 'Discovery', { cluster, hostedZone: zone })
      .addService({ service: fargateService(t, 'web', { cluster }), name: 'www' });

    const statements = roleStatements(Template.fromStack(t.stack));

    expect(statements.DescribeClusterTasks.Resource).toEqual('arn:aws:ecs:eu-west-1:123456789012:task/games/*');
    expect(statements.DescribeClusterTasks.Condition).toEqual({ ArnEquals: { 'ecs:cluster': 'arn:aws:ecs:eu-west-1:123456789012:cluster/games' } });
    expect(statements.ListClusterTasks.Condition).toEqual({ ArnEquals: { 'ecs:cluster': 'arn:aws:ecs:eu-west-1:123456789012:cluster/games' } });
    expect(statements.ListZoneRecords.Resource).toEqual(partitionArn(':route53:::hostedzone/Z123'));
    expect(statements.ChangeRegisteredRecords.Condition['ForAllValues:StringEquals']['route53:ChangeResourceRecordSetsNormalizedRecordNames'])
      .toEqual(['www.example.org']);
  });
});

describe('cdk-nag metadata', () => {
  function policyOf(d: EcsPublicDiscovery) {
    return (d.node.findChild('Role').node.findChild('DefaultPolicy') as iam.Policy).node.defaultChild as iam.CfnPolicy;
  }

  test('the role policy acknowledges its two wildcards, each with a reason', () => {
    const { template, stack, cluster } = synth();

    template.hasResource('AWS::IAM::Policy', {
      Metadata: {
        cdk_nag: {
          rules_to_suppress: [
            { id: 'AwsSolutions-IAM5', reason: Match.stringLikeRegexp('DescribeNetworkInterfaces.*ListTasks'), applies_to: ['Resource::*'] },
            {
              id: 'AwsSolutions-IAM5',
              reason: Match.stringLikeRegexp('ecs:DescribeTasks'),
              applies_to: [`Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/<${logicalId(stack, cluster)}>/*`],
            },
          ],
        },
      },
    });
  });

  test('suppressions added afterwards with cdk-nag keep the construct\'s ones', () => {
    const { stack, d } = synth();
    NagSuppressions.addResourceSuppressions(policyOf(d), [{ id: 'AwsSolutions-IAM4', reason: 'added by the application owner' }]);

    const rules = stack.resolve(policyOf(d).getMetadata('cdk_nag')).rules_to_suppress;

    expect(rules.map((r: any) => r.id)).toEqual(['AwsSolutions-IAM5', 'AwsSolutions-IAM5', 'AwsSolutions-IAM4']);
  });

  test('no other resource of the construct carries suppressions', () => {
    const { stack, d } = synth();

    const carriers = d.node.findAll()
      .filter(c => c.node.defaultChild === undefined && (c as any).getMetadata?.('cdk_nag') !== undefined)
      .map(c => c.node.path.replace(`${Stack.of(c).stackName}/`, ''));

    expect(carriers).toEqual(['Discovery/Role/DefaultPolicy/Resource']);
    expect(stack.stackName).toBe('Test');
  });
});
