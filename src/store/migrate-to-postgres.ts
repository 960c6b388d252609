/**
 * `npx moratorium migrate-to-postgres --from FILE --to URL`: moves every row of the SQLite file to
 * an empty PostgreSQL database (migrated first), in one transaction, then checks that each table
 * holds as many rows as the file's. Run it with the app stopped. The file is opened read-only and
 * is not changed; a job held by the old process is copied free (no lease), so a replica runs it.
 */
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';
import { describeUrl, openPostgresStore } from './postgres/engine.js';

/** in an order that keeps every reference valid (external incidents after incidents) */
export const TABLES = [
  'installations', 'repos', 'incidents', 'external_incidents', 'freezes', 'window_suppressions', 'overrides', 'override_approvals',
  'deploys', 'posted', 'pulls', 'label_grants', 'audit', 'deliveries', 'command_comments', 'jobs', 'held_deployments', 'meta', 'claims', 'pull_files',
  'conditional_reads',
] as const;
/** tables whose id PostgreSQL generates: its sequence continues after the copied ids */
const IDENTITY = new Set(['incidents', 'freezes', 'overrides', 'deploys', 'audit', 'jobs', 'held_deployments']);
const LEASE_COLUMNS = new Set(['locked_by', 'locked_until']);

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

export interface MigrationReport {
  schemaVersion: number;
  tables: { table: string; rows: number }[];
}

export class MigrationRefused extends Error {}

export async function migrateToPostgres(from: string, to: string): Promise<MigrationReport> {
  let src: Database.Database;
  try {
    src = new Database(from, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new MigrationRefused(`cannot open the SQLite file ${from}: ${(error as Error).message}`);
  }
  try {
    const version = src.pragma('user_version', { simple: true }) as number;
    const latest = MIGRATIONS[MIGRATIONS.length - 1]!.id;
    if (version === 0) throw new MigrationRefused(`${from} is not a Moratorium database (schema version 0)`);
    if (version > latest) throw new MigrationRefused(`${from} has schema version ${version}, newer than this Moratorium (${latest}): use the newer release`);

    const target = await openPostgresStore(to, { poolSize: 2, applicationName: 'moratorium migrate-to-postgres', queryTimeoutMs: 0 });
    const client = await target.pool.connect();
    try {
      // one snapshot of the file, one transaction on the target
      src.exec('BEGIN');
      await client.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
      for (const table of TABLES) {
        const any = await client.query(`SELECT 1 FROM ${q(table)} LIMIT 1`);
        if (any.rowCount) throw new MigrationRefused(`the PostgreSQL database at ${describeUrl(to)} already holds state (table ${table}): migrate into an empty database`);
      }
      const tables: MigrationReport['tables'] = [];
      for (const table of TABLES) {
        const srcColumns = (src.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]).map((c) => c.name);
        const pgColumns = new Set(
          (await client.query<{ column_name: string }>('SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1', [table])).rows.map((r) => r.column_name),
        );
        const columns = srcColumns.filter((c) => pgColumns.has(c) && !LEASE_COLUMNS.has(c));
        const missing = [...pgColumns].filter((c) => !srcColumns.includes(c) && !LEASE_COLUMNS.has(c));
        if (srcColumns.length === 0) throw new MigrationRefused(`${from} has no table ${table}`);
        if (missing.length && version === latest) throw new Error(`table ${table}: PostgreSQL has columns the file lacks: ${missing.join(', ')}`);
        const batch = Math.max(1, Math.floor(30_000 / columns.length));
        let rows = 0;
        let pending: unknown[][] = [];
        const flush = async () => {
          if (!pending.length) return;
          const values = pending.map((_, r) => `(${columns.map((__, c) => `$${r * columns.length + c + 1}`).join(', ')})`).join(', ');
          await client.query(`INSERT INTO ${q(table)} (${columns.map(q).join(', ')}) VALUES ${values}`, pending.flat());
          rows += pending.length;
          pending = [];
        };
        for (const row of src.prepare(`SELECT ${columns.map(q).join(', ')} FROM ${q(table)}`).raw().iterate() as Iterable<unknown[]>) {
          pending.push(row);
          if (pending.length >= batch) await flush();
        }
        await flush();
        if (IDENTITY.has(table)) {
          await client.query(`SELECT setval(pg_get_serial_sequence($1, 'id'), COALESCE((SELECT MAX(id) FROM ${q(table)}), 0) + 1, false)`, [table]);
        }
        const copied = Number((await client.query<{ n: string }>(`SELECT COUNT(*) AS n FROM ${q(table)}`)).rows[0]!.n);
        const expected = (src.prepare(`SELECT COUNT(*) AS n FROM ${q(table)}`).get() as { n: number }).n;
        if (copied !== expected || rows !== expected) throw new Error(`table ${table}: ${expected} rows in the file, ${copied} in PostgreSQL`);
        tables.push({ table, rows: copied });
      }
      await client.query('COMMIT');
      return { schemaVersion: version, tables };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      if (src.inTransaction) src.exec('ROLLBACK');
      client.release();
      await target.close();
    }
  } finally {
    src.close();
  }
}

export async function migrateToPostgresCli(argv: string[], io: { out(s: string): void; err(s: string): void }): Promise<number> {
  const usage = 'Usage: moratorium migrate-to-postgres --from FILE --to postgres://...\n';
  let from: string | undefined;
  let to: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--from') from = argv[++i];
    else if (a === '--to') to = argv[++i];
    else if (a.startsWith('--from=')) from = a.slice(7);
    else if (a.startsWith('--to=')) to = a.slice(5);
    else {
      io.err(`unknown argument ${a}\n${usage}`);
      return 2;
    }
  }
  if (!from || !to) {
    io.err(usage);
    return 2;
  }
  if (!/^postgres(ql)?:\/\//i.test(to)) {
    io.err(`--to must be a postgres:// or postgresql:// URL\n${usage}`);
    return 2;
  }
  try {
    const report = await migrateToPostgres(from, to);
    io.out(`moved ${from} (schema version ${report.schemaVersion}) to PostgreSQL at ${describeUrl(to)}:\n`);
    for (const t of report.tables) io.out(`  ${t.table}: ${t.rows}\n`);
    io.out('Start the app with DATABASE_URL set to that URL.\n');
    return 0;
  } catch (error) {
    // pg's messages never carry the password; describeUrl leaves it out too
    io.err(`migrate-to-postgres failed, no state was moved: ${(error as Error).message}\n`);
    return 1;
  }
}
