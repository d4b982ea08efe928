import {
  ConfigError, DEFAULT_METRICS_NAMESPACE, ENV, EVENT_BUDGET_SECONDS, FUNCTION_TIMEOUT_SECONDS, MAX_RECORDS_PER_NAME, MAX_TTL_SECONDS,
  METRIC, PURGE_SETTLE_MS, readConfig, taskIdFromArn,
} from '../../src/shared/contract';

const CLUSTER = 'arn:aws:ecs:eu-west-1:123456789012:cluster/games';

const service = (over: Record<string, unknown> = {}) => ({
  serviceName: 'minecraft',
  name: 'mc',
  fqdn: 'mc.example.com.',
  ttl: 60,
  ttlTagged: false,
  hostedZoneId: 'Z1R8UBAEXAMPLE',
  ...over,
});

const envOf = (config: unknown) => ({ [ENV.CONFIG]: typeof config === 'string' ? config : JSON.stringify(config) });

/** Runs readConfig and returns the ConfigError it throws (fails the test when it does not throw one). */
function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    readConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('readConfig did not throw');
}

describe('constants', () => {
  test('match the documented contract', () => {
    expect(ENV).toEqual({
      CONFIG: 'PUBLIC_DISCOVERY_CONFIG', METRICS_NAMESPACE: 'PUBLIC_DISCOVERY_METRICS_NAMESPACE', PURGE_SETTLE_MS: 'PUBLIC_DISCOVERY_PURGE_SETTLE_MS',
    });
    expect(PURGE_SETTLE_MS).toBe((EVENT_BUDGET_SECONDS + 10) * 1000);
    expect(FUNCTION_TIMEOUT_SECONDS).toBeGreaterThan(PURGE_SETTLE_MS / 1000 + 2 * 10);
    expect(DEFAULT_METRICS_NAMESPACE).toBe('EcsPublicDiscovery');
    expect(MAX_TTL_SECONDS).toBe(2 ** 31 - 1);
    expect(MAX_RECORDS_PER_NAME).toBe(100);
    expect(Object.values(METRIC).sort()).toEqual([
      'CapacityExceeded', 'ChangesFailed', 'DriftRepaired', 'EventsIgnored', 'RecordsDeleted', 'RecordsUpserted', 'TasksRejected',
    ]);
  });
});

describe('readConfig', () => {
  test('reads the documented example', () => {
    const config = readConfig(envOf({ clusterArn: CLUSTER, services: [service()] }));
    expect(config).toEqual({
      clusterArn: CLUSTER,
      services: [{ serviceName: 'minecraft', name: 'mc', fqdn: 'mc.example.com.', ttl: 60, ttlTagged: false, hostedZoneId: 'Z1R8UBAEXAMPLE' }],
    });
  });

  test('reads several services and keeps ttlTagged only when it is true', () => {
    const config = readConfig(envOf({
      clusterArn: CLUSTER,
      services: [
        service({ ttlTagged: true, ttl: 0 }),
        service({ serviceName: 'web', name: 'Web.Example.COM', fqdn: 'web.example.com.', ttl: MAX_TTL_SECONDS, ttlTagged: 'yes' }),
        service({ serviceName: 'x', ttlTagged: undefined }),
      ],
    }));
    expect(config.services.map(s => [s.serviceName, s.name, s.ttl, s.ttlTagged])).toEqual([
      ['minecraft', 'mc', 0, true],
      ['web', 'Web.Example.COM', MAX_TTL_SECONDS, false],
      ['x', 'mc', 60, false],
    ]);
  });

  test('drops unknown fields', () => {
    const config = readConfig(envOf({ clusterArn: CLUSTER, services: [service({ extra: 1 })], other: true }));
    expect(Object.keys(config).sort()).toEqual(['clusterArn', 'services']);
    expect(config.services[0]).not.toHaveProperty('extra');
  });

  test('accepts an empty service list and other partitions', () => {
    expect(readConfig(envOf({ clusterArn: 'arn:aws-cn:ecs:cn-north-1:123456789012:cluster/a', services: [] })))
      .toEqual({ clusterArn: 'arn:aws-cn:ecs:cn-north-1:123456789012:cluster/a', services: [] });
  });

  test.each([
    ['missing', {}, /^PUBLIC_DISCOVERY_CONFIG is not set/],
    ['undefined', { [ENV.CONFIG]: undefined }, /^PUBLIC_DISCOVERY_CONFIG is not set/],
    ['empty', { [ENV.CONFIG]: '' }, /^PUBLIC_DISCOVERY_CONFIG is not set/],
    ['blank', { [ENV.CONFIG]: '  \n' }, /^PUBLIC_DISCOVERY_CONFIG is not set/],
    ['not JSON', { [ENV.CONFIG]: '{clusterArn:' }, /^PUBLIC_DISCOVERY_CONFIG is not valid JSON \(/],
    ['a JSON array', envOf('[]'), /^PUBLIC_DISCOVERY_CONFIG must be a JSON object, got \[\]/],
    ['JSON null', envOf('null'), /^PUBLIC_DISCOVERY_CONFIG must be a JSON object, got null/],
    ['a JSON string', envOf('"x"'), /^PUBLIC_DISCOVERY_CONFIG must be a JSON object, got "x"/],
    ['a JSON number', envOf('42'), /^PUBLIC_DISCOVERY_CONFIG must be a JSON object, got 42/],
  ])('the variable %s is refused', (_what, env, message) => {
    expect(configError(env).message).toMatch(message);
  });

  test.each([
    ['missing', undefined],
    ['not a string', 42],
    ['empty', ''],
    ['a service ARN', 'arn:aws:ecs:eu-west-1:123456789012:service/games/mc'],
    ['a cluster name', 'games'],
    ['another service', 'arn:aws:ec2:eu-west-1:123456789012:cluster/games'],
    ['without cluster name', 'arn:aws:ecs:eu-west-1:123456789012:cluster/'],
  ])('clusterArn %s is refused', (_what, clusterArn) => {
    const err = configError(envOf({ clusterArn, services: [service()] }));
    expect(err.message).toMatch(/^PUBLIC_DISCOVERY_CONFIG\.clusterArn must be an ECS cluster ARN, got /);
    expect(err.name).toBe('ConfigError');
  });

  test.each([
    ['missing', undefined],
    ['an object', { 0: service() }],
    ['a string', 'minecraft'],
    ['null', null],
  ])('services %s is refused', (_what, services) => {
    expect(configError(envOf({ clusterArn: CLUSTER, services })).message)
      .toMatch(/^PUBLIC_DISCOVERY_CONFIG\.services must be an array, got /);
  });

  test.each([
    ['null', null],
    ['a string', 'minecraft'],
    ['an array', [service()]],
  ])('a service that is %s is refused', (_what, s) => {
    expect(configError(envOf({ clusterArn: CLUSTER, services: [service(), s] })).message)
      .toMatch(/^PUBLIC_DISCOVERY_CONFIG\.services\[1\] must be an object, got /);
  });

  test.each(['serviceName', 'name', 'fqdn', 'hostedZoneId'].flatMap(key => [
    [key, 'missing', undefined],
    [key, 'empty', ''],
    [key, 'a number', 7],
    [key, 'null', null],
  ]))('a service whose %s is %s is refused', (key, _what, value) => {
    const bad = service({ [key]: value });
    if (value === undefined) {
      delete (bad as Record<string, unknown>)[key];
    }
    expect(configError(envOf({ clusterArn: CLUSTER, services: [bad] })).message)
      .toBe(`PUBLIC_DISCOVERY_CONFIG.services[0].${key} must be a non-empty string, got ${JSON.stringify(value)}`);
  });

  test.each([
    ['missing', undefined],
    ['a string', '60'],
    ['fractional', 1.5],
    ['negative', -1],
    ['too large', MAX_TTL_SECONDS + 1],
    ['a boolean', true],
    ['null', null],
  ])('a ttl that is %s is refused', (_what, ttl) => {
    const err = configError(envOf({ clusterArn: CLUSTER, services: [service({ ttl })] }));
    expect(err.message).toMatch(/^PUBLIC_DISCOVERY_CONFIG\.services\[0\]\.ttl must be a whole number of seconds in 0\.\.2147483647, got /);
  });

  test.each([
    ['upper case', 'MC.example.com.'],
    ['without a trailing dot', 'mc.example.com'],
    ['upper case without a trailing dot', 'Mc.Example.Com'],
  ])('an fqdn %s is refused', (_what, fqdn) => {
    expect(configError(envOf({ clusterArn: CLUSTER, services: [service({ fqdn })] })).message)
      .toBe(`PUBLIC_DISCOVERY_CONFIG.services[0].fqdn must be lower case with a trailing dot, got ${JSON.stringify(fqdn)}`);
  });

  test('the first bad service is named by its index', () => {
    const err = configError(envOf({ clusterArn: CLUSTER, services: [service(), service(), service({ ttl: -5 })] }));
    expect(err.message).toContain('PUBLIC_DISCOVERY_CONFIG.services[2].ttl');
  });

  test('ConfigError is an Error named ConfigError', () => {
    const err = new ConfigError('boom');
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('ConfigError');
    expect(err.message).toBe('boom');
  });
});

describe('taskIdFromArn', () => {
  test.each([
    ['new format (cluster in the ARN)', 'arn:aws:ecs:eu-west-1:123456789012:task/games/0123456789abcdef0123456789abcdef', '0123456789abcdef0123456789abcdef'],
    ['old format', 'arn:aws:ecs:eu-west-1:123456789012:task/7c4e1a3b-1111-2222-3333-444455556666', '7c4e1a3b-1111-2222-3333-444455556666'],
    ['a bare id', 'abc123', 'abc123'],
  ])('%s', (_what, arn, id) => {
    expect(taskIdFromArn(arn)).toBe(id);
  });
});

describe('readConfig: split-horizon, task names, SRV and health checks', () => {
  const full = {
    addressScope: 'private',
    taskNames: true,
    srv: { fqdn: '_minecraft._tcp.mc.example.com.', priority: 0, weight: 5, port: 25565 },
    healthCheck: { type: 'HTTP', port: 8080, path: '/health', intervalSeconds: 10, failureThreshold: 3 },
  };

  test('reads every option and the owner', () => {
    const config = readConfig(envOf({ clusterArn: CLUSTER, owner: 'acct/region/Stack/Discovery', services: [service(full)] }));
    expect(config.owner).toBe('acct/region/Stack/Discovery');
    expect(config.services[0]).toEqual({ ...service(), ...full });
  });

  test('a registration without them reads as before', () => {
    const config = readConfig(envOf({ clusterArn: CLUSTER, services: [service()] }));
    expect(Object.keys(config.services[0]).sort()).toEqual(['fqdn', 'hostedZoneId', 'name', 'serviceName', 'ttl', 'ttlTagged']);
    expect(config).not.toHaveProperty('owner');
  });

  test.each([
    [{ addressScope: 'public' }, 'services[0].addressScope must be "private"'],
    [{ taskNames: 'yes' }, 'services[0].taskNames must be true or false'],
    [{ srv: { ...full.srv, fqdn: '_mc._tcp.MC.example.com' } }, 'services[0].srv.fqdn must be lower case with a trailing dot'],
    [{ srv: { ...full.srv, port: 0 } }, 'services[0].srv.port must be a whole number in 1..65535, got 0'],
    [{ srv: { ...full.srv, weight: 70000 } }, 'services[0].srv.weight must be a whole number in 0..65535'],
    [{ healthCheck: { ...full.healthCheck, type: 'UDP' } }, 'services[0].healthCheck.type must be "TCP", "HTTP" or "HTTPS", got "UDP"'],
    [{ healthCheck: { ...full.healthCheck, intervalSeconds: 20 } }, 'services[0].healthCheck.intervalSeconds must be 10 or 30, got 20'],
    [{ healthCheck: { ...full.healthCheck, path: 'health' } }, 'services[0].healthCheck.path must start with "/"'],
    [{ healthCheck: { ...full.healthCheck, failureThreshold: 11 } }, 'services[0].healthCheck.failureThreshold must be a whole number in 1..10, got 11'],
  ])('refuses %j', (over, message) => {
    expect(configError(envOf({ clusterArn: CLUSTER, services: [service(over)] })).message).toContain(message);
  });

  test('refuses an owner that is not a string', () => {
    expect(configError(envOf({ clusterArn: CLUSTER, owner: 7, services: [service()] })).message).toContain(`${ENV.CONFIG}.owner must be a non-empty string, got 7`);
  });
});
