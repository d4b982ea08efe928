/**
 * The resources EcsPublicDiscovery creates: every property's default and override, the rule pattern,
 * the queues and event source mapping, the reconciliation schedule and the alarm.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { discovery, fargateService, logicalId, testStack } from './helpers';

function synth(props: Parameters<typeof discovery>[1] = {}) {
  const t = testStack();
  const d = discovery(t, props);
  d.addService({ service: fargateService(t, 'web'), name: 'www' });
  return { ...t, d, template: Template.fromStack(t.stack) };
}

describe('function', () => {
  test('runs the bundled handler on Node.js 24, arm64, 256 MB, 150 s (60 s for task events, the rest for lifecycle requests), no reserved concurrency', () => {
    const { template } = synth();

    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 150,
      ReservedConcurrentExecutions: Match.absent(),
      Environment: { Variables: { PUBLIC_DISCOVERY_METRICS_NAMESPACE: 'EcsPublicDiscovery', PUBLIC_DISCOVERY_CONFIG: Match.anyValue() } },
    });
  });

  test('tracing is disabled by default', () => {
    const { template } = synth();

    template.hasResourceProperties('AWS::Lambda::Function', { TracingConfig: Match.absent() });
  });

  test('tracing can be enabled', () => {
    const { template } = synth({ tracing: lambda.Tracing.ACTIVE });

    template.hasResourceProperties('AWS::Lambda::Function', { TracingConfig: { Mode: 'Active' } });
  });

  test('uses its own role and log group', () => {
    const { stack, d, template } = synth();

    template.hasResourceProperties('AWS::Lambda::Function', {
      Role: { 'Fn::GetAtt': [logicalId(stack, d.node.findChild('Role')), 'Arn'] },
      LoggingConfig: { LogGroup: { Ref: logicalId(stack, d.logGroup) } },
    });
    expect(stack.resolve(d.handler.functionName)).toEqual({ Ref: logicalId(stack, d.node.findChild('Handler')) });
  });
});

describe('log group', () => {
  test('keeps logs one month by default and is retained when the stack is deleted', () => {
    const { template } = synth();

    template.resourceCountIs('AWS::Logs::LogGroup', 1);
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 30 },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test('retention can be changed', () => {
    const { template } = synth({ logRetention: logs.RetentionDays.ONE_WEEK });

    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });
});

describe('queues', () => {
  test('the queue is SQS-encrypted, has a visibility timeout of 6 x the function timeout and redrives after 5 receives', () => {
    const { stack, d, template } = synth();

    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 360,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack, d.deadLetterQueue), 'Arn'] },
        maxReceiveCount: 5,
      },
    });
  });

  test('maxReceiveCount can be changed', () => {
    const { template } = synth({ maxReceiveCount: 2 });

    template.hasResourceProperties('AWS::SQS::Queue', { RedrivePolicy: Match.objectLike({ maxReceiveCount: 2 }) });
  });

  test('the dead-letter queue is SQS-encrypted and keeps messages 14 days', () => {
    const { stack, d, template } = synth();

    const dlq = template.toJSON().Resources[logicalId(stack, d.deadLetterQueue)];
    expect(dlq.Properties).toEqual({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
  });

  test.each(['queue', 'deadLetterQueue'] as const)('the %s denies requests without TLS', (member) => {
    const { stack, d, template } = synth();

    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: logicalId(stack, d[member]) }],
      PolicyDocument: {
        Statement: Match.arrayWith([{
          Action: 'sqs:*',
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          Resource: { 'Fn::GetAtt': [logicalId(stack, d[member]), 'Arn'] },
        }]),
      },
    });
  });
});

describe('event source mapping', () => {
  test('defaults: batches of 100, 2 s window, 2 concurrent invocations, partial batch failures', () => {
    const { stack, d, template } = synth();

    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId(stack, d.queue), 'Arn'] },
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 2,
      ScalingConfig: { MaximumConcurrency: 2 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  test('batch size, window and concurrency can be changed', () => {
    const { template } = synth({ batchSize: 10, maxBatchingWindow: Duration.seconds(0), maxConcurrency: 7 });

    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 0,
      ScalingConfig: { MaximumConcurrency: 7 },
    });
  });

  test('the largest values are accepted', () => {
    const { template } = synth({ batchSize: 10000, maxBatchingWindow: Duration.minutes(5), maxConcurrency: 1000 });

    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 10000,
      MaximumBatchingWindowInSeconds: 300,
      ScalingConfig: { MaximumConcurrency: 1000 },
    });
  });
});

describe('task state change rule', () => {
  test('matches the registered services\' task state changes of this cluster, start and stop statuses only', () => {
    const t = testStack();
    const d = discovery(t);
    d.addService({ service: fargateService(t, 'web'), name: 'www' });
    d.addService({ service: fargateService(t, 'game'), name: 'play' });

    const rule = Template.fromStack(t.stack).toJSON().Resources[logicalId(t.stack, d.rule as any)];

    expect(rule.Properties.EventPattern).toEqual({
      'source': ['aws.ecs'],
      'detail-type': ['ECS Task State Change'],
      'detail': {
        clusterArn: [{ 'Fn::GetAtt': [logicalId(t.stack, t.cluster), 'Arn'] }],
        group: ['service:web', 'service:game'],
        lastStatus: ['RUNNING', 'DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED'],
      },
    });
  });

  test('a service without a literal name is matched by its Name attribute', () => {
    const t = testStack();
    const d = discovery(t);
    const service = fargateService(t, 'web', { serviceName: undefined });
    d.addService({ service, name: 'www' });

    Template.fromStack(t.stack).hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        detail: Match.objectLike({
          group: [{ 'Fn::Join': ['', ['service:', { 'Fn::GetAtt': [logicalId(t.stack, service), 'Name'] }]] }],
        }),
      }),
    });
  });

  test('leaves the group filter out rather than emitting an empty list when no service is registered', () => {
    const t = testStack();
    discovery(t);

    Template.fromStack(t.stack).hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.ecs'],
        'detail-type': ['ECS Task State Change'],
        'detail': { clusterArn: Match.anyValue(), group: Match.absent(), lastStatus: Match.anyValue() },
      },
    });
  });

  test('sends to the queue, with the dead-letter queue for failed deliveries', () => {
    const { stack, d, template } = synth();

    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.anyValue(),
      Targets: [{
        Id: Match.anyValue(),
        Arn: { 'Fn::GetAtt': [logicalId(stack, d.queue), 'Arn'] },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(stack, d.deadLetterQueue), 'Arn'] } },
        RetryPolicy: { MaximumRetryAttempts: 20, MaximumEventAgeInSeconds: 3600 },
      }],
    });
  });

  test('EventBridge may send to both queues, from this rule only', () => {
    const { stack, d, template } = synth();
    const ruleArn = { 'Fn::GetAtt': [logicalId(stack, d.rule as any), 'Arn'] };

    for (const queue of [d.queue, d.deadLetterQueue]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: logicalId(stack, queue) }],
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({
            Action: queue === d.queue ? ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'] : 'sqs:SendMessage',
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Condition: { ArnEquals: { 'aws:SourceArn': ruleArn } },
          })]),
        },
      });
    }
  });
});

describe('reconciliation schedule', () => {
  test('invokes the function every 5 minutes with the reconcile action by default', () => {
    const { stack, d, template } = synth();

    template.resourceCountIs('AWS::Events::Rule', 2);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Targets: [{
        Id: Match.anyValue(),
        Arn: { 'Fn::GetAtt': [logicalId(stack, d.node.findChild('Handler')), 'Arn'] },
        Input: '{"action":"reconcile"}',
      }],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DiscoveryReconciliationSchedule'), 'Arn'] },
    });
  });

  test.each([
    [Duration.minutes(1), 'rate(1 minute)'],
    [Duration.minutes(15), 'rate(15 minutes)'],
    [Duration.hours(1), 'rate(1 hour)'],
  ])('the interval can be changed to %s', (interval, expression) => {
    const { template } = synth({ reconciliationInterval: interval });

    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: expression });
  });

  test('can be turned off', () => {
    const { template } = synth({ reconciliation: false });

    template.resourceCountIs('AWS::Events::Rule', 1);
    template.resourcePropertiesCountIs('AWS::Events::Rule', { ScheduleExpression: Match.anyValue() }, 0);
    template.resourceCountIs('AWS::Lambda::Permission', 0);
  });
});

describe('dead-letter alarm', () => {
  test('fires on one visible message in the dead-letter queue; missing data is not breaching', () => {
    const { stack, d, template } = synth();

    template.resourceCountIs('AWS::CloudWatch::Alarm', 1);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack, d.deadLetterQueue), 'QueueName'] } }],
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    expect(d.deadLetterQueueAlarm).toBeDefined();
  });

  test('its description says what it means and where to look', () => {
    const { stack, d } = synth();

    const description = JSON.stringify(stack.resolve((d.deadLetterQueueAlarm!.node.defaultChild as any).alarmDescription));

    expect(description).toMatch(/dead-letter queue/);
    expect(description).toMatch(/DNS records .* may be stale/);
    expect(description).toContain(logicalId(stack, d.logGroup));
    expect(description).toMatch(/redrive/);
  });

  test('can be turned off', () => {
    const { d, template } = synth({ deadLetterAlarm: false });

    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    expect(d.deadLetterQueueAlarm).toBeUndefined();
  });
});

describe('public members', () => {
  test('expose the created resources', () => {
    const { stack, d } = synth();
    const type = (c: any) => (c.node.defaultChild as any).cfnResourceType;

    expect(type(d.queue)).toBe('AWS::SQS::Queue');
    expect(type(d.deadLetterQueue)).toBe('AWS::SQS::Queue');
    expect(d.queue).not.toBe(d.deadLetterQueue);
    expect(type(d.rule)).toBe('AWS::Events::Rule');
    expect(type(d.logGroup)).toBe('AWS::Logs::LogGroup');
    expect(type(d.handler)).toBe('AWS::Lambda::Function');
    expect(type(d.deadLetterQueueAlarm)).toBe('AWS::CloudWatch::Alarm');
    expect(Stack.of(d.handler)).toBe(stack);
  });
});
