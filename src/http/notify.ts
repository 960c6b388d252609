/**
 * Optional announcements (MORATORIUM_SLACK_WEBHOOK_URL): one Slack-compatible incoming-webhook
 * message, `{"text": ...}`, per incident opened, resolved or closed and per freeze started or ended.
 *
 * It runs after the change is committed (the `onStateEvents` listener of src/domain/state-changes.ts) and never blocks or fails it:
 * messages go out in order from a small in-memory queue, each with a timeout and one retry on a
 * network error, 429 or 5xx; a message that still fails is logged and dropped. (Announcements are
 * best effort: the audit log is the record.)
 */
import type { Logger } from 'pino';
import { incidentId, scopeName, type StateEvent } from '../domain/actions.js';
import type { WindowNotice, WindowNoticeSender } from '../domain/window-notices.js';
import { formatLong } from '../time/format.js';
import { formatCountdown } from '../time/notices.js';

const TIMEOUT_MS = 5_000;
const RETRY_DELAY_MS = 1_000;
const MAX_QUEUE = 100;

/** Slack's three control characters; escaping them also defuses <!channel> and <@U123> mentions. */
export function escapeSlack(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const iso = (t: number): string => new Date(t).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
const modeText = (mode: string): string => (mode === 'all' ? 'all changes' : 'hotfixes only');
const by = (e: StateEvent): string => `by ${escapeSlack(e.actor.login)}${e.actor.source === 'command' ? '' : ` (${e.actor.source})`}`;

/** The message text for one state change (plain text, user text escaped). */
export function messageFor(e: StateEvent): string {
  switch (e.type) {
    case 'incident.opened': {
      const i = e.incident;
      return `:rotating_light: ${incidentId(i.id)} opened: ${i.severity} "${escapeSlack(i.title)}" on ${escapeSlack(scopeName(i.scope))} ${by(e)}`;
    }
    case 'incident.resolved': {
      const i = e.incident;
      return `:large_yellow_circle: ${incidentId(i.id)} resolved: service restored, recovery until it is closed (${i.severity} "${escapeSlack(i.title)}" on ${escapeSlack(scopeName(i.scope))}) ${by(e)}${e.note ? `: ${escapeSlack(e.note)}` : ''}`;
    }
    case 'incident.closed': {
      const i = e.incident;
      return `:white_check_mark: ${incidentId(i.id)} closed: assessment complete, its moratorium has ended (${i.severity} "${escapeSlack(i.title)}" on ${escapeSlack(scopeName(i.scope))}) ${by(e)}${e.note ? `: ${escapeSlack(e.note)}` : ''}`;
    }
    case 'freeze.started': {
      const f = e.freeze;
      return `:snowflake: Freeze ${f.id} started on ${escapeSlack(scopeName(f.scope))} (${modeText(f.mode)}) ${by(e)}, ${f.until ? `until ${iso(f.until)}` : 'until lifted'}${f.reason ? `: ${escapeSlack(f.reason)}` : ''}`;
    }
    case 'freeze.ended': {
      const f = e.freeze;
      const how = e.actor.source === 'schedule' ? 'its time was up' : by(e);
      return `:sunny: Freeze ${f.id} on ${escapeSlack(scopeName(f.scope))} ended: ${how}`;
    }
  }
}

export interface SlackNotifier {
  (events: StateEvent[]): void;
  /** resolves when every queued message was sent or given up (tests, shutdown) */
  idle(): Promise<void>;
}

export function createSlackNotifier(url: string, log: Logger, opts: { fetch?: typeof fetch; retryDelayMs?: number } = {}): SlackNotifier {
  const doFetch = opts.fetch ?? fetch;
  const retryDelay = opts.retryDelayMs ?? RETRY_DELAY_MS;
  let queued = 0;
  let chain: Promise<void> = Promise.resolve();

  const postOnce = async (text: string): Promise<'ok' | 'retry' | 'fail'> => {
    try {
      const res = await doFetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text }),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return 'ok';
      log.warn({ event: 'slack', status: res.status }, 'Slack notification refused');
      return res.status === 429 || res.status >= 500 ? 'retry' : 'fail';
    } catch (error) {
      log.warn({ event: 'slack', err: error instanceof Error ? error.message : String(error) }, 'Slack notification failed');
      return 'retry';
    }
  };

  const send = async (text: string): Promise<void> => {
    if ((await postOnce(text)) !== 'retry') return;
    await new Promise((resolve) => setTimeout(resolve, retryDelay).unref?.());
    if ((await postOnce(text)) !== 'ok') log.warn({ event: 'slack' }, 'Slack notification dropped after a retry');
  };

  const notify = ((events: StateEvent[]) => {
    for (const e of events) {
      if (queued >= MAX_QUEUE) {
        log.warn({ event: 'slack', type: e.type }, 'Slack queue full: notification dropped');
        continue;
      }
      let text: string;
      try {
        text = messageFor(e);
      } catch (error) {
        log.warn({ event: 'slack', err: error instanceof Error ? error.message : String(error) }, 'could not build a Slack message');
        continue;
      }
      queued++;
      chain = chain
        .then(() => send(text))
        .catch(() => undefined)
        .finally(() => {
          queued--;
        });
    }
  }) as SlackNotifier;
  notify.idle = () => chain;
  return notify;
}

// ---------------------------------------------------------------------------------------------
// windows[].notify_before: a stored job sends each notice (src/domain/window-notices.ts) and retries
// it when Slack does not take it, so here a failure throws instead of being dropped

/** The text of a window's notice: the window, when it starts and ends in its timezone, and where. */
export function windowNoticeText(n: WindowNotice, now: number): string {
  const mode = n.mode === 'all' ? 'all changes' : 'hotfixes only';
  const repos = n.repos.length ? n.repos.map(escapeSlack).join(', ') : 'no repository known';
  return `:alarm_clock: Window "${escapeSlack(n.window)}" (${mode}) starts in ${formatCountdown(n.start - now)}: ${formatLong(n.start, n.timezone)} to ${formatLong(n.end, n.timezone)}, on ${repos}`;
}

/** An error with the HTTP status Slack answered (the job runner gives up on a 4xx that keeps coming). */
export class SlackRefused extends Error {
  constructor(readonly status: number) {
    super(`the Slack webhook answered ${status}`);
  }
}

/** Sends window notices to the incoming webhook at `url`, one POST each (timeout 5 s). */
export function slackWindowNotices(url: string, opts: { fetch?: typeof fetch } = {}): WindowNoticeSender {
  const doFetch = opts.fetch ?? fetch;
  return async (notice, now) => {
    const res = await doFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: windowNoticeText(notice, now) }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) throw new SlackRefused(res.status);
  };
}
