/** The app's parts with an in-memory store, a fixed clock and the fake port, served on 127.0.0.1. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Env } from '../../../src/env.js';
import { Metrics } from '../../../src/http/metrics.js';
import { createHttpHandler } from '../../../src/http/router.js';
import { extraRoutes } from '../../../src/http/routes.js';
import type { AppParts } from '../../../src/compose.js';
import { FakePort, testServices } from '../../support/fake-port.js';

export const T0 = Date.UTC(2026, 10, 30, 10, 0); // Monday 2026-11-30 10:00 UTC
export const TOKEN = 'test-token-0123456789';

export function testEnv(extra: Partial<Env> = {}): Env {
  return { MORATORIUM_API_TOKEN: TOKEN, ...extra } as Env;
}

export interface Served {
  url: string;
  services: AppParts;
  store: AppParts['store'];
  clock: { t: number; now(): number };
  port: FakePort;
  metrics: Metrics;
  fetch(path: string, init?: RequestInit & { token?: string | null; json?: unknown }): Promise<{ status: number; headers: Headers; text: string; body: any }>;
  /** fan-out jobs queued so far (the job runner is stopped, so they stay queued) */
  fanouts(): Promise<{ account: string; repo: string | null; reason: string }[]>;
  close(): Promise<void>;
}

export async function serve(extraEnv: Partial<Env> = {}, opts: { jobs?: boolean } = {}): Promise<Served> {
  const port = new FakePort(1);
  port.addRepo('acme', 'api');
  const { store, clock, services } = await testServices(port, T0);
  await store.upsertRepo('acme', 'api', 1, 'acme/api', 'main');
  if (!opts.jobs) await services.jobs.stop();
  const env = testEnv(extraEnv);
  const metrics = new Metrics();
  const handler = createHttpHandler(services, extraRoutes(services, env, { metrics }));
  const server: Server = createServer((req, res) => {
    void handler(req, res).then((handled) => {
      if (!handled) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not ours');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    services,
    store,
    clock,
    port,
    metrics,
    async fetch(path, init = {}) {
      const headers = new Headers(init.headers);
      const token = init.token === undefined ? TOKEN : init.token;
      if (token !== null) headers.set('authorization', `Bearer ${token}`);
      let body = init.body;
      if (init.json !== undefined) {
        headers.set('content-type', 'application/json');
        body = JSON.stringify(init.json);
      }
      const res = await fetch(`${url}${path}`, { ...init, headers, body, redirect: 'manual' });
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: res.status, headers: res.headers, text, body: parsed as any };
    },
    async fanouts() {
      return (await store.dueJobs(Number.MAX_SAFE_INTEGER, 1000))
        .filter((j) => j.kind === 'fanout')
        .map((j) => j.payload as { account: string; repo: string | null; reason: string });
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await services.stop();
      await store.close();
    },
  };
}
