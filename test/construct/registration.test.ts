/**
 * What addService produces: the handler configuration, the tags and tag propagation on the service,
 * and the warnings given at synthesis.
 */
import { Annotations as CoreAnnotations, Duration, Tags } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { discovery, fargateService, logicalId, renderedConfig, testStack } from './helpers';
import { EcsPublicDiscovery } from '../../src';
import { ENV, readConfig } from '../../src/shared/contract';

describe('handler configuration', () => {
  test('lists the cluster and every registered service, references resolved at deploy time', () => {
    const t = testStack();
    const d = discovery(t);
    d.addService({ service: fargateService(t, 'web'), name: 'WWW' });
    d.addService({ service: fargateService(t, 'game'), name: 'play.EU', dnsTtl: Duration.seconds(30) });
    d.addService({ service: fargateService(t, 'apex'), name: 'example.com.', dnsTtl: Duration.minutes(2) });

    const config = renderedConfig(Template.fromStack(t.stack));

    const zoneId = `<${logicalId(t.stack, t.zone)}>`;
    expect(config).toEqual({
      clusterArn: `<${logicalId(t.stack, t.cluster)}.Arn>`,
      services: [
        { serviceName: 'web', name: 'WWW', fqdn: 'www.example.com.', ttl: 60, ttlTagged: false, hostedZoneId: zoneId },
        { serviceName: 'game', name: 'play.EU', fqdn: 'play.eu.example.com.', ttl: 30, ttlTagged: true, hostedZoneId: zoneId },
        { serviceName: 'apex', name: 'example.com.', fqdn: 'example.com.', ttl: 120, ttlTagged: true, hostedZoneId: zoneId },
      ],
      fingerprint: expect.stringMatching(/^[0-9A-F]{8}$/),
    });
  });

  test('is accepted by the handler\'s readConfig once deployed', () => {
    const t = testStack();
    const d = discovery(t);
    d.addService({ service: fargateService(t, 'web'), name: 'www', dnsTtl: Duration.seconds(0) });
    const raw = JSON.stringify(renderedConfig(Template.fromStack(t.stack)))
      .replace(`<${logicalId(t.stack, t.cluster)}.Arn>`, 'arn:aws:ecs:eu-west-1:123456789012:cluster/games')
      .replace(`<${logicalId(t.stack, t.zone)}>`, 'Z1R8UBAEXAMPLE');

    expect(readConfig({ [ENV.CONFIG]: raw })).toEqual({
      clusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/games',
      services: [{ serviceName: 'web', name: 'www', fqdn: 'www.example.com.', ttl: 0, ttlTagged: true, hostedZoneId: 'Z1R8UBAEXAMPLE' }],
    });
  });

  test('is a plain JSON string when the cluster and the zone are concrete', () => {
    const t = testStack();
    const cluster = ecs.Cluster.fromClusterAttributes(t.stack, 'Imported', {
      clusterName: 'games',
      clusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/games',
      vpc: t.vpc,
    });
    const hostedZone = route53.HostedZone.fromHostedZoneAttributes(t.stack, 'ImportedZone', { hostedZoneId: 'Z1R8UBAEXAMPLE', zoneName: 'Example.com.' });
    const d = new EcsPublicDiscovery(t.stack, 'Discovery', { cluster, hostedZone });
    d.addService({ service: fargateService(t, 'minecraft', { cluster }), name: 'mc' });

    const value = Template.fromStack(t.stack).toJSON().Resources[logicalId(t.stack, d.node.findChild('Handler'))]
      .Properties.Environment.Variables[ENV.CONFIG];

    expect(typeof value).toBe('string');
    expect(readConfig({ [ENV.CONFIG]: value })).toEqual({
      clusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/games',
      services: [{ serviceName: 'minecraft', name: 'mc', fqdn: 'mc.example.com.', ttl: 60, ttlTagged: false, hostedZoneId: 'Z1R8UBAEXAMPLE' }],
    });
  });

  test('is empty of services when none is registered', () => {
    const t = testStack();
    discovery(t);

    expect(renderedConfig(Template.fromStack(t.stack)).services).toEqual([]);
  });
});

describe('tags', () => {
  test('the service carries the name exactly as given and the TTL in whole seconds', () => {
    const t = testStack();
    const d = discovery(t);
    const service = fargateService(t, 'game');
    d.addService({ service, name: 'Play.EU', dnsTtl: Duration.minutes(1) });

    Template.fromStack(t.stack).hasResourceProperties('AWS::ECS::Service', {
      ServiceName: 'game',
      Tags: [
        { Key: 'public-discovery:name', Value: 'Play.EU' },
        { Key: 'public-discovery:ttl', Value: '60' },
      ],
    });
  });

  test('no TTL tag when no dnsTtl is given', () => {
    const t = testStack();
    discovery(t).addService({ service: fargateService(t, 'web'), name: 'www' });

    Template.fromStack(t.stack).hasResourceProperties('AWS::ECS::Service', {
      Tags: [{ Key: 'public-discovery:name', Value: 'www' }],
    });
  });

  test('only the ECS service resource is tagged, not its security group', () => {
    const t = testStack();
    const service = fargateService(t, 'web');
    discovery(t).addService({ service, name: 'www' });

    const groups = Template.fromStack(t.stack).findResources('AWS::EC2::SecurityGroup');

    expect(Object.keys(groups)).toHaveLength(1);
    expect(JSON.stringify(groups)).not.toContain('public-discovery');
  });

  test('a Tags aspect applied to the whole stack cannot change the registered name', () => {
    const t = testStack();
    discovery(t).addService({ service: fargateService(t, 'web'), name: 'www' });
    Tags.of(t.stack).add('public-discovery:name', 'spoofed');
    Tags.of(t.stack).add('team', 'games');

    Template.fromStack(t.stack).hasResourceProperties('AWS::ECS::Service', {
      Tags: Match.arrayWith([{ Key: 'public-discovery:name', Value: 'www' }, { Key: 'team', Value: 'games' }]),
    });
  });
});

describe('tag propagation', () => {
  test('is set to SERVICE when the service sets none', () => {
    const t = testStack();
    discovery(t).addService({ service: fargateService(t, 'web'), name: 'www' });

    Template.fromStack(t.stack).hasResourceProperties('AWS::ECS::Service', { PropagateTags: 'SERVICE' });
    Annotations.fromStack(t.stack).hasNoWarning('*', Match.stringLikeRegexp('propagates tags'));
  });

  test('SERVICE is kept without a warning', () => {
    const t = testStack();
    discovery(t).addService({ service: fargateService(t, 'web', { propagateTags: ecs.PropagatedTagSource.SERVICE }), name: 'www' });

    Template.fromStack(t.stack).hasResourceProperties('AWS::ECS::Service', { PropagateTags: 'SERVICE' });
    Annotations.fromStack(t.stack).hasNoWarning('*', Match.stringLikeRegexp('propagates tags'));
  });

  test('TASK_DEFINITION is kept, with a warning on the service explaining the consequence and the fix', () => {
    const t = testStack();
    const service = fargateService(t, 'web', { propagateTags: ecs.PropagatedTagSource.TASK_DEFINITION });
    discovery(t).addService({ service, name: 'www' });

    Template.fromStack(t.stack).hasResourceProperties('AWS::ECS::Service', { PropagateTags: 'TASK_DEFINITION' });
    Annotations.fromStack(t.stack).hasWarning(`/${service.node.path}`, Match.stringLikeRegexp(
      'propagates tags from TASK_DEFINITION, so its tasks will not carry the tags public-discovery:name/public-discovery:ttl'
      + '.*still publishes.*propagateTags: ecs.PropagatedTagSource.SERVICE.*\\[ack: cdk-ecs-public-discovery:propagateTags\\]'));
  });

  test('an explicit NONE on the resource is kept, with a warning', () => {
    const t = testStack();
    const service = fargateService(t, 'web');
    (service.node.defaultChild as ecs.CfnService).propagateTags = 'NONE';
    discovery(t).addService({ service, name: 'www' });

    Template.fromStack(t.stack).hasResourceProperties('AWS::ECS::Service', { PropagateTags: 'NONE' });
    Annotations.fromStack(t.stack).hasWarning(`/${service.node.path}`, Match.stringLikeRegexp('propagates tags from NONE'));
  });

  test('the warning can be acknowledged', () => {
    const t = testStack();
    const service = fargateService(t, 'web', { propagateTags: ecs.PropagatedTagSource.TASK_DEFINITION });
    CoreAnnotations.of(t.stack).acknowledgeWarning('cdk-ecs-public-discovery:propagateTags', 'tags come from the task definition');
    discovery(t).addService({ service, name: 'www' });

    Annotations.fromStack(t.stack).hasNoWarning('*', Match.stringLikeRegexp('propagates tags'));
  });
});

describe('warnings about the registrations', () => {
  test('no service registered', () => {
    const t = testStack();
    discovery(t);

    Annotations.fromStack(t.stack).hasWarning('/Test/Discovery', Match.stringLikeRegexp(
      'No service is registered.*call addService\\(\\).*\\[ack: cdk-ecs-public-discovery:noServices\\]'));
  });

  test('no warning once a service is registered, even after construction', () => {
    const t = testStack();
    const d = discovery(t);
    d.addService({ service: fargateService(t, 'web'), name: 'www' });

    const warnings = Annotations.fromStack(t.stack).findWarning('/Test/Discovery', Match.anyValue());

    expect(warnings).toEqual([]);
  });

  test('20 services are fine, without a warning', () => {
    const t = testStack();
    const d = discovery(t);
    for (let i = 1; i <= 20; i++) {
      d.addService({ service: fargateService(t, `s${i}`), name: `s${i}` });
    }

    Annotations.fromStack(t.stack).hasNoWarning('/Test/Discovery', Match.anyValue());
  });
});
