/**
 * A pull request's changed files (`exempt.paths`), as the pull request files endpoint listed them for
 * one head commit: read once per head commit and kept here.
 */
import type { ChangedFiles } from '../../gate/types.js';
import { key } from '../records.js';
import { bool, numOrNull, stmt, type Sql } from '../sql.js';

export const pullFileStatements = {
  getPullFiles: stmt('getPullFiles', 'SELECT changed_files, capped, files FROM pull_files WHERE account = ? AND repo = ? AND number = ? AND sha = ?'),
  setPullFiles: stmt(
    'setPullFiles',
    `INSERT INTO pull_files (account, repo, number, sha, changed_files, capped, files, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (account, repo, number, sha) DO UPDATE SET changed_files = excluded.changed_files, capped = excluded.capped, files = excluded.files, fetched_at = excluded.fetched_at`,
  ),
  prunePullFiles: stmt('prunePullFiles', 'DELETE FROM pull_files WHERE fetched_at < ?'),
};
const s = pullFileStatements;

/** how long a head commit's file list is kept (a PR still open after that reads it again) */
export const PULL_FILES_KEEP_MS = 30 * 86_400_000;

export function pullFilesRepo(sql: Sql) {
  return {
    async getPullFiles(account: string, repo: string, number: number, sha: string): Promise<ChangedFiles | null> {
      const row = await sql.get(s.getPullFiles, [key(account), key(repo), number, sha]);
      if (!row) return null;
      const list = JSON.parse(row.files as string) as [string, string | null][];
      return { files: list.map(([path, previousPath]) => ({ path, previousPath })), count: numOrNull(row.changed_files), capped: row.capped === 1 };
    },
    async setPullFiles(account: string, repo: string, number: number, sha: string, files: ChangedFiles, now: number): Promise<void> {
      const list = JSON.stringify(files.files.map((f) => [f.path, f.previousPath]));
      await sql.run(s.setPullFiles, [key(account), key(repo), number, sha, files.count, bool(files.capped), list, now]);
    },
    async prunePullFiles(now: number): Promise<void> {
      await sql.run(s.prunePullFiles, [now - PULL_FILES_KEEP_MS]);
    },
  };
}
