/**
 * Per-task host names and SRV records: the `taskNames` and `srv` options of addService, what they register
 * (the handler's configuration, the lifecycle resource's names), what the write policies allow, and every
 * validation error.
 */
import { Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { discovery, fargateService, renderedConfig, roleStatements, testStack, TestStack } from './helpers';
import { ServiceOptions, SrvProtocol } from '../../src';

const NAMES_KEY = 'route53:ChangeResourceRecordSetsNormalizedRecordNames';
const TYPES_KEY = 'route53:ChangeResourceRecordSetsRecordTypes';
const PATTERN = '?'.repeat(32);

/** A service whose task definition's default container maps the given port. */
function serviceWithPort(t: TestStack, name: string, port?: number): ecs.FargateService {
  const taskDefinition = new ecs.FargateTaskDefinition(t.stack, `TaskDef-${name}`);
  taskDefinition.addContainer('game', {
    image: ecs.ContainerImage.fromRegistry('itzg/minecraft-server'),
    ...(port !== undefined ? { portMappings: [{ containerPort: port }] } : {}),
  });
  return fargateService(t, name, { taskDefinition });
}

function synth(...services: Array<[string, Partial<ServiceOptions>]>) {
  const t = testStack();
  const d = discovery(t);
  for (const [name, options] of services) {
    d.addService({ service: serviceWithPort(t, name, 25565), name, ...options });
  }
  return { t, d, template: Template.fromStack(t.stack) };
}

function lifecycleNames(template: Template): any[] {
  return Object.values(template.findResources('Custom::EcsPublicDiscovery'))[0].Properties.Names;
}

describe('what is registered', () => {
  test('without the options the configuration, the lifecycle names and the policy read as before', () => {
    const { template } = synth(['web', {}], ['game', { taskNames: false }]);
    for (const s of renderedConfig(template).services) {
      expect(s).not.toHaveProperty('taskNames');
      expect(s).not.toHaveProperty('srv');
    }
    for (const n of lifecycleNames(template)) {
      expect(n).not.toHaveProperty('taskNames');
      expect(n).not.toHaveProperty('srvFqdn');
    }
    const condition = roleStatements(template).ChangeRegisteredRecords.Condition;
    expect(Object.keys(condition)).toEqual(['ForAllValues:StringEquals']);
    expect(condition['ForAllValues:StringEquals'][NAMES_KEY]).toEqual(['web.example.com', 'game.example.com']);
  });

  test('taskNames: the registration and its lifecycle name carry it; the policy allows the 32-character pattern with StringLike', () => {
    const { template } = synth(['web', {}], ['game', { taskNames: true }]);
    expect(renderedConfig(template).services.map((s: any) => s.taskNames)).toEqual([undefined, true]);
    expect(lifecycleNames(template).map(n => n.taskNames)).toEqual([undefined, true]);
    const condition = roleStatements(template).ChangeRegisteredRecords.Condition;
    // The names (with the pattern) under StringLike; the types and actions stay under StringEquals.
    expect(condition).toEqual({
      'ForAllValues:StringEquals': { [TYPES_KEY]: ['A'], 'route53:ChangeResourceRecordSetsActions': ['UPSERT', 'DELETE'] },
      'ForAllValues:StringLike': { [NAMES_KEY]: ['web.example.com', 'game.example.com', `${PATTERN}.game.example.com`] },
    });
  });

  test('srv: defaults (TCP, the container port, priority 0, weight 1), task names on, the SRV name and type allowed', () => {
    const { template } = synth(['game', { srv: { service: 'minecraft' } }]);
    const [service] = renderedConfig(template).services;
    expect(service.taskNames).toBe(true);
    expect(service.srv).toEqual({ fqdn: '_minecraft._tcp.game.example.com.', priority: 0, weight: 1, port: 25565 });
    expect(lifecycleNames(template)[0]).toMatchObject({ taskNames: true, srvFqdn: '_minecraft._tcp.game.example.com.' });
    const condition = roleStatements(template).ChangeRegisteredRecords.Condition;
    expect(condition['ForAllValues:StringLike'][NAMES_KEY]).toEqual(['game.example.com', `${PATTERN}.game.example.com`, '_minecraft._tcp.game.example.com']);
    expect(condition['ForAllValues:StringEquals'][TYPES_KEY]).toEqual(['A', 'SRV']);
  });

  test('srv with every option given', () => {
    const { template } = synth(['game', { srv: { service: 'Minecraft', protocol: SrvProtocol.UDP, port: 19132, priority: 10, weight: 0 } }]);
    expect(renderedConfig(template).services[0].srv).toEqual({ fqdn: '_minecraft._udp.game.example.com.', priority: 10, weight: 0, port: 19132 });
  });

  test('the policy\'s logical id changes with the task names and the SRV name (a new policy, the old one to the cleanup)', () => {
    const id = (options: Partial<ServiceOptions>) => Object.keys(synth(['game', options]).template.findResources('AWS::IAM::ManagedPolicy'))[0];
    const plain = id({});
    expect(id({ taskNames: true })).not.toBe(plain);
    expect(id({ srv: { service: 'minecraft' } })).not.toBe(id({ taskNames: true }));
    expect(id({ srv: { service: 'minecraft', protocol: SrvProtocol.UDP } })).not.toBe(id({ srv: { service: 'minecraft' } }));
    expect(id({ taskNames: false })).toBe(plain);
  });

  test('the enum spells the protocol labels', () => {
    expect(Object.values(SrvProtocol)).toEqual(['tcp', 'udp', 'tls', 'sctp']);
  });
});

describe('validation', () => {
  const add = (options: Partial<ServiceOptions>, port: number | null = 25565, name = 'game') => {
    const t = testStack();
    discovery(t).addService({ service: serviceWithPort(t, 'svc', port ?? undefined), name, ...options });
  };

  test.each<[string, Partial<ServiceOptions>, RegExp]>([
    ['srv with taskNames false', { taskNames: false, srv: { service: 'minecraft' } },
      /publishes SRV records \(srv\) but sets taskNames to false: .* remove taskNames: false/],
    ['a service label with its underscore', { srv: { service: '_minecraft' } }, /give it without the leading underscore \(e.g. 'minecraft'\)/],
    ['a service label that is not a DNS label', { srv: { service: 'mine craft' } }, /is not a DNS label \(characters\): use letters, digits and '-'/],
    ['an underscore inside the label', { srv: { service: 'mine_craft' } }, /is not a DNS label/],
    ['a label of 64 characters', { srv: { service: 'm'.repeat(64) } }, /is not a DNS label \(too-long\)/],
    ['a service label known at deploy time', { srv: { service: Token.asString({ Ref: 'P' }) } }, /srv.service .* is only known at deploy time/],
    ['an unknown protocol', { srv: { service: 'minecraft', protocol: 'quic' as SrvProtocol } }, /srv.protocol .* is "quic", which is not one of "tcp", "udp", "tls", "sctp"/],
    ['a priority above 65535', { srv: { service: 'minecraft', priority: 65536 } }, /srv.priority .* is 65536, but it must be a literal whole number in 0..65535/],
    ['a negative weight', { srv: { service: 'minecraft', weight: -1 } }, /srv.weight .* is -1/],
    ['a port of 0', { srv: { service: 'minecraft', port: 0 } }, /srv.port .* is 0, but it must be a literal whole number in 1..65535/],
  ])('%s', (_what, options, message) => {
    expect(() => add(options)).toThrow(message);
  });

  test('no port given and no port mapping: names srv.port', () => {
    expect(() => add({ srv: { service: 'minecraft' } }, null)).toThrow(/has no port mapping: give the port explicitly \(srv.port\)/);
    expect(() => add({ srv: { service: 'minecraft', port: 25565 } }, null)).not.toThrow();
  });

  test('the longest task name must fit DNS\'s 253 characters', () => {
    // 32 + 1 + name: a name of 220 characters (with the zone) still fits, one more does not.
    const label = (n: number) => `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(n)}`;
    const fits = label(220 - 12 - 183);
    expect(`${fits}.example.com`.length).toBe(220);
    expect(() => add({ taskNames: true }, 25565, fits)).not.toThrow();
    expect(() => add({ taskNames: true }, 25565, `${fits}e`)).toThrow(/The task host name \(<task id>.<name>\) of the service .* is up to '.*', 254 characters long; DNS allows at most 253/);
    expect(() => add({}, 25565, `${fits}e`)).not.toThrow();
    expect(() => add({ srv: { service: 'm'.repeat(26) } }, 25565, fits)).not.toThrow();
    expect(() => add({ srv: { service: 'm'.repeat(27) } }, 25565, fits)).toThrow(/The SRV record name of the service .* is up to '_m+._tcp.a+.*', 254 characters long/);
  });

  test.each<[string, [string, Partial<ServiceOptions>], [string, Partial<ServiceOptions>], RegExp | undefined]>([
    ['a name under another\'s task-name pattern', ['game', { taskNames: true }], [`${'a'.repeat(32)}.game`, {}], /would be the host name of a task of 'game.example.com.'/],
    ['the other way round', [`${'a'.repeat(32)}.game`, {}], ['game', { taskNames: true }], /would be the host name of a task of 'game.example.com.'/],
    ['a name equal to another\'s SRV name', ['game', { srv: { service: 'minecraft' } }], ['_minecraft._tcp.game', {}], /'_minecraft._tcp.game.example.com.' is a name of both/],
    ['a 31-character label below a name with task names is fine', ['game', { taskNames: true }], [`${'a'.repeat(31)}.game`, {}], undefined],
    ['a 32-character label below a name without task names is fine', ['game', {}], [`${'a'.repeat(32)}.game`, {}], undefined],
  ])('%s', (_what, first, second, message) => {
    const t = testStack();
    const d = discovery(t);
    d.addService({ service: serviceWithPort(t, 'one', 25565), name: first[0], ...first[1] });
    const service = serviceWithPort(t, 'two', 25565);
    const run = () => d.addService({ service, name: second[0], ...second[1] });
    if (message) {
      expect(run).toThrow(message);
      expect(run).toThrow(/a name belongs to exactly one service/);
    } else {
      expect(run).not.toThrow();
    }
  });
});
