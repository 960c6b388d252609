/**
 * The window-notice use case (src/domain/window-notices.ts) on a real store: a window that several
 * repositories share is one notice naming them all; it is claimed and queued once (also by a second
 * replica, and after a restart); the timer is told when the next one is due; a notice whose
 * occurrence has started is not sent; a failed send throws so the job is retried.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobHandler, JobRegistry } from '../../../src/domain/jobs.js';
import { WindowNotices, type WindowNotice } from '../../../src/domain/window-notices.js';
import { windowNoticeText } from '../../../src/http/notify.js';
import type { AsyncStore } from '../../../src/store/contract.js';
import { openSqliteStore } from '../../../src/store/sqlite/engine.js';

const H = 3_600_000;
// Fri 4 Dec 2026 18:00 in Berlin is 17:00 UTC
const START = Date.UTC(2026, 11, 4, 17, 0);
const LEAD = 150 * 60_000;
const RELEASE = { name: 'Release freeze', cron: '0 18 * * FRI', duration: '63h', timezone: 'Europe/Berlin', notify_before: '2h30m' };

class Registry implements JobRegistry {
  handlers = new Map<string, JobHandler>();
  kicks = 0;
  register(kind: string, handler: JobHandler): void {
    this.handlers.set(kind, handler);
  }
  kick(): void {
    this.kicks++;
  }
}

describe('window notices', () => {
  let dir: string;
  let store: AsyncStore;
  let now: number;
  const sent: { notice: WindowNotice; at: number }[] = [];
  const log = pino({ level: 'silent' });

  const make = (owner: string, s: AsyncStore = store, send = async (notice: WindowNotice, at: number) => void sent.push({ notice, at })) => {
    const jobs = new Registry();
    const notices = new WindowNotices({ store: s, clock: { now: () => now }, log, jobs, send, owner });
    return { notices, jobs };
  };

  beforeEach(async () => {
    sent.length = 0;
    dir = mkdtempSync(join(tmpdir(), 'moratorium-notices-'));
    store = openSqliteStore(join(dir, 'm.db'));
    now = Date.UTC(2026, 11, 4, 9, 0);
    await store.upsertInstallation(7, 'acme', 'Organization', false, now);
    for (const repo of ['web', 'api', 'docs']) await store.upsertRepo('acme', repo, 7, `acme/${repo}`, 'main');
    await store.setLastValidConfig('acme', 'api', JSON.stringify({ windows: [RELEASE] }));
    await store.setLastValidConfig('acme', 'web', JSON.stringify({ windows: [RELEASE, { name: 'quiet', cron: '0 9 * * *', duration: '1h' }] }));
    await store.setLastValidConfig('acme', 'docs', JSON.stringify({ windows: [{ ...RELEASE, timezone: 'UTC' }] }));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('plans the next notice, claims it once when due, and queues one job naming every repository', async () => {
    const { notices, jobs } = make('replica-1');
    // Berlin's window is due at 14:30 UTC, the UTC one (a different window of the same name) at 15:30
    expect(await notices.nextAt(now)).toBe(START - LEAD);
    now = START - LEAD;
    expect(await notices.nextAt(now)).toBe(START - LEAD); // due and unclaimed: the timer fires now
    expect(await notices.run(now)).toBe(1);
    expect(jobs.kicks).toBe(1);
    const queued = await store.dueJobs(now, 10);
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatchObject({ kind: 'window-notice', payload: { account: 'acme', window: 'Release freeze', start: START, end: Date.UTC(2026, 11, 7, 8), repos: ['acme/api', 'acme/web'], timezone: 'Europe/Berlin' } });
    // claimed: the next is the UTC window's, then next week's
    expect(await notices.nextAt(now)).toBe(Date.UTC(2026, 11, 4, 18, 0) - LEAD);
    expect(await notices.run(now)).toBe(0);
    // another replica (or this one after a restart) finds it claimed
    const other = make('replica-2', openSqliteStore(join(dir, 'm.db')));
    expect(await other.notices.run(now + 1000)).toBe(0);
    expect(await store.dueJobs(now + 1000, 10)).toHaveLength(1);
  });

  it('sends a notice that came due while the app was down, unless the occurrence has started', async () => {
    const { notices, jobs } = make('replica-1');
    now = START - 10 * 60_000; // came back 2h 20m late: 10 minutes before the start
    expect(await notices.nextAt(now)).toBe(START - LEAD);
    expect(await notices.run(now)).toBe(2); // the UTC window of the same name (18:00 UTC) is due too
    const job = (await store.dueJobs(now, 10)).find((j) => (j.payload as WindowNotice).timezone === 'Europe/Berlin')!;
    await jobs.handlers.get('window-notice')!(job.payload as never, job);
    expect(sent).toHaveLength(1);
    expect(windowNoticeText(sent[0]!.notice, sent[0]!.at)).toBe(
      ':alarm_clock: Window "Release freeze" (hotfixes only) starts in 10m: 2026-12-04 18:00 Europe/Berlin to 2026-12-07 09:00 Europe/Berlin, on acme/api, acme/web',
    );
    // a job that runs only once the occurrence has started (a long retry) sends nothing
    now = START;
    await jobs.handlers.get('window-notice')!(job.payload as never, job);
    expect(sent).toHaveLength(1);
    // and at the start nothing of this occurrence is due any more
    const late = make('replica-3');
    expect(await late.notices.run(START)).toBe(0);
  });

  it('throws when the send fails, so the stored job is retried', async () => {
    const { notices, jobs } = make('replica-1', store, async () => {
      throw new Error('the Slack webhook answered 503');
    });
    now = START - H;
    await notices.run(now);
    const job = (await store.dueJobs(now, 10))[0]!;
    await expect(jobs.handlers.get('window-notice')!(job.payload as never, job)).rejects.toThrow('503');
  });

  it('has nothing to plan when no window has notify_before, and skips suspended installations', async () => {
    await store.setLastValidConfig('acme', 'api', JSON.stringify({ windows: [{ name: 'quiet', cron: '0 9 * * *', duration: '1h' }] }));
    await store.setLastValidConfig('acme', 'web', JSON.stringify({}));
    await store.upsertInstallation(8, 'globex', 'Organization', true, now);
    await store.upsertRepo('globex', 'core', 8, 'globex/core', 'main');
    await store.setLastValidConfig('globex', 'core', JSON.stringify({ windows: [RELEASE] }));
    await store.setLastValidConfig('acme', 'docs', JSON.stringify({}));
    const { notices } = make('replica-1');
    expect(await notices.nextAt(now)).toBeNull();
  });

  it('escapes Slack control characters in window and repository names', () => {
    const text = windowNoticeText({ installationId: 7, account: 'acme', windowKey: 'k', window: '<!channel> & <@U1>', mode: 'all', timezone: 'UTC', start: START, end: START + H, repos: ['acme/a'] }, START - H);
    expect(text).toBe(':alarm_clock: Window "&lt;!channel&gt; &amp; &lt;@U1&gt;" (all changes) starts in 1h: 2026-12-04 17:00 UTC to 2026-12-04 18:00 UTC, on acme/a');
  });
});
