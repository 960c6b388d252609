/**
 * Notices before a window starts (`windows[].notify_before`, SPEC section 12): `notify_before`
 * before each occurrence, one Slack-compatible message naming the window, its start and end in its
 * timezone and the repositories it covers. Owns the `window-notice` job.
 *
 * Load, decide, publish: the windows come from each repository's last valid configuration in the
 * store (what the dashboard shows), grouped per account by the window's definition (a window that
 * several repositories share through `_extends` or the account's `.github` repository is one
 * notice naming them all); the pure timing is src/time/notices.ts; each due occurrence is claimed
 * in the store (one row per account, window and occurrence) in the same transaction as the job that
 * sends it, so it is announced once across restarts and replicas, and a failed send is retried.
 *
 * The boundary timer (src/schedule/boundaries.ts) asks `nextAt` for the next moment a notice is
 * due and calls `run` then. A notice that came due while the app was down is due still, so it goes
 * out as soon as the app runs again, unless the occurrence has started.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { parseConfig, type Config } from '../config/schema.js';
import type { AsyncStore, WindowNoticeKey } from '../store/contract.js';
import { nextNoticeAt, noticesDue } from '../time/notices.js';
import type { WindowPlan } from '../time/windows.js';
import type { JobRegistry } from './jobs.js';

/** What one notice says (the `window-notice` job's payload). */
export interface WindowNotice {
  installationId: number;
  account: string;
  windowKey: string;
  window: string;
  mode: string;
  timezone: string;
  /** UTC ms of the occurrence */
  start: number;
  end: number;
  /** `owner/repo` of every repository whose configuration has this window, sorted */
  repos: string[];
}

/** Posts one notice (Slack's incoming webhook); throws when it was not accepted, so it is retried. */
export type WindowNoticeSender = (notice: WindowNotice, now: number) => Promise<void>;

interface Group {
  installationId: number;
  account: string;
  key: string;
  name: string;
  mode: string;
  timezone: string;
  plan: WindowPlan;
  leadMs: number;
  repos: string[];
}

/** groups are read again at most this often (the reconcile's wake-up plans every five seconds) */
const GROUPS_TTL_MS = 5_000;
/** when the store does not answer, the timer asks again this soon */
const RETRY_MS = 5_000;

/** The identity of a window: its name and its schedule (a change of `notify_before` or `mode` keeps it). */
export function windowKey(w: Config['windows'][number]): string {
  return JSON.stringify([w.name, w.timezone, w.cron ?? null, w.duration ?? null, w.from ?? null, w.to ?? null]);
}

export interface WindowNoticesDeps {
  store: Pick<AsyncStore, 'listInstallations' | 'reposOfAccount' | 'windowNoticeOf' | 'transaction'>;
  clock: Clock;
  log: Logger;
  jobs: JobRegistry;
  send: WindowNoticeSender;
  /** who claims (unique per process) */
  owner: string;
}

export class WindowNotices {
  private cached: { at: number; groups: Group[] } | null = null;
  /** parsed configurations by their stored text (most repositories share a few) */
  private readonly parsed = new Map<string, Config | null>();
  private lastSummary = '';

  constructor(private readonly deps: WindowNoticesDeps) {
    deps.jobs.register('window-notice', (payload: WindowNotice) => this.deliver(payload));
  }

  /** The windows with a `notify_before`, per account and definition, with the repositories they cover. */
  async groups(now: number): Promise<Group[]> {
    if (this.cached && now - this.cached.at >= 0 && now - this.cached.at < GROUPS_TTL_MS) return this.cached.groups;
    const byKey = new Map<string, Group>();
    const accounts = new Set<string>();
    for (const inst of await this.deps.store.listInstallations()) {
      if (inst.suspended || accounts.has(inst.account)) continue;
      accounts.add(inst.account);
      for (const repo of await this.deps.store.reposOfAccount(inst.account)) {
        const config = this.configOf(repo.lastValidConfig);
        if (!config) continue;
        for (const w of config.windows) {
          if (w.notifyBeforeMs === null) continue;
          const key = windowKey(w);
          const id = `${inst.account}\n${key}`;
          const g = byKey.get(id);
          if (g) {
            g.leadMs = Math.max(g.leadMs, w.notifyBeforeMs);
            if (!g.repos.includes(repo.fullName)) g.repos.push(repo.fullName);
          } else {
            byKey.set(id, { installationId: inst.id, account: inst.account, key, name: w.name, mode: w.mode, timezone: w.timezone, plan: w.plan, leadMs: w.notifyBeforeMs, repos: [repo.fullName] });
          }
        }
      }
    }
    const groups = [...byKey.values()];
    for (const g of groups) g.repos.sort();
    this.cached = { at: now, groups };
    return groups;
  }

  private configOf(text: string | null): Config | null {
    if (!text) return null;
    let config = this.parsed.get(text);
    if (config === undefined) {
      try {
        const p = parseConfig(JSON.parse(text));
        config = p.ok ? p.config : null;
      } catch {
        config = null;
      }
      if (this.parsed.size > 1000) this.parsed.clear();
      this.parsed.set(text, config);
    }
    return config;
  }

  private noticeKey(g: Group, start: number): WindowNoticeKey {
    return { account: g.account, windowKey: g.key, occurrenceStart: start };
  }

  /**
   * The next moment a notice is due: a due one nobody has claimed yet (at or before `now`: the
   * timer fires at once), else the earliest coming one; null when no window has `notify_before`.
   */
  async nextAt(now: number): Promise<number | null> {
    try {
      let best: number | null = null;
      let pending = 0;
      let claimed = 0;
      for (const g of await this.groups(now)) {
        let candidate: number | null = null;
        for (const o of noticesDue(g.plan, g.leadMs, now)) {
          if ((await this.deps.store.windowNoticeOf(this.noticeKey(g, o.start))) === null) {
            pending++;
            candidate ??= o.start - g.leadMs;
          } else {
            claimed++;
          }
        }
        candidate ??= nextNoticeAt(g.plan, g.leadMs, now);
        if (candidate !== null && (best === null || candidate < best)) best = candidate;
      }
      // one line whenever the plan changes: what is due now, what was already sent, what comes next
      const summary = `${pending}/${claimed}/${best}`;
      if (summary !== this.lastSummary) {
        this.lastSummary = summary;
        this.deps.log.info({ event: 'window-notice', due: pending, claimed, next: best === null ? null : new Date(best).toISOString() }, 'window notices planned');
      }
      return best;
    } catch (error) {
      this.deps.log.warn({ event: 'window-notice', err: error instanceof Error ? error.message : String(error) }, 'could not plan window notices');
      return now + RETRY_MS;
    }
  }

  /** Claims and queues every notice due at `now` that nobody has claimed yet. */
  async run(now: number): Promise<number> {
    let queued = 0;
    for (const g of await this.groups(now)) {
      for (const o of noticesDue(g.plan, g.leadMs, now)) {
        const notice: WindowNotice = {
          installationId: g.installationId,
          account: g.account,
          windowKey: g.key,
          window: g.name,
          mode: g.mode,
          timezone: g.timezone,
          start: o.start,
          end: o.end,
          repos: g.repos,
        };
        const claimed = await this.deps.store.transaction(async (tx) => {
          if (!(await tx.claimWindowNotice(this.noticeKey(g, o.start), g.name, this.deps.owner, now))) return false;
          await tx.enqueueJob('window-notice', notice, now, now);
          return true;
        });
        if (!claimed) continue;
        queued++;
        this.deps.log.info(
          { event: 'window-notice', account: g.account, window: g.name, start: new Date(o.start).toISOString(), repos: g.repos },
          'window notice claimed',
        );
      }
    }
    if (queued) this.deps.jobs.kick();
    return queued;
  }

  private async deliver(notice: WindowNotice): Promise<void> {
    const now = this.deps.clock.now();
    if (now >= notice.start) {
      this.deps.log.warn({ event: 'window-notice', account: notice.account, window: notice.window }, 'window notice not sent: the occurrence has started');
      return;
    }
    await this.deps.send(notice, now);
    this.deps.log.info(
      { event: 'window-notice', account: notice.account, window: notice.window, start: new Date(notice.start).toISOString(), repos: notice.repos },
      'window notice sent',
    );
  }
}
