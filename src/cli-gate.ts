/**
 * `moratorium gate` and `moratorium record-deploy` (SPEC 10): a deploy tool asks the gate over HTTP
 * and reports its deploys. Exit codes of `gate`: 0 open, 1 blocked (also when `--wait` ran out of
 * time), 2 on a usage, connection or authorisation error or any answer other than 200.
 *
 * The token is MORATORIUM_TOKEN, or inside GitHub Actions the runner's OIDC token
 * (ACTIONS_ID_TOKEN_REQUEST_URL + `&audience=...`, with ACTIONS_ID_TOKEN_REQUEST_TOKEN). The clock,
 * sleeping, the environment and fetch are injected (bin/moratorium.js passes the real ones).
 */
import { parseArgs } from 'node:util';
import { formatDuration, parseDuration } from './time/duration.js';

export interface GateCliIo {
  out(text: string): void;
  err(text: string): void;
  /** the current time, ms */
  clock(): number;
  sleep(ms: number): Promise<void>;
  env: Record<string, string | undefined>;
  fetch?: typeof fetch;
}

/** `--wait` asks again at `next_change_at`, or after this long at most. */
export const POLL_MS = 5_000;
/** `--wait` without `--timeout` gives up after this long. */
export const DEFAULT_WAIT_MS = 60 * 60_000;
const REQUEST_TIMEOUT_MS = 30_000;
/** an OIDC token from the runner is fetched again after this long (GitHub's last a few minutes more) */
const OIDC_TOKEN_REUSE_MS = 4 * 60_000;

export const GATE_USAGE = `  moratorium gate --url URL --repo OWNER/NAME --environment ENV [--sha SHA] [--wait] [--timeout DURATION]
      Asks the app's gate whether a deploy may go now. Exits 0 when open, 1 when blocked (printing
      why and when it may open), 2 on a usage, connection or authorisation error. --wait asks again
      (at the gate's next change, at most every 5 s) until it opens or --timeout (default 60m) ends.
  moratorium record-deploy --url URL --repo OWNER/NAME --environment ENV --sha SHA --id ID --state success|failure
      Reports a deploy made by this tool; a success counts toward a \`counts: deployments\` cadence once per ID.
  Token: MORATORIUM_TOKEN (the app's API token), or inside GitHub Actions (permissions: id-token: write)
  the runner's OIDC token, audience MORATORIUM_OIDC_AUDIENCE (default moratorium).
`;

class UsageError extends Error {}

interface Common {
  base: string;
  repo: string;
  environment: string;
}

function common(values: { url?: string | undefined; repo?: string | undefined; environment?: string | undefined }): Common {
  if (!values.url) throw new UsageError('--url is required (the app, e.g. https://moratorium.example.com)');
  let base: URL;
  try {
    base = new URL(values.url);
  } catch {
    throw new UsageError(`--url: not a URL: ${values.url}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new UsageError('--url must be http:// or https://');
  if (!values.repo || !/^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9._-]+$/.test(values.repo)) throw new UsageError('--repo OWNER/NAME is required, e.g. --repo acme/api');
  if (!values.environment || !values.environment.trim()) throw new UsageError('--environment is required, e.g. --environment production');
  return { base: values.url.replace(/\/+$/, ''), repo: values.repo, environment: values.environment };
}

function checkSha(sha: string | undefined, required: boolean): string | undefined {
  if (sha === undefined || sha === '') {
    if (required) throw new UsageError('--sha is required (the full commit SHA, 40 hexadecimal characters)');
    return undefined;
  }
  if (!/^[0-9a-fA-F]{40}$/.test(sha)) throw new UsageError(`--sha must be a full commit SHA (40 hexadecimal characters), not ${JSON.stringify(sha)}`);
  return sha.toLowerCase();
}

/** The bearer: MORATORIUM_TOKEN, or the runner's OIDC token inside GitHub Actions (refetched when old). */
function tokenSource(io: GateCliIo): () => Promise<string> {
  const fixed = io.env.MORATORIUM_TOKEN;
  if (fixed) return async () => fixed;
  const requestUrl = io.env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const requestToken = io.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!requestUrl || !requestToken) {
    throw new UsageError('no token: set MORATORIUM_TOKEN, or run inside GitHub Actions with `permissions: id-token: write` (ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN)');
  }
  const audience = io.env.MORATORIUM_OIDC_AUDIENCE || 'moratorium';
  let cached: { value: string; at: number } | null = null;
  return async () => {
    if (cached && io.clock() - cached.at < OIDC_TOKEN_REUSE_MS) return cached.value;
    const url = `${requestUrl}${requestUrl.includes('?') ? '&' : '?'}audience=${encodeURIComponent(audience)}`;
    const res = await (io.fetch ?? fetch)(url, { headers: { authorization: `bearer ${requestToken}`, accept: 'application/json' }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    if (res.status !== 200) throw new Error(`the runner's OIDC token request answered ${res.status} (does the job have \`permissions: id-token: write\`?)`);
    const body = (await res.json().catch(() => null)) as { value?: unknown } | null;
    if (!body || typeof body.value !== 'string' || !body.value) throw new Error("the runner's OIDC token request did not answer a token");
    cached = { value: body.value, at: io.clock() };
    return body.value;
  };
}

async function call(io: GateCliIo, token: () => Promise<string>, method: string, url: string, body?: unknown): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { authorization: `Bearer ${await token()}`, accept: 'application/json', 'user-agent': 'moratorium-cli' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await (io.fetch ?? fetch)(url, { method, headers, body: body === undefined ? null : JSON.stringify(body), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  return { status: res.status, body: parsed ?? { error: text.slice(0, 500) } };
}

const describeError = (error: unknown): string => {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
  }
  return String(error);
};

function refusal(status: number, body: any): string {
  const why = body && typeof body.error === 'string' ? body.error : 'no explanation';
  const hint = status === 401 ? ' (check the token)' : status === 403 ? ' (an OIDC token may only ask for its own repository)' : '';
  return `the app answered ${status}: ${why}${hint}`;
}

function whenOpens(body: { blocked_until?: string | null; next_change_at?: string | null }): string {
  if (body.blocked_until) return `it may open at ${body.blocked_until}`;
  if (body.next_change_at) return `it may change at ${body.next_change_at}`;
  return 'it opens only when someone with authority lifts the block';
}

/** What both commands name: the app, the repository, the environment and the commit. */
const TARGET_OPTIONS = {
  url: { type: 'string' },
  repo: { type: 'string' },
  environment: { type: 'string' },
  sha: { type: 'string' },
} as const;

export async function gateCli(args: string[], io: GateCliIo): Promise<number> {
  try {
    const { values } = parseArgs({
      args,
      options: {
        ...TARGET_OPTIONS,
        wait: { type: 'boolean', default: false },
        timeout: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    });
    const c = common(values);
    const sha = checkSha(values.sha, false);
    let timeoutMs = DEFAULT_WAIT_MS;
    if (values.timeout !== undefined) {
      const ms = parseDuration(values.timeout);
      if (ms === null) throw new UsageError(`--timeout: not a duration: ${values.timeout} (e.g. 90s, 30m, 1h30m)`);
      timeoutMs = ms;
    }
    const token = tokenSource(io);
    const query = new URLSearchParams({ repo: c.repo, environment: c.environment });
    if (sha) query.set('sha', sha);
    const url = `${c.base}/moratorium/api/v1/gate?${query}`;
    const deadline = io.clock() + timeoutMs;
    for (let asked = 0; ; asked++) {
      let res;
      try {
        res = await call(io, token, 'GET', url);
      } catch (error) {
        io.err(`moratorium gate: cannot ask ${c.base}: ${describeError(error)}\n`);
        return 2;
      }
      if (res.status !== 200 || typeof res.body?.open !== 'boolean') {
        io.err(`moratorium gate: ${refusal(res.status, res.body)}\n`);
        return 2;
      }
      const b = res.body;
      if (b.open) {
        io.out(`open: ${b.title}\n`);
        return 0;
      }
      const now = io.clock();
      if (!values.wait || now >= deadline) {
        io.out(`blocked: ${b.title}; ${whenOpens(b)}\n`);
        if (values.wait) io.err(`moratorium gate: still blocked after waiting ${formatDuration(timeoutMs)}\n`);
        return 1;
      }
      if (asked === 0) io.out(`blocked: ${b.title}; ${whenOpens(b)}; waiting (up to ${formatDuration(timeoutMs)})\n`);
      const nextChange = b.next_change_at ? Date.parse(b.next_change_at) : NaN;
      const untilChange = Number.isFinite(nextChange) ? Math.max(nextChange - now, 0) : POLL_MS;
      await io.sleep(Math.max(Math.min(POLL_MS, untilChange, deadline - now), 0));
    }
  } catch (error) {
    if (error instanceof UsageError || (error instanceof TypeError && 'code' in error)) {
      io.err(`moratorium gate: ${error.message}\n${GATE_USAGE}`);
      return 2;
    }
    io.err(`moratorium gate: ${describeError(error)}\n`);
    return 2;
  }
}

export async function recordDeployCli(args: string[], io: GateCliIo): Promise<number> {
  try {
    const { values } = parseArgs({
      args,
      options: {
        ...TARGET_OPTIONS,
        id: { type: 'string' },
        state: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    });
    const c = common(values);
    const sha = checkSha(values.sha, true);
    if (!values.id || !values.id.trim()) throw new UsageError('--id is required (the deploy tool\'s own id of this deploy)');
    if (values.state !== 'success' && values.state !== 'failure') throw new UsageError('--state must be success or failure');
    const token = tokenSource(io);
    let res;
    try {
      res = await call(io, token, 'POST', `${c.base}/moratorium/api/v1/deployments`, { repo: c.repo, environment: c.environment, sha, id: values.id, state: values.state });
    } catch (error) {
      io.err(`moratorium record-deploy: cannot reach ${c.base}: ${describeError(error)}\n`);
      return 2;
    }
    if (res.status !== 201 && res.status !== 200) {
      io.err(`moratorium record-deploy: ${refusal(res.status, res.body)}\n`);
      return 2;
    }
    const b = res.body;
    io.out(
      b.recorded
        ? `${b.created ? 'recorded' : 'already recorded'}: ${c.repo} ${String(sha).slice(0, 7)} to ${c.environment} (id ${values.id})${b.counted ? ', counted toward the deploy cadence' : ''}\n`
        : `noted: a failed deploy counts nothing (id ${values.id})\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof UsageError || (error instanceof TypeError && 'code' in error)) {
      io.err(`moratorium record-deploy: ${error.message}\n${GATE_USAGE}`);
      return 2;
    }
    io.err(`moratorium record-deploy: ${describeError(error)}\n`);
    return 2;
  }
}
