/**
 * The Probot app loaded in-process with an in-memory store and a controllable clock; GitHub is nock.
 * Every request the app makes must be mocked (unmatched requests are collected and fail the test),
 * and every mock must be used.
 */
import nock from 'nock';
import { generateKeyPairSync } from 'node:crypto';
import { pino } from 'pino';
import { Probot } from 'probot';
import { wireEvents } from '../../src/app.js';
import { createOctokitClass } from '../../src/github/client.js';
import { OctokitPort, type Octokit } from '../../src/github/octokit-port.js';
import { composeApp, type AppParts } from '../../src/compose.js';
import type { AsyncStore } from '../../src/store/contract.js';
import { openSqliteStore } from '../../src/store/sqlite/engine.js';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });

export const API = 'https://api.github.com';
export const T0 = Date.UTC(2026, 10, 30, 10, 0); // Monday 2026-11-30 10:00 UTC

export interface TestApp {
  probot: Probot;
  services: AppParts;
  store: AsyncStore;
  clock: { t: number; now(): number };
  unmatched: string[];
  receive(name: string, payload: Record<string, any>, id?: string): Promise<void>;
  settle(): Promise<void>;
  close(): Promise<void>;
}

let counter = 0;

export async function createTestApp(): Promise<TestApp> {
  nock.disableNetConnect();
  const unmatched: string[] = [];
  const onNoMatch = (req: { method?: string; path?: string; options?: { method?: string; path?: string } }) => {
    unmatched.push(`${req.method ?? req.options?.method} ${req.path ?? req.options?.path}`);
  };
  nock.emitter.on('no match', onNoMatch);
  const log = pino({ level: 'silent' });
  const store = openSqliteStore(':memory:');
  const clock = { t: T0, now() { return this.t; } };
  const Octokit = createOctokitClass({ throttle: false }).defaults({ retry: { enabled: false } });
  const probot = new Probot({ appId: 1, privateKey, secret: 'test', log, Octokit });
  const services = composeApp({ store, clock, log, ports: async (id) => new OctokitPort(id, (await probot.auth(id)) as Octokit) });
  await probot.load((app) => {
    wireEvents(app, services);
  });
  services.jobs.start();
  return {
    probot,
    services,
    store,
    clock,
    unmatched,
    async receive(name, payload, id) {
      await probot.receive({ name, id: id ?? `delivery-${++counter}`, payload } as never);
    },
    async settle() {
      await services.jobs.idle();
    },
    async close() {
      await services.stop();
      nock.emitter.off('no match', onNoMatch);
      await store.close();
      nock.cleanAll();
    },
  };
}

/** The installation token every authenticated request starts with (cached by Probot afterwards). */
export function mockToken(installationId: number): nock.Scope {
  return nock(API)
    .post(`/app/installations/${installationId}/access_tokens`)
    .reply(201, { token: `ghs_test_${installationId}`, expires_at: '2099-01-01T00:00:00Z', permissions: { checks: 'write' }, repository_selection: 'all' });
}

/** No `.github/moratorium.yml` in the repository nor in the account's `.github` repository. */
export function mockNoConfig(owner: string, repo: string): nock.Scope {
  return nock(API)
    .get(`/repos/${owner}/${repo}/contents/.github%2Fmoratorium.yml`)
    .reply(404, { message: 'Not Found' })
    .get(`/repos/${owner}/.github/contents/.github%2Fmoratorium.yml`)
    .reply(404, { message: 'Not Found' });
}

export function mockConfig(owner: string, repo: string, yaml: string): nock.Scope {
  return nock(API).get(`/repos/${owner}/${repo}/contents/.github%2Fmoratorium.yml`).reply(200, yaml, { 'content-type': 'application/vnd.github.raw; charset=utf-8' });
}

/** The branch's rules and protection summary, asked once a day when a blocking gate is posted. */
export function mockRequired(owner: string, repo: string, branch: string, required: boolean): nock.Scope {
  const rules = required ? [{ type: 'required_status_checks', parameters: { required_status_checks: [{ context: 'moratorium' }], strict_required_status_checks_policy: false } }] : [];
  return nock(API)
    .get(`/repos/${owner}/${repo}/rules/branches/${branch}`)
    .query(true)
    .reply(200, rules)
    .get(`/repos/${owner}/${repo}/branches/${branch}`)
    .optionally()
    .reply(200, { name: branch, protected: false, protection: { enabled: false, required_status_checks: { enforcement_level: 'off', contexts: [], checks: [] } } });
}
