/**
 * Prometheus metrics at GET /metrics, in a registry of our own (never prom-client's global one):
 *
 * - moratorium_webhook_duration_seconds{event}: time to handle one GitHub webhook, by event name
 * - moratorium_gate_decisions_total{kind, conclusion}: gate decisions written to GitHub (check runs and
 *   commit statuses on PRs and merge groups, answers to deployment protection rules); a decision that
 *   did not change is not written again, so it is not counted again
 * - moratorium_github_requests_total{method, status}: requests to the GitHub API as the app sees them
 *   (after Octokit's retries), status "error" when no response came back
 * - moratorium_jobs_pending{kind}: stored work not done yet (fan-outs, replies, ...), read on scrape
 * - moratorium_active_incidents{phase, severity}, moratorium_active_freezes{mode}: read on scrape
 * - moratorium_state_changes_total{type}: incident and freeze changes (incident.opened, freeze.ended, ...)
 *
 * The counters are fed through decorators the composition root applies (`instrumentApp`,
 * `instrumentPort`, and the Octokit request hook), so no domain code knows about metrics.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Probot } from 'probot';
import { SEVERITIES } from '../config/schema.js';
import type { StateEvent } from '../domain/actions.js';
import type { GitHubPort } from '../github/port.js';
import type { Clock } from '../clock.js';
import type { AsyncStore } from '../store/contract.js';
import type { Route } from './router.js';

/** What the gauges read on scrape. */
export interface MetricsSource {
  store: Pick<AsyncStore, 'pendingJobsByKind' | 'countActiveIncidents' | 'countActiveFreezes'>;
  clock: Clock;
}

export class Metrics {
  readonly registry = new Registry();
  private source: MetricsSource | null = null;

  readonly webhookDuration = new Histogram({
    name: 'moratorium_webhook_duration_seconds',
    help: 'Time to handle one GitHub webhook, by event',
    labelNames: ['event'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly gateDecisions = new Counter({
    name: 'moratorium_gate_decisions_total',
    help: 'Gate decisions written to GitHub (checks and statuses on PRs and merge groups, deployment answers), by conclusion',
    labelNames: ['kind', 'conclusion'] as const,
    registers: [this.registry],
  });

  readonly githubRequests = new Counter({
    name: 'moratorium_github_requests_total',
    help: 'Requests to the GitHub API, by method and final status (after retries)',
    labelNames: ['method', 'status'] as const,
    registers: [this.registry],
  });

  readonly stateChanges = new Counter({
    name: 'moratorium_state_changes_total',
    help: 'Incident and freeze changes, by type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const self = this;
    new Gauge({
      name: 'moratorium_jobs_pending',
      help: 'Stored jobs not done yet (fan-outs, replies, held-deployment checks), by kind',
      labelNames: ['kind'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        const s = self.source;
        if (!s) return;
        this.set({ kind: 'fanout' }, 0);
        for (const { kind, count } of await s.store.pendingJobsByKind()) this.set({ kind }, count);
      },
    });
    new Gauge({
      name: 'moratorium_active_incidents',
      help: 'Incidents that are open or resolved (in recovery), by phase and severity',
      labelNames: ['phase', 'severity'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        const s = self.source;
        if (!s) return;
        for (const phase of ['open', 'resolved']) for (const severity of SEVERITIES) this.set({ phase, severity }, 0);
        for (const { phase, severity, count } of await s.store.countActiveIncidents()) this.set({ phase, severity }, count);
      },
    });
    new Gauge({
      name: 'moratorium_active_freezes',
      help: 'Manual freezes in force (commands and the API), by mode',
      labelNames: ['mode'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        const s = self.source;
        if (!s) return;
        this.set({ mode: 'all' }, 0);
        this.set({ mode: 'features' }, 0);
        for (const { mode, count } of await s.store.countActiveFreezes(s.clock.now())) this.set({ mode }, count);
      },
    });
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'moratorium_' });
  }

  /** The gauges read this store on every scrape. */
  bind(source: MetricsSource): this {
    this.source = source;
    return this;
  }

  /** For the Octokit request hook (src/github/client.ts). */
  recordRequest(method: string, status: number | 'error'): void {
    this.githubRequests.inc({ method: method.toUpperCase(), status: String(status) });
  }

  recordStateEvents(events: StateEvent[]): void {
    for (const e of events) this.stateChanges.inc({ type: e.type });
  }

  /**
   * The Probot app as `wireEvents` sees it, with every handler timed. Methods are bound to the real
   * app (Probot keeps private fields, which a proxy receiver could not reach).
   */
  instrumentApp(app: Probot): Probot {
    const histogram = this.webhookDuration;
    return new Proxy(app, {
      get(target, prop, receiver) {
        if (prop === 'on') {
          return (events: unknown, handler: (context: { name: string }) => Promise<void>) =>
            (target.on as (e: unknown, h: unknown) => void)(events, async (context: { name: string }) => {
              const end = histogram.startTimer({ event: context.name });
              try {
                await handler(context);
              } finally {
                end();
              }
            });
        }
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  /** A GitHub port that counts the gate decisions written through it. */
  instrumentPort(port: GitHubPort): GitHubPort {
    const decisions = this.gateDecisions;
    return new Proxy(port, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        const fn = (value as (...a: unknown[]) => unknown).bind(target);
        if (prop === 'postCheck') {
          return async (...args: Parameters<GitHubPort['postCheck']>) => {
            await fn(...args);
            decisions.inc({ kind: 'check', conclusion: args[2].conclusion });
          };
        }
        if (prop === 'postStatus') {
          return async (...args: Parameters<GitHubPort['postStatus']>) => {
            await fn(...args);
            decisions.inc({ kind: 'status', conclusion: args[2] });
          };
        }
        if (prop === 'answerDeployment') {
          return async (...args: Parameters<GitHubPort['answerDeployment']>) => {
            await fn(...args);
            decisions.inc({ kind: 'deployment', conclusion: args[2] });
          };
        }
        return fn;
      },
    });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** GET /metrics in Prometheus' text format. */
export function metricsRoute(metrics: Metrics): Route {
  return async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (url.pathname !== '/metrics') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ error: `${req.method} is not allowed on /metrics: use GET` }));
      return true;
    }
    const { contentType, body } = await metrics.render();
    res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
