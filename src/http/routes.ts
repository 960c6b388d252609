/** Routes beyond /moratorium/health: the HTTP API, incident-tool webhooks, dashboard and metrics. */
import type { Env } from '../env.js';
import type { HttpDeps } from './deps.js';
import { createApi } from './api.js';
import { dashboardRoutes } from './dashboard.js';
import { incidentToolRoutes } from './incident-tools.js';
import { incidentWebhookRoutes } from './incident-webhooks.js';
import { Metrics, metricsRoute } from './metrics.js';
import type { Route } from './router.js';

export interface ExtraRouteOptions {
  /** the process's metrics (main.ts feeds them from Octokit, the webhook handlers and the port); a fresh set otherwise */
  metrics?: Metrics;
}

/**
 * - /moratorium/api/v1/...: the HTTP API (SPEC 7), bearer token
 * - /moratorium/webhooks/pagerduty and /moratorium/webhooks/statuspage/<token>: incident tools
 * - /moratorium/webhooks/incident-io, /rootly and /generic: more incident tools (SPEC 10)
 * - /moratorium/ (and /moratorium/login, /moratorium/logout): the dashboard
 * - /metrics: Prometheus
 *
 * Throws when MORATORIUM_PAGERDUTY_SERVICES is not a valid map or MORATORIUM_INCIDENTIO_SECRET is not
 * `whsec_<base64>`, so a bad setting stops the start.
 */
export function extraRoutes(s: HttpDeps, env: Env, opts: ExtraRouteOptions = {}): Route[] {
  const metrics = (opts.metrics ?? new Metrics()).bind(s);
  return [createApi(s, env), incidentWebhookRoutes(s, env), incidentToolRoutes(s, env), dashboardRoutes(s, env), metricsRoute(metrics)];
}
