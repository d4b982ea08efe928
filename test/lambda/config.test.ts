import { FakeDiscoveryApi } from './fake-api';
import { API, CLUSTER_ARN, MC, WEB } from './fixtures';
import { ConfigSource, serviceNamesInBodies, STALE_AFTER_MS } from '../../src/lambda/config';
import { ConfigEnvelope, ConfigError, ENV, RegisteredService } from '../../src/shared/contract';

const P1 = '/cdk-ecs-public-discovery/S/registrations-1';
const P2 = '/cdk-ecs-public-discovery/S/registrations-2';

const envOf = (envelope: ConfigEnvelope): Record<string, string> => ({ [ENV.CONFIG]: JSON.stringify(envelope) });
const inlineEnv = envOf({ clusterArn: CLUSTER_ARN, services: [MC, WEB], fingerprint: 'f1' });
const parametersEnv = (fingerprint = 'f1') => envOf({ clusterArn: CLUSTER_ARN, servicesParameters: [P1, P2], fingerprint });

/** An API whose parameters hold MC and WEB in the first, API in the second. */
function apiWith(first: RegisteredService[] = [MC, WEB], second: RegisteredService[] = [API]): FakeDiscoveryApi {
  const api = new FakeDiscoveryApi();
  api.parameters.set(P1, JSON.stringify(first));
  api.parameters.set(P2, JSON.stringify(second));
  return api;
}

/** A clock the test moves by hand. */
function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: ms => { t += ms; } };
}

async function loadError(source: ConfigSource, api: FakeDiscoveryApi): Promise<ConfigError> {
  const err = await source.load(api).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

describe('ConfigSource.load', () => {
  test('inline registrations are returned without reading SSM, also when asked for a fresh copy', async () => {
    const api = apiWith();
    const source = new ConfigSource(inlineEnv);
    await expect(source.load(api)).resolves.toEqual({ clusterArn: CLUSTER_ARN, services: [MC, WEB] });
    await expect(source.load(api, { fresh: true })).resolves.toEqual({ clusterArn: CLUSTER_ARN, services: [MC, WEB] });
    expect(api.count('getParameters')).toBe(0);
  });

  test('registrations in parameters are read with one GetParameters call, in the envelope\'s order', async () => {
    const api = apiWith();
    const config = await new ConfigSource(parametersEnv()).load(api);
    expect(config).toEqual({ clusterArn: CLUSTER_ARN, services: [MC, WEB, API] });
    expect(api.callsOf('getParameters')).toEqual([[[P1, P2]]]);
  });

  test('a second load returns the loaded registrations without reading SSM again', async () => {
    const api = apiWith();
    const source = new ConfigSource(parametersEnv());
    const first = await source.load(api);
    api.parameters.set(P2, '[]');
    const second = await source.load(api);
    expect(second).toBe(first);
    expect(second.services).toEqual([MC, WEB, API]);
    expect(api.count('getParameters')).toBe(1);
  });

  test('fresh: true reads the parameters again', async () => {
    const api = apiWith();
    const source = new ConfigSource(parametersEnv());
    await source.load(api);
    api.parameters.set(P2, '[]');
    const fresh = await source.load(api, { fresh: true });
    expect(fresh.services).toEqual([MC, WEB]);
    expect(api.count('getParameters')).toBe(2);
    // The fresh copy is the one kept.
    await expect(source.load(api)).resolves.toBe(fresh);
    expect(api.count('getParameters')).toBe(2);
  });

  test('a changed environment value reads the parameters again', async () => {
    const api = apiWith();
    const env: Record<string, string | undefined> = parametersEnv('f1');
    const source = new ConfigSource(env);
    await source.load(api);
    env[ENV.CONFIG] = parametersEnv('f2')[ENV.CONFIG];
    api.parameters.set(P1, JSON.stringify([MC]));
    const reloaded = await source.load(api);
    expect(reloaded.services).toEqual([MC, API]);
    expect(api.count('getParameters')).toBe(2);
  });

  test('without an environment given, process.env is read at each load', async () => {
    const saved = process.env[ENV.CONFIG];
    try {
      const api = apiWith();
      const source = new ConfigSource();
      process.env[ENV.CONFIG] = inlineEnv[ENV.CONFIG];
      await expect(source.load(api)).resolves.toEqual({ clusterArn: CLUSTER_ARN, services: [MC, WEB] });
      process.env[ENV.CONFIG] = parametersEnv()[ENV.CONFIG];
      await expect(source.load(api)).resolves.toEqual({ clusterArn: CLUSTER_ARN, services: [MC, WEB, API] });
      expect(api.count('getParameters')).toBe(1);
    } finally {
      if (saved === undefined) {
        delete process.env[ENV.CONFIG];
      } else {
        process.env[ENV.CONFIG] = saved;
      }
    }
  });

  test('a missing parameter is a ConfigError naming it, and nothing is kept', async () => {
    const api = apiWith();
    api.parameters.delete(P2);
    const source = new ConfigSource(parametersEnv());
    const err = await loadError(source, api);
    expect(err.message).toContain(`SSM parameter ${P2} does not exist`);
    expect(err.message).not.toContain(P1);
    // Once the parameter exists, the next load reads it.
    api.parameters.set(P2, JSON.stringify([API]));
    await expect(source.load(api)).resolves.toEqual({ clusterArn: CLUSTER_ARN, services: [MC, WEB, API] });
    expect(api.count('getParameters')).toBe(2);
  });

  test('a malformed registration in a parameter is a ConfigError naming the parameter and the field', async () => {
    const api = apiWith();
    api.parameters.set(P1, JSON.stringify([MC, { ...WEB, ttl: -1 }]));
    const err = await loadError(new ConfigSource(parametersEnv()), api);
    expect(err.message).toContain(`SSM parameter ${P1}[1].ttl must be a whole number`);
  });

  test('a broken envelope is a ConfigError before any call', async () => {
    const api = apiWith();
    const err = await loadError(new ConfigSource({ [ENV.CONFIG]: JSON.stringify({ clusterArn: CLUSTER_ARN, servicesParameters: [] }) }), api);
    expect(err.message).toContain(`${ENV.CONFIG}.servicesParameters must be a non-empty array`);
    expect(api.count()).toBe(0);
  });
});

describe('ConfigSource.reloadIfStale', () => {
  /** A source that loaded the parameters (MC, WEB, API), then the parameters changed to hold a renamed API service. */
  async function loadedSource(): Promise<{ source: ConfigSource; api: FakeDiscoveryApi; config: Awaited<ReturnType<ConfigSource['load']>>; advance: (ms: number) => void }> {
    const api = apiWith();
    const c = clock();
    const source = new ConfigSource(parametersEnv(), c.now);
    const config = await source.load(api);
    api.parameters.set(P2, JSON.stringify([{ ...API, serviceName: 'api-replaced' }]));
    return { source, api, config, advance: c.advance };
  }

  test('reloads when loaded from parameters, older than STALE_AFTER_MS and a service name is unknown', async () => {
    const { source, api, config, advance } = await loadedSource();
    advance(STALE_AFTER_MS);
    const next = await source.reloadIfStale(api, config, ['minecraft', 'api-replaced']);
    expect(next.services.map(s => s.serviceName)).toEqual(['minecraft', 'web', 'api-replaced']);
    expect(api.count('getParameters')).toBe(2);
  });

  test('does not reload registrations younger than STALE_AFTER_MS', async () => {
    const { source, api, config, advance } = await loadedSource();
    advance(STALE_AFTER_MS - 1);
    await expect(source.reloadIfStale(api, config, ['api-replaced'])).resolves.toBe(config);
    expect(api.count('getParameters')).toBe(1);
  });

  test.each([
    ['every name known', ['minecraft', 'api']],
    ['no names', []],
  ])('does not reload with %s', async (_what, names) => {
    const { source, api, config, advance } = await loadedSource();
    advance(10 * STALE_AFTER_MS);
    await expect(source.reloadIfStale(api, config, names)).resolves.toBe(config);
    expect(api.count('getParameters')).toBe(1);
  });

  test('does not reload a configuration other than the one it loaded', async () => {
    const { source, api, config, advance } = await loadedSource();
    advance(10 * STALE_AFTER_MS);
    const other = { ...config, services: [...config.services] };
    await expect(source.reloadIfStale(api, other, ['unknown'])).resolves.toBe(other);
    expect(api.count('getParameters')).toBe(1);
  });

  test('a reload starts the age again: an unknown name right after it does not reload twice', async () => {
    const { source, api, config, advance } = await loadedSource();
    advance(STALE_AFTER_MS);
    const next = await source.reloadIfStale(api, config, ['still-unknown']);
    expect(api.count('getParameters')).toBe(2);
    advance(STALE_AFTER_MS - 1);
    await expect(source.reloadIfStale(api, next, ['still-unknown'])).resolves.toBe(next);
    expect(api.count('getParameters')).toBe(2);
  });

  test('never reloads an inline configuration', async () => {
    const api = apiWith();
    const c = clock();
    const source = new ConfigSource(inlineEnv, c.now);
    const config = await source.load(api);
    c.advance(100 * STALE_AFTER_MS);
    await expect(source.reloadIfStale(api, config, ['unknown'])).resolves.toBe(config);
    expect(api.count('getParameters')).toBe(0);
  });

  test('never reloads an inline configuration loaded after parameters were', async () => {
    const api = apiWith();
    const c = clock();
    const env: Record<string, string | undefined> = parametersEnv();
    const source = new ConfigSource(env, c.now);
    await source.load(api);
    env[ENV.CONFIG] = inlineEnv[ENV.CONFIG];
    const inline = await source.load(api);
    c.advance(100 * STALE_AFTER_MS);
    await expect(source.reloadIfStale(api, inline, ['unknown'])).resolves.toBe(inline);
    expect(api.count('getParameters')).toBe(1);
  });

  test('without anything loaded, the configuration is returned as it is', async () => {
    const api = apiWith();
    const config = { clusterArn: CLUSTER_ARN, services: [MC] };
    await expect(new ConfigSource(parametersEnv()).reloadIfStale(api, config, ['unknown'])).resolves.toBe(config);
    expect(api.count()).toBe(0);
  });
});

describe('serviceNamesInBodies', () => {
  const body = (group: unknown) => ({ 'detail-type': 'ECS Task State Change', 'detail': { group } });

  test('reads service names from JSON strings and objects, once each, in order of appearance', () => {
    expect(serviceNamesInBodies([
      JSON.stringify(body('service:web')),
      body('service:minecraft'),
      JSON.stringify(body('service:web')),
    ])).toEqual(['web', 'minecraft']);
  });

  test('skips standalone tasks, missing groups and malformed bodies', () => {
    expect(serviceNamesInBodies([
      JSON.stringify(body('family:batch')),
      JSON.stringify(body(42)),
      JSON.stringify({ detail: {} }),
      JSON.stringify({}),
      'not json {',
      'null',
      null,
      7,
      body('service:api'),
    ])).toEqual(['api']);
  });

  test('keeps everything after the prefix, colons included', () => {
    expect(serviceNamesInBodies([body('service:a:b')])).toEqual(['a:b']);
  });
});
