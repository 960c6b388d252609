/**
 * The dashboard's timeline section: loads what the fortnight shows (each repository's windows from
 * its last valid configuration, the account's freezes and incidents as the page's tables have them)
 * and hands it to the pure renderer (timeline.ts). The viewer picks the time zone with `?tz=`
 * (a plain GET form, no script); UTC by default. Also lists "starts in ..." for each window within
 * its `notify_before` lead.
 */
import { formatLong } from '../time/format.js';
import { formatCountdown, occurrencesBetween, upcomingWithinLead } from '../time/notices.js';
import { isValidTimezone } from '../time/zone.js';
import type { Repositories } from '../store/contract.js';
import type { AccountState } from './state.js';
import { repoConfig } from './state.js';
import { renderTimeline, timelineAxis, type TimelineRepo } from './timeline.js';

const esc = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The viewer's zone from `?tz=`: a valid IANA name, else UTC (with a message for a wrong one). */
export function viewerZone(raw: string | null): { timezone: string; error: string | null } {
  const tz = (raw ?? '').trim();
  if (tz === '') return { timezone: 'UTC', error: null };
  if (tz.length <= 64 && isValidTimezone(tz)) return { timezone: tz, error: null };
  return { timezone: 'UTC', error: `Unknown time zone "${tz}": showing UTC. Use an IANA name such as Europe/Berlin.` };
}

export async function timelineSection(store: Repositories, states: AccountState[], now: number, rawZone: string | null, account: string | null): Promise<string> {
  const { timezone, error } = viewerZone(rawZone);
  const axis = timelineAxis(now, timezone);
  const repositories: TimelineRepo[] = [];
  const soon: string[] = [];
  for (const st of states) {
    for (const r of await store.reposOfAccount(st.account)) {
      const { config } = repoConfig(r);
      const name = `${r.account}/${r.repo}`;
      const covers = (scope: { repo: string | null }) => scope.repo === null || scope.repo === r.repo;
      repositories.push({
        name,
        windows: config.windows.map((w) => ({ name: w.name, mode: w.mode, timezone: w.timezone, occurrences: occurrencesBetween(w.plan, axis.from, axis.to) })),
        freezes: st.freezes
          .filter((f) => covers(f))
          .map((f) => ({ id: f.id, mode: f.mode, reason: f.reason, scope: f.repo ? `${f.account}/${f.repo}` : `${f.account} (whole account)`, start: Date.parse(f.createdAt), until: f.until === null ? null : Date.parse(f.until) })),
        incidents: st.incidents
          .filter((i) => covers(i))
          .map((i) => ({ key: i.key, severity: i.severity, title: i.title, phase: i.phase, start: Date.parse(i.openedAt) })),
      });
      for (const w of config.windows) {
        const up = upcomingWithinLead(w.plan, w.notifyBeforeMs, now);
        if (up)
          soon.push(
            `<li data-window="${esc(w.name)}">${esc(`${w.name} starts in ${formatCountdown(up.inMs)}`)} <small>(${esc(`${formatLong(up.start, w.timezone)} to ${formatLong(up.end, w.timezone)}, ${name}`)})</small></li>`,
          );
      }
    }
  }
  const hidden = account ? `<input type="hidden" name="account" value="${esc(account)}">` : '';
  return `<section id="timeline"><h2>The next 14 days</h2>
<form method="get" action="/moratorium/"><label for="tz">Time zone</label> <input id="tz" name="tz" value="${esc(timezone)}" size="24"> ${hidden}<button type="submit">Show</button></form>
${error ? `<p class="error" role="alert">${esc(error)}</p>` : ''}
${soon.length ? `<ul class="starts-in">${soon.join('\n')}</ul>` : ''}
<figure>${renderTimeline({ now, timezone, repositories })}</figure>
</section>`;
}
