import {
  ConfigError, ENV, LIFECYCLE_NAMES_PROPERTY, LIFECYCLE_RESOURCE_TYPE, readEnvelope, readLifecycleNames, readServicesParameter,
} from '../../src/shared/contract';

const CLUSTER = 'arn:aws:ecs:eu-west-1:123456789012:cluster/games';
const ZONE = 'Z1R8UBAEXAMPLE';

const service = (over: Record<string, unknown> = {}) => ({
  serviceName: 'minecraft', name: 'mc', fqdn: 'mc.example.com.', ttl: 60, ttlTagged: false, hostedZoneId: ZONE, ...over,
});
const name = (over: Record<string, unknown> = {}) => ({ hostedZoneId: ZONE, fqdn: 'mc.example.com.', serviceName: 'minecraft', ...over });

const envOf = (config: unknown) => ({ [ENV.CONFIG]: typeof config === 'string' ? config : JSON.stringify(config) });

/** The ConfigError `fn` throws (fails the test when it throws none or another error). */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).name).toBe('ConfigError');
    return e as ConfigError;
  }
  throw new Error('no ConfigError thrown');
}

describe('lifecycle constants', () => {
  test('match what the construct and the handler share', () => {
    expect(LIFECYCLE_RESOURCE_TYPE).toBe('Custom::EcsPublicDiscovery');
    expect(LIFECYCLE_NAMES_PROPERTY).toBe('Names');
  });
});

describe('readEnvelope', () => {
  test('inline registrations are read with the fingerprint', () => {
    expect(readEnvelope(envOf({ clusterArn: CLUSTER, services: [service()], fingerprint: 'abc' }))).toEqual({
      clusterArn: CLUSTER, services: [service()], fingerprint: 'abc',
    });
  });

  test('parameter names are read instead of services', () => {
    expect(readEnvelope(envOf({ clusterArn: CLUSTER, servicesParameters: ['/a', '/b'], fingerprint: 'abc' }))).toEqual({
      clusterArn: CLUSTER, servicesParameters: ['/a', '/b'], fingerprint: 'abc',
    });
  });

  test('a fingerprint that is not a string is dropped', () => {
    expect(readEnvelope(envOf({ clusterArn: CLUSTER, services: [], fingerprint: 7 })).fingerprint).toBeUndefined();
  });

  test.each([
    ['unset', undefined, `${ENV.CONFIG} is not set`],
    ['blank', '  ', `${ENV.CONFIG} is not set`],
    ['not JSON', '{', `${ENV.CONFIG} is not valid JSON`],
    ['an array', '[]', `${ENV.CONFIG} must be a JSON object`],
    ['no cluster ARN', JSON.stringify({ services: [] }), `${ENV.CONFIG}.clusterArn must be an ECS cluster ARN`],
    ['a service ARN as cluster', JSON.stringify({ clusterArn: 'arn:aws:ecs:eu-west-1:1:service/games/x', services: [] }), `${ENV.CONFIG}.clusterArn must be`],
    ['empty parameter list', JSON.stringify({ clusterArn: CLUSTER, servicesParameters: [] }), `${ENV.CONFIG}.servicesParameters must be a non-empty array`],
    ['an empty parameter name', JSON.stringify({ clusterArn: CLUSTER, servicesParameters: ['/a', ''] }), `${ENV.CONFIG}.servicesParameters must be`],
    ['a parameter name that is not a string', JSON.stringify({ clusterArn: CLUSTER, servicesParameters: [1] }), `${ENV.CONFIG}.servicesParameters must be`],
    ['parameters not a list', JSON.stringify({ clusterArn: CLUSTER, servicesParameters: '/a' }), `${ENV.CONFIG}.servicesParameters must be`],
    ['neither services nor parameters', JSON.stringify({ clusterArn: CLUSTER }), `${ENV.CONFIG}.services must be an array`],
    ['a bad inline service', JSON.stringify({ clusterArn: CLUSTER, services: [service(), service({ fqdn: 'mc.example.com' })] }), `${ENV.CONFIG}.services[1].fqdn must be lower case`],
  ])('%s: a ConfigError naming what is wrong', (_what, value, message) => {
    const env = value === undefined ? {} : { [ENV.CONFIG]: value };
    expect(configError(() => readEnvelope(env)).message).toContain(message);
  });
});

describe('readServicesParameter', () => {
  test('reads a JSON array of registered services', () => {
    expect(readServicesParameter('/p/1', JSON.stringify([service(), service({ serviceName: 'web', writeGroup: 2 })]))).toEqual([
      service(), service({ serviceName: 'web', writeGroup: 2 }),
    ]);
  });

  test('an empty array is no services', () => {
    expect(readServicesParameter('/p/1', '[]')).toEqual([]);
  });

  test('unknown fields are dropped and ttlTagged is a boolean', () => {
    const [s] = readServicesParameter('/p/1', JSON.stringify([{ ...service(), ttlTagged: 'yes', extra: 1 }]));
    expect(s).toEqual(service());
  });

  test.each([
    ['missing', undefined, 'SSM parameter /p/1 does not exist or could not be read'],
    ['not JSON', '[{', 'SSM parameter /p/1 is not valid JSON'],
    ['an object', JSON.stringify(service()), 'SSM parameter /p/1 must hold a JSON array of registered services'],
    ['a bad service', JSON.stringify([service(), { ...service(), hostedZoneId: '' }]), 'SSM parameter /p/1[1].hostedZoneId must be a non-empty string'],
    ['a bad TTL', JSON.stringify([service({ ttl: 1.5 })]), 'SSM parameter /p/1[0].ttl must be a whole number'],
    ['a bad write group', JSON.stringify([service({ writeGroup: -1 })]), 'SSM parameter /p/1[0].writeGroup must be a whole number, got -1'],
  ])('%s: a ConfigError naming the parameter', (_what, value, message) => {
    expect(configError(() => readServicesParameter('/p/1', value)).message).toContain(message);
  });
});

describe('readLifecycleNames', () => {
  test('reads the names, dropping other fields', () => {
    expect(readLifecycleNames({ ServiceToken: 'arn:fn', Names: [name({ extra: 'x' }), name({ fqdn: 'web.example.com.', serviceName: 'web' })] }, 'ResourceProperties'))
      .toEqual([name(), name({ fqdn: 'web.example.com.', serviceName: 'web' })]);
  });

  test('no names is an empty list', () => {
    expect(readLifecycleNames({ Names: [] }, 'ResourceProperties')).toEqual([]);
  });

  test('a name without write group has none', () => {
    expect(readLifecycleNames({ Names: [name()] }, 'ResourceProperties')[0]).not.toHaveProperty('writeGroup');
  });

  test.each([
    ['no properties', undefined, 'ResourceProperties.Names must be an array of registered names, got undefined'],
    ['properties as a list', [name()], 'ResourceProperties.Names must be an array'],
    ['Names as a string', { Names: '[]' }, 'ResourceProperties.Names must be an array of registered names, got "[]"'],
    ['a name that is not an object', { Names: [name(), 'mc'] }, 'ResourceProperties.Names[1] must be an object, got "mc"'],
    ['no hosted zone', { Names: [name({ hostedZoneId: undefined })] }, 'ResourceProperties.Names[0].hostedZoneId must be a non-empty string'],
    ['an empty fqdn', { Names: [name({ fqdn: '' })] }, 'ResourceProperties.Names[0].fqdn must be a non-empty string'],
    ['no service name', { Names: [name({ serviceName: 3 })] }, 'ResourceProperties.Names[0].serviceName must be a non-empty string, got 3'],
    ['an upper-case fqdn', { Names: [name({ fqdn: 'MC.example.com.' })] }, 'ResourceProperties.Names[0].fqdn must be lower case with a trailing dot'],
    ['an fqdn without trailing dot', { Names: [name({ fqdn: 'mc.example.com' })] }, 'ResourceProperties.Names[0].fqdn must be lower case with a trailing dot'],
  ])('%s: a ConfigError naming the property', (_what, properties, message) => {
    expect(configError(() => readLifecycleNames(properties, 'ResourceProperties')).message).toContain(message);
  });

  test('the path given is the one named', () => {
    expect(configError(() => readLifecycleNames({}, 'OldResourceProperties')).message).toMatch(/^OldResourceProperties\.Names /);
  });
});

describe('writeGroup', () => {
  test.each([
    [0, 0],
    [3, 3],
    ['0', 0],
    ['1', 1],
    ['12', 12],
  ])('%j is accepted as %d, in a lifecycle name and in a registered service', (value, expected) => {
    expect(readLifecycleNames({ Names: [name({ writeGroup: value })] }, 'ResourceProperties')).toEqual([name({ writeGroup: expected })]);
    expect(readServicesParameter('/p', JSON.stringify([service({ writeGroup: value })]))).toEqual([service({ writeGroup: expected })]);
    const envelope = readEnvelope(envOf({ clusterArn: CLUSTER, services: [service({ writeGroup: value })] }));
    expect(envelope.services).toEqual([service({ writeGroup: expected })]);
  });

  test.each([
    [-1],
    [1.5],
    ['-1'],
    ['1.5'],
    [' 1'],
    ['1 '],
    ['0x1'],
    ['1e2'],
    [''],
    ['two'],
    [true],
    [null],
    [[1]],
    [{ n: 1 }],
  ])('%j is refused with a ConfigError naming the path', (value) => {
    const inName = configError(() => readLifecycleNames({ Names: [name(), name({ writeGroup: value })] }, 'ResourceProperties'));
    expect(inName.message).toBe(`ResourceProperties.Names[1].writeGroup must be a whole number, got ${JSON.stringify(value)}`);
    const inParameter = configError(() => readServicesParameter('/p', JSON.stringify([service({ writeGroup: value })])));
    expect(inParameter.message).toBe(`SSM parameter /p[0].writeGroup must be a whole number, got ${JSON.stringify(value)}`);
    const inEnvelope = configError(() => readEnvelope(envOf({ clusterArn: CLUSTER, services: [service({ writeGroup: value })] })));
    expect(inEnvelope.message).toBe(`${ENV.CONFIG}.services[0].writeGroup must be a whole number, got ${JSON.stringify(value)}`);
  });
});

describe('readLifecycleNames: task names and SRV', () => {
  const base = { hostedZoneId: 'Z1', fqdn: 'mc.example.com.', serviceName: 'mc' };
  test('reads taskNames as CloudFormation passes it (a string) and the SRV name', () => {
    const names = readLifecycleNames({ Names: [{ ...base, taskNames: 'true', srvFqdn: '_minecraft._tcp.mc.example.com.' }, base] }, 'ResourceProperties');
    expect(names[0]).toEqual({ ...base, taskNames: true, srvFqdn: '_minecraft._tcp.mc.example.com.' });
    expect(names[1]).toEqual(base);
  });
  test('refuses an SRV name that is not normalized', () => {
    expect(() => readLifecycleNames({ Names: [{ ...base, srvFqdn: '_x._tcp.MC.example.com' }] }, 'ResourceProperties'))
      .toThrow('ResourceProperties.Names[0].srvFqdn.fqdn must be lower case with a trailing dot');
  });
});
