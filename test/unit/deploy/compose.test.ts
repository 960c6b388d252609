/**
 * docker-compose.yml (README "Topology"): well-formed YAML, the services the topology names, every
 * replica built from the Dockerfile on PostgreSQL and Redis, and an environment the app itself
 * accepts. No docker here: this reads the files, it does not run them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parse, parseDocument } from 'yaml';
import { readEnv } from '../../../src/env.js';

const ROOT = join(import.meta.dirname, '../../..');
const text = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');

interface Service {
  build?: string;
  image?: string;
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] };
  volumes?: string[];
  ports?: string[];
}

const compose = parse(text, { merge: true }) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
const REPLICAS = ['moratorium-1', 'moratorium-2'];

/** what `docker compose` makes of `${VAR:?message}` and `${VAR:-default}` with `vars` set */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{([A-Z_][A-Z0-9_]*)(?::([?-])([^}]*))?\}/g, (_m, name: string, op?: string, arg?: string) => {
    const v = vars[name];
    if (v !== undefined && v !== '') return v;
    if (op === '?') throw new Error(`${name} is required: ${arg}`);
    return op === '-' ? (arg ?? '') : '';
  });
}

describe('docker-compose.yml', () => {
  it('is well-formed YAML (one document, no errors or warnings)', () => {
    const doc = parseDocument(text, { merge: true });
    expect(doc.errors.map((e) => e.message)).toEqual([]);
    expect(doc.warnings.map((e) => e.message)).toEqual([]);
  });

  it('has PostgreSQL, Redis, two replicas built from the Dockerfile and a load balancer in front', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['lb', 'moratorium-1', 'moratorium-2', 'postgres', 'redis']);
    expect(existsSync(join(ROOT, 'Dockerfile'))).toBe(true);
    for (const name of REPLICAS) {
      const s = compose.services[name]!;
      expect(s.build, name).toBe('.');
      expect(s.depends_on, name).toEqual({ postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
      expect(s.healthcheck?.test.join(' '), name).toContain('/moratorium/health');
      // no replica publishes a port of its own: everything goes through the load balancer
      expect(s.ports, name).toBeUndefined();
    }
    expect(compose.services.postgres!.healthcheck?.test.join(' ')).toContain('pg_isready');
    expect(compose.services.redis!.healthcheck?.test.join(' ')).toContain('ping');
    expect(compose.services.lb!.ports).toEqual(['3000:80']);
  });

  it('points the load balancer at both replicas, with /moratorium/health as its health check', () => {
    const mount = compose.services.lb!.volumes!.find((v) => v.endsWith(':/etc/caddy/Caddyfile:ro'))!;
    const caddyfile = readFileSync(join(ROOT, mount.split(':')[0]!), 'utf8');
    const proxy = /reverse_proxy\s+([^{]+)\{([^}]*)\}/.exec(caddyfile);
    expect(proxy?.[1]!.trim().split(/\s+/)).toEqual(REPLICAS.map((r) => `${r}:3000`));
    expect(proxy?.[2]).toMatch(/health_uri \/moratorium\/health\n/);
    expect(proxy?.[2]).toMatch(/health_status 200\n/);
  });

  it('gives each replica an environment the app accepts: PostgreSQL and Redis of the compose file, secrets from outside', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const outside = { APP_ID: '123', PRIVATE_KEY: privateKey, WEBHOOK_SECRET: 'w', MORATORIUM_API_TOKEN: 't', POSTGRES_PASSWORD: 'p' };
    for (const name of REPLICAS) {
      const raw = compose.services[name]!.environment!;
      // the secrets are never written in the file
      for (const k of ['APP_ID', 'PRIVATE_KEY', 'WEBHOOK_SECRET', 'MORATORIUM_API_TOKEN']) expect(raw[k], k).toBe(`\${${k}:?set ${k}}`);
      expect(() => interpolate(raw.APP_ID!, {})).toThrow('APP_ID is required');
      const env = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, interpolate(String(v), outside)]));
      const parsed = readEnv(env);
      expect(parsed.DATABASE_URL).toBe('postgres://moratorium:p@postgres:5432/moratorium');
      expect(parsed.REDIS_URL).toBe('redis://redis:6379');
      expect([parsed.HOST, parsed.PORT]).toEqual(['0.0.0.0', 3000]);
      expect(parsed.baseUrl).toBe('https://api.github.com');
      const db = new URL(parsed.DATABASE_URL!);
      const pgEnv = compose.services.postgres!.environment!;
      expect([db.username, db.pathname.slice(1)]).toEqual([pgEnv.POSTGRES_USER, pgEnv.POSTGRES_DB]);
    }
  });
});
