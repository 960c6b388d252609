/**
 * More incident tools (SPEC 10): incident.io, Rootly and a generic signed webhook. Like PagerDuty
 * and Statuspage (src/http/incident-webhooks.ts) they open and resolve; closing stays a human act.
 * Every change goes through `applyExternal`: the tool's own incident id (or `key`) is linked to one
 * Moratorium incident, so a repeated or re-sent event changes nothing.
 *
 * incident.io, POST /moratorium/webhooks/incident-io?account=A[&repo=R]
 * - Signed like Svix: `webhook-signature` holds space-separated `v1,<base64 HMAC-SHA256>` entries over
 *   `<webhook-id>.<webhook-timestamp>.<raw body>`, keyed with the base64-decoded part of
 *   MORATORIUM_INCIDENTIO_SECRET after `whsec_`. A `webhook-timestamp` more than 5 minutes from now is
 *   refused (401), and a `webhook-id` seen before changes nothing (202).
 * - The envelope is `{"event_type": T, T: payload}`. `public_incident.incident_created_v2` (payload: the
 *   incident) opens; `public_incident.incident_status_updated_v2` (payload: `{incident, new_status,
 *   previous_status}`) resolves when the new status's category is `learning` or `closed`. Test,
 *   tutorial and retrospective incidents (`mode`) and every other event get 202.
 *
 * Rootly, POST /moratorium/webhooks/rootly?account=A[&repo=R]
 * - `X-Rootly-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t><raw body>">` with
 *   MORATORIUM_ROOTLY_SECRET; `t` more than 5 minutes from now is refused (401); `event.id` seen before
 *   changes nothing.
 * - `{event: {id, type, issued_at}, data: <the incident>}`: `incident.created` opens;
 *   `incident.mitigated`, `incident.resolved` and `incident.cancelled` resolve. Test, example and
 *   backfilled incidents (`kind`) and every other event get 202.
 *
 * Generic, POST /moratorium/webhooks/generic
 * - `X-Moratorium-Signature: sha256=<hex HMAC-SHA256 of the raw body>` with MORATORIUM_GENERIC_SECRET.
 * - `{"action": "open", "key", "severity", "title", "account", "repo"?}` opens (severity `sev1`..`sev4`
 *   only) and `{"action": "resolve", "key", "note"?}` resolves; any other action or severity is 400, and
 *   resolving a key nothing was opened for is 404 (a script should hear about its typo).
 *
 * All: 503 while the secret is unset; 401 for a bad or missing signature; 400 `{"error"}` for bad
 * JSON, missing fields or a webhook URL without `?account=`; 202 with a note for an account the app is
 * not installed on. Audited with source `webhook` and actor `incident-io`, `rootly` or `generic`.
 */
import { createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { SEVERITIES, type Severity } from '../config/schema.js';
import type { ScopeRef } from '../domain/actions.js';
import type { Env } from '../env.js';
import type { HttpDeps } from './deps.js';
import { HttpError, hmacHex, parseJson, readBody, secretEquals } from './http-util.js';
import { accepted, applyExternal, scopeFromQuery, type Outcome } from './incident-webhooks.js';
import { sendJson, type Route } from './router.js';
import { accountSchema, repoSchema } from './api.js';

export const INCIDENTIO_PATH = '/moratorium/webhooks/incident-io';
export const ROOTLY_PATH = '/moratorium/webhooks/rootly';
export const GENERIC_PATH = '/moratorium/webhooks/generic';

/** Svix's (and Rootly's) tolerance: a signed timestamp further than this from now is refused. */
export const TIMESTAMP_TOLERANCE_MS = 5 * 60 * 1000;

type Verdict = { ok: true } | { ok: false; reason: string };
const refuse = (reason: string): Verdict => ({ ok: false, reason });

const issues = (error: z.ZodError) => error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
const header = (req: IncomingMessage, ...names: string[]): string | undefined => {
  for (const name of names) {
    const v = req.headers[name];
    const value = Array.isArray(v) ? v.join(' ') : v;
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
};

function staleness(tsText: string, nowMs: number, name: string): Verdict {
  if (!/^\d{1,12}$/.test(tsText)) return refuse(`${name} must be a Unix time in seconds`);
  const skew = Math.abs(nowMs - Number(tsText) * 1000);
  if (skew > TIMESTAMP_TOLERANCE_MS) return refuse(`${name} is ${Math.round(skew / 1000)} s from now: more than 5 minutes off (a replayed or delayed delivery)`);
  return { ok: true };
}

// ---------------------------------------------------------------------------------------------
// incident.io (Svix signatures)

/** The HMAC key of a Svix signing secret `whsec_<base64>` (the prefix may be left out); throws when it is not base64. */
export function parseSvixSecret(secret: string): Buffer {
  const b64 = secret.trim().replace(/^whsec_/, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 === 1) {
    throw new Error('MORATORIUM_INCIDENTIO_SECRET must be the signing secret incident.io shows, whsec_ followed by base64');
  }
  return Buffer.from(b64, 'base64');
}

/** `v1,<base64>` of the Svix signature over `id.timestamp.body`. */
export function svixSignature(key: Buffer, id: string, timestamp: string, body: Buffer | string): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64')}`;
}

/** Valid when one `v1,` entry of the header signs `id.timestamp.body` and the timestamp is within 5 minutes of now. */
export function verifySvix(key: Buffer, h: { id?: string; timestamp?: string; signature?: string }, body: Buffer, nowMs: number): Verdict {
  if (!h.id || !h.timestamp || !h.signature) return refuse('webhook-id, webhook-timestamp and webhook-signature are required (incident.io signs every delivery)');
  const expected = svixSignature(key, h.id, h.timestamp, body);
  let ok = false;
  for (const entry of h.signature.split(/\s+/)) {
    // every candidate is compared (no early exit), each in constant time
    if (entry.startsWith('v1,') && secretEquals(entry, expected)) ok = true;
  }
  if (!ok) return refuse('webhook-signature does not match the body (check MORATORIUM_INCIDENTIO_SECRET)');
  return staleness(h.timestamp.trim(), nowMs, 'webhook-timestamp');
}

const incidentIoSeverityObject = z.looseObject({ name: z.string().nullish(), rank: z.number().nullish() });
const incidentIoStatus = z.looseObject({ name: z.string().nullish(), category: z.string().min(1) });
const incidentIoIncident = z.looseObject({
  id: z.string().min(1),
  name: z.string().nullish(),
  reference: z.string().nullish(),
  mode: z.string().nullish(),
  permalink: z.string().nullish(),
  severity: incidentIoSeverityObject.nullish(),
  incident_status: incidentIoStatus.nullish(),
});
const incidentIoEnvelope = z.looseObject({ event_type: z.string().min(1) });
const incidentIoStatusUpdate = z.looseObject({ incident: incidentIoIncident, new_status: incidentIoStatus.nullish(), previous_status: incidentIoStatus.nullish() });

const INCIDENTIO_CREATED = 'public_incident.incident_created_v2';
const INCIDENTIO_STATUS = 'public_incident.incident_status_updated_v2';
const INCIDENTIO_RESOLVING = new Set(['learning', 'closed']);
const INCIDENTIO_NOT_REAL = new Set(['test', 'tutorial', 'retrospective']);

function severityByNumber(n: number, zeroIsWorst: boolean): Severity {
  const shifted = zeroIsWorst ? n + 1 : n;
  if (shifted <= 1) return 'sev1';
  if (shifted >= 4) return 'sev4';
  return `sev${shifted}` as Severity;
}

const WORDS: [RegExp, Severity][] = [
  [/\bcritical\b/, 'sev1'],
  [/\b(major|high)\b/, 'sev2'],
  [/\b(minor|medium|moderate)\b/, 'sev3'],
  [/\b(low|trivial|informational|info)\b/, 'sev4'],
];

/**
 * incident.io severities are named per organisation (the defaults are Critical, Major and Minor) and
 * ranked, but ranks are not comparable across organisations, so the name decides: a number in it
 * (`SEV1`, `Sev 2`, `P3`) is taken as it is (0 and 1 -> sev1, 4 and up -> sev4); otherwise critical ->
 * sev1, major/high -> sev2, minor/medium/moderate -> sev3, low/trivial/info -> sev4. No severity yet
 * (an incident in triage) or an unknown name -> sev2: a declared incident is taken seriously.
 */
export function incidentIoSeverity(severity: { name?: string | null } | null | undefined): Severity {
  const name = (severity?.name ?? '').trim().toLowerCase();
  const numbered = /(?:^|[^a-z])(?:sev(?:erity)?|p)[\s_-]*(\d)\b/.exec(name);
  if (numbered) return severityByNumber(Number(numbered[1]), false);
  for (const [re, sev] of WORDS) if (re.test(name)) return sev;
  return 'sev2';
}

function incidentIoRoute(s: HttpDeps, key: Buffer | null) {
  return async (req: IncomingMessage, url: URL): Promise<Outcome> => {
    if (!key) throw new HttpError(503, 'incident.io webhooks are disabled: set MORATORIUM_INCIDENTIO_SECRET');
    const raw = await readBody(req);
    const verdict = verifySvix(
      key,
      { id: header(req, 'webhook-id', 'svix-id'), timestamp: header(req, 'webhook-timestamp', 'svix-timestamp'), signature: header(req, 'webhook-signature', 'svix-signature') },
      raw,
      s.clock.now(),
    );
    if (!verdict.ok) throw new HttpError(401, verdict.reason);
    const webhookId = header(req, 'webhook-id', 'svix-id')!;
    const scope = scopeFromQuery(url);
    const json = parseJson(raw);
    const envelope = incidentIoEnvelope.safeParse(json);
    if (!envelope.success) throw new HttpError(400, `not an incident.io webhook payload: ${issues(envelope.error)}`);
    const type = envelope.data.event_type;
    if (type !== INCIDENTIO_CREATED && type !== INCIDENTIO_STATUS) return accepted(`event type ${type} changes nothing here`);
    const payload = (envelope.data as Record<string, unknown>)[type];

    let incident: z.infer<typeof incidentIoIncident>;
    let category: string | null = null;
    let statusName: string | null = null;
    if (type === INCIDENTIO_CREATED) {
      const parsed = incidentIoIncident.safeParse(payload);
      if (!parsed.success) throw new HttpError(400, `${type} does not carry an incident: ${issues(parsed.error)}`);
      incident = parsed.data;
    } else {
      const parsed = incidentIoStatusUpdate.safeParse(payload);
      if (!parsed.success) throw new HttpError(400, `${type} does not carry {incident, new_status}: ${issues(parsed.error)}`);
      incident = parsed.data.incident;
      const status = parsed.data.new_status ?? parsed.data.incident.incident_status;
      if (!status) throw new HttpError(400, `${type} has no new_status`);
      category = status.category.toLowerCase();
      statusName = status.name ?? category;
    }
    const mode = (incident.mode ?? 'standard').toLowerCase();
    if (INCIDENTIO_NOT_REAL.has(mode)) return accepted(`a ${mode} incident changes nothing here`);
    if (type === INCIDENTIO_STATUS && !INCIDENTIO_RESOLVING.has(category!)) return accepted(`status category ${category} changes nothing here (learning or closed resolves)`);

    const name = (incident.name ?? '').trim();
    const ref = (incident.reference ?? '').trim();
    const title = ref && name ? `incident.io ${ref}: ${name}` : name || `incident.io incident ${ref || incident.id}`;
    return applyExternal(s, {
      source: 'incident-io',
      externalId: incident.id,
      deliveryId: `incident-io:${webhookId}`,
      event: type,
      scope,
      action: type === INCIDENTIO_CREATED ? 'open' : 'resolve',
      severity: incidentIoSeverity(incident.severity),
      title: title.slice(0, 500),
      note: `${statusName} (${category}) in incident.io`.slice(0, 2000),
    });
  };
}

// ---------------------------------------------------------------------------------------------
// Rootly

/** `t=<ts>,v1=<hex>` over `ts + body` (a `v1` of several matching is enough), `t` within 5 minutes of now. */
export function verifyRootly(secret: string, raw: Buffer, headerValue: string | undefined, nowMs: number): Verdict {
  if (!headerValue) return refuse('X-Rootly-Signature is missing (Rootly signs every delivery)');
  let t: string | null = null;
  const candidates: string[] = [];
  for (const part of headerValue.split(',')) {
    const [k, ...rest] = part.trim().split('=');
    const v = rest.join('=').trim();
    if (k === 't' && t === null) t = v;
    else if (k === 'v1') candidates.push(v.toLowerCase());
  }
  if (t === null || candidates.length === 0) return refuse('X-Rootly-Signature must be t=<timestamp>,v1=<signature>');
  const expected = createHmac('sha256', secret).update(t).update(raw).digest('hex');
  let ok = false;
  for (const c of candidates) if (secretEquals(c, expected)) ok = true;
  if (!ok) return refuse('X-Rootly-Signature does not match the body (check MORATORIUM_ROOTLY_SECRET)');
  return staleness(t, nowMs, 'the X-Rootly-Signature timestamp');
}

export function signRootly(secret: string, timestamp: string, body: string): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(timestamp + body).digest('hex')}`;
}

const rootlySeverityFields = z.looseObject({ name: z.string().nullish(), slug: z.string().nullish(), severity: z.string().nullish() });
const rootlyPayload = z.looseObject({
  event: z.looseObject({ id: z.string().min(1), type: z.string().min(1), issued_at: z.string().nullish() }),
  data: z.unknown(),
});
const rootlyIncident = z.looseObject({
  id: z.string().min(1),
  sequential_id: z.number().nullish(),
  title: z.string().nullish(),
  kind: z.string().nullish(),
  status: z.string().nullish(),
  severity: z.unknown().optional(),
  mitigation_message: z.string().nullish(),
  resolution_message: z.string().nullish(),
  cancellation_message: z.string().nullish(),
});

const ROOTLY_RESOLVING: Record<string, string> = { 'incident.mitigated': 'mitigated', 'incident.resolved': 'resolved', 'incident.cancelled': 'cancelled' };
const ROOTLY_LEVEL: Record<string, Severity> = { critical: 'sev1', high: 'sev2', medium: 'sev3', low: 'sev4' };

/** The severity's fields from the shapes Rootly uses: a plain object, JSON:API `{data: {attributes}}`, or a bare slug/name. */
function rootlySeverityFieldsOf(value: unknown): z.infer<typeof rootlySeverityFields> | null {
  if (typeof value === 'string') return { name: value, slug: value };
  if (value === null || typeof value !== 'object') return null;
  const v = value as { data?: { attributes?: unknown } };
  const inner = v.data && typeof v.data === 'object' ? (v.data.attributes ?? v.data) : value;
  const parsed = rootlySeverityFields.safeParse(inner);
  return parsed.success ? parsed.data : null;
}

/**
 * Rootly severities carry a level (`severity`: critical, high, medium, low -> sev1..sev4), used first;
 * otherwise the slug or name `sev0`..`sev3` (Rootly counts from SEV0, the worst: sev0 -> sev1, sev1 ->
 * sev2, sev2 -> sev3, sev3 and lower -> sev4). No severity or an unknown one -> sev2.
 */
export function rootlySeverity(value: unknown): Severity {
  const f = rootlySeverityFieldsOf(value);
  if (!f) return 'sev2';
  const level = ROOTLY_LEVEL[(f.severity ?? '').trim().toLowerCase()];
  if (level) return level;
  for (const text of [f.slug, f.name]) {
    const m = /(?:^|[^a-z])sev[\s_-]*(\d)\b/.exec(` ${(text ?? '').toLowerCase()}`);
    if (m) return severityByNumber(Number(m[1]), true);
  }
  return 'sev2';
}

const ROOTLY_NOT_REAL = /^(test|example|backfilled)/;

function rootlyRoute(s: HttpDeps, env: Pick<Env, 'MORATORIUM_ROOTLY_SECRET'>) {
  return async (req: IncomingMessage, url: URL): Promise<Outcome> => {
    const secret = env.MORATORIUM_ROOTLY_SECRET;
    if (!secret) throw new HttpError(503, 'Rootly webhooks are disabled: set MORATORIUM_ROOTLY_SECRET');
    const raw = await readBody(req);
    const verdict = verifyRootly(secret, raw, header(req, 'x-rootly-signature'), s.clock.now());
    if (!verdict.ok) throw new HttpError(401, verdict.reason);
    const scope = scopeFromQuery(url);
    const parsed = rootlyPayload.safeParse(parseJson(raw));
    if (!parsed.success) throw new HttpError(400, `not a Rootly webhook payload: ${issues(parsed.error)}`);
    const { event } = parsed.data;
    const resolving = ROOTLY_RESOLVING[event.type];
    if (event.type !== 'incident.created' && !resolving) return accepted(`event type ${event.type} changes nothing here`);
    const data = rootlyIncident.safeParse(parsed.data.data);
    if (!data.success) throw new HttpError(400, `data is not a Rootly incident: ${issues(data.error)}`);
    const incident = data.data;
    const kind = (incident.kind ?? 'normal').toLowerCase();
    if (ROOTLY_NOT_REAL.test(kind)) return accepted(`a ${kind} incident changes nothing here`);
    const message = (resolving === 'mitigated' ? incident.mitigation_message : resolving === 'resolved' ? incident.resolution_message : incident.cancellation_message)?.trim();
    const title = (incident.title ?? '').trim() || `Rootly incident ${incident.sequential_id ?? incident.id}`;
    return applyExternal(s, {
      source: 'rootly',
      externalId: incident.id,
      deliveryId: `rootly:${event.id}`,
      event: event.type,
      scope,
      action: resolving ? 'resolve' : 'open',
      severity: rootlySeverity(incident.severity),
      title: title.slice(0, 500),
      note: (`${resolving} in Rootly` + (message ? `: ${message}` : '')).slice(0, 2000),
    });
  };
}

// ---------------------------------------------------------------------------------------------
// generic

export function verifyGeneric(secret: string, raw: Buffer, headerValue: string | undefined): Verdict {
  if (!headerValue) return refuse('X-Moratorium-Signature is missing: send sha256=<hex HMAC-SHA256 of the body>');
  const given = headerValue.trim();
  if (!given.startsWith('sha256=')) return refuse('X-Moratorium-Signature must be sha256=<hex HMAC-SHA256 of the body>');
  if (!secretEquals(given.slice(7).toLowerCase(), hmacHex(secret, raw))) return refuse('X-Moratorium-Signature does not match the body (check MORATORIUM_GENERIC_SECRET)');
  return { ok: true };
}

export function signGeneric(secret: string, body: string): string {
  return `sha256=${hmacHex(secret, body)}`;
}

const genericKey = z.string().trim().min(1, 'key: required').max(200, 'key: at most 200 characters');
const genericOpen = z.object({
  action: z.literal('open'),
  key: genericKey,
  severity: z.enum(SEVERITIES, { error: `severity must be one of ${SEVERITIES.join(', ')}` }),
  title: z.string({ error: 'title: required' }).trim().min(1, 'title: required').max(500, 'title: at most 500 characters'),
  account: accountSchema,
  repo: z.union([repoSchema, z.literal(''), z.null()]).optional(),
});
const genericResolve = z.object({
  action: z.literal('resolve'),
  key: genericKey,
  note: z.string().max(2000, 'note: at most 2000 characters').nullish(),
});

function genericRoute(s: HttpDeps, env: Pick<Env, 'MORATORIUM_GENERIC_SECRET'>) {
  return async (req: IncomingMessage): Promise<Outcome> => {
    const secret = env.MORATORIUM_GENERIC_SECRET;
    if (!secret) throw new HttpError(503, 'the generic incident webhook is disabled: set MORATORIUM_GENERIC_SECRET');
    const raw = await readBody(req);
    const verdict = verifyGeneric(secret, raw, header(req, 'x-moratorium-signature'));
    if (!verdict.ok) throw new HttpError(401, verdict.reason);
    const body = parseJson(raw);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'the body must be a JSON object');
    const action = (body as { action?: unknown }).action;
    if (action === 'open') {
      const parsed = genericOpen.safeParse(body);
      if (!parsed.success) throw new HttpError(400, issues(parsed.error));
      const o = parsed.data;
      const scope: ScopeRef = { account: o.account, repo: o.repo ? o.repo : null };
      return applyExternal(s, { source: 'generic', externalId: o.key, deliveryId: null, event: 'open', scope, action: 'open', severity: o.severity, title: o.title, note: '' });
    }
    if (action === 'resolve') {
      const parsed = genericResolve.safeParse(body);
      if (!parsed.success) throw new HttpError(400, issues(parsed.error));
      const r = parsed.data;
      if ((await s.store.externalIncident('generic', r.key)) === null) throw new HttpError(404, `no incident was opened with key "${r.key}"`);
      const note = r.note?.trim();
      return applyExternal(s, {
        source: 'generic',
        externalId: r.key,
        deliveryId: null,
        event: 'resolve',
        scope: { account: '', repo: null }, // unused when resolving: the linked incident has its scope
        action: 'resolve',
        severity: 'sev4',
        title: '',
        note: (note ? `resolved by the generic webhook: ${note}` : 'resolved by the generic webhook').slice(0, 2000),
      });
    }
    throw new HttpError(400, `action must be "open" or "resolve"${action === undefined ? '' : `, not ${JSON.stringify(action).slice(0, 40)}`}`);
  };
}

// ---------------------------------------------------------------------------------------------

type ToolEnv = Pick<Env, 'MORATORIUM_INCIDENTIO_SECRET' | 'MORATORIUM_ROOTLY_SECRET' | 'MORATORIUM_GENERIC_SECRET'>;

/** Throws when MORATORIUM_INCIDENTIO_SECRET is set but not `whsec_<base64>`, so a bad setting stops the start. */
export function incidentToolRoutes(s: HttpDeps, env: ToolEnv): Route {
  const incidentIoKey = env.MORATORIUM_INCIDENTIO_SECRET ? parseSvixSecret(env.MORATORIUM_INCIDENTIO_SECRET) : null;
  const routes: Record<string, { name: string; handle: (req: IncomingMessage, url: URL) => Promise<Outcome> }> = {
    [INCIDENTIO_PATH]: { name: 'incident-io', handle: incidentIoRoute(s, incidentIoKey) },
    [ROOTLY_PATH]: { name: 'rootly', handle: rootlyRoute(s, env) },
    [GENERIC_PATH]: { name: 'generic', handle: genericRoute(s, env) },
  };
  return async (req, res, url) => {
    const route = Object.hasOwn(routes, url.pathname) ? routes[url.pathname] : undefined;
    if (!route) return false;
    try {
      if (req.method !== 'POST') throw new HttpError(405, `${req.method} is not allowed here: incident tools POST their webhooks`, { allow: 'POST' });
      const outcome = await route.handle(req, url);
      return sendJson(res, outcome.status, outcome.body);
    } catch (error) {
      if (error instanceof HttpError) {
        if (error.status === 401) s.log.warn({ event: route.name, reason: error.message }, 'incident tool webhook refused: bad signature or timestamp');
        return sendJson(res, error.status, { error: error.message }, error.headers);
      }
      throw error;
    }
  };
}
