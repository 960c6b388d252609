/**
 * The Octokit class the app runs with: Probot's, plus a throttle keyed per installation (GitHub's
 * write limits are per installation: one organisation's fan-out must not slow another's gates) and
 * retries after secondary rate limits, which Probot's default handler does not do.
 */
import { ProbotOctokit } from 'probot';
import type { SharedThrottle } from './shared-throttle.js';

interface ThrottleOptions {
  enabled?: boolean;
  id?: string;
  [k: string]: unknown;
}

interface RequestOptions {
  method: string;
  url: string;
}

export interface OctokitClassOptions {
  throttle: boolean;
  /** called once per API request with its final status (after retries), 'error' when none came back (metrics) */
  onRequest?: (method: string, status: number | 'error') => void;
  /** REDIS_URL: the throttle's groups live in Redis, so every replica shares each installation's budget */
  shared?: SharedThrottle;
}

export function createOctokitClass(opts: OctokitClassOptions) {
  const Base = withThrottle(opts);
  const onRequest = opts.onRequest;
  if (!onRequest) return Base;
  return Base.plugin((octokit) => {
    octokit.hook.wrap('request', async (request, options) => {
      try {
        const response = await request(options);
        onRequest(options.method, response.status);
        return response;
      } catch (error) {
        const status = typeof error === 'object' && error !== null && 'status' in error ? Number((error as { status: unknown }).status) : NaN;
        onRequest(options.method, Number.isFinite(status) ? status : 'error');
        throw error;
      }
    });
  });
}

function withThrottle(opts: OctokitClassOptions) {
  return ProbotOctokit.defaults((options: Record<string, unknown>) => {
    const auth = options.auth as { installationId?: number } | undefined;
    const throttle = (options.throttle ?? {}) as ThrottleOptions;
    const log = options.log as { warn(msg: string): void } | undefined;
    return {
      ...options,
      throttle: opts.throttle
        ? {
            ...throttle,
            ...opts.shared?.options,
            enabled: true,
            id: auth?.installationId ? `installation-${auth.installationId}` : (throttle.id ?? 'app'),
            onSecondaryRateLimit: (retryAfter: number, o: RequestOptions, _octokit: unknown, retryCount: number) => {
              log?.warn(`secondary rate limit on ${o.method} ${o.url}: retry ${retryCount + 1} in ${retryAfter}s`);
              return retryCount < 3;
            },
            onRateLimit: (retryAfter: number, o: RequestOptions, _octokit: unknown, retryCount: number) => {
              log?.warn(`rate limit on ${o.method} ${o.url}: retry ${retryCount + 1} in ${retryAfter}s`);
              return retryCount < 2 && retryAfter <= 15 * 60;
            },
          }
        : { enabled: false },
    };
  });
}
