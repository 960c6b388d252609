/**
 * `windows[].notify_before` end to end (SPEC section 12): the app started with `npm start` against
 * the fake GitHub API, with MORATORIUM_SLACK_WEBHOOK_URL pointing at a Slack stand-in on 127.0.0.1.
 * A window whose notice has come is announced exactly once, naming the window, its start and end in
 * its timezone and both repositories that have it; `/moratorium status` says "starts in"; a restart
 * sends nothing again; a notice that is due when the app starts (its lead lengthened while the app
 * was down) goes out as soon as it runs. No wall-clock waits: every lead is changed through the config.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGitHub } from '../fake-github/index.js';
import { expectFakeClean, startApp, webhooks, type AppHandle, type Webhooks } from './harness.js';

const OWNER = 'acme';
const CONFIG = '.github/moratorium.yml';
const TOKYO_MS = 9 * 3_600_000; // Asia/Tokyo: UTC+9, no DST

/** `YYYY-MM-DDTHH:MM:SS` on Tokyo's wall clock, the form a window's `from` and `to` take */
const tokyo = (t: number): string => new Date(t + TOKYO_MS).toISOString().slice(0, 19);
/** how the notice writes a Tokyo time (src/time/format.ts's formatLong) */
const tokyoLong = (t: number): string => {
  const s = new Date(t + TOKYO_MS).toISOString();
  const seconds = s.slice(17, 19) === '00' ? '' : `:${s.slice(17, 19)}`;
  return `${s.slice(0, 10)} ${s.slice(11, 16)}${seconds} Asia/Tokyo`;
};

describe('window notices (npm start, a Slack stand-in on 127.0.0.1)', () => {
  let fake: FakeGitHub;
  let app: AppHandle;
  let hooks: Webhooks;
  let slack: Server;
  const received: string[] = [];

  beforeAll(async () => {
    slack = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        received.push((JSON.parse(body) as { text: string }).text);
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => slack.listen(0, '127.0.0.1', resolve));
    fake = await FakeGitHub.start();
    fake.addInstallation({ id: 7, account: OWNER });
    fake.addRepo(OWNER, 'api');
    fake.addRepo(OWNER, 'web');
    fake.addRepo(OWNER, 'docs');
    hooks = webhooks(fake);
    app = await startApp({
      fake,
      env: { MORATORIUM_GITHUB_THROTTLE: 'off', MORATORIUM_SLACK_WEBHOOK_URL: `http://127.0.0.1:${(slack.address() as AddressInfo).port}/services/T0/B0/x` },
    });
    await app.waitForLog('reconcile done', 30_000);
  }, 90_000);

  afterAll(async () => {
    await app?.stop();
    await fake?.stop();
    await new Promise((resolve) => slack?.close(resolve));
  });

  it('announces each occurrence once, also across a restart, and one that is due when the app starts', async () => {
    // both windows start in about two and a half hours: a notice one hour before is not due yet
    const t = Date.now();
    const release = Math.ceil((t + 150 * 60_000) / 1000) * 1000;
    const maintenance = Math.ceil((t + 160 * 60_000) / 1000) * 1000;
    const config = (leads: { release: string; maintenance: string }): string =>
      [
        'windows:',
        '  - name: Release freeze',
        `    from: "${tokyo(release)}"`,
        `    to: "${tokyo(release + 63 * 3_600_000)}"`,
        '    timezone: Asia/Tokyo',
        `    notify_before: ${leads.release}`,
        '  - name: Maintenance',
        `    from: "${tokyo(maintenance)}"`,
        `    to: "${tokyo(maintenance + 3_600_000)}"`,
        '    timezone: Asia/Tokyo',
        '    mode: all',
        `    notify_before: ${leads.maintenance}`,
        '',
      ].join('\n');
    const setConfigs = (leads: { release: string; maintenance: string }): void => {
      for (const repo of ['api', 'web']) fake.setFile(OWNER, repo, CONFIG, config(leads));
    };
    setConfigs({ release: '1h', maintenance: '1h' });
    // the app learns each repository's configuration when it gates a PR there (docs has none)
    const prs = [];
    for (const repo of ['api', 'web', 'docs']) {
      const pr = fake.addPull(OWNER, repo);
      expect((await app.send('pull_request', hooks.pullRequest('opened', OWNER, repo, pr.number))).status).toBe(200);
      prs.push({ repo, pr });
    }
    for (const { repo, pr } of prs) await fake.waitFor((f) => f.latestCheck(OWNER, repo, pr.head.sha), 15_000, `the check on ${repo}`);
    // both windows known, neither notice due: what the app plans says so
    await app.waitForLogLine((l) => l.msg === 'window notices planned' && l.due === 0 && l.next !== null, 30_000);
    expect(received).toEqual([]);

    // the release freeze's lead becomes 3 hours on the default branch: its notice is due at once.
    // The notice names every repository with the window, whichever configuration is read first.
    setConfigs({ release: '3h', maintenance: '1h' });
    for (const { repo, pr } of prs.slice(0, 2)) {
      expect((await app.send('push', hooks.push(OWNER, repo))).status).toBe(200);
      expect((await app.send('pull_request', hooks.pullRequest('synchronize', OWNER, repo, pr.number))).status).toBe(200);
    }
    await app.waitForLogLine((l) => l.msg === 'window notice sent' && l.window === 'Release freeze', 60_000);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatch(/^:alarm_clock: Window "Release freeze" \(hotfixes only\) starts in 2h \d+m: /);
    expect(received[0]).toContain(`${tokyoLong(release)} to ${tokyoLong(release + 63 * 3_600_000)}, on acme/api, acme/web`);
    expect(received[0]).not.toContain('acme/docs');

    // within the lead, /moratorium status says so
    const api = prs[0]!.pr;
    const comment = hooks.issueComment(OWNER, 'api', api.number, { body: '/moratorium status' });
    expect((await app.send('issue_comment', comment)).status).toBe(200);
    const reply = await fake.waitFor((f) => f.commentsOn(OWNER, 'api', api.number).find((c) => String(c.body).includes('Moratorium status')), 15_000, 'the status reply');
    expect(reply.body).toMatch(/Release freeze starts in 2h \d+m/);

    // a restart sends nothing again: the app reports the notice as claimed already
    const beforeRestart = app.logLines().length;
    await app.restart();
    await app.waitForLogLine((l) => l.msg === 'window notices planned' && l.claimed >= 1, 30_000, beforeRestart);
    expect(received).toHaveLength(1);

    // while the app is down, the maintenance window's lead becomes 3 hours: its notice is due, and
    // unclaimed, when the app starts again (as one whose moment passed while it was down), so it
    // goes out as soon as the start-up reconcile has read the configuration
    await app.stop();
    setConfigs({ release: '3h', maintenance: '3h' });
    expect(received).toHaveLength(1);
    const beforeStart = app.logLines().length;
    await app.restart();
    await app.waitForLogLine((l) => l.msg === 'window notice sent' && l.window === 'Maintenance', 60_000, beforeStart);
    expect(received).toHaveLength(2);
    expect(received[1]).toMatch(/^:alarm_clock: Window "Maintenance" \(all changes\) starts in 2h \d+m: /);
    expect(received[1]).toContain(`${tokyoLong(maintenance)} to ${tokyoLong(maintenance + 3_600_000)}, on acme/api, acme/web`);
    // and the first was not sent again
    expect(received.filter((m) => m.includes('"Release freeze"'))).toHaveLength(1);
    await app.waitForLogLine((l) => l.msg === 'window notices planned' && l.claimed >= 2 && l.due === 0, 30_000, beforeStart);
    expect(received).toHaveLength(2);
    expectFakeClean(fake);
  }, 240_000);
});
