/**
 * `npx moratorium migrate-to-postgres --from FILE --to URL` moves every table of a SQLite file made
 * by today's store into an empty PostgreSQL database, where the PostgreSQL engine reads the same
 * records as the SQLite engine reads from the file.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli.js';
import { TABLES } from '../../../src/store/migrate-to-postgres.js';
import { openPostgresStore } from '../../../src/store/postgres/engine.js';
import { openSqliteStore } from '../../../src/store/sqlite/engine.js';
import { PG_URL, requireServer, withDatabase } from '../../support/engines.js';

requireServer('MORATORIUM_TEST_DATABASE_URL', 'the migrate-to-postgres test');

const T0 = Date.UTC(2026, 11, 1, 9, 0);

async function cli(argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, { now: T0, out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

/** a file with rows in every table, written by the SQLite engine */
async function sqliteFile(): Promise<string> {
  const path = join(mkdtempSync(join(tmpdir(), 'moratorium-move-')), 'm.db');
  const s = openSqliteStore(path);
  await s.transaction(async (tx) => {
    await tx.upsertInstallation(7, 'Acme', 'Organization', false, T0);
    await tx.upsertRepo('acme', 'api', 7, 'acme/api', 'main');
    await tx.setLastValidConfig('acme', 'api', '{"enforcement":"block"}');
    const i = await tx.createIncident({ account: 'acme', repo: null, severity: 'sev1', title: 'Database failover', by: 'alice', source: 'command', now: T0 });
    await tx.linkExternalIncident('pagerduty', 'P1', i.id, T0);
    await tx.createFreeze({ account: 'acme', repo: 'api', mode: 'features', reason: 'launch', by: 'bob', until: T0 + 3_600_000, source: 'api', now: T0 });
    await tx.suppressWindow({ account: 'acme', repo: null, window: 'weekend', start: T0, end: T0 + 1000, by: 'carol', now: T0 });
    await tx.createOverride({ account: 'acme', repo: 'api', number: 3, sha: 'abc', by: 'dave', reason: 'hotfix', now: T0 });
    await tx.recordDeploy({ dedupeKey: 'merge:1', account: 'acme', repo: 'api', kind: 'merge', at: T0, prNumber: 1 });
    await tx.setPosted({ account: 'acme', repo: 'api', sha: 'abc', decisionKey: 'k', conclusion: 'failure', title: 'Frozen', blockedUntil: null, nextChangeAt: T0 + 1000, postedAt: T0 });
    await tx.upsertPull({ account: 'acme', repo: 'api', number: 3, installationId: 7, headSha: 'abc', headRef: 'f', baseRef: 'main', headInRepo: true, draft: false, labels: ['hotfix'], title: 'Fix', state: 'open', updatedAt: T0 });
    await tx.setLabelGrant('acme', 'api', 3, 'hotfix', 'dave', true, T0);
    for (let n = 0; n < 1200; n++) await tx.audit({ at: T0 + n, account: 'acme', actor: 'alice', source: 'command', action: 'incident.open', incidentId: i.id, details: { n } });
    await tx.claimDelivery('d1', 'issue_comment', T0);
    await tx.claimComment(2_700_000_000, 'acme', T0);
    await tx.enqueueJob('reply', { installationId: 7, text: 'Opened INC-1' }, T0, T0);
    await tx.holdDeployment({ account: 'acme', repo: 'api', installationId: 7, environment: 'production', callbackUrl: 'https://x/cb', deploymentId: 9, sha: 'abc', ref: 'main', prNumbers: [3], requestedAt: T0 });
    await tx.setMeta('required-check', String(T0));
    await tx.putConditionalRead('7 GET /repos/acme/api/pulls page=1', 'W/"e1"', '{"items":[],"more":false}', T0);
  });
  await s.close();
  return path;
}

describe.skipIf(!PG_URL)('moratorium migrate-to-postgres', () => {
  let url: string;
  let name: string;
  beforeEach(async () => {
    name = `moratorium_move_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    url = withDatabase(PG_URL!, name);
  });
  afterEach(async () => {
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  it('moves every table, and PostgreSQL then reads what SQLite read', async () => {
    const file = await sqliteFile();
    const r = await cli(['migrate-to-postgres', '--from', file, '--to', url]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('audit: 1200');
    expect(r.out).not.toContain('postgres@');

    const lite = openSqliteStore(file);
    const pgs = await openPostgresStore(url);
    try {
      const both = async <T>(f: (s: typeof lite) => Promise<T>) => {
        const [a, b] = await Promise.all([f(lite), f(pgs as unknown as typeof lite)]);
        expect(b).toEqual(a);
        return b;
      };
      const [incident] = await both((s) => s.activeIncidents('acme'));
      await both((s) => s.listInstallations());
      await both((s) => s.allRepos());
      await both((s) => s.activeFreezes('acme', T0));
      await both((s) => s.liveSuppressions('acme', T0));
      await both((s) => s.activeOverride('acme', 'api', 3));
      await both((s) => s.deployTimes('acme', 'api', 'merge', '', T0 - 1));
      await both((s) => s.getPosted('acme', 'api', 'abc'));
      await both((s) => s.openPullsBySha('acme', 'api', 'abc'));
      await both((s) => s.getLabelGrant('acme', 'api', 3, 'hotfix'));
      await both((s) => s.auditOfIncident(incident!.id));
      await both((s) => s.externalOfIncident(incident!.id));
      await both((s) => s.waitingDeployments());
      await both((s) => s.dueJobs(T0, 10));
      await both((s) => s.getMeta('required-check'));
      await both((s) => s.getConditionalRead('7 GET /repos/acme/api/pulls page=1'));
      expect(await pgs.deliverySeen('d1')).toBe(true);
      expect(await pgs.commentSeen(2_700_000_000)).toBe(true);
      // new rows continue after the moved ids
      const next = await pgs.createIncident({ account: 'acme', repo: null, severity: 'sev2', title: 'next', by: 'x', source: 'api', now: T0 });
      expect(next.id).toBe(incident!.id + 1);
      expect(await pgs.audit({ at: T0, account: 'acme', actor: 'x', source: 'api', action: 'a' })).toBe(1201);
      const [job] = await pgs.claimJobs({ owner: 'replica', now: T0, leaseMs: 30_000, limit: 1 });
      expect(job?.payload).toEqual({ installationId: 7, text: 'Opened INC-1' });
    } finally {
      await lite.close();
      await pgs.close();
    }
  });

  it('runs from the command line as a user runs it (bin/moratorium.js, the compiled CLI)', async () => {
    const file = await sqliteFile();
    const run = (args: string[]) =>
      new Promise<{ code: number; out: string; err: string }>((resolve) => {
        execFile(process.execPath, [join(import.meta.dirname, '../../../bin/moratorium.js'), ...args], { timeout: 60_000 }, (error, out, err) =>
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, out, err }),
        );
      });
    const moved = await run(['migrate-to-postgres', '--from', file, '--to', url]);
    expect([moved.code, moved.err]).toEqual([0, '']);
    expect(moved.out).toContain('audit: 1200');
    const pgs = await openPostgresStore(url);
    try {
      expect(await pgs.listInstallations()).toEqual([{ id: 7, account: 'acme', accountType: 'Organization', suspended: false }]);
      expect((await pgs.activeIncidents('acme')).map((i) => i.title)).toEqual(['Database failover']);
    } finally {
      await pgs.close();
    }
    // a second run into the same database is refused, with exit code 1
    const again = await run(['migrate-to-postgres', '--from', file, '--to', url]);
    expect([again.code, again.err]).toEqual([1, expect.stringContaining('already holds state')]);
  });

  it('refuses a database that already holds state, and moves nothing', async () => {
    const file = await sqliteFile();
    expect((await cli(['migrate-to-postgres', '--from', file, '--to', url])).code).toBe(0);
    const again = await cli(['migrate-to-postgres', '--from', file, '--to', url]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/already holds state \(table installations\): migrate into an empty database/);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      expect(Number((await c.query('SELECT COUNT(*) AS n FROM audit')).rows[0].n)).toBe(1200);
    } finally {
      await c.end();
    }
  });

  it('refuses a missing file, a non-Moratorium file and bad arguments with a message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moratorium-move-'));
    const missing = await cli(['migrate-to-postgres', '--from', join(dir, 'nope.db'), '--to', url]);
    expect([missing.code, missing.err]).toEqual([1, expect.stringContaining('cannot open the SQLite file')]);
    const empty = join(dir, 'empty.db');
    new (await import('better-sqlite3')).default(empty).close();
    const notOurs = await cli(['migrate-to-postgres', '--from', empty, '--to', url]);
    expect([notOurs.code, notOurs.err]).toEqual([1, expect.stringContaining('is not a Moratorium database')]);
    expect((await cli(['migrate-to-postgres', '--from', empty])).code).toBe(2);
    const mysql = await cli(['migrate-to-postgres', '--from', empty, '--to', 'mysql://x']);
    expect([mysql.code, mysql.err]).toEqual([2, expect.stringContaining('--to must be a postgres://')]);
    expect(TABLES).toHaveLength(21);
    const dead = await cli(['migrate-to-postgres', '--from', await sqliteFile(), '--to', 'postgres://mover:pa55word@127.0.0.1:1/state']);
    expect([dead.code, dead.err]).toEqual([1, expect.stringMatching(/^migrate-to-postgres failed, no state was moved: PostgreSQL at 127\.0\.0\.1:1\/state: .*ECONNREFUSED/)]);
    expect(dead.err).not.toContain('pa55word');
  });
});
