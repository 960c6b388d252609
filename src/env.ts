/** The environment of SPEC section 1, validated once at start. */
import { getPrivateKey } from '@probot/get-private-key';
import { z } from 'zod';
import { parseDuration } from './time/duration.js';

const duration = (name: string, fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((s, ctx) => {
      const ms = parseDuration(s);
      if (ms === null) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a duration such as 10m, 90s or 1h30m` });
        return z.NEVER;
      }
      return ms;
    });

const envSchema = z.object({
  APP_ID: z.string().regex(/^\d+$/, 'APP_ID must be the numeric GitHub App id'),
  WEBHOOK_SECRET: z.string().min(1, 'WEBHOOK_SECRET is required: webhooks without a valid signature are refused'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().optional(),
  WEBHOOK_PATH: z.string().default('/api/github/webhooks'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  GHE_HOST: z.string().optional(),
  GHE_PROTOCOL: z.enum(['http', 'https']).default('https'),
  MORATORIUM_DB: z.string().default('./data/moratorium.db'),
  /** SPEC 9: postgres:// keeps all state in PostgreSQL (MORATORIUM_DB is then ignored); empty: the SQLite file */
  DATABASE_URL: z
    .string()
    .trim()
    .regex(/^(postgres(ql)?:\/\/.*)?$/i, 'DATABASE_URL must be a postgres:// or postgresql:// URL')
    .optional(),
  MORATORIUM_API_TOKEN: z.string().optional(),
  MORATORIUM_RECONCILE_INTERVAL: duration('MORATORIUM_RECONCILE_INTERVAL', '10m'),
  /** a whole HTTP request (headers and body) must arrive within this (slow clients get 408) */
  MORATORIUM_REQUEST_TIMEOUT: duration('MORATORIUM_REQUEST_TIMEOUT', '30s'),
  /** SPEC 10: GitHub Actions OIDC tokens as a bearer for the gate API; keys from `${issuer}/.well-known/jwks` */
  MORATORIUM_OIDC_ISSUER: z.string().url('MORATORIUM_OIDC_ISSUER must be a URL such as https://token.actions.githubusercontent.com').default('https://token.actions.githubusercontent.com'),
  MORATORIUM_OIDC_AUDIENCE: z.string().min(1).default('moratorium'),
  MORATORIUM_PAGERDUTY_SECRET: z.string().optional(),
  MORATORIUM_PAGERDUTY_SERVICES: z.string().optional(),
  MORATORIUM_STATUSPAGE_TOKEN: z.string().optional(),
  /** incident.io's webhook signing secret, `whsec_<base64>` (Svix) */
  MORATORIUM_INCIDENTIO_SECRET: z.string().optional(),
  /** Rootly's webhook secret (X-Rootly-Signature) */
  MORATORIUM_ROOTLY_SECRET: z.string().optional(),
  /** the HMAC key of the generic signed webhook (X-Moratorium-Signature) */
  MORATORIUM_GENERIC_SECRET: z.string().optional(),
  MORATORIUM_SLACK_WEBHOOK_URL: z.string().url().optional(),
  /** SPEC 9: the Octokit write throttle is shared through this Redis across replicas */
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'REDIS_URL must be a redis:// or rediss:// URL').optional(),
  /** the dashboard's "Sign in with GitHub": the App's OAuth client (the manifest flow writes both) */
  GITHUB_CLIENT_ID: z.string().optional(),
  GITHUB_CLIENT_SECRET: z.string().optional(),
  /** SPEC 11: the server's own URL as GitHub and browsers reach it (else the request's origin) */
  MORATORIUM_PUBLIC_URL: z
    .string()
    .url('MORATORIUM_PUBLIC_URL must be a URL such as https://moratorium.example.com')
    .regex(/^https?:\/\/[^/?#]+\/?$/i, 'MORATORIUM_PUBLIC_URL must be an http:// or https:// origin, without a path, query or fragment')
    .transform((s) => s.replace(/\/+$/, ''))
    .optional(),
  /** first run (src/setup/): register the App in this organisation instead of the signed-in user's account (Probot's name) */
  GH_ORG: z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, 'GH_ORG must be a GitHub organisation login').optional(),
  /** Probot's name: a webhook proxy URL, given to GitHub as the App's webhook URL at the first run (the app never contacts it) */
  WEBHOOK_PROXY_URL: z.string().url('WEBHOOK_PROXY_URL must be a URL').optional(),
  /** for tests against a local fake API only: turns Octokit's write throttle off */
  MORATORIUM_GITHUB_THROTTLE: z.enum(['on', 'off']).default('on'),
});

export type Env = z.output<typeof envSchema> & { privateKey: string; baseUrl: string };

export function readEnv(source: NodeJS.ProcessEnv): Env {
  const parsed = envSchema.safeParse(Object.fromEntries(Object.entries(source).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    throw new Error(`invalid environment:\n${parsed.error.issues.map((i) => `- ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  const privateKey = getPrivateKey({ env: source });
  if (!privateKey) throw new Error('invalid environment:\n- PRIVATE_KEY or PRIVATE_KEY_PATH is required (the GitHub App private key)');
  const e = parsed.data;
  const baseUrl = e.GHE_HOST ? `${e.GHE_PROTOCOL}://${e.GHE_HOST}/api/v3` : 'https://api.github.com';
  return { ...e, privateKey: String(privateKey), baseUrl };
}

/** The environment of the first run (src/setup/): everything but the App's credentials, validated the same way. */
export type SetupEnv = Omit<z.output<typeof envSchema>, 'APP_ID' | 'WEBHOOK_SECRET'> & { baseUrl: string };

export function readSetupEnv(source: NodeJS.ProcessEnv): SetupEnv {
  const parsed = envSchema.omit({ APP_ID: true, WEBHOOK_SECRET: true }).safeParse(Object.fromEntries(Object.entries(source).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    throw new Error(`invalid environment:\n${parsed.error.issues.map((i) => `- ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  const e = parsed.data;
  return { ...e, baseUrl: e.GHE_HOST ? `${e.GHE_PROTOCOL}://${e.GHE_HOST}/api/v3` : 'https://api.github.com' };
}

/** SPEC 11: without APP_ID the app starts in setup mode (the first run) */
export function needsSetup(source: NodeJS.ProcessEnv): boolean {
  return !source.APP_ID?.trim();
}
