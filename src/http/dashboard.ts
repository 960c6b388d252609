/**
 * The dashboard at GET /moratorium/: one server-rendered page (no scripts, no front-end build) with
 * the active incidents and their timelines, freezes, windows and their next occurrences, cadence use
 * and whether each repository requires the check, and the audit log. `?account=A` narrows it to one
 * account.
 *
 * Login is the API token (MORATORIUM_API_TOKEN), typed into a form and POSTed to /moratorium/login;
 * the session cookie holds an expiry and an HMAC keyed with the token (never the token), lasts 12
 * hours, is HttpOnly and SameSite=Strict, and is scoped to /moratorium. Changing the token ends every
 * session. POST /moratorium/logout ends this one (in this browser). POSTs from another origin are
 * refused.
 *
 * Every piece of user text (titles, reasons, logins, notes) is HTML-escaped, and the Content
 * Security Policy allows no script at all and only the page's own stylesheet.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildReport } from '../domain/report.js';
import type { Env } from '../env.js';
import { formatLong } from '../time/format.js';
import type { HttpDeps } from './deps.js';
import type { AuditEntry } from '../store/records.js';
import { key } from '../store/records.js';
import { HttpError, cookies, hmacHex, readBody, secretEquals } from './http-util.js';
import type { Route } from './router.js';
import { accountState, type AccountState } from './state.js';
import { accountSchema } from './api.js';
import { timelineSection } from './dashboard-timeline.js';

export const DASHBOARD_PATH = '/moratorium/';
export const COOKIE_NAME = 'moratorium_session';
const SESSION_MAX_AGE_S = 12 * 3600;

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
header form { margin-left: auto; }
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
.error { color: #c22; }
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

/**
 * The session cookie's value: its expiry (Unix seconds) and an HMAC keyed with the token over it, so
 * the cookie never carries the token, expires on the server too, and dies when the token changes.
 */
export function sessionValue(token: string, expiresAt: number): string {
  const exp = Math.floor(expiresAt / 1000);
  return `${exp}.${hmacHex(token, `moratorium dashboard session v1:${exp}`)}`;
}

/** Whether a cookie value is a live session for this token at `now`. */
export function validSession(token: string, value: string | undefined, now: number): boolean {
  const m = /^(\d{1,12})\.([0-9a-f]{64})$/.exec(value ?? '');
  if (!m) return false;
  const exp = Number(m[1]);
  if (exp * 1000 <= now) return false;
  return secretEquals(value!, sessionValue(token, exp * 1000));
}

function isSecure(req: IncomingMessage): boolean {
  const proto = req.headers['x-forwarded-proto'];
  return (req.socket as { encrypted?: boolean }).encrypted === true || (typeof proto === 'string' && proto.split(',')[0]!.trim() === 'https');
}

function sessionCookie(req: IncomingMessage, value: string, maxAge: number): string {
  return `${COOKIE_NAME}=${value}; Path=/moratorium; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${isSecure(req) ? '; Secure' : ''}`;
}

/** A POST from a page of another origin (the browser says so in Origin) is refused. */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined || origin === 'null') return origin === undefined;
  try {
    const forwarded = req.headers['x-forwarded-host'];
    const hosts = [req.headers.host, typeof forwarded === 'string' ? forwarded.split(',')[0]!.trim() : undefined];
    return hosts.includes(new URL(origin).host);
  } catch {
    return false;
  }
}

function loginPage(error: string | null): string {
  return page(
    'Moratorium: sign in',
    `<main class="login">
<h1>Moratorium</h1>
<p>Sign in with the API token (<code>MORATORIUM_API_TOKEN</code>).</p>
${error ? `<p class="error" role="alert">${h(error)}</p>` : ''}
<form method="post" action="/moratorium/login">
<label for="token">Token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button>
</form>
</main>`,
  );
}

// ---------------------------------------------------------------------------------------------
// rendering

const when = (isoText: string | null): string => (isoText ? `${isoText.replace('T', ' ').slice(0, 16)} UTC` : '');
const modeText = (mode: string): string => (mode === 'all' ? 'all changes' : 'hotfixes only');
const scopeText = (account: string, repo: string | null): string => (repo ? `${account}/${repo}` : `${account} (whole account)`);
const empty = (cols: number, text: string): string => `<tr><td colspan="${cols}" class="empty">${h(text)}</td></tr>`;

async function incidentsSection(s: HttpDeps, states: AccountState[], now: number): Promise<string> {
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
</tr>`);
    }
  }
  return `<section id="incidents"><h2>Incidents</h2>
<table><thead><tr><th>Id</th><th>Severity</th><th>Phase</th><th>Scope</th><th>Title and timeline</th><th>Opened</th></tr></thead>
<tbody>${rows.length ? rows.join('\n') : empty(6, 'No open or resolved incident.')}</tbody></table></section>`;
}

function freezesSection(states: AccountState[]): string {
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

function windowsSection(states: AccountState[]): string {
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

function cadenceSection(states: AccountState[]): string {
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

function reposSection(states: AccountState[]): string {
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

function auditSection(entries: AuditEntry[]): string {
  const rows = entries.map(
    (a) =>
      `<tr><td>${h(when(new Date(a.at).toISOString()))}</td><td>${h(scopeText(a.account, a.repo))}</td><td>${h(a.actor)} <small>(${h(a.source)})</small></td><td>${h(a.action)}</td><td>${h(a.target)}</td><td>${h(a.reason)}</td></tr>`,
  );
  return `<section id="audit"><h2>Audit log</h2>
<table><thead><tr><th>When</th><th>Scope</th><th>Who</th><th>Action</th><th>Target</th><th>Why</th></tr></thead>
<tbody>${rows.length ? rows.join('\n') : empty(6, 'Nothing recorded yet.')}</tbody></table></section>`;
}

export async function renderDashboard(s: HttpDeps, filter: string | null, now: number, viewerZone: string | null = null): Promise<string> {
  const accounts = [...new Set((await s.store.listInstallations()).map((i) => i.account))].sort();
  const shown = filter === null ? accounts : accounts.filter((a) => a === key(filter));
  const states: AccountState[] = [];
  for (const a of shown) states.push(await accountState(s.store, a, null, now));
  const audit = filter === null ? await s.store.recentAudit(100) : await s.store.auditOfAccount(filter, 100);
  const nav = [`<a href="/moratorium/"${filter === null ? ' aria-current="page"' : ''}>all accounts</a>`]
    .concat(accounts.map((a) => `<a href="/moratorium/?account=${encodeURIComponent(a)}"${filter !== null && key(filter) === a ? ' aria-current="page"' : ''}>${h(a)}</a>`))
    .join(' ');
  const unknown = filter !== null && !accounts.includes(key(filter)) ? `<p class="error">The app is not installed on account ${h(filter)}.</p>` : '';
  return page(
    filter ? `Moratorium: ${filter}` : 'Moratorium',
    `<header><h1>Moratorium</h1><nav>${nav}</nav>
<form method="post" action="/moratorium/logout"><button type="submit">Sign out</button></form></header>
<main>
<p><small>As of ${h(when(new Date(now).toISOString()))}.</small></p>
${unknown}
${await timelineSection(s.store, states, now, viewerZone, filter)}
${await incidentsSection(s, states, now)}
${freezesSection(states)}
${windowsSection(states)}
${cadenceSection(states)}
${reposSection(states)}
${auditSection(audit)}
</main>`,
  );
}

// ---------------------------------------------------------------------------------------------

export function dashboardRoutes(s: HttpDeps, env: Pick<Env, 'MORATORIUM_API_TOKEN'>): Route {
  const token = env.MORATORIUM_API_TOKEN && env.MORATORIUM_API_TOKEN.length > 0 ? env.MORATORIUM_API_TOKEN : null;
  const loggedIn = (req: IncomingMessage): boolean => token !== null && validSession(token, cookies(req).get(COOKIE_NAME), s.clock.now());

  return async (req, res, url) => {
    const path = url.pathname;
    if (path !== '/moratorium' && path !== DASHBOARD_PATH && path !== '/moratorium/login' && path !== '/moratorium/logout') return false;
    const method = req.method ?? 'GET';
    if (path === '/moratorium') {
      res.writeHead(308, { location: DASHBOARD_PATH, 'cache-control': 'no-store' });
      res.end();
      return true;
    }
    if (token === null) {
      return sendHtml(res, 503, page('Moratorium', '<main class="login"><h1>Moratorium</h1><p>The dashboard is disabled: set <code>MORATORIUM_API_TOKEN</code> to enable it.</p></main>'));
    }
    const allow = path === DASHBOARD_PATH ? 'GET, HEAD' : 'POST';
    if (!allow.split(', ').includes(method)) {
      return sendHtml(res, 405, page('Moratorium', `<main class="login"><p>${h(method)} is not allowed here.</p></main>`), { allow });
    }
    if (path === DASHBOARD_PATH) {
      if (!loggedIn(req)) return sendHtml(res, 200, loginPage(null));
      const rawFilter = url.searchParams.get('account');
      const filter = rawFilter === null || rawFilter === '' ? null : accountSchema.safeParse(rawFilter).success ? rawFilter.trim() : null;
      return sendHtml(res, 200, await renderDashboard(s, filter, s.clock.now(), url.searchParams.get('tz')));
    }
    if (!sameOrigin(req)) return sendHtml(res, 403, loginPage('This form must be sent from the Moratorium dashboard itself.'));
    if (path === '/moratorium/logout') {
      res.writeHead(303, { location: DASHBOARD_PATH, 'set-cookie': sessionCookie(req, '', 0), ...SECURITY_HEADERS });
      res.end();
      return true;
    }
    // POST /moratorium/login
    let given = '';
    try {
      const body = await readBody(req, 8 * 1024);
      given = new URLSearchParams(body.toString('utf8')).get('token') ?? '';
    } catch (error) {
      if (error instanceof HttpError) return sendHtml(res, error.status, loginPage(error.message));
      throw error;
    }
    if (given === '' || !secretEquals(given, token)) {
      s.log.warn({ event: 'dashboard-login' }, 'dashboard sign-in with a wrong token');
      return sendHtml(res, 401, loginPage('That token is not valid.'));
    }
    const session = sessionValue(token, s.clock.now() + SESSION_MAX_AGE_S * 1000);
    res.writeHead(303, { location: DASHBOARD_PATH, 'set-cookie': sessionCookie(req, session, SESSION_MAX_AGE_S), ...SECURITY_HEADERS });
    res.end();
    return true;
  };
}
