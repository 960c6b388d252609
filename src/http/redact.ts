/**
 * Headers that carry secrets (tokens, cookies, signatures) never reach the log. The server's request
 * line logs no headers at all; this pino `redact` list is the second line of defence, for anything
 * that logs a request, a response or an error carrying headers (`req.headers`, `headers`,
 * `request.headers` of an Octokit error...).
 */
export const SECRET_HEADERS = [
  'authorization',
  'cookie',
  'set-cookie',
  'x-hub-signature',
  'x-hub-signature-256',
  'x-pagerduty-signature',
  'x-rootly-signature',
  'webhook-signature',
  'x-moratorium-signature',
] as const;

const holders = ['headers', 'req.headers', 'res.headers', 'request.headers', 'response.headers', 'err.headers', 'err.request.headers', 'err.response.headers', 'error.request.headers', 'error.response.headers'];

export const LOG_REDACT = {
  paths: holders.flatMap((h) => SECRET_HEADERS.map((name) => `${h}["${name}"]`)).concat(holders.map((h) => `*.${h}.authorization`)),
  censor: '[redacted]',
};

/** Path prefixes whose next segment is a secret (the Statuspage webhook's token): logged as `[redacted]`. */
const SECRET_PATH_PREFIXES = ['/moratorium/webhooks/statuspage/'];

/** A request path fit for the log: secret path segments replaced (the query string is never logged). */
export function loggablePath(path: string): string {
  for (const prefix of SECRET_PATH_PREFIXES) {
    if (path.startsWith(prefix) && path.length > prefix.length) return `${prefix}[redacted]`;
  }
  return path;
}
