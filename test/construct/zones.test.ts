/**
 * Several hosted zones: `ServiceOptions.additionalZones`, what it registers (one registration per zone and
 * name, the lifecycle resource's names, the envelope's zone ids), the record-write policies of each zone,
 * the defaults (PRIVATE for a private zone), and its validation errors and warnings.
 */
import { Stack, aws_route53 as route53 } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { discovery, fargateService, renderedConfig, render, testStack, TestStack } from './helpers';
import { EcsPublicDiscovery, RecordAddress, ZonePublication } from '../../src';

const NAMES_KEY = 'route53:ChangeResourceRecordSetsNormalizedRecordNames';

interface Zones {
  readonly t: TestStack;
  readonly privateZone: route53.PrivateHostedZone;
  readonly otherZone: route53.PublicHostedZone;
}

function zonesStack(): Zones {
  const t = testStack();
  const privateZone = new route53.PrivateHostedZone(t.stack, 'PrivateZone', { zoneName: 'example.com', vpc: t.vpc });
  const otherZone = new route53.PublicHostedZone(t.stack, 'OtherZone', { zoneName: 'example.net' });
  return { t, privateZone, otherZone };
}

/** The record-write policies: their zone (rendered) and the names they allow, by logical id. */
function writePolicies(template: Template): Array<{ id: string; zone: string; names: string[]; listZone: string }> {
  return Object.entries(template.findResources('AWS::IAM::ManagedPolicy'))
    .filter(([id]) => id.startsWith('DiscoveryRecordWrites'))
    .map(([id, p]) => {
      const [list, change] = p.Properties.PolicyDocument.Statement;
      return { id, zone: render(change.Resource), names: change.Condition['ForAllValues:StringEquals'][NAMES_KEY], listZone: render(list.Resource) };
    });
}

function lifecycleNames(template: Template): any[] {
  return Object.values(template.findResources('Custom::EcsPublicDiscovery'))[0].Properties.Names;
}

const ref = (stack: Stack, zone: route53.IHostedZone) => `<${stack.getLogicalId(zone.node.defaultChild as route53.CfnHostedZone)}>`;

describe('additionalZones', () => {
  test('one registration per zone: same service name and name tag; own zone, name, write group and address scope', () => {
    const { t, privateZone, otherZone } = zonesStack();
    const d = discovery(t);
    d.addService({
      service: fargateService(t, 'web'),
      name: 'web',
      additionalZones: [{ hostedZone: privateZone }, { hostedZone: otherZone, name: 'www' }],
    });
    const template = Template.fromStack(t.stack);
    const services = renderedConfig(template).services;
    expect(services).toEqual([
      { serviceName: 'web', name: 'web', fqdn: 'web.example.com.', ttl: 60, ttlTagged: false, hostedZoneId: ref(t.stack, t.zone) },
      { serviceName: 'web', name: 'web', fqdn: 'web.example.com.', ttl: 60, ttlTagged: false, hostedZoneId: ref(t.stack, privateZone), writeGroup: 1, addressScope: 'private' },
      { serviceName: 'web', name: 'web', fqdn: 'www.example.net.', ttl: 60, ttlTagged: false, hostedZoneId: ref(t.stack, otherZone), writeGroup: 2 },
    ]);
    expect(lifecycleNames(template).map((n: any) => [render(n.hostedZoneId), n.fqdn, n.writeGroup])).toEqual([
      [ref(t.stack, t.zone), 'web.example.com.', undefined],
      [ref(t.stack, privateZone), 'web.example.com.', 1],
      [ref(t.stack, otherZone), 'www.example.net.', 2],
    ]);
    // The service's tags carry the one name given to addService.
    template.hasResourceProperties('AWS::ECS::Service', { Tags: Match.arrayWith([{ Key: 'public-discovery:name', Value: 'web' }]) });
  });

  test('IAM: each zone has its own policy, naming only that zone\'s ARN and only that zone\'s names', () => {
    const { t, privateZone, otherZone } = zonesStack();
    const d = discovery(t);
    d.addService({ service: fargateService(t, 'web'), name: 'web', additionalZones: [{ hostedZone: otherZone, name: 'www' }] });
    d.addService({ service: fargateService(t, 'api'), name: 'api', additionalZones: [{ hostedZone: privateZone, name: 'api-internal' }] });
    const policies = writePolicies(Template.fromStack(t.stack));
    const arn = (zone: route53.IHostedZone) => `arn:<AWS::Partition>:route53:::hostedzone/${ref(t.stack, zone)}`;
    expect(policies.map(p => [p.zone, p.listZone, p.names])).toEqual([
      [arn(t.zone), arn(t.zone), ['web.example.com', 'api.example.com']],
      [arn(otherZone), arn(otherZone), ['www.example.net']],
      [arn(privateZone), arn(privateZone), ['api-internal.example.com']],
    ]);
    // Each policy's logical id hashes its own zone: three different ids.
    expect(new Set(policies.map(p => p.id)).size).toBe(3);
  });

  test('moving a name to another zone of the same name changes its policy\'s logical id (create, then clean up the old one)', () => {
    // Two private zones named example.com: the record name stays internal.example.com, only the zone changes.
    const ids = (which: 'first' | 'second') => {
      const { t, privateZone } = zonesStack();
      const secondZone = new route53.PrivateHostedZone(t.stack, 'SecondPrivateZone', { zoneName: 'example.com', vpc: t.vpc });
      discovery(t).addService({
        service: fargateService(t, 'web'), name: 'web', additionalZones: [{ hostedZone: which === 'first' ? privateZone : secondZone, name: 'internal' }],
      });
      const policies = writePolicies(Template.fromStack(t.stack));
      expect(policies[1].names).toEqual(['internal.example.com']);
      return policies.map(p => p.id);
    };
    const before = ids('first');
    const after = ids('second');
    expect(before[0]).toBe(after[0]);
    expect(before[1]).not.toBe(after[1]);
  });

  test('PRIVATE by default for a PrivateHostedZone, PUBLIC for a public or imported zone; an explicit address wins', () => {
    const { t, privateZone, otherZone } = zonesStack();
    const imported = route53.HostedZone.fromHostedZoneAttributes(t.stack, 'Imported', { hostedZoneId: 'Z0IMPORTED', zoneName: 'example.org' });
    const d = discovery(t);
    d.addService({ service: fargateService(t, 'web'), name: 'web', additionalZones: [{ hostedZone: privateZone }, { hostedZone: otherZone }, { hostedZone: imported }] });
    d.addService({ service: fargateService(t, 'api'), name: 'api', additionalZones: [{ hostedZone: privateZone, address: RecordAddress.PUBLIC }] });
    const scopes = renderedConfig(Template.fromStack(t.stack)).services.map((s: any) => [s.fqdn, render(s.hostedZoneId), s.addressScope]);
    expect(scopes).toEqual([
      ['web.example.com.', ref(t.stack, t.zone), undefined],
      ['web.example.com.', ref(t.stack, privateZone), 'private'],
      ['web.example.net.', ref(t.stack, otherZone), undefined],
      ['web.example.org.', 'Z0IMPORTED', undefined],
      ['api.example.com.', ref(t.stack, t.zone), undefined],
      ['api.example.com.', ref(t.stack, privateZone), undefined],
    ]);
  });

  test('a zone of the app associated with VPCs through its L1 counts as private', () => {
    const { t } = zonesStack();
    const zone = new route53.HostedZone(t.stack, 'VpcZone', { zoneName: 'internal.example', vpcs: [t.vpc] });
    discovery(t).addService({ service: fargateService(t, 'web'), name: 'web', additionalZones: [{ hostedZone: zone }] });
    expect(renderedConfig(Template.fromStack(t.stack)).services[1]).toMatchObject({ fqdn: 'web.internal.example.', addressScope: 'private' });
  });

  describe('the default address is decided at synthesis', () => {
    test('a HostedZone given its VPC after addService gets the private address, without a warning', () => {
      const { t } = zonesStack();
      const zone = new route53.HostedZone(t.stack, 'LaterPrivate', { zoneName: 'internal.example' });
      discovery(t).addService({ service: fargateService(t, 'web'), name: 'web', additionalZones: [{ hostedZone: zone }] });
      zone.addVpc(t.vpc);
      expect(renderedConfig(Template.fromStack(t.stack)).services[1]).toEqual(expect.objectContaining({ fqdn: 'web.internal.example.', addressScope: 'private' }));
      Annotations.fromStack(t.stack).hasNoWarning('*', Match.stringLikeRegexp('addresses in the'));
    });

    test('a HostedZone that is never given a VPC keeps the public address', () => {
      const { t } = zonesStack();
      const zone = new route53.HostedZone(t.stack, 'StaysPublic', { zoneName: 'internal.example' });
      discovery(t).addService({ service: fargateService(t, 'web'), name: 'web', additionalZones: [{ hostedZone: zone }] });
      expect(renderedConfig(Template.fromStack(t.stack)).services[1]).not.toHaveProperty('addressScope');
    });

    test('the warnings look at the zone at synthesis: an explicit public address in a zone given its VPC later', () => {
      const { t } = zonesStack();
      const zone = new route53.HostedZone(t.stack, 'LaterPrivate', { zoneName: 'internal.example' });
      discovery(t).addService({ service: fargateService(t, 'web'), name: 'web', additionalZones: [{ hostedZone: zone, address: RecordAddress.PUBLIC }] });
      zone.addVpc(t.vpc);
      const template = Template.fromStack(t.stack);
      expect(renderedConfig(template).services[1]).not.toHaveProperty('addressScope');
      Annotations.fromStack(t.stack).hasWarning('*', Match.stringLikeRegexp('public addresses in the private zone \'internal.example\''));
    });

    test('the configuration measures a default decided at synthesis at its longest (private), as for a private zone', () => {
      // How many services stay inline in the function's environment before the registrations move to SSM.
      const inlineCapacity = (kind: 'private' | 'undecided') => {
        const { t } = zonesStack();
        const zone = kind === 'private'
          ? new route53.PrivateHostedZone(t.stack, 'Internal', { zoneName: 'internal.example', vpc: t.vpc })
          : new route53.HostedZone(t.stack, 'Internal', { zoneName: 'internal.example' });
        const d = discovery(t);
        for (let i = 0; i < 100; i++) {
          d.addService({ service: fargateService(t, `svc-${i}`), name: `svc-${i}`, additionalZones: [{ hostedZone: zone }] });
          if (d.node.tryFindChild('Registrations1')) {
            return i;
          }
        }
        throw new Error('the registrations never left the environment');
      };
      expect(inlineCapacity('undecided')).toBe(inlineCapacity('private'));
    });

    test('a default the zone no longer matches at synthesis is refused, saying to give the address', () => {
      const { t, otherZone } = zonesStack();
      discovery(t).addService({ service: fargateService(t, 'web'), name: 'web', additionalZones: [{ hostedZone: otherZone }] });
      // A public zone made private through its CloudFormation resource, after addService.
      (otherZone.node.defaultChild as route53.CfnHostedZone).vpcs = [{ vpcId: t.vpc.vpcId, vpcRegion: 'eu-west-1' }];
      expect(() => Template.fromStack(t.stack))
        .toThrow(/additionalZones\[0\] of the service .* gives no address, so its A records were to hold the tasks' public addresses, as the zone 'example.net' was public .* give the publication's address explicitly/);
    });
  });

  test('warns that an imported zone without an address gets the public address; an address silences it', () => {
    const withAddress = (address?: RecordAddress) => {
      const { t } = zonesStack();
      const imported = route53.HostedZone.fromHostedZoneAttributes(t.stack, 'Imported', { hostedZoneId: 'Z0IMPORTED', zoneName: 'example.org' });
      discovery(t).addService({ service: fargateService(t, 'web'), name: 'web', additionalZones: [{ hostedZone: imported, ...(address ? { address } : {}) }] });
      return Annotations.fromStack(t.stack);
    };
    const warning = Match.stringLikeRegexp('imported zone \'example.org\', whose kind .* not known .* public addresses \\(RecordAddress.PUBLIC, the default\\)'
      + '.*Give the publication an address.*\\[ack: cdk-ecs-public-discovery:zoneKindUnknown\\]');
    withAddress().hasWarning('/Test/Discovery', warning);
    withAddress(RecordAddress.PUBLIC).hasNoWarning('*', Match.stringLikeRegexp('zoneKindUnknown'));
    withAddress(RecordAddress.PRIVATE).hasNoWarning('*', Match.stringLikeRegexp('zoneKindUnknown'));
  });

  test('warns when the address does not suit the zone: private addresses in a public zone, public ones in a private zone', () => {
    const { t, privateZone, otherZone } = zonesStack();
    const d = discovery(t);
    d.addService({ service: fargateService(t, 'web'), name: 'web', additionalZones: [{ hostedZone: otherZone, address: RecordAddress.PRIVATE }] });
    d.addService({ service: fargateService(t, 'api'), name: 'api', additionalZones: [{ hostedZone: privateZone, address: RecordAddress.PUBLIC }] });
    const annotations = Annotations.fromStack(t.stack);
    annotations.hasWarning('*', Match.stringLikeRegexp('publishes the tasks\' private addresses in the zone \'example.net\'.*anyone can resolve them'));
    annotations.hasWarning('*', Match.stringLikeRegexp('publishes the tasks\' public addresses in the private zone \'example.com\''));
  });

  test('no warning for the defaults', () => {
    const { t, privateZone, otherZone } = zonesStack();
    discovery(t).addService({ service: fargateService(t, 'web'), name: 'web', additionalZones: [{ hostedZone: privateZone }, { hostedZone: otherZone }] });
    Annotations.fromStack(t.stack).hasNoWarning('*', Match.stringLikeRegexp('addresses in the'));
  });

  describe('names per zone', () => {
    const fqdns = (publications: (z: Zones) => ZonePublication[], name = 'web') => {
      const z = zonesStack();
      discovery(z.t).addService({ service: fargateService(z.t, 'web'), name, additionalZones: publications(z) });
      return renderedConfig(Template.fromStack(z.t.stack)).services.map((s: any) => s.fqdn);
    };

    test('a relative name gets that zone\'s name; an absolute one is kept when inside the zone', () => {
      expect(fqdns(z => [{ hostedZone: z.otherZone, name: 'Eu.Games' }])).toEqual(['web.example.com.', 'eu.games.example.net.']);
      expect(fqdns(z => [{ hostedZone: z.otherZone, name: 'games.example.net.' }])).toEqual(['web.example.com.', 'games.example.net.']);
      expect(fqdns(z => [{ hostedZone: z.otherZone, name: 'example.net.' }])).toEqual(['web.example.com.', 'example.net.']);
    });

    test('the service\'s absolute name is used in a zone of the same name (split-horizon)', () => {
      expect(fqdns(z => [{ hostedZone: z.privateZone }], 'web.example.com.')).toEqual(['web.example.com.', 'web.example.com.']);
    });

    test('a name outside its zone is refused, naming the zone and the fix', () => {
      expect(() => fqdns(z => [{ hostedZone: z.otherZone, name: 'web.example.com.' }]))
        .toThrow(/additionalZones\[0\] of the service .* \(zone 'example.net'\): The DNS name 'web.example.com.' is absolute .* not inside the hosted zone 'example.net'/);
      // The service's absolute name does not fit another zone: the error says to give the publication a name.
      expect(() => fqdns(z => [{ hostedZone: z.otherZone }], 'web.example.com.'))
        .toThrow(/the service's name 'web.example.com.' is used in this zone too: give the publication a name of its own/);
    });

    test('a token name is refused', () => {
      const z = zonesStack();
      const d = discovery(z.t);
      const token = new route53.CfnHostedZone(z.t.stack, 'Elsewhere', { name: 'x.example' }).attrId;
      expect(() => d.addService({ service: fargateService(z.t, 'web'), name: 'web', additionalZones: [{ hostedZone: z.otherZone, name: token }] }))
        .toThrow(/The name of the additionalZones\[0\] of the service .* is only known at deploy time .* give the name as a literal string/);
    });
    test('a token service name with additionalZones is refused as the service\'s name, not a publication\'s', () => {
      const z = zonesStack();
      const token = new route53.CfnHostedZone(z.t.stack, 'Elsewhere', { name: 'x.example' }).attrId;
      expect(() => discovery(z.t).addService({ service: fargateService(z.t, 'web'), name: token, additionalZones: [{ hostedZone: z.otherZone }] }))
        .toThrow(/^The DNS name of the service 'Test\/Service-web' is only known at deploy time .* give the name as a literal string/);
    });
  });

  describe('duplicates', () => {
    test('the same name in the same zone for two services is refused, naming the zone', () => {
      const { t, privateZone } = zonesStack();
      const d = discovery(t);
      d.addService({ service: fargateService(t, 'web'), name: 'web', additionalZones: [{ hostedZone: privateZone, name: 'shared' }] });
      expect(() => d.addService({ service: fargateService(t, 'api'), name: 'api', additionalZones: [{ hostedZone: privateZone, name: 'shared' }] }))
        .toThrow(/The DNS name 'shared' of the service .* is the record name 'shared.example.com.' in the zone 'Test\/PrivateZone', which is already published for the service 'Test\/Service-web'/);
    });

    test('a name of the construct\'s zone may be used in a private zone of the same name by another service', () => {
      const { t, privateZone } = zonesStack();
      const d = discovery(t);
      d.addService({ service: fargateService(t, 'web'), name: 'web' });
      d.addService({ service: fargateService(t, 'api'), name: 'api', additionalZones: [{ hostedZone: privateZone, name: 'web' }] });
      expect(renderedConfig(Template.fromStack(t.stack)).services.map((s: any) => [s.serviceName, s.fqdn])).toEqual([
        ['web', 'web.example.com.'], ['api', 'api.example.com.'], ['api', 'web.example.com.'],
      ]);
    });

    test('the same zone twice, or the construct\'s own zone, is refused; nothing of the service is kept', () => {
      const { t, privateZone } = zonesStack();
      const d = discovery(t);
      const web = fargateService(t, 'web');
      expect(() => d.addService({ service: web, name: 'web', additionalZones: [{ hostedZone: privateZone }, { hostedZone: privateZone, name: 'b' }] }))
        .toThrow(/additionalZones\[1\] of the service .* gives the hosted zone 'Test\/PrivateZone' a second time: .* remove one of the two publications/);
      expect(() => d.addService({ service: web, name: 'web', additionalZones: [{ hostedZone: t.zone, name: 'other' }] }))
        .toThrow(/additionalZones\[0\] of the service .* is the construct's own hosted zone 'Test\/Zone'.*remove it from additionalZones/);
      // The same zone imported a second time is the same zone.
      const again = route53.HostedZone.fromHostedZoneAttributes(t.stack, 'Again', { hostedZoneId: 'Z1', zoneName: 'example.org' });
      const twice = route53.HostedZone.fromHostedZoneAttributes(t.stack, 'Twice', { hostedZoneId: 'Z1', zoneName: 'example.org' });
      expect(() => d.addService({ service: web, name: 'web', additionalZones: [{ hostedZone: again }, { hostedZone: twice }] }))
        .toThrow(/a second time/);
      d.addService({ service: web, name: 'web' });
      expect(renderedConfig(Template.fromStack(t.stack)).services).toHaveLength(1);
    });

    test('a zone whose name is only known at deploy time is refused', () => {
      const { t } = zonesStack();
      const zone = route53.HostedZone.fromHostedZoneId(t.stack, 'ById', 'Z2');
      expect(() => discovery(t).addService({ service: fargateService(t, 'web'), name: 'web', additionalZones: [{ hostedZone: zone }] }))
        .toThrow(/does not expose its name/);
    });

    test('an address that is not one of the enum\'s is refused', () => {
      const { t, otherZone } = zonesStack();
      expect(() => discovery(t).addService({
        service: fargateService(t, 'web'), name: 'web', additionalZones: [{ hostedZone: otherZone, address: 'internal' as RecordAddress }],
      })).toThrow(/"internal", which is not one of "public", "private": use RecordAddress.PUBLIC or RecordAddress.PRIVATE/);
    });
  });

  test('the construct\'s zone still needs public IPs for IPv4 when the service is also published in a private zone', () => {
    const { t, privateZone } = zonesStack();
    const d = discovery(t);
    expect(() => d.addService({ service: fargateService(t, 'web', { assignPublicIp: false }), name: 'web', additionalZones: [{ hostedZone: privateZone }] }))
      .toThrow(/does not assign public IPs/);
  });

  test('the envelope names every zone when the registrations live in SSM; one zone reads as before', () => {
    const envelopeZone = (extra: boolean) => {
      const { t, privateZone } = zonesStack();
      const d = new EcsPublicDiscovery(t.stack, 'Discovery', { cluster: t.cluster, hostedZone: t.zone });
      // Long names push the registrations into SSM parameters.
      for (let i = 0; i < 30; i++) {
        const name = `service-with-a-rather-long-name-${String(i).padStart(3, '0')}`;
        d.addService({ service: fargateService(t, name), name, ...(extra && i === 0 ? { additionalZones: [{ hostedZone: privateZone }] } : {}) });
      }
      const template = Template.fromStack(t.stack);
      const fn = Object.values(template.findResources('AWS::Lambda::Function')).find(f => f.Properties.Environment?.Variables?.PUBLIC_DISCOVERY_CONFIG);
      const envelope = JSON.parse(render(fn!.Properties.Environment.Variables.PUBLIC_DISCOVERY_CONFIG));
      expect(envelope.servicesParameters.length).toBeGreaterThan(0);
      return { zone: envelope.hostedZoneId, main: ref(t.stack, t.zone), priv: ref(t.stack, privateZone) };
    };
    const one = envelopeZone(false);
    expect(one.zone).toBe(one.main);
    const two = envelopeZone(true);
    expect(two.zone).toBe(`${two.main},${two.priv}`);
  });
});

test('without additionalZones the template is the one of a single zone (no private scope, one policy)', () => {
  const { t } = zonesStack();
  discovery(t).addService({ service: fargateService(t, 'web'), name: 'web' });
  const template = Template.fromStack(t.stack);
  expect(renderedConfig(template).services[0]).not.toHaveProperty('addressScope');
  expect(writePolicies(template)).toHaveLength(1);
  expect(lifecycleNames(template)).toHaveLength(1);
});

test('the write-policy limit counts every zone: a sixth zone needing its own policy is refused whole', () => {
  const { t } = zonesStack();
  const d = discovery(t);
  const zone = (i: number) => new route53.PublicHostedZone(t.stack, `Zone${i}`, { zoneName: `example${i}.org` });
  d.addService({ service: fargateService(t, 'web'), name: 'web', additionalZones: [1, 2, 3, 4].map(i => ({ hostedZone: zone(i) })) });
  const api = fargateService(t, 'api');
  expect(() => d.addService({ service: api, name: 'api', additionalZones: [{ hostedZone: zone(5) }] }))
    .toThrow(/need 6 IAM policies .* at most 5 .*each hosted zone has policies of its own/);
  const template = Template.fromStack(t.stack);
  expect(writePolicies(template)).toHaveLength(5);
  expect(renderedConfig(template).services).toHaveLength(5);
});

describe('zones of other stacks are told apart by more than their logical ids', () => {
  /** The test stack and two more stacks of the same app, each with a public zone at the test stack's own zone's path ('Zone'). */
  function threeStacks() {
    const t = testStack();
    const zoneIn = (stackId: string, zoneName: string) =>
      new route53.PublicHostedZone(new Stack(t.app, stackId), 'Zone', { zoneName });
    return { t, zoneB: zoneIn('B', 'example.net'), zoneC: zoneIn('C', 'example.org') };
  }

  test('a zone of another stack at the construct\'s zone\'s path is not the construct\'s zone', () => {
    const { t, zoneB } = threeStacks();
    // Both ids resolve to { Ref: Zone<hash> } in their own stacks.
    expect(Stack.of(zoneB).resolve(zoneB.hostedZoneId)).toEqual(t.stack.resolve(t.zone.hostedZoneId));
    discovery(t).addService({ service: fargateService(t, 'web'), name: 'web', additionalZones: [{ hostedZone: zoneB }] });
    const services = renderedConfig(Template.fromStack(t.stack)).services;
    expect(services.map((s: any) => s.fqdn)).toEqual(['web.example.com.', 'web.example.net.']);
    expect(render(services[1].hostedZoneId)).toMatch(/^<import:B:/);
  });

  test('a zone of the stack and one of another stack at the same path, given in two addService calls, get a policy each and both reach the envelope', () => {
    const t = testStack();
    // Both ids resolve to { Ref: Dns<hash> } in their own stacks.
    const zoneA = new route53.PublicHostedZone(t.stack, 'Dns', { zoneName: 'example.net' });
    const zoneB = new route53.PublicHostedZone(new Stack(t.app, 'B'), 'Dns', { zoneName: 'example.org' });
    expect(Stack.of(zoneB).resolve(zoneB.hostedZoneId)).toEqual(t.stack.resolve(zoneA.hostedZoneId));
    const d = discovery(t);
    d.addService({ service: fargateService(t, 'web'), name: 'web', additionalZones: [{ hostedZone: zoneA }] });
    d.addService({ service: fargateService(t, 'api'), name: 'api', additionalZones: [{ hostedZone: zoneB }] });
    // Long names push the registrations into SSM parameters, where the envelope lists the zone ids.
    for (let i = 0; i < 30; i++) {
      const name = `service-with-a-rather-long-name-${String(i).padStart(3, '0')}`;
      d.addService({ service: fargateService(t, name), name });
    }
    const template = Template.fromStack(t.stack);
    const fromB = (value: string) => value.replace(/<import:B:[^>]*>/, '<B>');
    const policies = writePolicies(template);
    expect(policies.slice(1).map(p => [fromB(p.zone), fromB(p.listZone), p.names])).toEqual([
      [`arn:<AWS::Partition>:route53:::hostedzone/${ref(t.stack, zoneA)}`, `arn:<AWS::Partition>:route53:::hostedzone/${ref(t.stack, zoneA)}`, ['web.example.net']],
      ['arn:<AWS::Partition>:route53:::hostedzone/<B>', 'arn:<AWS::Partition>:route53:::hostedzone/<B>', ['api.example.org']],
    ]);
    expect(new Set(policies.map(p => p.id)).size).toBe(3);
    expect(fromB(renderedConfig(template).hostedZoneId)).toBe(`${ref(t.stack, t.zone)},${ref(t.stack, zoneA)},<B>`);
  });

  test('the same zone imported twice by a literal id is one zone, with or without the /hostedzone/ prefix, across stacks', () => {
    const { t } = threeStacks();
    const other = new Stack(t.app, 'D');
    const a = route53.HostedZone.fromHostedZoneAttributes(t.stack, 'A', { hostedZoneId: 'Z1', zoneName: 'example.org' });
    const b = route53.HostedZone.fromHostedZoneAttributes(other, 'B', { hostedZoneId: '/hostedzone/Z1', zoneName: 'example.org' });
    expect(() => discovery(t).addService({ service: fargateService(t, 'web'), name: 'web', additionalZones: [{ hostedZone: a }, { hostedZone: b }] }))
      .toThrow(/additionalZones\[1\] .* a second time/);
  });
});
