/**
 * IPv6: the `ipAddressType` option of addService, what it registers (the handler's configuration, the lifecycle
 * resource's names), the record types the write policies allow, and the public-IP check it relaxes.
 */
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { discovery, fargateService, renderedConfig, roleStatements, testStack } from './helpers';
import { EcsPublicDiscovery, IpAddressType } from '../../src';
import { MAX_WRITE_POLICIES, RecordWritePolicies } from '../../src/private/permissions';

const TYPES_KEY = 'route53:ChangeResourceRecordSetsRecordTypes';

function writePolicies(template: Template): Array<[string, any]> {
  return Object.entries(template.findResources('AWS::IAM::ManagedPolicy')).filter(([id]) => id.startsWith('DiscoveryRecordWrites'));
}

function lifecycleNames(template: Template): any[] {
  const resources = Object.values(template.findResources('Custom::EcsPublicDiscovery'));
  return resources[0].Properties.Names;
}

function synth(...services: Array<[string, IpAddressType | undefined]>) {
  const t = testStack();
  const d = discovery(t);
  for (const [name, ipAddressType] of services) {
    d.addService({ service: fargateService(t, name), name, ...(ipAddressType ? { ipAddressType } : {}) });
  }
  const template = Template.fromStack(t.stack);
  return { t, d, template };
}

describe('ipAddressType', () => {
  test('the enum follows aws-cdk-lib\'s spelling of address families', () => {
    expect(IpAddressType.IPV4).toBe('ipv4');
    expect(IpAddressType.DUAL_STACK).toBe('dualstack');
    expect(IpAddressType.IPV6).toBe('ipv6');
  });

  test('default IPV4: the configuration, the lifecycle names and the policy read exactly as before (A only)', () => {
    const { template } = synth(['web', undefined], ['game', IpAddressType.IPV4]);
    for (const s of renderedConfig(template).services) {
      expect(s).not.toHaveProperty('recordTypes');
    }
    for (const n of lifecycleNames(template)) {
      expect(n).not.toHaveProperty('recordTypes');
    }
    expect(roleStatements(template).ChangeRegisteredRecords.Condition['ForAllValues:StringEquals'][TYPES_KEY]).toEqual(['A']);
    const [[id, policy]] = writePolicies(template);
    expect(policy.Properties.Description).toBe('Route53 writes of the ECS public discovery function: A records at the registered names only');
    // The logical id of an A-only policy hashes its names only, as before IPv6 support.
    expect(id).toMatch(/^DiscoveryRecordWrites1[0-9A-F]{8}$/);
  });

  test('DUAL_STACK registers A and AAAA; the policy allows AAAA', () => {
    const { template } = synth(['web', undefined], ['game', IpAddressType.DUAL_STACK]);
    const services = renderedConfig(template).services;
    expect(services.map((s: any) => s.recordTypes)).toEqual([undefined, ['A', 'AAAA']]);
    expect(lifecycleNames(template).map(n => n.recordTypes)).toEqual([undefined, ['A', 'AAAA']]);
    expect(roleStatements(template).ChangeRegisteredRecords.Condition['ForAllValues:StringEquals']).toEqual({
      'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['web.example.com', 'game.example.com'],
      [TYPES_KEY]: ['A', 'AAAA'],
      'route53:ChangeResourceRecordSetsActions': ['UPSERT', 'DELETE'],
    });
    expect(writePolicies(template)[0][1].Properties.Description)
      .toBe('Route53 writes of the ECS public discovery function: A and AAAA records at the registered names only');
  });

  test('IPV6 only registers AAAA; with no IPv4 service the policy allows AAAA only', () => {
    const { template } = synth(['game', IpAddressType.IPV6]);
    expect(renderedConfig(template).services[0].recordTypes).toEqual(['AAAA']);
    expect(roleStatements(template).ChangeRegisteredRecords.Condition['ForAllValues:StringEquals'][TYPES_KEY]).toEqual(['AAAA']);
  });

  test('the record types change the policy\'s logical id, so a change of types keeps the old policy until the cleanup', () => {
    const [[v4]] = writePolicies(synth(['game', undefined]).template);
    const [[dual]] = writePolicies(synth(['game', IpAddressType.DUAL_STACK]).template);
    const [[v6]] = writePolicies(synth(['game', IpAddressType.IPV6]).template);
    expect(new Set([v4, dual, v6]).size).toBe(3);
  });

  test('the fingerprint changes with the address family', () => {
    const fingerprint = (type?: IpAddressType) => renderedConfig(synth(['game', type]).template).fingerprint;
    expect(fingerprint(undefined)).toMatch(/^[0-9A-Fa-f]{8,}$/);
    expect(fingerprint(IpAddressType.DUAL_STACK)).not.toEqual(fingerprint(undefined));
  });

  test('a value outside the enum is refused with the allowed values', () => {
    const t = testStack();
    expect(() => discovery(t).addService({ service: fargateService(t, 'web'), name: 'www', ipAddressType: 'ipv7' as IpAddressType }))
      .toThrow(/The ipAddressType of the service 'Test\/Service-web' is "ipv7", which is not one of "ipv4", "dualstack", "ipv6": use IpAddressType.IPV4, DUAL_STACK or IPV6./);
  });
});

describe('public-IP check', () => {
  test('IPV6 needs no assignPublicIp', () => {
    const t = testStack();
    const service = fargateService(t, 'web', { assignPublicIp: false });
    expect(() => discovery(t).addService({ service, name: 'www', ipAddressType: IpAddressType.IPV6 })).not.toThrow();
  });

  test.each([IpAddressType.IPV4, IpAddressType.DUAL_STACK])('%s still needs assignPublicIp, and the error points at IPV6', ipAddressType => {
    const t = testStack();
    expect(() => discovery(t).addService({ service: fargateService(t, 'web', { assignPublicIp: false }), name: 'www', ipAddressType }))
      .toThrow(/does not assign public IPs to its tasks \(assignPublicIp is DISABLED\).*or publish its IPv6 addresses only \(ipAddressType: IpAddressType.IPV6\)/);
  });

  test('IPV6 still needs the awsvpc network mode and Fargate', () => {
    const t = testStack();
    const bridge = new ecs.Ec2TaskDefinition(t.stack, 'Bridge', { networkMode: ecs.NetworkMode.BRIDGE });
    bridge.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable'), memoryLimitMiB: 256 });
    t.cluster.addCapacity('Capacity', { instanceType: new ec2.InstanceType('t3.micro') });
    const d = discovery(t);
    const bridgeService = new ecs.Ec2Service(t.stack, 'Ec2', { cluster: t.cluster, taskDefinition: bridge });
    expect(() => d.addService({ service: bridgeService, name: 'a', ipAddressType: IpAddressType.IPV6 })).toThrow(/network mode 'bridge'/);
    const awsvpc = new ecs.Ec2TaskDefinition(t.stack, 'Awsvpc', { networkMode: ecs.NetworkMode.AWS_VPC });
    awsvpc.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable'), memoryLimitMiB: 256 });
    const awsvpcService = new ecs.Ec2Service(t.stack, 'Ec2b', { cluster: t.cluster, taskDefinition: awsvpc });
    expect(() => d.addService({ service: awsvpcService, name: 'b', ipAddressType: IpAddressType.IPV6 })).toThrow(/is an EC2 service/);
  });
});

describe('write groups with record types', () => {
  function fixture() {
    const t = testStack();
    const d = new EcsPublicDiscovery(t.stack, 'D', { cluster: t.cluster, hostedZone: t.zone });
    return new RecordWritePolicies(d, d.handler.role!, t.zone);
  }
  const names = (n: number, length: number) => Array.from({ length: n }, (_v, i) => `${String(i).padStart(5, '0')}${'x'.repeat(length - 17)}.example.com`);

  test('a group of IPv4 names is packed as before; an AAAA name costs its type once per group', () => {
    const all = names(200, 60);
    const v4 = fixture().assign(all);
    const fit = v4.indexOf(1);
    expect(fit).toBeGreaterThan(10);
    // The same names with the first one dual stack: the group lists "AAAA" too, so one name fewer fits.
    const dual = fixture().assign(all, [['A', 'AAAA']]);
    expect(dual.indexOf(1)).toBeLessThanOrEqual(fit);
    expect(dual.indexOf(1)).toBeGreaterThanOrEqual(fit - 1);
  });

  test('the most policies stay the limit', () => {
    expect(() => fixture().assign(names(2000, 200), names(2000, 200).map(() => ['AAAA'])))
      .toThrow(new RegExp(`EcsPublicDiscovery uses at most ${MAX_WRITE_POLICIES}`));
  });
});
