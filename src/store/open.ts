/**
 * Chooses the store's engine: PostgreSQL when DATABASE_URL is a postgres:// URL (MORATORIUM_DB is
 * then ignored), else the SQLite file. A database that cannot be reached or migrated is a clear
 * error: the caller exits.
 */
import type { AsyncStore } from './contract.js';
import { openPostgresStore, type PostgresOptions } from './postgres/engine.js';
import { openSqliteStore } from './sqlite/engine.js';

export interface OpenStoreOptions {
  /** DATABASE_URL */
  databaseUrl?: string | undefined;
  /** MORATORIUM_DB: the SQLite file (or ':memory:') */
  sqlitePath: string;
  postgres?: PostgresOptions;
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

export async function openStore(o: OpenStoreOptions): Promise<AsyncStore> {
  const url = o.databaseUrl?.trim();
  if (url) {
    if (!isPostgresUrl(url)) throw new Error('DATABASE_URL must be a postgres:// or postgresql:// URL');
    return openPostgresStore(url, o.postgres);
  }
  return openSqliteStore(o.sqlitePath);
}
