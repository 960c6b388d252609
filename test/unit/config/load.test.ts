import { describe, it, expect } from 'vitest';
import { ConfigService, ConfigUnavailableError, CONFIG_TTL_MS } from '../../../src/config/load.js';
import { DEFAULT_CONFIG } from '../../../src/config/schema.js';
import { openSqliteStore } from '../../../src/store/sqlite/engine.js';
import { FakePort } from '../../support/fake-port.js';

const T0 = Date.UTC(2026, 10, 30, 10, 0);
const ref = { owner: 'acme', repo: 'api' };

async function setup() {
  const store = openSqliteStore(':memory:');
  await store.upsertRepo('acme', 'api', 1, 'acme/api', 'main');
  const clock = { t: T0, now() { return this.t; } };
  const port = new FakePort();
  return { store, clock, port, configs: new ConfigService(store, clock) };
}

describe('loading .github/moratorium.yml', () => {
  it('uses the defaults, with no problem, when there is no file', async () => {
    const { configs } = await setup();
    const loaded = await configs.get(new FakePort(), ref);
    expect(loaded).toMatchObject({ source: 'missing', problems: [] });
    expect(loaded.config).toEqual(DEFAULT_CONFIG);
  });

  it('caches per repository for at most five minutes', async () => {
    const { configs, port, clock } = await setup();
    port.config = { kind: 'found', data: { enforcement: 'status' } };
    await configs.get(port, ref);
    await configs.get(port, ref);
    expect(port.log.filter((m) => m === 'fetchConfig')).toHaveLength(1);
    clock.t += CONFIG_TTL_MS;
    await configs.get(port, ref);
    expect(port.log.filter((m) => m === 'fetchConfig')).toHaveLength(2);
  });

  it("drops the cache on a push to the repository's default branch, and the whole account's on a push to .github", async () => {
    const { configs, port } = await setup();
    port.config = { kind: 'found', data: { enforcement: 'status' } };
    await configs.get(port, ref);
    await configs.get(port, { owner: 'acme', repo: 'web' });
    configs.invalidate('acme', 'api');
    await configs.get(port, ref);
    await configs.get(port, { owner: 'acme', repo: 'web' });
    expect(port.log.filter((m) => m === 'fetchConfig')).toHaveLength(3);
    configs.invalidate('acme', '.github');
    await configs.get(port, ref);
    await configs.get(port, { owner: 'acme', repo: 'web' });
    expect(port.log.filter((m) => m === 'fetchConfig')).toHaveLength(5);
  });

  it("reads the account's .github fallback once for all the repositories without a file of their own", async () => {
    const { configs, port } = await setup();
    port.configs.set('.github', { kind: 'found', data: { enforcement: 'status' } });
    const a = await configs.get(port, { owner: 'acme', repo: 'api' });
    const b = await configs.get(port, { owner: 'acme', repo: 'web' });
    expect(a.config.enforcement).toBe('status');
    expect(b.config.enforcement).toBe('status');
    // api's own file, .github's, web's own file: three reads, not four
    expect(port.log.filter((m) => m === 'fetchConfig')).toHaveLength(3);
  });

  it('keeps the last valid config when the file turns invalid, and lists every problem', async () => {
    const { configs, port, clock } = await setup();
    port.config = { kind: 'found', data: { enforcement: 'status', branches: ['release/*'] } };
    await configs.get(port, ref);
    port.config = { kind: 'found', data: { enforcement: 'sometimes', cadence: { max: 0, per: 'soon' } } };
    clock.t += CONFIG_TTL_MS;
    const loaded = await configs.get(port, ref);
    expect(loaded.source).toBe('last-valid');
    expect(loaded.config.enforcement).toBe('status');
    expect(loaded.config.branches).toEqual(['release/*']);
    expect(loaded.problems.map((p) => p.path).sort()).toEqual(['cadence.max', 'cadence.per', 'enforcement']);
  });

  it('uses the defaults with the problems when no valid config was ever seen', async () => {
    const { configs, port } = await setup();
    port.config = { kind: 'unparsable', message: 'Configuration could not be parsed (invalid YAML)' };
    const loaded = await configs.get(port, ref);
    expect(loaded.source).toBe('defaults');
    expect(loaded.config).toEqual(DEFAULT_CONFIG);
    expect(loaded.problems).toEqual([{ path: '(file)', message: 'Configuration could not be parsed (invalid YAML)' }]);
  });

  it('remembers the last valid config across a restart (in the store)', async () => {
    const { configs, port, store, clock } = await setup();
    port.config = { kind: 'found', data: { enforcement: 'status' } };
    await configs.get(port, ref);
    const afterRestart = new ConfigService(store, clock);
    port.config = { kind: 'error', message: 'HttpError: 502' };
    const loaded = await afterRestart.get(port, ref);
    expect(loaded).toMatchObject({ source: 'last-valid', config: { enforcement: 'status' } });
  });

  it('says it could not load, rather than guessing, when GitHub fails and nothing is known', async () => {
    const { configs, port } = await setup();
    port.config = { kind: 'error', message: 'HttpError: 502' };
    await expect(configs.get(port, ref)).rejects.toBeInstanceOf(ConfigUnavailableError);
  });
});
