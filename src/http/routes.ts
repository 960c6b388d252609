/** Routes beyond /moratorium/health: the HTTP API, incident-tool webhooks, dashboard and metrics. */
import type { Env } from '../env.js';
import type { Services } from '../services.js';
import type { Route } from './router.js';

export function extraRoutes(_s: Services, _env: Env): Route[] {
  return [];
}
