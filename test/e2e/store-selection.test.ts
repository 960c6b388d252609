/**
 * SPEC 9: DATABASE_URL selects PostgreSQL, migrated at start; a database that cannot be reached at
 * start is a clear error and exit 1; /moratorium/health answers 503 while the database does not
 * answer, and 200 again once it does. (The rest of the e2e suite runs on both stores.)
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGitHub } from '../fake-github/index.js';
import { E2E_STORE, REPO_ROOT, startApp, type AppHandle } from './harness.js';

/** `npm start` as a user runs it, with only these variables; resolves with its exit code and output */
function startExpectingExit(extra: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    APP_ID: '1',
    PRIVATE_KEY: privateKey,
    WEBHOOK_SECRET: 'secret',
    HOST: '127.0.0.1',
    PORT: '0',
    GHE_HOST: '127.0.0.1:1',
    GHE_PROTOCOL: 'http',
    MORATORIUM_DB: join(mkdtempSync(join(tmpdir(), 'moratorium-select-')), 'm.db'),
    ...extra,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/main.js'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the app did not exit within 20 s:\n${out}`));
    }, 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe.skipIf(E2E_STORE === 'postgres')('choosing the store at start', () => {
  it('exits 1 with a clear error when the PostgreSQL of DATABASE_URL cannot be reached, without printing its password', async () => {
    const { code, out } = await startExpectingExit({ DATABASE_URL: 'postgres://moratorium:s3cret-pw@127.0.0.1:1/state' });
    expect(code).toBe(1);
    expect(out).toContain('the database could not be opened: PostgreSQL at 127.0.0.1:1/state (DATABASE_URL)');
    expect(out).not.toContain('s3cret-pw');
  });

  it('exits 1 when DATABASE_URL is not a PostgreSQL URL', async () => {
    const { code, out } = await startExpectingExit({ DATABASE_URL: 'mysql://127.0.0.1/state' });
    expect(code).toBe(1);
    expect(out).toContain('DATABASE_URL must be a postgres:// or postgresql:// URL');
  });
});

describe.skipIf(E2E_STORE !== 'postgres')('on PostgreSQL (DATABASE_URL)', () => {
  let fake: FakeGitHub;
  let app: AppHandle;
  let admin: pg.Client;
  let database: string;
  beforeAll(async () => {
    fake = await FakeGitHub.start();
    fake.addInstallation({ id: 7, account: 'acme' });
    app = await startApp({ fake });
    // the start-up reconcile stores the installation (the API answers 404 for an unknown account)
    await app.waitForLogLine((l) => l.msg === 'reconcile done', 30_000);
    database = new URL(app.databaseUrl!).pathname.slice(1);
    admin = new pg.Client({ connectionString: process.env.MORATORIUM_TEST_DATABASE_URL });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.query(`ALTER DATABASE ${database} ALLOW_CONNECTIONS true`).catch(() => {});
    await admin?.end();
    await fake?.stop();
  });

  const health = async () => {
    const res = await fetch(`${app.url}/moratorium/health`, { signal: AbortSignal.timeout(15_000) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('keeps its state in the database of DATABASE_URL, migrated at start', async () => {
    const tables = await admin.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [database]);
    expect(tables.rowCount).toBe(1);
    const c = new pg.Client({ connectionString: app.databaseUrl! });
    await c.connect();
    try {
      const { rows } = await c.query(`SELECT COUNT(*)::int AS n FROM information_schema.tables WHERE table_name IN ('jobs', 'incidents', 'freezes')`);
      expect(rows[0].n).toBe(3);
    } finally {
      await c.end();
    }
    const created = await app.api('POST', '/moratorium/api/v1/incidents', { account: 'acme', severity: 'sev2', title: 'Stored in PostgreSQL' });
    expect(created.status).toBe(201);
    const c2 = new pg.Client({ connectionString: app.databaseUrl! });
    await c2.connect();
    try {
      const { rows } = await c2.query(`SELECT title FROM incidents`);
      expect(rows.map((r) => r.title)).toEqual(['Stored in PostgreSQL']);
    } finally {
      await c2.end();
    }
  });

  it('answers /moratorium/health with 503 while the database refuses connections, and 200 once it is back', async () => {
    expect(await health()).toEqual({ status: 200, body: { ok: true } });
    await admin.query(`ALTER DATABASE ${database} ALLOW_CONNECTIONS false`);
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [database]);
    const down = await health();
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ ok: false, error: expect.stringContaining('database') });
    await admin.query(`ALTER DATABASE ${database} ALLOW_CONNECTIONS true`);
    expect(await health()).toEqual({ status: 200, body: { ok: true } });
  });
});
