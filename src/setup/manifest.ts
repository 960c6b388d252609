/**
 * The GitHub App manifest of the first run (SPEC 11), from `app.yml`: its name, description,
 * permissions and events as written there, with every URL GitHub calls back rebased onto the
 * server's own URL (`publicBaseUrl`): the webhook URL (`WEBHOOK_PROXY_URL` instead when set, as
 * Probot does), `redirect_url` (where GitHub sends the browser with the code) and `callback_urls`
 * (the dashboard's sign-in callback). No I/O here.
 */
import { parse } from 'yaml';

/** Where GitHub sends the browser back with `?code=` after the App is created. */
export const SETUP_CALLBACK_PATH = '/moratorium/setup/callback';
/** The dashboard's sign-in callback (the OAuth web flow of the App's user authorization). */
export const SIGN_IN_CALLBACK_PATH = '/moratorium/dashboard/auth/callback';

export interface Manifest {
  name: string;
  url: string;
  description?: string;
  hook_attributes: { url: string; active?: boolean };
  redirect_url: string;
  callback_urls: string[];
  public: boolean;
  default_permissions: Record<string, string>;
  default_events: string[];
  [key: string]: unknown;
}

/** The manifest to post to GitHub; `appYml` is the text of app.yml. Throws on a malformed app.yml. */
export function buildManifest(appYml: string, baseUrl: string, opts: { webhookPath: string; webhookProxyUrl?: string | undefined }): Manifest {
  const doc = parse(appYml) as unknown;
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new Error('app.yml is not a mapping');
  const m = doc as Record<string, unknown>;
  if (typeof m.name !== 'string' || !m.name) throw new Error('app.yml has no name');
  const permissions = m.default_permissions ?? {};
  if (typeof permissions !== 'object' || Array.isArray(permissions) || !Object.values(permissions as object).every((v) => typeof v === 'string')) {
    throw new Error('app.yml: default_permissions must map each permission to read or write');
  }
  const events = m.default_events ?? [];
  if (!Array.isArray(events) || !events.every((e) => typeof e === 'string')) throw new Error('app.yml: default_events must be a list of event names');
  const hook = (m.hook_attributes && typeof m.hook_attributes === 'object' ? m.hook_attributes : {}) as Record<string, unknown>;
  const path = opts.webhookPath.startsWith('/') ? opts.webhookPath : `/${opts.webhookPath}`;
  return {
    ...m,
    name: m.name,
    url: typeof m.url === 'string' && m.url ? m.url : baseUrl,
    hook_attributes: { ...hook, url: opts.webhookProxyUrl || `${baseUrl}${path}` },
    redirect_url: `${baseUrl}${SETUP_CALLBACK_PATH}`,
    callback_urls: [`${baseUrl}${SIGN_IN_CALLBACK_PATH}`],
    public: m.public === true,
    default_permissions: permissions as Record<string, string>,
    default_events: events as string[],
  };
}

const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The server's own URL, as the browser (and GitHub) reach it: `MORATORIUM_PUBLIC_URL` when set;
 * else the request's origin, honouring `X-Forwarded-Proto` and `X-Forwarded-Host` (the first value
 * of each, as a proxy chain appends) before `Host`. null when no usable host is given.
 */
export function publicBaseUrl(headers: Record<string, string | string[] | undefined>, opts: { encrypted: boolean; publicUrl?: string | undefined }): string | null {
  if (opts.publicUrl) return opts.publicUrl.replace(/\/+$/, '');
  const first = (name: string): string | undefined => {
    const raw = headers[name];
    const value = Array.isArray(raw) ? raw[0] : raw;
    const v = value?.split(',')[0]?.trim();
    return v ? v : undefined;
  };
  const forwardedProto = first('x-forwarded-proto')?.toLowerCase();
  const proto = forwardedProto === 'https' || forwardedProto === 'http' ? forwardedProto : opts.encrypted ? 'https' : 'http';
  const host = first('x-forwarded-host') ?? first('host');
  if (!host || !HOST.test(host)) return null;
  return `${proto}://${host.toLowerCase()}`;
}

/** Where the manifest form posts: the user's (or `GH_ORG`'s) "new GitHub App" page on github.com or GHE_HOST. */
export function createAppUrl(opts: { gheHost?: string | undefined; gheProtocol: string; org?: string | undefined; state: string }): string {
  const host = opts.gheHost ? `${opts.gheProtocol}://${opts.gheHost}` : 'https://github.com';
  const org = opts.org ? `/organizations/${encodeURIComponent(opts.org)}` : '';
  return `${host}${org}/settings/apps/new?state=${encodeURIComponent(opts.state)}`;
}
