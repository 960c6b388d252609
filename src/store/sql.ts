/**
 * What a repository module needs from an engine: run one prepared statement. Each statement is
 * written once in the SQL both engines speak (`?` placeholders, `ON CONFLICT`, `RETURNING`), with a
 * PostgreSQL text of its own where the dialects differ. SQLite prepares each statement once per
 * connection; PostgreSQL runs each as a named prepared statement (parsed and planned once per
 * pooled connection).
 */
export type Row = Record<string, unknown>;
export type Param = string | number | null;

export interface Statement {
  readonly name: string;
  readonly sqlite: string;
  readonly pg: string;
}

const names = new Set<string>();

/** `?` placeholders become `$1, $2, ...` for PostgreSQL (no statement has a `?` inside a literal). */
export function toPg(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

export function stmt(name: string, sqlite: string, pg?: string): Statement {
  if (names.has(name)) throw new Error(`two store statements are named ${name}`);
  names.add(name);
  return { name, sqlite, pg: pg ?? toPg(sqlite) };
}

export interface Sql {
  readonly dialect: 'sqlite' | 'pg';
  all(s: Statement, params?: readonly Param[]): Promise<Row[]>;
  get(s: Statement, params?: readonly Param[]): Promise<Row | undefined>;
  /** the number of rows the statement changed */
  run(s: Statement, params?: readonly Param[]): Promise<number>;
}

export const num = (v: unknown): number => v as number;
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : (v as number));
export const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : (v as string));
export const bool = (b: boolean): number => (b ? 1 : 0);
