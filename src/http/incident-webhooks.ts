/**
 * Incident tools drive incidents: PagerDuty (v3 webhook subscriptions) and Atlassian Statuspage
 * (webhook subscribers). They open and resolve; closing (the end of the moratorium) stays a human
 * act, with `/incident close` or the API.
 *
 * PagerDuty, POST /moratorium/webhooks/pagerduty
 * - `X-PagerDuty-Signature` holds one or more comma-separated `v1=<hex HMAC-SHA256 of the raw body>`
 *   (several during a secret rotation); one must match MORATORIUM_PAGERDUTY_SECRET (401 otherwise).
 * - `event.data.service.id` is looked up in MORATORIUM_PAGERDUTY_SERVICES, a JSON map from service id
 *   to `account` or `account/repo` (the incident's scope). An unmapped service gets 202 and a note.
 * - `incident.triggered` opens an incident; `incident.resolved` resolves the one it opened (found by
 *   PagerDuty's incident id). Other event types (acknowledged, reopened, pagey.ping ...) get 202 and
 *   change nothing.
 * - Severity: the incident's priority when it has one (P1 -> sev1, P2 -> sev2, P3 -> sev3, P4 and
 *   lower -> sev4); otherwise its urgency (high -> sev2, low -> sev3). High urgency alone is sev2, not
 *   sev1: in PagerDuty urgency says whom to wake, priority says how bad it is.
 * - The same event (`event.id`) delivered again changes state once; so does a second `triggered` for
 *   an incident already linked.
 *
 * Statuspage, POST /moratorium/webhooks/statuspage/<MORATORIUM_STATUSPAGE_TOKEN>?account=A[&repo=R]
 * - Statuspage does not sign its webhooks: the secret path segment is the credential (compared in
 *   constant time; 401 when wrong). The scope comes from the query string, since the payload says
 *   nothing about GitHub.
 * - An incident update with status investigating, identified or monitoring opens an incident (or
 *   keeps the linked one as it is); resolved resolves it; postmortem keeps it in recovery (and
 *   resolves it if it was still open). Impact: critical -> sev1, major -> sev2, minor -> sev3,
 *   none -> sev4 (taken when the incident is opened; later impact changes are not applied).
 * - Component updates and scheduled maintenances get 202 and change nothing.
 *
 * Both: bad JSON or a payload without what we need -> 400; the endpoint 503 while its secret is
 * unset; an account the app is not installed on -> 202 with a note (so the tool does not retry).
 * Changes are audited with source `webhook` and actor `pagerduty` or `statuspage`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Severity } from '../config/schema.js';
import { incidentId, NoInstallationError, type Actor, type ScopeRef } from '../domain/actions.js';
import type { Env } from '../env.js';
import type { HttpDeps } from './deps.js';
import type { ExternalSource } from '../store/records.js';
import { HttpError, hmacHex, parseJson, readBody, secretEquals } from './http-util.js';
import { sendJson, type Route } from './router.js';
import { accountSchema, repoSchema } from './api.js';

export const PAGERDUTY_PATH = '/moratorium/webhooks/pagerduty';
export const STATUSPAGE_PREFIX = '/moratorium/webhooks/statuspage/';

// ---------------------------------------------------------------------------------------------
// configuration

const scopeText = z
  .string()
  .trim()
  .transform((text, ctx): ScopeRef => {
    const parts = text.split('/');
    const account = accountSchema.safeParse(parts[0]);
    const repo = parts.length === 2 ? repoSchema.safeParse(parts[1]) : null;
    if (parts.length > 2 || !account.success || (repo !== null && !repo.success)) {
      ctx.addIssue({ code: 'custom', message: `"${text}" is not "account" or "account/repo"` });
      return z.NEVER;
    }
    return { account: account.data, repo: repo?.success ? repo.data : null };
  });

const servicesSchema = z.record(z.string().min(1), scopeText);

/** MORATORIUM_PAGERDUTY_SERVICES parsed; throws with a clear message when it is not a valid map. */
export function parsePagerDutyServices(text: string | undefined): Map<string, ScopeRef> {
  if (text === undefined || text.trim() === '') return new Map();
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`MORATORIUM_PAGERDUTY_SERVICES is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parsed = servicesSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      `MORATORIUM_PAGERDUTY_SERVICES must be a JSON object from PagerDuty service id to "account" or "account/repo": ${parsed.error.issues
        .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
        .join('; ')}`,
    );
  }
  return new Map(Object.entries(parsed.data));
}

// ---------------------------------------------------------------------------------------------
// the shared part: open or resolve our incident linked to an external one

export type Outcome = { status: number; body: Record<string, unknown> };

/** The scope of a tool whose payload says nothing about GitHub: the webhook URL's `?account=A[&repo=R]` (400 without it). */
export function scopeFromQuery(url: URL): ScopeRef {
  const accountParam = accountSchema.safeParse(url.searchParams.get('account') ?? '');
  if (!accountParam.success) throw new HttpError(400, 'the webhook URL needs ?account=<GitHub account> (and optionally &repo=<repository>)');
  const repoText = url.searchParams.get('repo');
  const repoParam = repoText === null || repoText === '' ? null : repoSchema.safeParse(repoText);
  if (repoParam !== null && !repoParam.success) throw new HttpError(400, 'repo: must be a repository name without its owner');
  return { account: accountParam.data, repo: repoParam?.success ? repoParam.data : null };
}

export const accepted = (note: string, extra: Record<string, unknown> = {}): Outcome => ({ status: 202, body: { ok: true, changed: false, note, ...extra } });

export interface ExternalChange {
  source: ExternalSource;
  externalId: string;
  /** a delivery id for replay protection (PagerDuty's event id), or null */
  deliveryId: string | null;
  event: string;
  scope: ScopeRef;
  action: 'open' | 'resolve';
  severity: Severity;
  title: string;
  note: string;
}

/** Applies one change in one transaction (delivery claim, state change, link), then announces it. */
export async function applyExternal(s: HttpDeps, c: ExternalChange): Promise<Outcome> {
  const actor: Actor = { login: c.source, source: 'webhook', deliveryId: c.deliveryId };
  const now = s.clock.now();
  let outcome: Outcome;
  try {
    outcome = await s.store.transaction(async (tx): Promise<Outcome> => {
      if (c.deliveryId !== null && !(await tx.claimDelivery(c.deliveryId, `${c.source}.${c.event}`, now))) {
        return accepted('this delivery was already handled', { duplicate: true });
      }
      const linked = await tx.externalIncident(c.source, c.externalId);
      const current = linked === null ? null : await tx.getIncident(linked);
      if (c.action === 'open') {
        if (current) return accepted(`${incidentId(current.id)} is already linked to this ${c.source} incident (${current.phase})`, { incident: incidentId(current.id), phase: current.phase });
        const incident = await s.actions.openIncident(tx, c.scope, c.severity, c.title, actor);
        await tx.linkExternalIncident(c.source, c.externalId, incident.id, now);
        return { status: 201, body: { ok: true, changed: true, incident: incidentId(incident.id), phase: incident.phase, severity: incident.severity } };
      }
      if (!current) return accepted(`no incident is linked to this ${c.source} incident: nothing to resolve`);
      if (current.phase !== 'open') return accepted(`${incidentId(current.id)} is already ${current.phase}`, { incident: incidentId(current.id), phase: current.phase });
      const incident = await s.actions.resolveIncident(tx, current.id, c.note, actor);
      return { status: 200, body: { ok: true, changed: true, incident: incidentId(incident.id), phase: incident.phase } };
    });
  } catch (error) {
    if (error instanceof NoInstallationError) {
      s.log.warn({ event: c.source, account: c.scope.account, err: error.message }, 'incident tool webhook for an account the app is not installed on');
      return accepted(`${error.message}: nothing changed`);
    }
    throw error;
  }
  s.committed();
  s.log.info({ event: c.source, type: c.event, external: c.externalId, ...outcome.body }, `${c.source} webhook`);
  return outcome;
}

// ---------------------------------------------------------------------------------------------
// PagerDuty

const reference = z.looseObject({ id: z.string().min(1), summary: z.string().nullish() });

const pagerDutyPayload = z.looseObject({
  event: z.looseObject({
    id: z.string().min(1),
    event_type: z.string().min(1),
    resource_type: z.string().nullish(),
    agent: z.looseObject({ summary: z.string().nullish() }).nullish(),
    data: z.looseObject({}).nullish(),
  }),
});

const pagerDutyIncident = z.looseObject({
  id: z.string().min(1),
  title: z.string().nullish(),
  number: z.number().nullish(),
  html_url: z.string().nullish(),
  service: reference,
  priority: z.looseObject({ summary: z.string().nullish() }).nullish(),
  urgency: z.string().nullish(),
  resolve_reason: z.unknown().optional(),
});

/** Valid when one `v1=` signature of the header is the HMAC of the raw body. */
export function verifyPagerDutySignature(secret: string, raw: Buffer, header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!value) return false;
  const expected = hmacHex(secret, raw);
  let ok = false;
  for (const part of value.split(',')) {
    const trimmed = part.trim();
    if (!trimmed.startsWith('v1=')) continue;
    // every candidate is compared (no early exit), each in constant time
    if (secretEquals(trimmed.slice(3).toLowerCase(), expected)) ok = true;
  }
  return ok;
}

/** PagerDuty priority (P1..P5) first, else urgency: high -> sev2, low -> sev3. */
export function pagerDutySeverity(priority: string | null | undefined, urgency: string | null | undefined): Severity {
  const p = /^p(\d+)$/i.exec((priority ?? '').trim());
  if (p) {
    const n = Number(p[1]);
    if (n <= 1) return 'sev1';
    if (n === 2) return 'sev2';
    if (n === 3) return 'sev3';
    return 'sev4';
  }
  return urgency === 'low' ? 'sev3' : 'sev2';
}

function pagerDutyRoute(s: HttpDeps, env: Pick<Env, 'MORATORIUM_PAGERDUTY_SECRET'>, services: Map<string, ScopeRef>) {
  return async (req: IncomingMessage): Promise<Outcome> => {
    const secret = env.MORATORIUM_PAGERDUTY_SECRET;
    if (!secret) throw new HttpError(503, 'PagerDuty webhooks are disabled: set MORATORIUM_PAGERDUTY_SECRET');
    const raw = await readBody(req);
    if (!verifyPagerDutySignature(secret, raw, req.headers['x-pagerduty-signature'])) {
      throw new HttpError(401, 'X-PagerDuty-Signature does not match the body (or is missing)');
    }
    const parsed = pagerDutyPayload.safeParse(parseJson(raw));
    if (!parsed.success) throw new HttpError(400, `not a PagerDuty v3 webhook payload: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const event = parsed.data.event;
    const type = event.event_type;
    if (type !== 'incident.triggered' && type !== 'incident.resolved') return accepted(`event type ${type} changes nothing here`);
    const data = pagerDutyIncident.safeParse(event.data);
    if (!data.success) throw new HttpError(400, `event.data is not a PagerDuty incident: ${data.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const incident = data.data;
    const scope = services.get(incident.service.id);
    if (!scope) {
      s.log.info({ event: 'pagerduty', service: incident.service.id }, 'PagerDuty webhook for an unmapped service');
      return accepted(`service ${incident.service.id} is not in MORATORIUM_PAGERDUTY_SERVICES: nothing changed`);
    }
    const who = event.agent?.summary ? ` by ${event.agent.summary}` : '';
    const title = (incident.title ?? '').trim() || `PagerDuty incident ${incident.number ?? incident.id}`;
    return applyExternal(s, {
      source: 'pagerduty',
      externalId: incident.id,
      deliveryId: `pagerduty:${event.id}`,
      event: type,
      scope,
      action: type === 'incident.triggered' ? 'open' : 'resolve',
      severity: pagerDutySeverity(incident.priority?.summary, incident.urgency),
      title: title.slice(0, 500),
      note: `resolved in PagerDuty${who}`.slice(0, 2000),
    });
  };
}

// ---------------------------------------------------------------------------------------------
// Statuspage

const statuspagePayload = z.looseObject({
  meta: z.looseObject({}).nullish(),
  page: z.looseObject({ id: z.string().nullish() }).nullish(),
  incident: z
    .looseObject({
      id: z.string().min(1),
      name: z.string().nullish(),
      status: z.string().min(1),
      impact: z.string().nullish(),
      scheduled_for: z.string().nullish(),
      shortlink: z.string().nullish(),
      incident_updates: z.array(z.looseObject({ body: z.string().nullish(), status: z.string().nullish() })).nullish(),
    })
    .optional(),
  component_update: z.unknown().optional(),
});

export const STATUSPAGE_IMPACT: Record<string, Severity> = { critical: 'sev1', major: 'sev2', minor: 'sev3', none: 'sev4' };
const OPENING = new Set(['investigating', 'identified', 'monitoring']);
const MAINTENANCE = new Set(['scheduled', 'in_progress', 'verifying', 'completed']);

function statuspageRoute(s: HttpDeps, env: Pick<Env, 'MORATORIUM_STATUSPAGE_TOKEN'>) {
  return async (req: IncomingMessage, url: URL): Promise<Outcome> => {
    const token = env.MORATORIUM_STATUSPAGE_TOKEN;
    if (!token) throw new HttpError(503, 'Statuspage webhooks are disabled: set MORATORIUM_STATUSPAGE_TOKEN');
    let given: string;
    try {
      given = decodeURIComponent(url.pathname.slice(STATUSPAGE_PREFIX.length));
    } catch {
      given = '';
    }
    if (!secretEquals(given, token)) throw new HttpError(401, 'the Statuspage webhook token in the path is not valid');

    const scope = scopeFromQuery(url);

    const raw = await readBody(req);
    const parsed = statuspagePayload.safeParse(parseJson(raw));
    if (!parsed.success) throw new HttpError(400, `not a Statuspage webhook payload: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const incident = parsed.data.incident;
    if (!incident) return accepted(parsed.data.component_update !== undefined ? 'component updates change nothing here' : 'no incident in this payload: nothing changed');
    const status = incident.status.toLowerCase();
    if (incident.scheduled_for || MAINTENANCE.has(status)) return accepted('scheduled maintenances change nothing here (use a window in .github/moratorium.yml)');

    let action: 'open' | 'resolve';
    if (OPENING.has(status)) action = 'open';
    else if (status === 'resolved' || status === 'postmortem') action = 'resolve';
    else return accepted(`incident status ${status} changes nothing here`);

    if (action === 'resolve' && status === 'postmortem') {
      // a postmortem keeps recovery: resolve only an incident that is somehow still open
      const linked = await s.store.externalIncident('statuspage', incident.id);
      const current = linked === null ? null : await s.store.getIncident(linked);
      if (current && current.phase !== 'open') return accepted(`${incidentId(current.id)} stays ${current.phase}: a postmortem does not close it (closing is a human act)`, { incident: incidentId(current.id), phase: current.phase });
    }
    const latest = incident.incident_updates?.[0]?.body?.trim();
    const title = (incident.name ?? '').trim() || `Statuspage incident ${incident.id}`;
    return applyExternal(s, {
      source: 'statuspage',
      externalId: incident.id,
      deliveryId: null,
      event: `incident.${status}`,
      scope,
      action,
      severity: STATUSPAGE_IMPACT[(incident.impact ?? 'none').toLowerCase()] ?? 'sev4',
      title: title.slice(0, 500),
      note: (`${status} on Statuspage` + (latest ? `: ${latest}` : '')).slice(0, 2000),
    });
  };
}

// ---------------------------------------------------------------------------------------------

function respond(res: ServerResponse, outcome: Outcome): true {
  return sendJson(res, outcome.status, outcome.body);
}

export function incidentWebhookRoutes(s: HttpDeps, env: Pick<Env, 'MORATORIUM_PAGERDUTY_SECRET' | 'MORATORIUM_PAGERDUTY_SERVICES' | 'MORATORIUM_STATUSPAGE_TOKEN'>): Route {
  const services = parsePagerDutyServices(env.MORATORIUM_PAGERDUTY_SERVICES);
  const pagerduty = pagerDutyRoute(s, env, services);
  const statuspage = statuspageRoute(s, env);
  return async (req, res, url) => {
    const isPagerDuty = url.pathname === PAGERDUTY_PATH;
    const isStatuspage = url.pathname.startsWith(STATUSPAGE_PREFIX) && url.pathname.length > STATUSPAGE_PREFIX.length;
    if (!isPagerDuty && !isStatuspage) return false;
    try {
      if (req.method !== 'POST') throw new HttpError(405, `${req.method} is not allowed here: incident tools POST their webhooks`, { allow: 'POST' });
      return respond(res, isPagerDuty ? await pagerduty(req) : await statuspage(req, url));
    } catch (error) {
      if (error instanceof HttpError) {
        if (error.status === 401) s.log.warn({ event: isPagerDuty ? 'pagerduty' : 'statuspage' }, 'incident tool webhook refused: bad signature or token');
        return sendJson(res, error.status, { error: error.message }, error.headers);
      }
      throw error;
    }
  };
}
