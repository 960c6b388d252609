import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Probot } from 'probot';
import { afterEach, describe, expect, it } from 'vitest';
import { createOctokitClass } from '../../../src/github/client.js';
import { Metrics } from '../../../src/http/metrics.js';
import { FakePort } from '../../support/fake-port.js';
import { serve, type Served } from './support.js';

/** a counter's value for these labels */
async function value(metrics: Metrics, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) return undefined;
  const data = await metric.get();
  const hit = data.values.find((v) => Object.entries(labels).every(([k, l]) => String((v.labels as Record<string, unknown>)[k]) === l));
  return hit?.value;
}

describe('metrics', () => {
  let app: Served | null = null;
  afterEach(async () => {
    await app?.close();
    app = null;
  });

  it('serves Prometheus text at /metrics with incidents, freezes and pending jobs read on scrape', async () => {
    app = await serve();
    await app.fetch('/moratorium/api/v1/incidents', { method: 'POST', json: { account: 'acme', severity: 'sev1', title: 'Down' } });
    await app.fetch('/moratorium/api/v1/freezes', { method: 'POST', json: { account: 'acme', mode: 'all' } });
    const res = await app.fetch('/metrics', { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(res.text).toContain('moratorium_active_incidents{phase="open",severity="sev1"} 1');
    expect(res.text).toContain('moratorium_active_incidents{phase="resolved",severity="sev1"} 0');
    expect(res.text).toContain('moratorium_active_freezes{mode="all"} 1');
    expect(res.text).toContain('moratorium_active_freezes{mode="features"} 0');
    expect(res.text).toContain('moratorium_jobs_pending{kind="fanout"} 2');
    expect(res.text).toContain('# TYPE moratorium_webhook_duration_seconds histogram');
    expect(res.text).toContain('# TYPE moratorium_github_requests_total counter');
    expect((await app.fetch('/metrics', { method: 'POST', token: null })).status).toBe(405);
  });

  it('counts gate decisions written through the port, by kind and conclusion', async () => {
    const metrics = new Metrics();
    const port = metrics.instrumentPort(new FakePort(1));
    await port.postCheck({ owner: 'acme', repo: 'api' }, 'sha1', { conclusion: 'failure', title: 'Frozen', summary: '' });
    await port.postCheck({ owner: 'acme', repo: 'api' }, 'sha2', { conclusion: 'failure', title: 'Frozen', summary: '' });
    await port.postStatus({ owner: 'acme', repo: 'api' }, 'sha3', 'success', 'Open');
    await port.answerDeployment('http://x', 'production', 'rejected', 'Frozen');
    expect(port.installationId).toBe(1);
    expect(await value(metrics, 'moratorium_gate_decisions_total', { kind: 'check', conclusion: 'failure' })).toBe(2);
    expect(await value(metrics, 'moratorium_gate_decisions_total', { kind: 'status', conclusion: 'success' })).toBe(1);
    expect(await value(metrics, 'moratorium_gate_decisions_total', { kind: 'deployment', conclusion: 'rejected' })).toBe(1);
  });

  it('does not count a decision GitHub did not take', async () => {
    const metrics = new Metrics();
    const fake = new FakePort(1);
    fake.failRepos.add('api');
    const port = metrics.instrumentPort(fake);
    await expect(port.postCheck({ owner: 'acme', repo: 'api' }, 'sha1', { conclusion: 'failure', title: 'Frozen', summary: '' })).rejects.toThrow();
    expect(await value(metrics, 'moratorium_gate_decisions_total', { kind: 'check', conclusion: 'failure' })).toBeUndefined();
  });

  it('times webhook handlers by event', async () => {
    const metrics = new Metrics();
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const probot = new Probot({ appId: 1, privateKey, secret: 'test', log: pino({ level: 'silent' }) });
    let handled = 0;
    await probot.load((app) => {
      metrics.instrumentApp(app).on('issues.opened', async () => {
        handled++;
      });
    });
    await probot.receive({ name: 'issues', id: 'd1', payload: { action: 'opened', issue: { number: 1 }, repository: { name: 'api', owner: { login: 'acme' } } } } as never);
    expect(handled).toBe(1);
    const text = await metrics.registry.metrics();
    expect(text).toContain('moratorium_webhook_duration_seconds_count{event="issues"} 1');
  });

  it('counts GitHub requests by method and final status through the Octokit hook', async () => {
    const server = createServer((req, res) => {
      const found = req.url?.startsWith('/repos/acme/api');
      res.writeHead(found ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(found ? { name: 'api' } : { message: 'Not Found' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const metrics = new Metrics();
      const Octokit = createOctokitClass({ throttle: false, onRequest: (m, s) => metrics.recordRequest(m, s) });
      const octokit = new Octokit({ auth: { token: 'ghs_test' }, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, retry: { enabled: false }, log: pino({ level: 'silent' }) } as never);
      await octokit.rest.repos.get({ owner: 'acme', repo: 'api' });
      await expect(octokit.rest.repos.get({ owner: 'acme', repo: 'gone' })).rejects.toMatchObject({ status: 404 });
      expect(await value(metrics, 'moratorium_github_requests_total', { method: 'GET', status: '200' })).toBe(1);
      expect(await value(metrics, 'moratorium_github_requests_total', { method: 'GET', status: '404' })).toBe(1);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('counts state changes by type', async () => {
    const metrics = new Metrics();
    metrics.recordStateEvents([
      { type: 'freeze.ended', freeze: {} as never, actor: { login: 'a', source: 'api' } },
      { type: 'freeze.ended', freeze: {} as never, actor: { login: 'a', source: 'api' } },
    ]);
    expect(await value(metrics, 'moratorium_state_changes_total', { type: 'freeze.ended' })).toBe(2);
  });
});
