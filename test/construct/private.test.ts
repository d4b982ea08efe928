import * as cdk from 'aws-cdk-lib';
import { App, CfnResource, Fn, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { Construct } from 'constructs';
import { AWS_LIMITS, resolvedJsonLength, resolvedStringLength } from '../../src/private/limits';
import { acknowledgeNagFindings, flattenReference } from '../../src/private/nag';
import { hashOf, MAX_WRITE_POLICIES, RecordWritePolicies } from '../../src/private/permissions';

function stack(name = 'S'): Stack {
  return new Stack(new App(), name);
}


/** Runs `fn` while aws-cdk-lib's `Validations` is `fake` (what a newer aws-cdk-lib offers), then puts it back. */
function withValidations(fake: unknown, fn: () => void): void {
  const lib = cdk as unknown as Record<string, unknown>;
  const had = Object.prototype.hasOwnProperty.call(lib, 'Validations');
  const before = lib.Validations;
  Object.defineProperty(lib, 'Validations', { value: fake, configurable: true, writable: true });
  try {
    fn();
  } finally {
    if (had) {
      Object.defineProperty(lib, 'Validations', { value: before, configurable: true, writable: true });
    } else {
      delete lib.Validations;
    }
  }
}

describe('resolvedJsonLength', () => {
  test.each([
    ['a string', 'mc.example.com'],
    ['a string JSON escapes', 'say "hi"\n\\'],
    ['an empty string', ''],
    ['a number', 2147483647],
    ['a boolean', false],
    ['null', null],
    ['a list', ['a', 1, true, null, []]],
    ['an object', { clusterArn: 'arn:aws:ecs:eu-west-1:1:cluster/x', services: [{ ttl: 60, name: 'mc', ttlTagged: false }], empty: {} }],
  ])('counts %s exactly as JSON.stringify writes it', (_what, value) => {
    expect(resolvedJsonLength(stack(), value)).toBe(JSON.stringify(value).length);
  });

  test('resolvedStringLength is the length without quotes', () => {
    expect(resolvedStringLength(stack(), 'abc')).toBe(3);
  });

  test.each([
    ['S', 'Svc'],
    ['a-much-longer-stack-name', 'ServiceWithALongerLogicalId'],
  ])('Fn::GetAtt Name of an unnamed ECS service in stack %s counts the name CloudFormation generates', (stackName, logicalId) => {
    const s = stack(stackName);
    const svc = new ecs.CfnService(s, logicalId, {});
    // stack name, '-', logical id, '-' and a random suffix of 13 characters (upper bound).
    const generated = stackName.length + logicalId.length + 15;
    expect(resolvedStringLength(s, svc.attrName)).toBe(generated);
    expect(resolvedJsonLength(s, svc.attrName)).toBe(generated + 2);
    // At least what CloudFormation documents for a generated name (stack-logicalId-12 random characters).
    expect(resolvedStringLength(s, svc.attrName)).toBeGreaterThanOrEqual(stackName.length + logicalId.length + 14);
  });

  test('the generated ECS service name is bounded by 255', () => {
    const s = stack('S'.repeat(128));
    const svc = new ecs.CfnService(s, 'L'.repeat(200), {});
    expect(resolvedStringLength(s, svc.attrName)).toBe(AWS_LIMITS.ecsServiceName);
  });

  test('Fn::GetAtt Name of a resource that is not an ECS service is counted as unknown', () => {
    const s = stack();
    const other = new CfnResource(s, 'Queue', { type: 'AWS::SQS::Queue' });
    expect(resolvedStringLength(s, other.getAtt('QueueName').toString())).toBe(2048);
  });

  test('a Ref to a hosted zone counts 32, as does its Id attribute', () => {
    const s = stack();
    const zone = new route53.HostedZone(s, 'Zone', { zoneName: 'example.com' });
    expect(resolvedJsonLength(s, zone.hostedZoneId)).toBe(32 + 2);
    const cfnZone = zone.node.defaultChild as route53.CfnHostedZone;
    expect(resolvedStringLength(s, cfnZone.attrId)).toBe(32);
  });

  test('a Ref to a resource of an unknown type counts 2048, a pseudo parameter its longest value', () => {
    const s = stack();
    const queue = new CfnResource(s, 'Queue', { type: 'AWS::SQS::Queue' });
    expect(resolvedStringLength(s, queue.ref)).toBe(2048);
    expect(resolvedStringLength(s, s.region)).toBe(16);
    expect(resolvedStringLength(s, s.account)).toBe(12);
  });

  test('Fn::Join adds its parts and separators; Fn::ImportValue counts 1600', () => {
    const s = stack();
    const zone = new route53.HostedZone(s, 'Zone', { zoneName: 'example.com' });
    // 'arn:' + partition (16) + ':route53:::hostedzone/' + zone id (32)
    expect(resolvedStringLength(s, zone.hostedZoneArn)).toBe('arn:'.length + 16 + ':route53:::hostedzone/'.length + 32);
    expect(resolvedStringLength(s, Fn.join('--', ['ab', zone.hostedZoneId, 'c']))).toBe(2 + 32 + 1 + 2 * 2);
    expect(resolvedStringLength(s, Fn.importValue('Shared-ServiceName'))).toBe(1600);
  });

  test('an object holding references counts each at its bound', () => {
    const s = stack();
    const zone = new route53.HostedZone(s, 'Zone', { zoneName: 'example.com' });
    const value = { zone: zone.hostedZoneId, names: ['a', s.region] };
    const literal = { zone: 'z'.repeat(32), names: ['a', 'r'.repeat(16)] };
    expect(resolvedJsonLength(s, value)).toBe(JSON.stringify(literal).length);
  });
});

describe('flattenReference', () => {
  const cases: Array<[string, unknown, string]> = [
    ['a literal', 'Resource::*', 'Resource::*'],
    ['a Ref', { Ref: 'Cluster611F8AFF' }, '<Cluster611F8AFF>'],
    ['a pseudo parameter', { Ref: 'AWS::Region' }, '<AWS::Region>'],
    ['a GetAtt', { 'Fn::GetAtt': ['DiscoveryRole', 'Arn'] }, '<DiscoveryRole.Arn>'],
    ['a Join', {
      'Fn::Join': ['', ['Resource::arn:', { Ref: 'AWS::Partition' }, ':ecs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':task/', { Ref: 'Cluster' }, '/*']],
    }, 'Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/<Cluster>/*'],
    ['a Join with a separator', { 'Fn::Join': ['-', ['a', { 'Fn::GetAtt': ['X', 'Y'] }]] }, 'a-<X.Y>'],
    ['a Sub', { 'Fn::Sub': 'arn:${AWS::Partition}:logs:${AWS::Region}:*:log-group:${Group}' }, 'arn:<AWS::Partition>:logs:<AWS::Region>:*:log-group:<Group>'],
    ['an ImportValue', { 'Fn::ImportValue': 'Shared-ClusterArn' }, 'Shared-ClusterArn'],
    ['an ImportValue of a Sub', { 'Fn::ImportValue': { 'Fn::Sub': '${AWS::StackName}-Zone' } }, '<AWS::StackName>-Zone'],
    ['something else', { 'Fn::Select': [0, ['a']] }, '{"Fn::Select":[0,["a"]]}'],
  ];

  test.each(cases)('renders %s as cdk-nag does', (_what, value, expected) => {
    expect(flattenReference(value)).toBe(expected);
    expect(flattenCfnReference(value)).toBe(expected);
  });

  test('undefined is empty', () => {
    expect(flattenReference(undefined)).toBe('');
  });
});

describe('acknowledgeNagFindings', () => {
  function resource(): { stack: Stack; cfn: CfnResource } {
    const s = stack();
    return { stack: s, cfn: new CfnResource(s, 'Policy', { type: 'AWS::IAM::Policy' }) };
  }

  test('writes cdk_nag metadata, with findings rendered as cdk-nag names them', () => {
    const { stack: s, cfn } = resource();
    const role = new iam.Role(s, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    acknowledgeNagFindings(cfn, [
      { id: 'AwsSolutions-IAM5', reason: 'why star', appliesTo: ['Resource::*', `Resource::${role.roleArn}/*`] },
      { id: 'AwsSolutions-L1', reason: 'why runtime' },
    ]);
    expect(cfn.getMetadata('cdk_nag')).toEqual({
      rules_to_suppress: [
        { id: 'AwsSolutions-IAM5', reason: 'why star', applies_to: ['Resource::*', 'Resource::<Role1ABCC5F0.Arn>/*'] },
        { id: 'AwsSolutions-L1', reason: 'why runtime' },
      ],
    });
    const template = Template.fromStack(s).toJSON();
    expect(template.Resources.Policy.Metadata.cdk_nag.rules_to_suppress).toHaveLength(2);
  });

  test('merges with cdk_nag metadata already there, keeping its other fields, without duplicates', () => {
    const { cfn } = resource();
    const existing = { id: 'AwsSolutions-IAM4', reason: 'managed policy on purpose' };
    const same = { id: 'AwsSolutions-IAM5', reason: 'why star', applies_to: ['Resource::*'] };
    cfn.addMetadata('cdk_nag', { rules_to_suppress: [existing, same], other: 'kept' });
    acknowledgeNagFindings(cfn, [
      { id: 'AwsSolutions-IAM5', reason: 'why star', appliesTo: ['Resource::*'] },
      { id: 'AwsSolutions-SQS3', reason: 'no DLQ' },
    ]);
    acknowledgeNagFindings(cfn, [{ id: 'AwsSolutions-SQS3', reason: 'no DLQ' }]);
    expect(cfn.getMetadata('cdk_nag')).toEqual({
      other: 'kept',
      rules_to_suppress: [existing, same, { id: 'AwsSolutions-SQS3', reason: 'no DLQ' }],
    });
  });

  test('a finding acknowledged for other resources only is kept apart from one for every resource', () => {
    const { cfn } = resource();
    acknowledgeNagFindings(cfn, [
      { id: 'AwsSolutions-IAM5', reason: 'r' },
      { id: 'AwsSolutions-IAM5', reason: 'r', appliesTo: ['Resource::*'] },
      { id: 'AwsSolutions-IAM5', reason: 'r' },
    ]);
    expect(cfn.getMetadata('cdk_nag').rules_to_suppress).toEqual([
      { id: 'AwsSolutions-IAM5', reason: 'r' },
      { id: 'AwsSolutions-IAM5', reason: 'r', applies_to: ['Resource::*'] },
    ]);
  });

  test('with aws-cdk-lib\'s Validations API, each finding is acknowledged as Rule[Finding]', () => {
    const acknowledged: Array<{ scope: unknown; id: string; reason: string }> = [];
    const fake = {
      of: (scope: unknown) => ({
        acknowledge: (...rules: Array<{ id: string; reason: string }>) => rules.forEach(r => acknowledged.push({ scope, ...r })),
      }),
    };
    withValidations(fake, () => {
      const { cfn } = resource();
      acknowledgeNagFindings(cfn, [
        { id: 'AwsSolutions-IAM5', reason: 'why star', appliesTo: ['Resource::*', 'Action::s3:*'] },
        { id: 'AwsSolutions-L1', reason: 'why runtime' },
      ]);
      expect(acknowledged).toEqual([
        { scope: cfn, id: 'AwsSolutions-IAM5[Resource::*]', reason: 'why star' },
        { scope: cfn, id: 'AwsSolutions-IAM5[Action::s3:*]', reason: 'why star' },
        { scope: cfn, id: 'AwsSolutions-L1', reason: 'why runtime' },
      ]);
    });
  });
  test('an aws-cdk-lib whose acknowledge() refuses a finding id holding "::" gets the acknowledgement as metadata, as cdk-nag 3 reads it', () => {
    const fake = {
      ACKNOWLEDGED_RULES_METADATA_KEY: 'aws:cdk:acknowledged-rules',
      of: () => ({
        acknowledge: (...rules: Array<{ id: string; reason: string }>) => {
          if (rules.some(r => r.id.includes('::'))) {
            throw new Error(`Invalid validation rule ID '${rules[0].id}'. The '::' delimiter is reserved`);
          }
        },
      }),
    };
    withValidations(fake, () => {
      const { cfn } = resource();
      acknowledgeNagFindings(cfn, [
        { id: 'AwsSolutions-IAM5', reason: 'why star', appliesTo: ['Resource::*'] },
        { id: 'AwsSolutions-L1', reason: 'why runtime' },
      ]);
      const recorded = cfn.node.metadata.filter(m => m.type === 'aws:cdk:acknowledged-rules').map(m => m.data);
      expect(recorded).toEqual([{ 'Annotation::AwsSolutions-IAM5[Resource::*]': 'why star' }]);
    });
  });
});

describe('RecordWritePolicies', () => {
  interface Fixture {
    readonly stack: Stack;
    readonly writes: RecordWritePolicies;
    readonly role: iam.Role;
  }

  /** The zone's id as the template resolves it: part of each policy's hash. */
  const ZONE_REF = JSON.stringify({ Ref: 'ZoneA5DE4B68' });

  function fixture(): Fixture {
    const s = stack();
    const scope = new Construct(s, 'Discovery');
    const role = new iam.Role(scope, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const zone = new route53.HostedZone(s, 'Zone', { zoneName: 'example.com' });
    return { stack: s, role, writes: new RecordWritePolicies(scope, role, zone) };
  }

  /** `count` distinct names of exactly `length` characters. */
  function names(count: number, length = 60, prefix = 'n'): string[] {
    return Array.from({ length: count }, (_, i) => {
      const head = `${prefix}${i}.`;
      return `${head}${'x'.repeat(length - head.length - '.example.com'.length)}.example.com`;
    });
  }

  /** The synthesized managed policies: logical id → names they allow. */
  function policies(s: Stack): Record<string, { names: string[]; document: unknown; roles: unknown }> {
    const out: Record<string, { names: string[]; document: unknown; roles: unknown }> = {};
    for (const [id, r] of Object.entries(Template.fromStack(s).findResources('AWS::IAM::ManagedPolicy'))) {
      const statement = r.Properties.PolicyDocument.Statement.find((x: { Sid?: string }) => x.Sid === 'ChangeRegisteredRecords');
      out[id] = {
        names: statement.Condition['ForAllValues:StringEquals']['route53:ChangeResourceRecordSetsNormalizedRecordNames'],
        document: r.Properties.PolicyDocument,
        roles: r.Properties.Roles,
      };
    }
    return out;
  }

  /** How many names of `length` characters fit in one policy, found by growing the list. */
  function capacity(length: number): number {
    for (let n = 1; ; n++) {
      const f = fixture();
      if (f.writes.assign(names(n, length)).some(g => g > 0)) {
        return n - 1;
      }
    }
  }

  test('a few names share one policy allowing only UPSERT and DELETE of A records at them, in the zone', () => {
    const f = fixture();
    expect(f.writes.assign(['a.example.com', 'b.example.com'])).toEqual([0, 0]);
    expect(f.writes.resources).toHaveLength(1);
    const all = Object.values(policies(f.stack));
    expect(all).toHaveLength(1);
    const [list, statement] = (all[0].document as any).Statement;
    // Reading the zone rides with the writes, so that a zone's read permission lasts as long as its write permission.
    expect(list).toEqual({ Sid: 'ListZoneRecords', Effect: 'Allow', Action: 'route53:ListResourceRecordSets', Resource: statement.Resource });
    expect(statement.Action).toBe('route53:ChangeResourceRecordSets');
    expect(statement.Effect).toBe('Allow');
    expect(statement.Condition['ForAllValues:StringEquals']).toEqual({
      'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['a.example.com', 'b.example.com'],
      'route53:ChangeResourceRecordSetsRecordTypes': ['A'],
      'route53:ChangeResourceRecordSetsActions': ['UPSERT', 'DELETE'],
    });
    expect(JSON.stringify(statement.Resource)).toContain('ZoneA5DE4B68');
    expect(all[0].roles).toEqual([{ Ref: expect.stringMatching(/^DiscoveryRole/) }]);
  });

  test('names fill one policy while it stays within 6144 characters, the next name opens a second', () => {
    const length = 200;
    const fit = capacity(length);
    expect(fit).toBeGreaterThan(10);
    const f = fixture();
    const all = names(fit + 1, length);
    expect(f.writes.assign(all)).toEqual([...Array(fit).fill(0), 1]);
    const synthesized = Object.values(policies(f.stack));
    expect(synthesized.map(p => p.names)).toEqual([all.slice(0, fit), [all[fit]]]);
    // The full policy fits IAM's quota, counted with its references at their longest; one more name would not.
    const full = resolvedJsonLength(f.stack, synthesized[0].document);
    expect(full).toBeLessThanOrEqual(AWS_LIMITS.managedPolicyChars);
    expect(full + JSON.stringify(all[fit]).length + 1).toBeGreaterThan(AWS_LIMITS.managedPolicyChars);
  });

  test('write groups follow the registration order; a name given again keeps its group', () => {
    const length = 200;
    const fit = capacity(length);
    const f = fixture();
    const all = names(fit + 2, length);
    const groups = f.writes.assign([...all, all[0], all[fit + 1]]);
    expect(groups).toEqual([...Array(fit).fill(0), 1, 1, 0, 1]);
  });

  test('each policy\'s logical id carries the hash of its sorted names', () => {
    const f = fixture();
    const all = names(3, 60);
    f.writes.assign([all[2], all[0], all[1]]);
    const ids = Object.keys(policies(f.stack));
    expect(ids).toEqual([`DiscoveryRecordWrites1${hashOf([ZONE_REF, ...[...all].sort()])}`]);
  });

  test('assigning again renames the existing policy for its new names', () => {
    const f = fixture();
    f.writes.assign(['a.example.com']);
    f.writes.assign(['a.example.com', 'b.example.com']);
    expect(Object.keys(policies(f.stack))).toEqual([`DiscoveryRecordWrites1${hashOf([ZONE_REF, 'a.example.com', 'b.example.com'])}`]);
  });

  test('another hosted zone makes another policy (its logical id changes), so the old zone\'s permissions last until cleanup', () => {
    const a = fixture();
    a.writes.assign(['a.example.com']);
    const b = fixture();
    const otherZone = new route53.HostedZone(b.stack, 'OtherZone', { zoneName: 'example.com' });
    const scope = new Construct(b.stack, 'Other');
    const role = new iam.Role(scope, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    new RecordWritePolicies(scope, role, otherZone).assign(['a.example.com']);
    const idOf = (s: Stack, prefix: string) => Object.keys(policies(s)).find(id => id.startsWith(prefix))!.slice(-8);
    expect(idOf(b.stack, 'OtherRecordWrites1')).not.toBe(idOf(a.stack, 'DiscoveryRecordWrites1'));
  });

  test('renaming one name changes exactly one policy\'s logical id', () => {
    const length = 200;
    const fit = capacity(length);
    const before = names(2 * fit + 3, length);
    const after = [...before];
    // A name of the second policy renamed to another of the same length.
    after[fit + 1] = after[fit + 1].replace(/^n/, 'r');
    const a = fixture();
    const b = fixture();
    expect(a.writes.assign(before)).toEqual(b.writes.assign(after));
    const idsBefore = Object.keys(policies(a.stack));
    const idsAfter = Object.keys(policies(b.stack));
    expect(idsBefore).toHaveLength(3);
    expect(idsAfter).toHaveLength(3);
    expect(idsAfter.filter(id => !idsBefore.includes(id))).toHaveLength(1);
    expect(idsAfter[1]).not.toBe(idsBefore[1]);
    expect([idsAfter[0], idsAfter[2]]).toEqual([idsBefore[0], idsBefore[2]]);
  });

  test(`more names than ${MAX_WRITE_POLICIES} policies hold are refused with a clear error`, () => {
    const length = 250;
    const fit = capacity(length);
    expect(() => fixture().writes.assign(names(MAX_WRITE_POLICIES * fit, length))).not.toThrow();
    const f = fixture();
    const tooMany = names(MAX_WRITE_POLICIES * fit + 1, length);
    expect(() => f.writes.assign(tooMany)).toThrow(
      `The ${tooMany.length} registered names need 6 IAM policies of at most 6144 characters to list them, but EcsPublicDiscovery uses at most 5`,
    );
    expect(() => f.writes.assign(tooMany)).toThrow(/one EcsPublicDiscovery per group of services/);
    // Nothing was created for the refused list.
    expect(f.writes.resources).toHaveLength(0);
  });
});

describe('hashOf', () => {
  test('is the first eight hex digits, upper case, of the SHA-256 of the values joined by newlines', () => {
    // Pinned values: a logical id must not change between runs, machines or Node versions.
    expect(hashOf([])).toBe('E3B0C442');
    expect(hashOf(['a'])).toBe('CA978112');
    expect(hashOf(['a.example.com', 'b.example.com'])).toBe('5C62FCB4');
    expect(hashOf(['b.example.com', 'a.example.com'])).toBe('90C15EFE');
  });

  test('is the same on every call and differs for other values', () => {
    const values = ['mc.example.com', 'web.example.com'];
    expect(hashOf(values)).toBe(hashOf([...values]));
    expect(hashOf(values)).not.toBe(hashOf(['mc.example.com', 'web.example.co']));
    expect(hashOf(values)).toMatch(/^[0-9A-F]{8}$/);
  });
});
