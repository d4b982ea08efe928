/**
 * Validation: the pure helpers (names, TTLs, numbers, durations) table by table, then every error
 * addService and the constructor raise, and the checks skipped for values only known at deploy time.
 */
import { CfnParameter, CfnResource, Duration, Fn, Lazy, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { discovery, fargateService, logicalId, render, renderedConfig, roleStatements, testStack, TestStack } from './helpers';
import { EcsPublicDiscovery, EcsPublicDiscoveryProps } from '../../src';
import {
  checkWholeNumber,
  normalizedRecordName,
  recordNameFor,
  ttlSeconds,
  wholeMinutes,
  wholeSeconds,
} from '../../src/private/validation';

const label63 = 'a'.repeat(63);
/** A relative name that makes the record name exactly 253 characters long in example.com (11 characters + dot). */
const longest = `${label63}.${label63}.${label63}.${'b'.repeat(253 - 12 - 3 * 64)}`;

describe('recordNameFor', () => {
  test.each([
    ['mc', 'example.com', 'mc.example.com.'],
    ['MC', 'example.com', 'mc.example.com.'],
    ['eu.mc', 'example.com', 'eu.mc.example.com.'],
    ['My-Game_1', 'example.com', 'my-game_1.example.com.'],
    ['_srv', 'example.com', '_srv.example.com.'],
    ['0', 'example.com', '0.example.com.'],
    ['mc', 'Example.COM.', 'mc.example.com.'],
    ['example.com.', 'example.com', 'example.com.'],
    ['EXAMPLE.com.', 'example.com.', 'example.com.'],
    ['Eu.Mc.Example.Com.', 'example.com', 'eu.mc.example.com.'],
    ['mc.example.com', 'example.com', 'mc.example.com.example.com.'],
    [label63, 'example.com', `${label63}.example.com.`],
    [longest, 'example.com', `${longest}.example.com.`],
  ])('%s in %s is %s', (name, zone, fqdn) => {
    expect(recordNameFor(name, zone)).toBe(fqdn);
  });

  test('the longest accepted name is 253 characters without the trailing dot', () => {
    expect(recordNameFor(longest, 'example.com').length).toBe(254);
  });

  test.each([
    ['', /must not be empty: give a name relative to the hosted zone/],
    ['.', /'\.' contains an empty label/],
    ['..', /'\.\.' contains an empty label/],
    ['a..b', /'a\.\.b' contains an empty label .*separate non-empty labels with single dots/],
    ['.mc', /'\.mc' contains an empty label/],
    ['mc..', /'mc\.\.' contains an empty label/],
    ['*', /'\*' contains a wildcard '\*'.*wildcards are not supported/],
    ['*.mc', /'\*\.mc' contains a wildcard/],
    ['m*c', /'m\*c' contains a wildcard/],
    ['mc!', /'mc!' has the label 'mc!' with character\(s\) "!" that are not allowed: use only letters, digits, '_' and '-'/],
    ['m c', /'m c' has the label 'm c' with character\(s\) " "/],
    ['mü', /'mü' has the label 'mü' with character\(s\) "ü"/],
    ['a/b', /character\(s\) "\/"/],
    ['a@b.c', /the label 'a@b' with character\(s\) "@"/],
    ['xn--c$', /character\(s\) "\$"/],
    [`${label63}a`, /has a label of 64 characters .*at most 63 per label/],
    ['-mc', /the label '-mc' that starts or ends with '-'/],
    ['mc-', /the label 'mc-' that starts or ends with '-'/],
    ['eu.-mc', /the label '-mc' that starts or ends with '-'/],
    [`${longest}b`, /makes the record name '.*' 254 characters long; DNS allows at most 253 \(255 octets on the wire\)/],
    ['mc.other.com.', /'mc\.other\.com\.' is absolute .* not inside the hosted zone 'example\.com': use a name relative to the zone \(e\.g\. 'mc'/],
    ['badexample.com.', /'badexample\.com\.' is absolute .* not inside the hosted zone 'example\.com'/],
    ['com.', /'com\.' is absolute .* not inside the hosted zone/],
    ['example.com.evil.', /not inside the hosted zone/],
  ])('%j is refused', (name, message) => {
    expect(() => recordNameFor(name, 'example.com')).toThrow(message);
  });

  test('a name given as a token is not checked', () => {
    const name = Lazy.string({ produce: () => 'anything' });

    const fqdn = recordNameFor(name, 'Example.com');

    expect(fqdn).toBe(`${name}.example.com.`);
  });

  test('with a zone given as a token, labels are still checked but not the zone', () => {
    const zone = Lazy.string({ produce: () => 'example.com' });

    expect(recordNameFor('MC', zone)).toBe(`mc.${zone}.`);
    expect(recordNameFor('mc.other.org.', zone)).toBe('mc.other.org.');
    expect(() => recordNameFor('m!c', zone)).toThrow(/character\(s\) "!"/);
  });
});

describe('normalizedRecordName', () => {
  test.each([
    ['mc.example.com.', 'mc.example.com'],
    ['MC.Example.com.', 'mc.example.com'],
    ['example.com', 'example.com'],
  ])('%s is %s', (fqdn, normalized) => {
    expect(normalizedRecordName(fqdn)).toBe(normalized);
  });

  test('a trailing dot after a token is removed, the token kept', () => {
    const zone = Lazy.string({ produce: () => 'example.com' });

    expect(normalizedRecordName(`mc.${zone}.`)).toBe(`mc.${zone}`);
  });
});

describe('ttlSeconds', () => {
  test.each([
    [Duration.seconds(0), 0],
    [Duration.seconds(1), 1],
    [Duration.minutes(5), 300],
    [Duration.hours(1), 3600],
    [Duration.millis(2000), 2],
    [Duration.seconds(2147483647), 2147483647],
  ])('%s is %d seconds', (ttl, seconds) => {
    expect(ttlSeconds(ttl)).toBe(seconds);
  });

  test.each([
    [Duration.millis(1500), /dnsTtl 1 second 500 millis is not a whole number of seconds .*give e\.g\. Duration\.seconds\(30\)/],
    [Duration.millis(1), /dnsTtl 1 milli is not a whole number of seconds/],
    [Duration.seconds(1.5), /dnsTtl .* is not a whole number of seconds/],
    [Duration.seconds(2147483648), /dnsTtl .* is 2147483648 seconds, outside the range Route53 accepts \(0\.\.2147483647 seconds\)/],
    [Duration.days(30000), /is 2592000000 seconds, outside the range Route53 accepts/],
  ])('%s is refused', (ttl, message) => {
    expect(() => ttlSeconds(ttl)).toThrow(message);
  });

  test('a token in seconds is returned untouched', () => {
    const value = Token.asNumber(Lazy.number({ produce: () => 30 }));

    expect(ttlSeconds(Duration.seconds(value))).toBe(value);
  });

  test('a token in another unit is refused with the way to give it', () => {
    const value = Token.asNumber(Lazy.number({ produce: () => 1 }));

    expect(() => ttlSeconds(Duration.minutes(value))).toThrow(/dnsTtl comes from a token in another unit.*give it as Duration\.seconds\(<token>\)/);
  });
});

describe('number and duration helpers', () => {
  test.each([
    [0, /batchSize is 0, but it must be a whole number from 1 to 10: hint/],
    [11, /batchSize is 11, but it must be a whole number from 1 to 10/],
    [2.5, /batchSize is 2.5, but it must be a whole number/],
    [NaN, /batchSize is NaN/],
  ])('checkWholeNumber refuses %d', (value, message) => {
    expect(() => checkWholeNumber('batchSize', value, 1, 10, 'hint')).toThrow(message);
  });

  test.each([undefined, 1, 10, Token.asNumber(Lazy.number({ produce: () => 99 }))])('checkWholeNumber accepts %s', (value) => {
    expect(() => checkWholeNumber('batchSize', value, 1, 10, 'hint')).not.toThrow();
  });

  test('wholeSeconds', () => {
    expect(wholeSeconds('w', Duration.minutes(1), 0, 60, 'hint')).toBe(60);
    expect(() => wholeSeconds('w', Duration.seconds(61), 0, 60, 'hint')).toThrow(/w is 1 minute 1 second, but it must be from 0 to 60 seconds: hint/);
    expect(() => wholeSeconds('w', Duration.millis(10), 0, 60, 'hint')).toThrow(/w 10 millis is not a whole number of seconds .*: hint/);
  });

  test('wholeMinutes', () => {
    expect(wholeMinutes('i', Duration.hours(1), 1, 'hint')).toBe(60);
    expect(() => wholeMinutes('i', Duration.minutes(0), 1, 'hint')).toThrow(/i is 0 minutes, but it must be at least 1 minute\(s\): hint/);
    expect(() => wholeMinutes('i', Duration.seconds(90), 1, 'hint')).toThrow(/i 1 minute 30 seconds is not a whole number of minutes .*: hint/);
  });
});

describe('constructor', () => {
  test.each<[string, Partial<EcsPublicDiscoveryProps>, RegExp]>([
    ['batchSize 0', { batchSize: 0 }, /batchSize is 0, but it must be a whole number from 1 to 10000: it is the largest number of messages/],
    ['batchSize 10001', { batchSize: 10001 }, /batchSize is 10001, but it must be a whole number from 1 to 10000/],
    ['batchSize 1.5', { batchSize: 1.5 }, /batchSize is 1.5, but it must be a whole number/],
    ['maxBatchingWindow 6 minutes', { maxBatchingWindow: Duration.minutes(6) }, /maxBatchingWindow is 6 minutes, but it must be from 0 to 300 seconds/],
    ['maxBatchingWindow 500 ms', { maxBatchingWindow: Duration.millis(500) }, /maxBatchingWindow 500 millis is not a whole number of seconds/],
    ['batchSize 11 without a window', { batchSize: 11, maxBatchingWindow: Duration.seconds(0) },
      /batchSize is 11 with a maxBatchingWindow of 0 seconds, but Lambda requires a batching window of at least 1 second for batches larger than 10/],
    ['default batchSize without a window', { maxBatchingWindow: Duration.seconds(0) }, /batchSize is 100 with a maxBatchingWindow of 0 seconds/],
    ['maxConcurrency 1', { maxConcurrency: 1 }, /maxConcurrency is 1, but it must be a whole number from 2 to 1000/],
    ['maxConcurrency 1001', { maxConcurrency: 1001 }, /maxConcurrency is 1001, but it must be a whole number from 2 to 1000/],
    ['reconciliationInterval 0', { reconciliationInterval: Duration.minutes(0) }, /reconciliationInterval is 0 minutes, but it must be at least 1 minute/],
    ['reconciliationInterval 30 s', { reconciliationInterval: Duration.seconds(30) }, /reconciliationInterval 30 seconds is not a whole number of minutes/],
    ['reconciliationInterval 90 s', { reconciliationInterval: Duration.seconds(90) }, /reconciliationInterval 1 minute 30 seconds is not a whole number of minutes/],
    ['maxReceiveCount 0', { maxReceiveCount: 0 }, /maxReceiveCount is 0, but it must be a whole number from 1 to 1000/],
    ['maxReceiveCount 1001', { maxReceiveCount: 1001 }, /maxReceiveCount is 1001, but it must be a whole number from 1 to 1000/],
  ])('refuses %s', (_title, props, message) => {
    const t = testStack();

    expect(() => discovery(t, props)).toThrow(message);
  });

  test.each<[string, Partial<EcsPublicDiscoveryProps>]>([
    ['the smallest values', { batchSize: 1, maxBatchingWindow: Duration.seconds(0), maxConcurrency: 2, reconciliationInterval: Duration.minutes(1), maxReceiveCount: 1 }],
    ['the largest values', { batchSize: 10000, maxBatchingWindow: Duration.minutes(5), maxConcurrency: 1000, maxReceiveCount: 1000 }],
    ['batchSize 10 without a window', { batchSize: 10, maxBatchingWindow: Duration.seconds(0) }],
    ['an interval in hours', { reconciliationInterval: Duration.hours(2) }],
  ])('accepts %s', (_title, props) => {
    const t = testStack();

    expect(() => discovery(t, props)).not.toThrow();
  });

  test('durations only known at deploy time are not checked', () => {
    const t = testStack();
    const window = new CfnParameter(t.stack, 'Window', { type: 'Number' }).valueAsNumber;
    const interval = new CfnParameter(t.stack, 'Interval', { type: 'Number' }).valueAsNumber;

    discovery(t, { maxBatchingWindow: Duration.seconds(window), reconciliationInterval: Duration.minutes(interval) });

    const template = Template.fromStack(t.stack);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { MaximumBatchingWindowInSeconds: { Ref: 'Window' } });
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: { 'Fn::Join': ['', ['rate(', { Ref: 'Interval' }, ' minutes)']] },
    });
  });

  test('a duration token in another unit is refused with the way to give it', () => {
    const t = testStack();
    const window = new CfnParameter(t.stack, 'Window', { type: 'Number' }).valueAsNumber;

    expect(() => discovery(t, { maxBatchingWindow: Duration.minutes(window) }))
      .toThrow(/maxBatchingWindow comes from a token in another unit.*give it as Duration\.seconds\(<token>\)/);
  });

  test('refuses a hosted zone imported by id only, saying how to import it', () => {
    const t = testStack();
    const hostedZone = route53.HostedZone.fromHostedZoneId(t.stack, 'ById', 'Z123');

    expect(() => new EcsPublicDiscovery(t.stack, 'Discovery', { cluster: t.cluster, hostedZone }))
      .toThrow(/The hosted zone 'Test\/ById' does not expose its name .*HostedZone\.fromHostedZoneAttributes\(\{ hostedZoneId, zoneName \}\).*fromLookup/);
  });

  test('numbers only known at deploy time are not checked', () => {
    const t = testStack();
    const size = new CfnParameter(t.stack, 'BatchSize', { type: 'Number' }).valueAsNumber;
    const count = new CfnParameter(t.stack, 'Receives', { type: 'Number' }).valueAsNumber;

    discovery(t, { batchSize: size, maxReceiveCount: count }).addService({ service: fargateService(t, 'web'), name: 'www' });

    const template = Template.fromStack(t.stack);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: { Ref: 'BatchSize' } });
    template.hasResourceProperties('AWS::SQS::Queue', { RedrivePolicy: Match.objectLike({ maxReceiveCount: { Ref: 'Receives' } }) });
  });
});

describe('addService', () => {
  function ec2Cluster(t: TestStack): ecs.Cluster {
    const cluster = new ecs.Cluster(t.stack, 'Ec2Cluster', { vpc: t.vpc });
    cluster.addCapacity('Capacity', { instanceType: new ec2.InstanceType('t3.micro') });
    return cluster;
  }

  test('refuses a service of another cluster of the app', () => {
    const t = testStack();
    const other = new ecs.Cluster(t.stack, 'Other', { vpc: t.vpc });
    const d = discovery(t);

    expect(() => d.addService({ service: fargateService(t, 'web', { cluster: other }), name: 'www' }))
      .toThrow(/The service 'Test\/Service-web' runs in the cluster 'Test\/Other' but this EcsPublicDiscovery watches the cluster 'Test\/Cluster': register the service with an EcsPublicDiscovery created for its own cluster/);
  });

  test('refuses a service of another imported cluster (concrete ARNs differ)', () => {
    const t = testStack();
    const games = ecs.Cluster.fromClusterAttributes(t.stack, 'Games', { clusterName: 'games', clusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/games', vpc: t.vpc });
    const tools = ecs.Cluster.fromClusterAttributes(t.stack, 'Tools', { clusterName: 'tools', clusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/tools', vpc: t.vpc });
    const d = new EcsPublicDiscovery(t.stack, 'Discovery', { cluster: games, hostedZone: t.zone });

    expect(() => d.addService({ service: fargateService(t, 'web', { cluster: tools }), name: 'www' }))
      .toThrow(/runs in the cluster 'Test\/Tools' but this EcsPublicDiscovery watches the cluster 'Test\/Games'/);
  });

  test('accepts the same cluster through another object (ARNs compared, not objects)', () => {
    const t = testStack();
    const arn = 'arn:aws:ecs:eu-west-1:123456789012:cluster/games';
    const first = ecs.Cluster.fromClusterAttributes(t.stack, 'First', { clusterName: 'games', clusterArn: arn, vpc: t.vpc });
    const second = ecs.Cluster.fromClusterAttributes(t.stack, 'Second', { clusterName: 'games', clusterArn: arn, vpc: t.vpc });
    const same = ecs.Cluster.fromClusterAttributes(t.stack, 'Same', { clusterName: t.cluster.clusterName, clusterArn: t.cluster.clusterArn, vpc: t.vpc });
    const d1 = new EcsPublicDiscovery(t.stack, 'D1', { cluster: first, hostedZone: t.zone });
    const d2 = discovery(t);

    expect(() => d1.addService({ service: fargateService(t, 'a', { cluster: second }), name: 'a' })).not.toThrow();
    expect(() => d2.addService({ service: fargateService(t, 'b', { cluster: same }), name: 'b' })).not.toThrow();
  });

  test('does not compare a cluster ARN only known at deploy time', () => {
    const t = testStack();
    const imported = ecs.Cluster.fromClusterAttributes(t.stack, 'Imported', {
      clusterName: Fn.importValue('ClusterName'),
      clusterArn: Fn.importValue('ClusterArn'),
      vpc: t.vpc,
    });
    const d = discovery(t);

    expect(() => d.addService({ service: fargateService(t, 'web', { cluster: imported }), name: 'www' })).not.toThrow();
  });

  test.each([
    [ecs.NetworkMode.BRIDGE, 'bridge'],
    [ecs.NetworkMode.HOST, 'host'],
    [ecs.NetworkMode.NONE, 'none'],
  ])('refuses a task definition in the %s network mode', (networkMode, shown) => {
    const t = testStack();
    const cluster = ec2Cluster(t);
    const taskDefinition = new ecs.Ec2TaskDefinition(t.stack, 'Ec2TaskDef', { networkMode });
    taskDefinition.addContainer('app', { image: ecs.ContainerImage.fromRegistry('nginx'), memoryLimitMiB: 128 });
    const service = new ecs.Ec2Service(t.stack, 'Ec2', { cluster, taskDefinition, minHealthyPercent: 100 });
    const d = new EcsPublicDiscovery(t.stack, 'Discovery', { cluster, hostedZone: t.zone });

    expect(() => d.addService({ service, name: 'www' }))
      .toThrow(new RegExp(`uses the task definition 'Test/Ec2TaskDef' with the network mode '${shown}', but only the 'awsvpc' mode .*set networkMode: ecs\\.NetworkMode\\.AWS_VPC`));
  });

  test('refuses an EC2 service in the awsvpc mode: it cannot assign public IPs', () => {
    const t = testStack();
    const cluster = ec2Cluster(t);
    const taskDefinition = new ecs.Ec2TaskDefinition(t.stack, 'Ec2TaskDef', { networkMode: ecs.NetworkMode.AWS_VPC });
    taskDefinition.addContainer('app', { image: ecs.ContainerImage.fromRegistry('nginx'), memoryLimitMiB: 128 });
    const service = new ecs.Ec2Service(t.stack, 'Ec2', { cluster, taskDefinition, minHealthyPercent: 100 });
    const d = new EcsPublicDiscovery(t.stack, 'Discovery', { cluster, hostedZone: t.zone });

    expect(() => d.addService({ service, name: 'www' }))
      .toThrow(/The service 'Test\/Ec2' is an EC2 service: ECS cannot assign public IPs to awsvpc tasks on EC2 instances .*run it as a FargateService with assignPublicIp: true/);
  });

  test('refuses a Fargate service that does not assign public IPs', () => {
    const t = testStack();
    const d = discovery(t);

    expect(() => d.addService({ service: fargateService(t, 'web', { assignPublicIp: false }), name: 'www' }))
      .toThrow(/The service 'Test\/Service-web' does not assign public IPs to its tasks \(assignPublicIp is DISABLED\), so there is no address to publish: set assignPublicIp: true/);
  });

  test('refuses a service whose public IP setting was removed', () => {
    const t = testStack();
    const service = fargateService(t, 'web');
    (service.node.defaultChild as ecs.CfnService).networkConfiguration = { awsvpcConfiguration: { subnets: ['subnet-1'] } };
    const d = discovery(t);

    expect(() => d.addService({ service, name: 'www' })).toThrow(/\(assignPublicIp is unset\)/);
  });

  test.each([
    ['assignPublicIp', (cfn: ecs.CfnService) => {
      cfn.networkConfiguration = { awsvpcConfiguration: { subnets: ['subnet-1'], assignPublicIp: Fn.importValue('AssignPublicIp') } };
    }],
    ['awsvpcConfiguration', (cfn: ecs.CfnService) => {
      cfn.networkConfiguration = { awsvpcConfiguration: Token.asAny(Fn.importValue('Awsvpc')) };
    }],
    ['networkConfiguration', (cfn: ecs.CfnService) => {
      cfn.networkConfiguration = Token.asAny(Fn.importValue('Network'));
    }],
  ])('does not check the public IP setting when %s is only known at deploy time', (_what, override) => {
    const t = testStack();
    const service = fargateService(t, 'web', { assignPublicIp: false });
    override(service.node.defaultChild as ecs.CfnService);
    const d = discovery(t);

    expect(() => d.addService({ service, name: 'www' })).not.toThrow();
  });

  test('reads a public IP setting produced lazily, as the L2 service does', () => {
    const t = testStack();
    const service = fargateService(t, 'web');
    (service.node.defaultChild as ecs.CfnService).networkConfiguration = Lazy.any({
      produce: () => ({ awsvpcConfiguration: { subnets: ['subnet-1'], assignPublicIp: Lazy.string({ produce: () => 'DISABLED' }) } }),
    });
    const d = discovery(t);

    expect(() => d.addService({ service, name: 'www' })).toThrow(/\(assignPublicIp is DISABLED\)/);
  });

  test('refuses a service whose default child is not its AWS::ECS::Service resource', () => {
    const t = testStack();
    const service = fargateService(t, 'web');
    service.node.defaultChild = new CfnResource(service, 'Other', { type: 'Custom::Other' });
    const d = discovery(t);

    expect(() => d.addService({ service, name: 'www' }))
      .toThrow(/The service 'Test\/Service-web' has no AWS::ECS::Service resource as its default child/);
  });

  test('refuses a service registered twice', () => {
    const t = testStack();
    const service = fargateService(t, 'web');
    const d = discovery(t);
    d.addService({ service, name: 'www' });

    expect(() => d.addService({ service, name: 'web' }))
      .toThrow(/The service 'Test\/Service-web' is already registered with the name 'www': a service can be registered only once; remove the second addService\(\) call/);
  });

  test('refuses a second construct for the same ECS service name', () => {
    const t = testStack();
    const d = discovery(t);
    d.addService({ service: fargateService(t, 'web'), name: 'www' });
    const twin = new ecs.FargateService(t.stack, 'Twin', { cluster: t.cluster, taskDefinition: t.taskDefinition, serviceName: 'web', assignPublicIp: true, minHealthyPercent: 100 });

    expect(() => d.addService({ service: twin, name: 'twin' })).toThrow(/The service 'Test\/Twin' is already registered with the name 'www'/);
  });

  test.each([
    ['www', 'www'],
    ['www', 'WWW'],
    ['www', 'www.example.com.'],
    ['eu.mc', 'EU.mc.Example.com.'],
  ])('refuses a second service with the same name (%s, then %s)', (first, second) => {
    const t = testStack();
    const d = discovery(t);
    d.addService({ service: fargateService(t, 'one'), name: first });

    expect(() => d.addService({ service: fargateService(t, 'two'), name: second }))
      .toThrow(new RegExp(`The DNS name '${second.replace(/\./g, '\\.')}' of the service 'Test/Service-two' is the record name '.*', which is already published for the service 'Test/Service-one' \\(given as '${first.replace(/\./g, '\\.')}'\\): a name belongs to exactly one service`));
  });

  test.each([
    ['', /must not be empty/],
    ['a..b', /contains an empty label/],
    ['*', /contains a wildcard/],
    ['mc.other.com.', /not inside the hosted zone 'example\.com'/],
    ['bad name', /character\(s\) " "/],
  ])('refuses the name %j', (name, message) => {
    const t = testStack();
    const d = discovery(t);

    expect(() => d.addService({ service: fargateService(t, 'web'), name })).toThrow(message);
  });

  test.each([
    [Duration.millis(500), /dnsTtl 500 millis is not a whole number of seconds/],
    [Duration.seconds(2147483648), /outside the range Route53 accepts \(0\.\.2147483647 seconds\)/],
  ])('refuses the TTL %s', (dnsTtl, message) => {
    const t = testStack();
    const d = discovery(t);

    expect(() => d.addService({ service: fargateService(t, 'web'), name: 'www', dnsTtl })).toThrow(message);
  });

  test('a refused service leaves nothing behind', () => {
    const t = testStack();
    const d = discovery(t);
    const service = fargateService(t, 'web');

    expect(() => d.addService({ service, name: 'www', dnsTtl: Duration.millis(1) })).toThrow();

    const template = Template.fromStack(t.stack);
    template.hasResourceProperties('AWS::ECS::Service', { Tags: Match.absent(), PropagateTags: Match.absent() });
    expect(renderedConfig(template).services).toEqual([]);
  });
});

describe('values only known at deploy time', () => {
  test('a zone name from a token is refused: the IAM conditions compare names exactly', () => {
    const t = testStack();
    const zone = route53.HostedZone.fromHostedZoneAttributes(t.stack, 'Imported', { hostedZoneId: 'Z123', zoneName: Fn.importValue('ZoneName') });

    expect(() => new EcsPublicDiscovery(t.stack, 'Discovery', { cluster: t.cluster, hostedZone: zone })).toThrow(
      /The name of the hosted zone 'Test\/Imported' is only known at deploy time .*give the zone name as a literal/);
    const parameter = new CfnParameter(t.stack, 'ZoneName', { type: 'String' }).valueAsString;
    const fromParameter = route53.HostedZone.fromHostedZoneAttributes(t.stack, 'FromParameter', { hostedZoneId: 'Z123', zoneName: parameter });
    expect(() => new EcsPublicDiscovery(t.stack, 'Discovery2', { cluster: t.cluster, hostedZone: fromParameter })).toThrow(/only known at deploy time/);
  });

  test('a literal zone name is normalized: lower case, no trailing dot', () => {
    const t = testStack();
    const zone = route53.HostedZone.fromHostedZoneAttributes(t.stack, 'Imported', { hostedZoneId: 'Z123', zoneName: 'Example.COM.' });
    const d = new EcsPublicDiscovery(t.stack, 'Discovery', { cluster: t.cluster, hostedZone: zone });
    d.addService({ service: fargateService(t, 'web'), name: 'Mc' });

    const template = Template.fromStack(t.stack);
    expect(renderedConfig(template).services[0].fqdn).toBe('mc.example.com.');
    expect(roleStatements(template).ChangeRegisteredRecords.Condition['ForAllValues:StringEquals']['route53:ChangeResourceRecordSetsNormalizedRecordNames'])
      .toEqual(['mc.example.com']);
  });

  test('a DNS name from a token is refused; a TTL from a token is published as given', () => {
    const t = testStack();
    const d = discovery(t);
    const name = new CfnParameter(t.stack, 'Name', { type: 'String' }).valueAsString;
    expect(() => d.addService({ service: fargateService(t, 'web'), name })).toThrow(
      /The DNS name of the service 'Test\/Service-web' is only known at deploy time .*give the name as a literal string/);

    const ttl = new CfnParameter(t.stack, 'Ttl', { type: 'Number' }).valueAsNumber;
    d.addService({ service: fargateService(t, 'game'), name: 'play', dnsTtl: Duration.seconds(ttl) });
    const template = Template.fromStack(t.stack);
    template.hasResourceProperties('AWS::ECS::Service', {
      Tags: [{ Key: 'public-discovery:name', Value: 'play' }, { Key: 'public-discovery:ttl', Value: { Ref: 'Ttl' } }],
    });
    const config = render(template.toJSON().Resources[logicalId(t.stack, d.node.findChild('Handler'))]
      .Properties.Environment.Variables.PUBLIC_DISCOVERY_CONFIG);
    expect(config).toContain('"name":"play","fqdn":"play.example.com.","ttl":<Ttl>,"ttlTagged":true');
  });

  test('tag propagation from a token is left alone, without a warning', () => {
    const t = testStack();
    const service = fargateService(t, 'web');
    (service.node.defaultChild as ecs.CfnService).propagateTags = Fn.importValue('Propagate');
    discovery(t).addService({ service, name: 'www' });

    const template = Template.fromStack(t.stack);
    template.hasResourceProperties('AWS::ECS::Service', { PropagateTags: { 'Fn::ImportValue': 'Propagate' } });
    expect(logicalId(t.stack, service)).toMatch(/^Serviceweb/);
  });
});
