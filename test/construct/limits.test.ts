/**
 * 200 registrations on one construct stay within every AWS limit that applies, checked on the synthesized
 * template with every deploy-time value resolved at the longest CloudFormation can make it. Each limit is
 * the documented number (see the quota pages named in the test titles).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { discovery, fargateService, testStack } from './helpers';
import { buildManyServicesApp, CfnTemplate, STACK_NAME, templateOf } from '../../emulator/example-app';
import { physicalValues, resolveIntrinsics, ResolveContext } from '../../emulator/template-config';
import { readEnvelope, readLifecycleNames, readServicesParameter } from '../../src/shared/contract';

const COUNT = 200;
/** The longest region name today, and an account id. */
const REGION = 'ap-southeast-4';
const ACCOUNT = '123456789012';

let template: CfnTemplate;
let ctx: ResolveContext;

/** CloudFormation names an unnamed resource `<stack>-<logical id>-<13 random characters>`, cut to the type's maximum. */
function generatedName(logicalId: string, max = 255): string {
  return `${STACK_NAME}-${logicalId}-ABCDEFGHIJKLM`.slice(0, max);
}

beforeAll(() => {
  template = templateOf(buildManyServicesApp(COUNT).stack);
  const serviceNames: Record<string, string> = {};
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type === 'AWS::ECS::Service') {
      const owner = String((r.Metadata?.['aws:cdk:path'] as string).split('/').slice(-2)[0]);
      serviceNames[owner] = generatedName(id);
    }
  }
  const clusterId = Object.keys(template.Resources).find((id) => template.Resources[id].Type === 'AWS::ECS::Cluster')!;
  const clusterName = generatedName(clusterId);
  const resources = physicalValues(template, {
    clusterName,
    clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${clusterName}`,
    zoneId: 'Z0123456789ABCDEFGHIJKLMNOPQRSTU',
    serviceNames,
    region: REGION,
    account: ACCOUNT,
  });
  // The parameters carry the names the construct gives them.
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type === 'AWS::SSM::Parameter') {
      resources[id] = { ref: String(r.Properties?.Name) };
    }
  }
  ctx = { resources, region: REGION, account: ACCOUNT, stackName: STACK_NAME };
});

function resourcesOf(type: string): Array<[string, Record<string, unknown>]> {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type).map(([id, r]) => [id, r.Properties ?? {}]);
}

const resolve = (v: unknown) => resolveIntrinsics(v, ctx);

test(`${COUNT} services are registered, each with a name CloudFormation generates`, () => {
  expect(resourcesOf('AWS::ECS::Service')).toHaveLength(COUNT);
  expect(resourcesOf('AWS::ECS::Service').every(([, p]) => p.ServiceName === undefined)).toBe(true);
});

test('Lambda: all environment variables together within 4 KB (Lambda quotas: 4 KB)', () => {
  const [, fn] = resourcesOf('AWS::Lambda::Function').find(([, p]) => JSON.stringify(p).includes('PUBLIC_DISCOVERY_CONFIG'))!;
  const variables = resolve((fn.Environment as { Variables: Record<string, unknown> }).Variables) as Record<string, string>;
  const bytes = Object.entries(variables).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  expect(bytes).toBeLessThanOrEqual(4096);
  // The registrations moved to SSM parameters; the variable names them.
  expect(readEnvelope(variables).servicesParameters!.length).toBeGreaterThan(1);
});

test('SSM: each parameter within 4096 characters (standard tier), and together they hold every registration', () => {
  const parameters = resourcesOf('AWS::SSM::Parameter');
  const values = parameters.map(([, p]) => String(resolve(p.Value)));
  for (const value of values) {
    expect(value.length).toBeLessThanOrEqual(4096);
  }
  expect(parameters.every(([, p]) => p.Tier === 'Standard')).toBe(true);
  const services = values.flatMap((v, i) => readServicesParameter(`p${i}`, v));
  expect(services).toHaveLength(COUNT);
  expect(services[COUNT - 1]).toMatchObject({ name: `srv-${COUNT}`, fqdn: `srv-${COUNT}.example.com.`, ttl: 30 });
  expect(new Set(services.map((s) => s.serviceName)).size).toBe(COUNT);
});

test('the function depends on every SSM parameter its environment names, so an update never points it at a missing one', () => {
  const [, fn] = Object.entries(template.Resources).find(([, r]) => r.Type === 'AWS::Lambda::Function' && JSON.stringify(r.Properties).includes('PUBLIC_DISCOVERY_CONFIG'))!;
  const parameters = Object.keys(template.Resources).filter((id) => template.Resources[id].Type === 'AWS::SSM::Parameter');
  expect(parameters.length).toBeGreaterThan(1);
  expect((fn as { DependsOn?: string[] }).DependsOn).toEqual(expect.arrayContaining(parameters));
});

test('EventBridge: the task state change pattern within 2048 characters (EventBridge quotas: event pattern size)', () => {
  const [, rule] = resourcesOf('AWS::Events::Rule').find(([, p]) => p.EventPattern !== undefined)!;
  const pattern = JSON.stringify(resolve(rule.EventPattern));
  expect(pattern.length).toBeLessThanOrEqual(2048);
  // 200 groups cannot be listed in 2048 characters: every service task of the cluster is routed instead.
  expect(resolve(rule.EventPattern)).toMatchObject({ detail: { group: [{ prefix: 'service:' }] } });
});

test('IAM: each managed policy within 6144 characters, at most 5 of them (10 attached per role during an update)', () => {
  const policies = resourcesOf('AWS::IAM::ManagedPolicy');
  expect(policies.length).toBeGreaterThanOrEqual(1);
  expect(policies.length).toBeLessThanOrEqual(5);
  const names: string[] = [];
  for (const [, p] of policies) {
    const document = resolve(p.PolicyDocument) as { Statement: Array<{ Condition?: Record<string, Record<string, string[]>> }> };
    expect(JSON.stringify(document).length).toBeLessThanOrEqual(6144);
    names.push(...document.Statement.find((x) => x.Condition)!.Condition!['ForAllValues:StringEquals']['route53:ChangeResourceRecordSetsNormalizedRecordNames']);
  }
  expect(names).toHaveLength(COUNT);
  expect(names).toContain('srv-200.example.com');
});

test('IAM: the role\'s inline policies together within 10240 characters', () => {
  const inline = resourcesOf('AWS::IAM::Policy').map(([, p]) => JSON.stringify(resolve(p.PolicyDocument)).length);
  expect(inline.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(10240);
});

test('custom resource: old and new properties in one request within Lambda\'s 256 KB asynchronous payload', () => {
  const [, lifecycle] = resourcesOf('Custom::EcsPublicDiscovery')[0];
  const properties = resolve(lifecycle) as Record<string, unknown>;
  const request = JSON.stringify({ RequestType: 'Update', ResourceProperties: properties, OldResourceProperties: properties, ResponseURL: 'x'.repeat(2048) });
  expect(Buffer.byteLength(request)).toBeLessThanOrEqual(256 * 1024);
  expect(readLifecycleNames(properties, 'ResourceProperties')).toHaveLength(COUNT);
});

test('CloudFormation: at most 500 resources and a template body within 1 MB', () => {
  expect(Object.keys(template.Resources).length).toBeLessThanOrEqual(500);
  expect(Buffer.byteLength(JSON.stringify(template))).toBeLessThanOrEqual(1024 * 1024);
});

test('each name\'s write group is the policy that allows it, so one change request per group is allowed', () => {
  const services = resourcesOf('AWS::SSM::Parameter').flatMap(([, p]) => readServicesParameter('p', String(resolve(p.Value))));
  const groupOfName = new Map<string, number>();
  for (const [id, p] of resourcesOf('AWS::IAM::ManagedPolicy')) {
    const index = Number(/RecordWrites(\d+)[0-9A-F]{8}$/.exec(id)![1]) - 1;
    const document = resolve(p.PolicyDocument) as { Statement: Array<{ Condition?: Record<string, Record<string, string[]>> }> };
    for (const name of document.Statement.find((x) => x.Condition)!.Condition!['ForAllValues:StringEquals']['route53:ChangeResourceRecordSetsNormalizedRecordNames']) {
      groupOfName.set(name, index);
    }
  }
  expect(groupOfName.size).toBe(COUNT);
  for (const s of services) {
    expect(s.writeGroup ?? 0).toBe(groupOfName.get(s.fqdn.replace(/\.$/, '')));
  }
});

describe('past the maximum', () => {
  test('names too long for the write policies: a clear synth error, nothing half registered', () => {
    const t = testStack();
    const d = discovery(t);
    const label = (i: number) => `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.n${i}`;
    let registered = 0;
    let error: Error | undefined;
    for (let i = 1; i <= 200 && !error; i++) {
      try {
        d.addService({ service: fargateService(t, `s${i}`), name: label(i), dnsTtl: Duration.seconds(30) });
        registered++;
      } catch (e) {
        error = e as Error;
      }
    }
    expect(error?.message).toMatch(/need 6 IAM policies of at most 6144 characters .* at most 5 .*register fewer or shorter names per construct/);
    // The refused service got no tags, and everything before it deploys.
    const synthesized = Template.fromStack(t.stack);
    const untagged = Object.values(synthesized.findResources('AWS::ECS::Service')).filter((r) => r.Properties.Tags === undefined);
    expect(untagged).toHaveLength(1);
    expect(Object.keys(synthesized.findResources('AWS::IAM::ManagedPolicy'))).toHaveLength(5);
    expect(registered).toBeGreaterThan(100);
  });
});

describe('task names and SRV records', () => {
  /** Long names, each with task names and an SRV name, until the write policies are full. */
  function fill() {
    const t = testStack();
    const d = discovery(t);
    const label = (i: number) => `${'a'.repeat(60)}.${'b'.repeat(40)}.n${i}`;
    let registered = 0;
    let error: Error | undefined;
    for (let i = 1; i <= 200 && !error; i++) {
      try {
        d.addService({ service: fargateService(t, `s${i}`), name: label(i), srv: { service: 'minecraft', port: 25565 } });
        registered++;
      } catch (e) {
        error = e as Error;
      }
    }
    return { t, registered, error };
  }

  test('IAM: each policy with the patterns and SRV names within 6144 characters; every name of a registration in its write group', () => {
    const { t, registered, error } = fill();
    expect(error?.message).toMatch(/need 6 IAM policies of at most 6144 characters/);
    const synthesized = Template.fromStack(t.stack);
    const policies = Object.entries(synthesized.findResources('AWS::IAM::ManagedPolicy'));
    expect(policies).toHaveLength(5);
    const groupOfName = new Map<string, number>();
    for (const [id, p] of policies) {
      const index = Number(/RecordWrites(\d+)[0-9A-F]{8}$/.exec(id)![1]) - 1;
      const document = Stack.of(t.stack).resolve(p.Properties.PolicyDocument);
      const json = JSON.stringify(document).replace(/\{"Fn::Join":\["",\["arn:",\{"Ref":"AWS::Partition"\},":route53:::hostedzone\/",\{"Ref":"\w+"\}\]\]\}/g,
        '"arn:aws-iso-b:route53:::hostedzone/Z0123456789ABCDEFGHIJKLMNOPQRSTU"');
      expect(json.length).toBeLessThanOrEqual(6144);
      const condition = JSON.parse(json).Statement[1].Condition;
      expect(condition['ForAllValues:StringEquals']['route53:ChangeResourceRecordSetsRecordTypes']).toEqual(['A', 'SRV']);
      for (const name of condition['ForAllValues:StringLike']['route53:ChangeResourceRecordSetsNormalizedRecordNames'] as string[]) {
        groupOfName.set(name, index);
      }
    }
    expect(groupOfName.size).toBe(3 * registered);
    const label = (i: number) => `${'a'.repeat(60)}.${'b'.repeat(40)}.n${i}.example.com`;
    for (let i = 1; i <= registered; i++) {
      const group = groupOfName.get(label(i));
      expect(groupOfName.get(`${'?'.repeat(32)}.${label(i)}`)).toBe(group);
      expect(groupOfName.get(`_minecraft._tcp.${label(i)}`)).toBe(group);
    }
  });
});
