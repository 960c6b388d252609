/** The asynchronous SQLite engine opens the files earlier releases made, and migrates a new file once. */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../../src/store/migrations.js';
import { openSqliteStore } from '../../../src/store/sqlite/engine.js';

const T0 = Date.UTC(2026, 11, 1, 9, 0);

describe('SQLite files across the two stores', () => {
  it('opens a file of an earlier schema version, migrates it on and keeps its state', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'moratorium-compat-')), 'm.db');
    // a file as a release before the job leases left it: migrations 1 and 2 only
    const old = new Database(path);
    for (const m of MIGRATIONS.filter((x) => x.id <= 2)) old.exec(m.sql);
    old.pragma('user_version = 2');
    old.prepare(`INSERT INTO incidents (account, repo, severity, title, phase, opened_at, opened_by, source) VALUES ('acme', '', 'sev1', 'old', 'open', ?, 'a', 'command')`).run(T0);
    old.prepare(`INSERT INTO jobs (kind, payload, run_at, created_at) VALUES ('reply', '{"n":1}', ?, ?)`).run(T0, T0);
    old.close();

    const store = openSqliteStore(path);
    expect(await store.schemaVersion()).toBe(MIGRATIONS[MIGRATIONS.length - 1]!.id);
    expect((await store.activeIncidents('acme')).map((i) => i.title)).toEqual(['old']);
    const [job] = await store.claimJobs({ owner: 'r1', now: T0, leaseMs: 30_000, limit: 5 });
    expect(job?.payload).toEqual({ n: 1 });
    await store.close();
  });

  it('migrates a new file once when several processes open it at once', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'moratorium-compat-')), 'm.db');
    const engine = fileURLToPath(new URL('../../../src/store/sqlite/engine.ts', import.meta.url));
    // each process loads everything, says so, and opens the file when told: all at the same moment
    const script = [
      `const m = await import(${JSON.stringify(engine)});`,
      `console.log('ready');`,
      `await new Promise((r) => process.stdin.once('data', r));`,
      `const s = m.openSqliteStore(${JSON.stringify(path)});`,
      `console.log('version', await s.schemaVersion());`,
      `await s.close(); process.exit(0);`,
    ].join(' ');
    const children = Array.from({ length: 4 }, () => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
      const run = { out: '', err: '', ready: null as unknown as Promise<void>, exit: null as unknown as Promise<number | null> };
      run.ready = new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => ((run.out += d.toString()), run.out.includes('ready') && resolve())));
      child.stderr.on('data', (d: Buffer) => (run.err += d.toString()));
      run.exit = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
      return { child, run };
    });
    await Promise.all(children.map((c) => c.run.ready));
    for (const c of children) c.child.stdin.write('go\n');
    const codes = await Promise.all(children.map((c) => c.run.exit));
    for (const [i, c] of children.entries()) expect([codes[i], c.run.out.trim().split('\n').at(-1), c.run.err]).toEqual([0, `version ${MIGRATIONS[MIGRATIONS.length - 1]!.id}`, '']);
    const db = new Database(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS[MIGRATIONS.length - 1]!.id);
    expect((db.prepare(`SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'claims'`).get() as { n: number }).n).toBe(1);
    db.close();
  }, 60_000);

});
