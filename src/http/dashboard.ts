/**
 * The dashboard at GET /moratorium/: one server-rendered page (no scripts, no front-end build) with
 * the active incidents and their timelines, freezes, windows and their next occurrences, cadence use
 * and whether each repository requires the check, and the audit log. `?account=A` narrows it to one
 * account. The page is a list of sections (`DASHBOARD_SECTIONS`), each rendered from one
 * `SectionContext`: a new section is one entry in that list.
 *
 * Who is looking (src/http/dashboard-session.ts): "Sign in with GitHub" (the App's OAuth web flow,
 * GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET) or, for automation, the API token typed into a form.
 * Either opens a server-side session. A person signed in with GitHub can act: open, resolve and close
 * incidents, freeze and unfreeze a repository or the account (src/commands/act.ts: exactly the
 * authority of the same command, asked of GitHub for that login; audited with source `dashboard`).
 * A token session may only look. Every form carries the session's CSRF token and must come from the
 * dashboard's own origin; refusals and bad input are shown on the page and change nothing.
 *
 * Every piece of user text (titles, reasons, logins, notes) is HTML-escaped, and the Content
 * Security Policy allows no script at all and only the page's own stylesheet.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DashboardAction } from '../commands/act.js';
import { MODES, SEVERITIES, type Mode, type Severity } from '../config/schema.js';
import { buildReport } from '../domain/report.js';
import type { Env } from '../env.js';
import { GitHubOAuth, OAuthError, githubWebUrl } from '../github/oauth.js';
import { formatLong } from '../time/format.js';
import { parseDuration } from '../time/duration.js';
import { parseIsoTime } from '../time/iso.js';
import type { HttpDeps } from './deps.js';
import type { AuditEntry } from '../store/records.js';
import { key } from '../store/records.js';
import { HttpError, readBody, secretEquals } from './http-util.js';
import type { Route } from './router.js';
import { accountState, type AccountState } from './state.js';
import { accountSchema, repoSchema } from './api-schemas.js';
import { CALLBACK_PATH, COOKIE_NAME, DashboardSessions, SIGN_IN_PATH, TOKEN_LOGIN, SESSION_MAX_AGE_S, type Session } from './dashboard-session.js';
import { timelineSection } from './dashboard-timeline.js';

export { COOKIE_NAME };
export const DASHBOARD_PATH = '/moratorium/';
export const ACT_PATH = '/moratorium/dashboard/act';

/** HTML-escapes text for element content and quoted attribute values. */
export function h(text: string | number | null | undefined): string {
  return String(text ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `
:root { color-scheme: light dark; font-family: system-ui, sans-serif; }
body { margin: 0 auto; max-width: 80rem; padding: 1rem 1.5rem 3rem; line-height: 1.4; }
header { display: flex; gap: 1rem; align-items: baseline; flex-wrap: wrap; border-bottom: 1px solid #8886; padding-bottom: .5rem; }
header h1 { font-size: 1.3rem; margin: 0 1rem 0 0; }
header nav a { margin-right: .6rem; }
header .who { margin-left: auto; }
header form { display: inline; }
h2 { font-size: 1.1rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { text-align: left; vertical-align: top; padding: .3rem .5rem; border-bottom: 1px solid #8884; }
th { font-weight: 600; }
.empty { color: #888; font-style: italic; }
.tag { display: inline-block; padding: 0 .4rem; border-radius: .3rem; font-size: .85rem; border: 1px solid #8886; }
.open, .not-required { background: #d3303033; }
.resolved, .unknown { background: #e0a00033; }
.required { background: #2a8a2a33; }
details { margin: .2rem 0 .6rem; }
details ol { margin: .3rem 0; padding-left: 1.4rem; font-size: .9rem; }
.login { max-width: 24rem; margin: 4rem auto; }
.login input[type=password] { width: 100%; padding: .4rem; margin: .4rem 0 .8rem; box-sizing: border-box; }
.button { display: inline-block; padding: .45rem .9rem; border: 1px solid #8888; border-radius: .35rem; text-decoration: none; font-weight: 600; }
.forms { display: flex; flex-wrap: wrap; gap: 1rem; }
.forms form { border: 1px solid #8885; border-radius: .4rem; padding: .6rem .8rem; flex: 1 1 18rem; }
.forms h3 { font-size: 1rem; margin: 0 0 .4rem; }
.forms label { display: block; font-size: .88rem; margin-top: .3rem; }
.forms input, .forms select { width: 100%; box-sizing: border-box; padding: .25rem; }
.forms button { margin-top: .5rem; }
.acts form { display: flex; gap: .3rem; margin: 0 0 .3rem; }
.acts input { width: 8rem; }
.error { color: #c22; }
.notice { border: 1px solid #2a8a2a88; background: #2a8a2a22; padding: .5rem .8rem; border-radius: .4rem; }
.refused { border: 1px solid #c2222288; background: #c2222218; padding: .5rem .8rem; border-radius: .4rem; }
small { color: #888; }
`;
const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');

export const CSP = [
  "default-src 'none'",
  `style-src 'sha256-${STYLE_HASH}'`,
  "img-src 'none'",
  "script-src 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // same-origin, not no-referrer: with no-referrer the browser sends `Origin: null` on our own form posts
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

function sendHtml(res: ServerResponse, status: number, html: string, headers: Record<string, string | string[]> = {}): true {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html), ...SECURITY_HEADERS, ...headers });
  res.end(html);
  return true;
}

function redirect(res: ServerResponse, location: string, headers: Record<string, string | string[]> = {}): true {
  res.writeHead(303, { location, ...SECURITY_HEADERS, ...headers });
  res.end();
  return true;
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${h(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

interface LoginOptions {
  github: boolean;
  token: boolean;
}

function loginPage(error: string | null, o: LoginOptions): string {
  return page(
    'Moratorium: sign in',
    `<main class="login">
<h1>Moratorium</h1>
${error ? `<p class="error" role="alert">${h(error)}</p>` : ''}
${o.github ? `<p><a class="button" id="sign-in-github" href="${SIGN_IN_PATH}">Sign in with GitHub</a></p>` : '<p><small>Sign-in with GitHub is off: set <code>GITHUB_CLIENT_ID</code> and <code>GITHUB_CLIENT_SECRET</code> (the App\'s OAuth client).</small></p>'}
${
  o.token
    ? `<form method="post" action="/moratorium/login">
<p>For automation: the API token (<code>MORATORIUM_API_TOKEN</code>). It may look, not act.</p>
<label for="token">Token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required>
<button type="submit">Sign in with the token</button>
</form>`
    : ''
}
</main>`,
  );
}

function messagePage(title: string, message: string, o: LoginOptions): string {
  return loginPage(`${title}: ${message}`, o);
}

// rendering

const when = (isoText: string | null): string => (isoText ? `${isoText.replace('T', ' ').slice(0, 16)} UTC` : '');
const modeText = (mode: string): string => (mode === 'all' ? 'all changes' : 'hotfixes only');
const scopeText = (account: string, repo: string | null): string => (repo ? `${account}/${repo}` : `${account} (whole account)`);
const empty = (cols: number, text: string): string => `<tr><td colspan="${cols}" class="empty">${h(text)}</td></tr>`;

async function incidentsSection({ s, states, now, canAct, csrf }: SectionContext): Promise<string> {
  const rows: string[] = [];
  for (const st of states) {
    for (const i of st.incidents) {
      const stored = await s.store.getIncident(i.id);
      const timeline = stored ? (await buildReport(s.store, stored, now)).timeline : [];
      const phase = i.phase === 'open' ? 'open' : 'resolved: recovery until closed';
      rows.push(`<tr>
<td><strong>${h(i.key)}</strong></td>
<td>${h(i.severity)}</td>
<td><span class="tag ${h(i.phase)}">${h(phase)}</span></td>
<td>${h(scopeText(i.account, i.repo))}</td>
<td class="title">${h(i.title)}
<details><summary>Timeline (${timeline.length})</summary><ol>${timeline
        .map((e) => `<li>${h(when(e.at))}: ${h(e.text)}${e.actor ? ` <small>by</small> ${h(e.actor)}` : ''}${e.reason ? `: ${h(e.reason)}` : ''}</li>`)
        .join('')}</ol></details></td>
<td>${h(when(i.openedAt))}<br><small>by</small> ${h(i.openedBy)}${i.source !== 'command' ? ` <small>(${h(i.source)})</small>` : ''}</td>
${canAct ? `<td class="acts">${incidentForms(i.id, i.key, i.phase, csrf)}</td>` : ''}
</tr>`);
    }
  }
  return `<section id="incidents"><h2>Incidents</h2>
<table><thead><tr><th>Id</th><th>Severity</th><th>Phase</th><th>Scope</th><th>Title and timeline</th><th>Opened</th>${canAct ? '<th>Act</th>' : ''}</tr></thead>
<tbody>${rows.length ? rows.join('\n') : empty(canAct ? 7 : 6, 'No open or resolved incident.')}</tbody></table></section>`;
}

function freezesSection({ states }: SectionContext): string {
  const rows = states.flatMap((st) =>
    st.freezes.map(
      (f) => `<tr><td>${f.id}</td><td>${h(scopeText(f.account, f.repo))}</td><td>${h(modeText(f.mode))}</td><td>${h(f.createdBy)} <small>(${h(f.source)})</small></td>
<td>${f.reason ? h(f.reason) : '<span class="empty">no reason given</span>'}</td><td>${h(when(f.createdAt))}</td><td>${f.until ? h(when(f.until)) : 'until lifted'}</td></tr>`,
    ),
  );
  return `<section id="freezes"><h2>Freezes</h2>
<table><thead><tr><th>Id</th><th>Scope</th><th>Mode</th><th>Who</th><th>Why</th><th>Since</th><th>Until</th></tr></thead>
<tbody>${rows.length ? rows.join('\n') : empty(7, 'No manual freeze in force.')}</tbody></table></section>`;
}

function windowsSection({ states }: SectionContext): string {
  const rows = states.flatMap((st) =>
    st.windows.map((w) => {
      const active = w.active
        ? `${w.active.lifted ? 'lifted early' : '<strong>active</strong>'} until ${h(formatLong(Date.parse(w.active.end), w.timezone))}`
        : 'no';
      const next = w.next.map((o) => `${h(formatLong(Date.parse(o.start), w.timezone))} to ${h(formatLong(Date.parse(o.end), w.timezone))}`).join('<br>');
      return `<tr><td>${h(`${w.account}/${w.repo}`)}</td><td>${h(w.name)}</td><td>${h(modeText(w.mode))}</td><td>${active}</td><td>${next || '<span class="empty">none</span>'}</td></tr>`;
    }),
  );
  return `<section id="windows"><h2>Windows</h2>
<p><small>From each repository's last valid <code>.github/moratorium.yml</code>.</small></p>
<table><thead><tr><th>Repository</th><th>Window</th><th>Mode</th><th>Now</th><th>Next occurrences</th></tr></thead>
<tbody>${rows.length ? rows.join('\n') : empty(5, 'No window configured.')}</tbody></table></section>`;
}

function cadenceSection({ states }: SectionContext): string {
  const rows = states.flatMap((st) =>
    st.cadence.map((c) => {
      const limits = c.limits.length
        ? c.limits
            .map(
              (l) =>
                `${l.cadence === 'recovery' ? 'recovery: ' : ''}${l.used} of ${l.max} in ${h(l.per)}${l.minInterval ? `, ${h(l.minInterval)} apart` : ''}${
                  l.blocked ? ` <span class="tag open">blocked${l.nextSlot ? ` until ${h(when(l.nextSlot))}` : ''}</span>` : ''
                }`,
            )
            .join('<br>')
        : '<span class="empty">no limit</span>';
      return `<tr><td>${h(`${c.account}/${c.repo}`)}</td><td>${h(c.counts)}${c.environment ? ` (${h(c.environment)})` : ''}</td><td>${c.last24h}</td><td>${h(when(c.lastAt)) || '<span class="empty">none</span>'}</td><td>${limits}</td></tr>`;
    }),
  );
  return `<section id="cadence"><h2>Cadence</h2>
<table><thead><tr><th>Repository</th><th>Counts</th><th>Last 24 h</th><th>Last deploy</th><th>Limits in force</th></tr></thead>
<tbody>${rows.length ? rows.join('\n') : empty(5, 'No repository known yet.')}</tbody></table></section>`;
}

const REQUIRED_TEXT: Record<string, string> = {
  required: 'required',
  'not-required': 'NOT required: the gate protects nothing',
  unknown: 'unknown (could not be read)',
};

function reposSection({ states }: SectionContext): string {
  const rows = states.flatMap((st) =>
    st.repositories.map((r) => {
      const state = r.requiredState ?? 'unchecked';
      const text = REQUIRED_TEXT[state] ?? 'not checked yet (checked when a gate blocks)';
      return `<tr><td>${h(r.fullName)}</td><td>${h(r.defaultBranch ?? '')}</td><td><span class="tag ${h(state)}">${h(text)}</span>${r.requiredCheckedAt ? ` <small>${h(when(r.requiredCheckedAt))}</small>` : ''}</td><td>${
        r.config === 'last-valid' ? 'its last valid file' : 'defaults'
      }</td></tr>`;
    }),
  );
  return `<section id="repositories"><h2>Repositories</h2>
<table><thead><tr><th>Repository</th><th>Default branch</th><th>Requires the moratorium check</th><th>Configuration</th></tr></thead>
<tbody>${rows.length ? rows.join('\n') : empty(4, 'No repository known yet.')}</tbody></table></section>`;
}

function auditSection({ audit }: SectionContext): string {
  const rows = audit.map(
    (a) =>
      `<tr><td>${h(when(new Date(a.at).toISOString()))}</td><td>${h(scopeText(a.account, a.repo))}</td><td>${h(a.actor)} <small>(${h(a.source)})</small></td><td>${h(a.action)}</td><td>${h(a.target)}</td><td>${h(a.reason)}</td></tr>`,
  );
  return `<section id="audit"><h2>Audit log</h2>
<table><thead><tr><th>When</th><th>Scope</th><th>Who</th><th>Action</th><th>Target</th><th>Why</th></tr></thead>
<tbody>${rows.length ? rows.join('\n') : empty(6, 'Nothing recorded yet.')}</tbody></table></section>`;
}

// ---------------------------------------------------------------------------------------------
// sections

/** What every section is rendered from. */
export interface SectionContext {
  s: HttpDeps;
  /** the accounts shown (all installed, or the one of `?account=`) */
  states: AccountState[];
  audit: AuditEntry[];
  now: number;
  /** the person looking: a GitHub login, or `api-token` */
  login: string;
  /** signed in with GitHub: the forms are shown */
  canAct: boolean;
  /** the session's CSRF token, for every form */
  csrf: string;
  /** the time zone the timeline is drawn in (`?tz=`), null: UTC */
  viewerZone: string | null;
  /** the account of `?account=`, null: all */
  filter: string | null;
}

export interface DashboardSection {
  id: string;
  render(ctx: SectionContext): Promise<string> | string;
}

const csrfField = (csrf: string): string => `<input type="hidden" name="csrf" value="${h(csrf)}">`;

function incidentForms(id: number, name: string, phase: string, csrf: string): string {
  const form = (action: 'incident-resolve' | 'incident-close', label: string) => `<form method="post" action="${ACT_PATH}">
${csrfField(csrf)}<input type="hidden" name="action" value="${action}"><input type="hidden" name="id" value="${id}">
<input name="note" maxlength="2000" placeholder="note" aria-label="note for ${h(label.toLowerCase())} ${h(name)}">
<button type="submit" name="do" value="${action}" data-incident="${h(name)}">${h(label)}</button></form>`;
  return `${phase === 'open' ? form('incident-resolve', 'Resolve') : ''}${form('incident-close', 'Close')}`;
}

/** The scopes a person can choose: each installed account (whole account) and each known repository. */
function scopeOptions(states: AccountState[]): string {
  return states
    .flatMap((st) => [
      `<option value="${h(st.account)}">${h(st.account)} (whole account)</option>`,
      ...st.repositories.map((r) => `<option value="${h(`${st.account}/${r.repo}`)}">${h(`${st.account}/${r.repo}`)}</option>`),
    ])
    .join('');
}

function actSection({ states, canAct, csrf, login }: SectionContext): string {
  if (!canAct) {
    return `<section id="act"><p><small>Signed in as ${h(login)}: this session may look, not act. <a href="${SIGN_IN_PATH}">Sign in with GitHub</a> to open, resolve and close incidents and to freeze and unfreeze.</small></p></section>`;
  }
  if (states.length === 0) return `<section id="act"><h2>Act</h2><p class="empty">The app is not installed on any account yet.</p></section>`;
  const scopes = scopeOptions(states);
  const hidden = (action: string) => `${csrfField(csrf)}<input type="hidden" name="action" value="${action}">`;
  return `<section id="act"><h2>Act</h2>
<p><small>As ${h(login)}, with the authority the same comment command needs (the <code>permissions</code> of the configuration that governs the scope, asked of GitHub).</small></p>
<div class="forms">
<form method="post" action="${ACT_PATH}" id="open-incident">${hidden('incident-open')}
<h3>Open an incident</h3>
<label>Scope <select name="scope">${scopes}</select></label>
<label>Severity <select name="severity">${SEVERITIES.map((v) => `<option>${v}</option>`).join('')}</select></label>
<label>Title <input name="title" maxlength="500" required></label>
<button type="submit">Open incident</button>
</form>
<form method="post" action="${ACT_PATH}" id="freeze">${hidden('freeze')}
<h3>Freeze</h3>
<label>Scope <select name="scope">${scopes}</select></label>
<label>Mode <select name="mode"><option value="features">features (hotfixes still flow)</option><option value="all">all changes</option></select></label>
<label>Until <input name="until" placeholder="2026-12-01T18:00Z, or a duration such as 2h; empty: until lifted"></label>
<label>Reason <input name="reason" maxlength="1000"></label>
<button type="submit">Freeze</button>
</form>
<form method="post" action="${ACT_PATH}" id="unfreeze">${hidden('unfreeze')}
<h3>Unfreeze</h3>
<label>Scope <select name="scope">${scopes}</select></label>
<label>Reason <input name="reason" maxlength="1000"></label>
<button type="submit">Unfreeze</button>
<p><small>Ends the scope's manual freezes and the current occurrence of its active windows; never an incident.</small></p>
</form>
</div></section>`;
}

/**
 * The page's sections, in order. Another section (a timeline, say) is one more entry here: it gets
 * the same context and returns its HTML (escaping every piece of user text with `h`).
 */
export const DASHBOARD_SECTIONS: DashboardSection[] = [
  { id: 'timeline', render: (ctx) => timelineSection(ctx.s.store, ctx.states, ctx.now, ctx.viewerZone, ctx.filter) },
  { id: 'act', render: actSection },
  { id: 'incidents', render: incidentsSection },
  { id: 'freezes', render: freezesSection },
  { id: 'windows', render: windowsSection },
  { id: 'cadence', render: cadenceSection },
  { id: 'repositories', render: reposSection },
  { id: 'audit', render: auditSection },
];

export interface Viewer {
  login: string;
  canAct: boolean;
  csrf: string;
}

/** The outcome of an action, shown above the sections. */
export interface Banner {
  ok: boolean;
  text: string;
}

export async function renderDashboard(s: HttpDeps, filter: string | null, now: number, viewer: Viewer = { login: TOKEN_LOGIN, canAct: false, csrf: '' }, banner: Banner | null = null, viewerZone: string | null = null): Promise<string> {
  const accounts = [...new Set((await s.store.listInstallations()).map((i) => i.account))].sort();
  const shown = filter === null ? accounts : accounts.filter((a) => a === key(filter));
  const states: AccountState[] = [];
  for (const a of shown) states.push(await accountState(s.store, a, null, now));
  const audit = filter === null ? await s.store.recentAudit(100) : await s.store.auditOfAccount(filter, 100);
  const nav = [`<a href="/moratorium/"${filter === null ? ' aria-current="page"' : ''}>all accounts</a>`]
    .concat(accounts.map((a) => `<a href="/moratorium/?account=${encodeURIComponent(a)}"${filter !== null && key(filter) === a ? ' aria-current="page"' : ''}>${h(a)}</a>`))
    .join(' ');
  const unknown = filter !== null && !accounts.includes(key(filter)) ? `<p class="error">The app is not installed on account ${h(filter)}.</p>` : '';
  const ctx: SectionContext = { s, states, audit, now, login: viewer.login, canAct: viewer.canAct, csrf: viewer.csrf, viewerZone, filter };
  const sections: string[] = [];
  for (const section of DASHBOARD_SECTIONS) sections.push(await section.render(ctx));
  const shownBanner = banner ? `<p class="${banner.ok ? 'notice' : 'refused'}" id="outcome" role="${banner.ok ? 'status' : 'alert'}">${h(banner.text)}</p>` : '';
  return page(
    filter ? `Moratorium: ${filter}` : 'Moratorium',
    `<header><h1>Moratorium</h1><nav>${nav}</nav>
<span class="who">${viewer.canAct ? `Signed in as <strong id="login">${h(viewer.login)}</strong>` : '<span id="login">API token</span>'}
<form method="post" action="/moratorium/logout">${csrfField(viewer.csrf)}<button type="submit" id="sign-out">Sign out</button></form></span></header>
<main>
<p><small>As of ${h(when(new Date(now).toISOString()))}.</small></p>
${unknown}
${shownBanner}
${sections.join('\n')}
</main>`,
  );
}

// ---------------------------------------------------------------------------------------------
// form input

class FormError extends Error {}

const ACTIONS = ['incident-open', 'incident-resolve', 'incident-close', 'freeze', 'unfreeze'] as const;

function parseScope(raw: string | null): { account: string; repo: string | null } {
  const text = (raw ?? '').trim();
  if (text === '') throw new FormError('Scope: choose an account or a repository.');
  const [account, repo, ...rest] = text.split('/');
  if (rest.length || !accountSchema.safeParse(account).success || (repo !== undefined && !repoSchema.safeParse(repo).success)) {
    throw new FormError(`Scope: "${text}" is not an account or an account/repository.`);
  }
  return { account: account!.trim(), repo: repo === undefined ? null : repo.trim() };
}

function limited(form: URLSearchParams, name: string, max: number): string {
  const v = form.get(name) ?? '';
  if (v.length > max) throw new FormError(`${name[0]!.toUpperCase()}${name.slice(1)}: at most ${max} characters.`);
  return v.trim();
}

/** A form as the action it asks for, or a FormError saying what is wrong with it. */
export function parseActionForm(form: URLSearchParams, now: number): DashboardAction {
  const kind = form.get('action') as (typeof ACTIONS)[number] | null;
  if (kind === null || !ACTIONS.includes(kind)) throw new FormError('This form asks for no known action.');
  switch (kind) {
    case 'incident-open': {
      const scope = parseScope(form.get('scope'));
      const severity = form.get('severity') as Severity | null;
      if (severity === null || !SEVERITIES.includes(severity)) throw new FormError(`Severity: must be one of ${SEVERITIES.join(', ')}.`);
      const title = limited(form, 'title', 500);
      if (title === '') throw new FormError('Title: must not be empty.');
      return { kind, ...scope, severity, title };
    }
    case 'incident-resolve':
    case 'incident-close': {
      const m = /^(?:inc-)?(\d{1,15})$/i.exec((form.get('id') ?? '').trim());
      const id = m ? Number(m[1]) : NaN;
      if (!Number.isSafeInteger(id) || id < 1) throw new FormError('Incident: not an incident id such as INC-3.');
      return { kind, id, note: limited(form, 'note', 2000) };
    }
    case 'freeze': {
      const scope = parseScope(form.get('scope'));
      const mode = (form.get('mode') ?? 'features') as Mode;
      if (!MODES.includes(mode)) throw new FormError(`Mode: must be one of ${MODES.join(', ')}.`);
      const untilText = (form.get('until') ?? '').trim();
      let until: number | null = null;
      if (untilText !== '') {
        const ms = parseDuration(untilText);
        until = ms !== null ? now + ms : parseIsoTime(untilText);
        if (until === null) throw new FormError(`Until: "${untilText}" is neither an ISO 8601 time such as 2026-12-01T18:00Z (no offset: UTC) nor a duration such as 2h.`);
        if (until <= now) throw new FormError(`Until: ${new Date(until).toISOString()} is not in the future (now is ${new Date(now).toISOString()}).`);
      }
      return { kind, ...scope, mode, until, reason: limited(form, 'reason', 1000) };
    }
    case 'unfreeze':
      return { kind, ...parseScope(form.get('scope')), reason: limited(form, 'reason', 1000) };
  }
}

// ---------------------------------------------------------------------------------------------

export interface DashboardOptions {
  /** the OAuth client (tests); default: from GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET and the GitHub host */
  oauth?: GitHubOAuth | null;
}

type DashboardEnv = Pick<Env, 'MORATORIUM_API_TOKEN'> & Partial<Pick<Env, 'GITHUB_CLIENT_ID' | 'GITHUB_CLIENT_SECRET' | 'MORATORIUM_PUBLIC_URL' | 'GHE_HOST' | 'GHE_PROTOCOL' | 'baseUrl'>>;

const PATHS = new Set(['/moratorium', DASHBOARD_PATH, '/moratorium/login', '/moratorium/logout', SIGN_IN_PATH, CALLBACK_PATH, ACT_PATH]);
const METHODS: Record<string, string> = { [DASHBOARD_PATH]: 'GET, HEAD', [SIGN_IN_PATH]: 'GET', [CALLBACK_PATH]: 'GET' };

export function dashboardRoutes(s: HttpDeps, env: DashboardEnv, opts: DashboardOptions = {}): Route {
  const token = env.MORATORIUM_API_TOKEN && env.MORATORIUM_API_TOKEN.length > 0 ? env.MORATORIUM_API_TOKEN : null;
  const oauth =
    opts.oauth !== undefined
      ? opts.oauth
      : env.GITHUB_CLIENT_ID && env.GITHUB_CLIENT_SECRET
        ? new GitHubOAuth({ clientId: env.GITHUB_CLIENT_ID, clientSecret: env.GITHUB_CLIENT_SECRET, webUrl: githubWebUrl(env), apiUrl: env.baseUrl ?? 'https://api.github.com' })
        : null;
  const sessions = new DashboardSessions(s.store, s.clock, { publicUrl: env.MORATORIUM_PUBLIC_URL, apiToken: token });
  const login = { github: oauth !== null, token: token !== null };
  const callbackUrl = (req: IncomingMessage) => `${sessions.originOf(req)}${CALLBACK_PATH}`;
  const refusedCrossSite = (res: ServerResponse) => sendHtml(res, 403, loginPage('This form must be sent from the Moratorium dashboard itself: it was refused, and nothing was changed.', login));

  const readForm = async (req: IncomingMessage): Promise<URLSearchParams> => new URLSearchParams((await readBody(req, 16 * 1024)).toString('utf8'));

  const viewerOf = (session: Session): Viewer => ({ login: session.login, canAct: session.kind === 'github', csrf: session.csrf });

  const act = async (req: IncomingMessage, res: ServerResponse, session: Session | null): Promise<true> => {
    if (!session) return sendHtml(res, 401, loginPage('Your session has ended (signed out or expired): sign in again. Nothing was changed.', login));
    let form: URLSearchParams;
    try {
      form = await readForm(req);
    } catch (error) {
      if (error instanceof HttpError) return sendHtml(res, error.status, await renderDashboard(s, null, s.clock.now(), viewerOf(session), { ok: false, text: `${error.message}. Nothing was changed.` }));
      throw error;
    }
    // both: the session's own token in the form, and a page of this origin sending it
    if (!sessions.sameOrigin(req) || !sessions.csrfOk(session, form.get('csrf'))) {
      s.log.warn({ event: 'dashboard-action', login: session.login, allowed: false }, 'dashboard form refused: not sent from the dashboard (origin or CSRF token)');
      return refusedCrossSite(res);
    }
    const now = s.clock.now();
    const show = async (status: number, banner: Banner) => sendHtml(res, status, await renderDashboard(s, null, s.clock.now(), viewerOf(session), banner));
    if (session.kind !== 'github') return show(403, { ok: false, text: 'Refused: a session opened with the API token may look, not act. Sign in with GitHub to act (with the authority of your own login). Nothing was changed.' });
    let action: DashboardAction;
    try {
      action = parseActionForm(form, now);
    } catch (error) {
      if (error instanceof FormError) return show(400, { ok: false, text: `${error.message} Nothing was changed.` });
      throw error;
    }
    const outcome = await s.dashboardActs.run(session.login, action);
    return outcome.ok ? show(200, { ok: true, text: outcome.message }) : show(outcome.status, { ok: false, text: outcome.message });
  };

  return async (req, res, url) => {
    const path = url.pathname;
    if (!PATHS.has(path)) return false;
    const method = req.method ?? 'GET';
    if (path === '/moratorium') {
      res.writeHead(308, { location: DASHBOARD_PATH, 'cache-control': 'no-store' });
      res.end();
      return true;
    }
    if (token === null && oauth === null) {
      return sendHtml(res, 503, page('Moratorium', '<main class="login"><h1>Moratorium</h1><p>The dashboard is disabled: set <code>GITHUB_CLIENT_ID</code> and <code>GITHUB_CLIENT_SECRET</code> (sign in with GitHub), or <code>MORATORIUM_API_TOKEN</code>, to enable it.</p></main>'));
    }
    const allow = METHODS[path] ?? 'POST';
    if (!allow.split(', ').includes(method)) {
      return sendHtml(res, 405, page('Moratorium', `<main class="login"><p>${h(method)} is not allowed here.</p></main>`), { allow });
    }
    const session = await sessions.current(req);

    if (path === DASHBOARD_PATH) {
      if (!session) return sendHtml(res, 200, loginPage(null, login));
      const rawFilter = url.searchParams.get('account');
      const filter = rawFilter === null || rawFilter === '' ? null : accountSchema.safeParse(rawFilter).success ? rawFilter.trim() : null;
      return sendHtml(res, 200, await renderDashboard(s, filter, s.clock.now(), viewerOf(session), null, url.searchParams.get('tz')));
    }

    if (path === SIGN_IN_PATH) {
      if (!oauth) return sendHtml(res, 404, messagePage('Sign-in with GitHub is not configured', 'set GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET (the GitHub App\'s client id and secret).', login));
      const { state, cookie } = await sessions.newState(req);
      return redirect(res, oauth.authorizeUrl(state, callbackUrl(req)), { 'set-cookie': cookie });
    }

    if (path === CALLBACK_PATH) {
      if (!oauth) return sendHtml(res, 404, messagePage('Sign-in with GitHub is not configured', 'set GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET.', login));
      const clear = { 'set-cookie': sessions.clearStateCookie(req) };
      // the state is taken (used up) first, whatever else is wrong with the request
      const stateOk = await sessions.takeState(req, url.searchParams.get('state'));
      if (!stateOk) {
        s.log.warn({ event: 'dashboard-sign-in', ok: false }, 'GitHub sign-in refused: unknown, used, expired or foreign state');
        return sendHtml(res, 400, messagePage('This sign-in was refused', 'its state is unknown, already used, expired, or was started in another browser. Nothing was signed in; start again.', login), clear);
      }
      const error = url.searchParams.get('error');
      if (error !== null) {
        return sendHtml(res, 400, messagePage('GitHub did not sign you in', `${url.searchParams.get('error_description') ?? error} (${error}).`, login), clear);
      }
      const code = url.searchParams.get('code');
      if (!code || code.length > 512) return sendHtml(res, 400, messagePage('This sign-in was refused', 'GitHub sent no code.', login), clear);
      let who: string;
      try {
        who = await oauth.loginFor(code, callbackUrl(req));
      } catch (e) {
        if (!(e instanceof OAuthError)) throw e;
        s.log.warn({ event: 'dashboard-sign-in', ok: false, err: e.message }, 'GitHub sign-in failed');
        return sendHtml(res, 502, messagePage('Signing in with GitHub failed', `${e.message}. Nothing was signed in; start again.`, login), clear);
      }
      if (session) await sessions.end(session);
      const value = await sessions.open('github', who);
      s.log.info({ event: 'dashboard-sign-in', ok: true, login: who }, `dashboard: ${who} signed in with GitHub`);
      return redirect(res, DASHBOARD_PATH, { 'set-cookie': [sessions.sessionCookie(req, value), clear['set-cookie']] });
    }

    if (path === ACT_PATH) return act(req, res, session);

    if (path === '/moratorium/logout') {
      if (session) {
        const form = await readForm(req).catch(() => new URLSearchParams());
        if (!sessions.sameOrigin(req) || !sessions.csrfOk(session, form.get('csrf'))) return refusedCrossSite(res);
        await sessions.end(session);
        s.log.info({ event: 'dashboard-sign-out', login: session.login }, `dashboard: ${session.login} signed out`);
      } else if (!sessions.sameOrigin(req, true)) return refusedCrossSite(res);
      return redirect(res, DASHBOARD_PATH, { 'set-cookie': sessions.sessionCookie(req, '', 0) });
    }

    // POST /moratorium/login: the API token
    if (!sessions.sameOrigin(req, true)) return refusedCrossSite(res);
    if (token === null) return sendHtml(res, 404, loginPage('Signing in with the API token is off (MORATORIUM_API_TOKEN is not set).', login));
    let given = '';
    try {
      given = (await readForm(req)).get('token') ?? '';
    } catch (error) {
      if (error instanceof HttpError) return sendHtml(res, error.status, loginPage(error.message, login));
      throw error;
    }
    if (given === '' || !secretEquals(given, token)) {
      s.log.warn({ event: 'dashboard-login' }, 'dashboard sign-in with a wrong token');
      return sendHtml(res, 401, loginPage('That token is not valid.', login));
    }
    if (session) await sessions.end(session);
    const value = await sessions.open('token', TOKEN_LOGIN);
    return redirect(res, DASHBOARD_PATH, { 'set-cookie': sessions.sessionCookie(req, value, SESSION_MAX_AGE_S) });
  };
}
