/** Small named values (last run of a daily task, and the like). */
import { stmt, type Sql } from '../sql.js';

export const metaStatements = {
  getMeta: stmt('getMeta', 'SELECT value FROM meta WHERE key = ?'),
  setMeta: stmt('setMeta', 'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
};
const s = metaStatements;

export function metaRepo(sql: Sql) {
  return {
    async getMeta(k: string): Promise<string | null> {
      const row = await sql.get(s.getMeta, [k]);
      return row ? (row.value as string) : null;
    },
    async setMeta(k: string, value: string): Promise<void> {
      await sql.run(s.setMeta, [k, value]);
    },
  };
}
