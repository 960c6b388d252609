/**
 * The first run's one GitHub call (SPEC 11): the manifest flow's code exchanged for the new App's
 * credentials, `POST /app-manifests/{code}/conversions` (no authentication: the code is the proof).
 * What GitHub answers is checked before anyone uses it.
 */
import { Octokit } from '@octokit/rest';

export interface AppCredentials {
  appId: string;
  slug: string | null;
  htmlUrl: string | null;
  privateKey: string;
  webhookSecret: string;
  clientId: string;
  clientSecret: string;
}

/** A conversion that did not give usable credentials: `status` is GitHub's (0 when none came back). */
export class ConversionError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** `baseUrl`: the REST API root (https://api.github.com, or `${GHE_PROTOCOL}://${GHE_HOST}/api/v3`). */
export async function convertManifestCode(code: string, opts: { baseUrl: string; timeoutMs?: number }): Promise<AppCredentials> {
  const octokit = new Octokit({ baseUrl: opts.baseUrl, userAgent: 'moratorium-setup', request: { signal: AbortSignal.timeout(opts.timeoutMs ?? 20_000) } });
  let data: Record<string, unknown>;
  try {
    const response = await octokit.rest.apps.createFromManifest({ code });
    data = response.data as unknown as Record<string, unknown>;
  } catch (error) {
    const status = typeof error === 'object' && error !== null && 'status' in error ? Number((error as { status: unknown }).status) : 0;
    const message = error instanceof Error ? error.message : String(error);
    if (status === 404) throw new ConversionError(404, `GitHub does not know this code (${message}): a code works once, within an hour of the registration`);
    if (status) throw new ConversionError(status, `GitHub refused the conversion: ${status} ${message}`);
    throw new ConversionError(0, `GitHub's API at ${opts.baseUrl} did not answer: ${message}`);
  }
  const str = (k: string): string | null => (typeof data[k] === 'string' && (data[k] as string).trim() !== '' ? (data[k] as string) : null);
  const id = data.id;
  const appId = typeof id === 'number' && Number.isSafeInteger(id) && id > 0 ? String(id) : typeof id === 'string' && /^\d+$/.test(id) ? id : null;
  const pem = str('pem');
  const missing = [
    appId ? null : 'id',
    pem && /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem) ? null : 'pem',
    str('webhook_secret') ? null : 'webhook_secret',
    str('client_id') ? null : 'client_id',
    str('client_secret') ? null : 'client_secret',
  ].filter((x): x is string => x !== null);
  if (missing.length) throw new ConversionError(502, `GitHub's answer lacks a usable ${missing.join(', ')}: nothing was saved`);
  const html = str('html_url');
  return {
    appId: appId!,
    slug: str('slug'),
    htmlUrl: html && /^https?:\/\/[^\s"'<>]+$/.test(html) ? html.replace(/\/+$/, '') : null,
    privateKey: pem!,
    webhookSecret: str('webhook_secret')!,
    clientId: str('client_id')!,
    clientSecret: str('client_secret')!,
  };
}
