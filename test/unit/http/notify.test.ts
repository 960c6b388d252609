import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createSlackNotifier, escapeSlack, messageFor, type SlackNotifier } from '../../../src/http/notify.js';
import { composeApp } from '../../../src/compose.js';
import { openSqliteStore } from '../../../src/store/sqlite/engine.js';
import { FakePort } from '../../support/fake-port.js';

const T0 = Date.UTC(2026, 10, 30, 10, 0);
const log = pino({ level: 'silent' });

interface Hook {
  url: string;
  received: { text: string }[];
  /** status for each next request (200 when empty) */
  statuses: number[];
  server: Server;
}

async function slackServer(): Promise<Hook> {
  const hook = { received: [] as { text: string }[], statuses: [] as number[] } as Hook;
  hook.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = hook.statuses.shift() ?? 200;
      if (status === 200) hook.received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as { text: string });
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 200 ? 'ok' : 'error');
    });
  });
  await new Promise<void>((resolve) => hook.server.listen(0, '127.0.0.1', resolve));
  hook.url = `http://127.0.0.1:${(hook.server.address() as AddressInfo).port}/services/T000/B000/XXX`;
  return hook;
}

async function servicesWith(notifier: SlackNotifier) {
  const store = openSqliteStore(':memory:');
  await store.upsertInstallation(1, 'acme', 'Organization', false, T0);
  const clock = { t: T0, now: () => clock.t };
  const port = new FakePort(1);
  const services = composeApp({ store, clock, log, ports: async () => port, onStateEvents: notifier });
  return { store, services };
}

describe('Slack notifications', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  it('announces incidents opened, resolved and closed and freezes started and ended, in order', async () => {
    const hook = await slackServer();
    closers.push(() => new Promise((r) => hook.server.close(() => r())));
    const notify = createSlackNotifier(hook.url, log);
    const { services } = await servicesWith(notify);
    await services.jobs.stop();
    const actor = { login: 'alice', source: 'command' as const };
    const incident = await services.store.transaction((tx) => services.actions.openIncident(tx, { account: 'acme', repo: null }, 'sev1', 'API <latency> @channel', actor));
    services.committed();
    await services.store.transaction((tx) => services.actions.resolveIncident(tx, incident.id, 'rolled back', actor));
    services.committed();
    await services.store.transaction((tx) => services.actions.closeIncident(tx, incident.id, 'assessment done', { login: 'bob', source: 'api' }));
    services.committed();
    const freeze = await services.store.transaction((tx) => services.actions.freeze(tx, { account: 'acme', repo: 'api' }, 'all', Date.UTC(2026, 10, 30, 18, 0), 'migration', actor));
    services.committed();
    await services.store.transaction((tx) => services.actions.endFreeze(tx, freeze.id, 'done', actor));
    services.committed();
    await notify.idle();
    const texts = hook.received.map((m) => m.text);
    expect(texts).toHaveLength(5);
    expect(texts[0]).toBe(`:rotating_light: INC-${incident.id} opened: sev1 "API &lt;latency&gt; @channel" on acme by alice`);
    expect(texts[1]).toMatch(new RegExp(`^:large_yellow_circle: INC-${incident.id} resolved: service restored, recovery until it is closed .* by alice: rolled back$`));
    expect(texts[2]).toMatch(new RegExp(`^:white_check_mark: INC-${incident.id} closed: assessment complete, its moratorium has ended .* by bob \\(api\\): assessment done$`));
    expect(texts[3]).toBe(`:snowflake: Freeze ${freeze.id} started on acme/api (all changes) by alice, until 2026-11-30 18:00 UTC: migration`);
    expect(texts[4]).toBe(`:sunny: Freeze ${freeze.id} on acme/api ended: by alice`);
  });

  it('retries once after a 5xx and never fails the state change', async () => {
    const hook = await slackServer();
    closers.push(() => new Promise((r) => hook.server.close(() => r())));
    hook.statuses.push(500);
    const notify = createSlackNotifier(hook.url, log, { retryDelayMs: 10 });
    const { services, store } = await servicesWith(notify);
    await services.jobs.stop();
    await store.transaction((tx) => services.actions.openIncident(tx, { account: 'acme', repo: null }, 'sev2', 'Errors', { login: 'alice', source: 'command' }));
    expect(() => services.committed()).not.toThrow();
    await notify.idle();
    expect(hook.received).toHaveLength(1);
    expect(await store.activeIncidents('acme')).toHaveLength(1);
  });

  it('gives up quietly when Slack cannot be reached', async () => {
    const hook = await slackServer();
    const url = hook.url;
    await new Promise<void>((r) => hook.server.close(() => r()));
    const notify = createSlackNotifier(url, log, { retryDelayMs: 10 });
    const { services, store } = await servicesWith(notify);
    await services.jobs.stop();
    await store.transaction((tx) => services.actions.openIncident(tx, { account: 'acme', repo: null }, 'sev2', 'Errors', { login: 'alice', source: 'command' }));
    services.committed();
    await expect(notify.idle()).resolves.toBeUndefined();
    expect(await store.activeIncidents('acme')).toHaveLength(1);
  });

  it('does not retry a message Slack refused with a 4xx', async () => {
    const hook = await slackServer();
    closers.push(() => new Promise((r) => hook.server.close(() => r())));
    hook.statuses.push(404);
    const notify = createSlackNotifier(hook.url, log, { retryDelayMs: 10 });
    notify([{ type: 'freeze.ended', freeze: { id: 3, scope: { account: 'acme', repo: null }, mode: 'features', reason: '', createdBy: 'a', createdAt: T0, until: T0, endedAt: T0, endedBy: 'moratorium', source: 'command' }, actor: { login: 'moratorium', source: 'schedule' } }]);
    notify([{ type: 'freeze.ended', freeze: { id: 4, scope: { account: 'acme', repo: null }, mode: 'features', reason: '', createdBy: 'a', createdAt: T0, until: T0, endedAt: T0, endedBy: 'moratorium', source: 'command' }, actor: { login: 'moratorium', source: 'schedule' } }]);
    await notify.idle();
    expect(hook.received.map((m) => m.text)).toEqual([':sunny: Freeze 4 on acme ended: its time was up']);
  });

  it('escapes Slack control characters in user text', () => {
    expect(escapeSlack('<!channel> & <@U123>\nnext')).toBe('&lt;!channel&gt; &amp; &lt;@U123&gt; next');
    const text = messageFor({
      type: 'freeze.started',
      freeze: { id: 1, scope: { account: 'acme', repo: null }, mode: 'features', reason: '<!here> now', createdBy: 'x', createdAt: T0, until: null, endedAt: null, endedBy: null, source: 'api' },
      actor: { login: '<@U1>', source: 'api' },
    });
    expect(text).toBe(':snowflake: Freeze 1 started on acme (hotfixes only) by &lt;@U1&gt; (api), until lifted: &lt;!here&gt; now');
  });
});
