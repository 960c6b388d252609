import { describe, it, expect, afterEach } from 'vitest';
import { FakePort, testServices } from '../../support/fake-port.js';
import type { AppParts } from '../../../src/compose.js';
import { headConfigKey } from '../../../src/domain/gatekeeper.js';

const T0 = Date.UTC(2026, 10, 30, 10, 0);
let services: AppParts | null = null;
afterEach(async () => {
  await services?.stop();
  services = null;
});

describe('fan-out', () => {
  it('blocks every open non-draft PR of every repository, most recently updated first, writing only what changed', async () => {
    const port = new FakePort();
    port.addRepo('acme', 'api');
    port.addRepo('acme', 'web');
    port.addPull('api', { number: 1, updatedAt: 5 });
    port.addPull('api', { number: 2, updatedAt: 50, draft: true });
    port.addPull('web', { number: 3, updatedAt: 30 });
    port.addPull('web', { number: 4, updatedAt: 10, headRef: 'hotfix/x' });
    const t = await testServices(port, T0);
    services = t.services;
    await t.store.createIncident({ account: 'acme', repo: null, severity: 'sev1', title: 'db', by: 'a', source: 'api', now: T0 });
    const first = await t.services.fanout.run({ installationId: 1, account: 'acme', repo: null, reason: 'test' });
    expect(first).toMatchObject({ repos: 2, pulls: 4, evaluated: 3, posted: 3, failedRepos: [] });
    expect(port.posted.map((p) => [p.sha, p.conclusion])).toEqual([
      ['sha-web-3', 'failure'],
      ['sha-web-4', 'success'],
      ['sha-api-1', 'failure'],
    ]);
    const again = await t.services.fanout.run({ installationId: 1, account: 'acme', repo: null, reason: 'test' });
    expect(again.posted).toBe(0);
    expect(port.posted).toHaveLength(3);
  });

  it("keeps a PR's own config problems in its summary when a fan-out re-posts it for another reason", async () => {
    const port = new FakePort();
    port.addRepo('acme', 'api');
    const pull = port.addPull('api', { number: 1 });
    const t = await testServices(port, T0);
    services = t.services;
    await t.store.setMeta(headConfigKey({ owner: 'acme', repo: 'api' }, pull.headSha), JSON.stringify([{ path: "this PR's .github/moratorium.yml: enforcement", message: 'bad value' }]));
    await t.store.createIncident({ account: 'acme', repo: null, severity: 'sev1', title: 'db', by: 'a', source: 'api', now: T0 });
    await t.services.fanout.run({ installationId: 1, account: 'acme', repo: null, reason: 'incident' });
    expect(port.last(pull.headSha)?.conclusion).toBe('failure');
    expect(port.last(pull.headSha)?.summary).toContain('enforcement');
    expect(port.last(pull.headSha)?.summary).toContain('bad value');
  });

  it("keeps going when one repository fails and reports only that one for retry", async () => {
    const port = new FakePort();
    port.addRepo('acme', 'api');
    port.addRepo('acme', 'web');
    port.addPull('api', { number: 1 });
    port.addPull('web', { number: 2 });
    port.failRepos.add('api');
    const t = await testServices(port, T0);
    services = t.services;
    const result = await t.services.fanout.run({ installationId: 1, account: 'acme', repo: null, reason: 'test' });
    expect(result.failedRepos).toEqual(['api']);
    expect(port.posted.map((p) => p.sha)).toEqual(['sha-web-2']);
  });

  it('retries a failed repository as a stored job until it succeeds', async () => {
    const port = new FakePort();
    port.addRepo('acme', 'api');
    port.addPull('api', { number: 1 });
    port.failRepos.add('api');
    const t = await testServices(port, T0);
    services = t.services;
    await t.services.queueFanOut(1, 'acme', null, 'test');
    await t.services.jobs.idle();
    expect(port.posted).toHaveLength(0);
    expect(await t.store.pendingJobCount()).toBe(1);
    port.failRepos.clear();
    t.clock.t += 60_000;
    t.services.jobs.kick();
    await t.services.jobs.idle();
    expect(port.posted.map((p) => p.sha)).toEqual(['sha-api-1']);
    expect(await t.store.pendingJobCount()).toBe(0);
  });
});

describe('time boundaries', () => {
  it('lifts a timed freeze at its end without any event, re-gating from the store', async () => {
    const port = new FakePort();
    port.addRepo('acme', 'api');
    const pull = port.addPull('api', { number: 1 });
    const t = await testServices(port, T0);
    services = t.services;
    await t.store.transaction((tx) => t.services.actions.freeze(tx, { account: 'acme', repo: 'api' }, 'features', T0 + 4000, '', { login: 'alice', source: 'command' }, 1));
    t.services.committed();
    await t.services.jobs.idle();
    expect(port.last(pull.headSha)?.conclusion).toBe('failure');
    expect(await t.services.boundaries.nextBoundary()).toBe(T0 + 4000);
    t.clock.t = T0 + 4001;
    const before = port.log.length;
    await t.services.boundaries.fire();
    expect(port.last(pull.headSha)?.conclusion).toBe('success');
    // one write, no reads: the boundary re-gates from the store
    expect(port.log.slice(before)).toEqual(['postCheck']);
    expect((await t.store.auditOfAccount('acme', 5)).map((a) => a.action)).toContain('freeze.expire');
  });

  it('starts blocking when a window begins and stops when it ends', async () => {
    const port = new FakePort();
    port.addRepo('acme', 'api');
    port.config = { kind: 'found', data: { windows: [{ name: 'lunch', cron: '0 12 * * *', duration: '1h', mode: 'all' }] } };
    const pull = port.addPull('api', { number: 1 });
    const t = await testServices(port, T0); // 10:00 UTC
    services = t.services;
    await t.services.fanout.run({ installationId: 1, account: 'acme', repo: null, reason: 'start' });
    expect(port.last(pull.headSha)?.conclusion).toBe('success');
    expect(await t.services.boundaries.nextBoundary()).toBe(Date.UTC(2026, 10, 30, 12, 0));
    t.clock.t = Date.UTC(2026, 10, 30, 12, 0) + 10;
    await t.services.boundaries.fire();
    expect(port.last(pull.headSha)).toMatchObject({ conclusion: 'failure', title: expect.stringContaining('window "lunch"') });
    t.clock.t = Date.UTC(2026, 10, 30, 13, 0) + 10;
    await t.services.boundaries.fire();
    expect(port.last(pull.headSha)?.conclusion).toBe('success');
  });
});

describe('deployment protection rule', () => {
  const request = (n: number, env = 'production') => ({ installationId: 1, owner: 'acme', repo: 'api', environment: env, callbackUrl: `https://x/repos/acme/api/actions/runs/${n}/deployment_protection_rule`, deploymentId: n, sha: `deploy-${n}`, ref: 'main', prNumbers: [] });

  /** One repository, the given config, and the job runner stopped: only the test's own calls act
   * (in the app, held checks run as jobs, one at a time per installation). */
  async function deploymentWorld(config?: FakePort['config']) {
    const port = new FakePort();
    port.addRepo('acme', 'api');
    if (config) port.config = config;
    const t = await testServices(port, T0);
    services = t.services;
    await t.services.jobs.stop();
    return { port, t };
  }

  it('approves environments that are not configured, saying so', async () => {
    const { port, t } = await deploymentWorld();
    const out = await t.services.deployments.handleProtectionRule(port, request(1, 'staging'));
    expect(out.answer).toBe('approved');
    expect(port.answers[0]!.comment).toContain('does not gate');
  });

  it('holds a request during a freeze and approves it when the freeze ends', async () => {
    const { port, t } = await deploymentWorld();
    const f = await t.store.transaction((tx) => t.services.actions.freeze(tx, { account: 'acme', repo: null }, 'all', null, '', { login: 'alice', source: 'api' }, 1));
    expect((await t.services.deployments.handleProtectionRule(port, request(1))).answer).toBe('held');
    expect(port.answers).toHaveLength(0);
    await t.services.deployments.releaseHeld({ installationId: 1, account: 'acme', repo: null });
    expect(port.answers).toHaveLength(0);
    await t.store.transaction((tx) => t.services.actions.endFreeze(tx, f.id, '', { login: 'alice', source: 'api' }));
    await t.services.deployments.releaseHeld({ installationId: 1, account: 'acme', repo: null });
    expect(port.answers.map((a) => a.state)).toEqual(['approved']);
  });

  it('releases held requests oldest first and only as many as the cadence has free slots', async () => {
    const { port, t } = await deploymentWorld({ kind: 'found', data: { cadence: { max: 2, per: '24h', counts: 'deployments' } } });
    const f = await t.store.transaction((tx) => t.services.actions.freeze(tx, { account: 'acme', repo: null }, 'all', null, '', { login: 'alice', source: 'api' }, 1));
    for (const n of [1, 2, 3]) {
      t.clock.t += 1000;
      await t.services.deployments.handleProtectionRule(port, request(n));
    }
    await t.store.recordDeploy({ dedupeKey: 'deployment:99', account: 'acme', repo: 'api', kind: 'deployment', environment: 'production', at: T0 });
    await t.store.transaction((tx) => t.services.actions.endFreeze(tx, f.id, '', { login: 'alice', source: 'api' }));
    await t.services.deployments.releaseHeld({ installationId: 1, account: 'acme', repo: null });
    expect(port.answers.map((a) => a.url.match(/runs\/(\d+)/)![1])).toEqual(['1']);
  });

  it('counts an approval at once, so two quick requests never share one free slot; a failed deployment frees it', async () => {
    const { port, t } = await deploymentWorld({ kind: 'found', data: { cadence: { max: 1, per: '24h', counts: 'deployments' } } });
    expect((await t.services.deployments.handleProtectionRule(port, request(1))).answer).toBe('approved');
    expect((await t.services.deployments.handleProtectionRule(port, request(2))).answer).toBe('held');
    // its success settles the approval: still one deploy, still no slot
    await t.services.deployments.recordDeploymentStatus(port, { owner: 'acme', repo: 'api', deploymentId: 1, environment: 'production', state: 'success', sha: 'deploy-1', actor: 'ci' });
    expect(await t.store.deployTimes('acme', 'api', 'deployment', 'production', 0)).toHaveLength(1);
    await t.services.deployments.releaseHeld({ installationId: 1, account: 'acme', repo: 'api' });
    expect(port.answers.map((a) => a.state)).toEqual(['approved']);
  });

  it('drops the provisional count of an approved deployment that failed, releasing the next held one', async () => {
    const { port, t } = await deploymentWorld({ kind: 'found', data: { cadence: { max: 1, per: '24h', counts: 'deployments' } } });
    await t.services.deployments.handleProtectionRule(port, request(1));
    await t.services.deployments.handleProtectionRule(port, request(2));
    await t.services.deployments.recordDeploymentStatus(port, { owner: 'acme', repo: 'api', deploymentId: 1, environment: 'production', state: 'failure', sha: 'deploy-1', actor: 'ci' });
    await t.services.deployments.releaseHeld({ installationId: 1, account: 'acme', repo: 'api' });
    expect(port.answers.map((a) => [a.url.match(/runs\/(\d+)/)![1], a.state])).toEqual([['1', 'approved'], ['2', 'approved']]);
  });

  it('queues a new request behind older held ones of the same environment', async () => {
    const { port, t } = await deploymentWorld();
    const f = await t.store.transaction((tx) => t.services.actions.freeze(tx, { account: 'acme', repo: null }, 'all', null, '', { login: 'alice', source: 'api' }, 1));
    await t.services.deployments.handleProtectionRule(port, request(1));
    await t.store.transaction((tx) => t.services.actions.endFreeze(tx, f.id, '', { login: 'alice', source: 'api' }));
    t.clock.t += 1000;
    expect((await t.services.deployments.handleProtectionRule(port, request(2))).answer).toBe('held');
    await t.services.deployments.releaseHeld({ installationId: 1, account: 'acme', repo: 'api' });
    expect(port.answers.map((a) => a.url.match(/runs\/(\d+)/)![1])).toEqual(['1', '2']);
  });

  it('rejects with the reason when when_blocked is reject', async () => {
    const { port, t } = await deploymentWorld({ kind: 'found', data: { deployments: { when_blocked: 'reject' } } });
    await t.store.createIncident({ account: 'acme', repo: null, severity: 'sev1', title: 'db down', by: 'a', source: 'api', now: T0 });
    const out = await t.services.deployments.handleProtectionRule(port, request(1));
    expect(out.answer).toBe('rejected');
    expect(port.answers[0]).toMatchObject({ state: 'rejected', environment: 'production' });
    expect(port.answers[0]!.comment).toContain('INC-1');
  });
});
