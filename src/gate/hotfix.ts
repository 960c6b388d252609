/**
 * Is a PR a hotfix (SPEC 2)? It carries an `exempt.labels` label added by someone holding
 * `exempt.labeled_by`, or its head branch matches `exempt.branches` and lives in the same repository.
 * Who added a label and whether they may is resolved by the caller; this only reads the result.
 * `why` is raw text (logins, label and branch names unescaped): whoever renders it escapes it.
 */
import { describePermission, type Config, type Permission } from '../config/schema.js';
import type { PullRequestChange } from './types.js';
import { firstMatchingPattern } from './branches.js';
import { pathExemption } from './paths.js';

export interface HotfixStatus {
  is: boolean;
  why: string;
  /** when `exempt.paths` makes it one: the patterns that exempted it */
  paths?: string[];
}


function lacks(p: Permission): string {
  return typeof p === 'string' ? `who lacks ${p}` : `who is not ${describePermission(p)}`;
}

function quote(s: string): string {
  return `"${s}"`;
}

/** Label names compare case-insensitively, as GitHub's do. */
function isExemptLabel(exempt: readonly string[], name: string): boolean {
  for (const l of exempt) if (l === name || l.toLowerCase() === name.toLowerCase()) return true;
  return false;
}

export function hotfixStatus(
  config: Pick<Config, 'exempt'>,
  change: Pick<PullRequestChange, 'labels' | 'headRef' | 'headInRepo' | 'files'>,
): HotfixStatus {
  const { exempt } = config;
  const pattern = firstMatchingPattern(exempt.branchPatterns, change.headRef);
  // the common case, without the lists below: no label, no matching branch, no exempt.paths
  if (change.labels.length === 0 && pattern === null && exempt.pathPatterns.length === 0) return { is: false, why: 'no hotfix label or branch' };
  const yes: string[] = [];
  const no: string[] = [];

  for (const label of change.labels) {
    if (!isExemptLabel(exempt.labels, label.name)) continue;
    const by = label.addedBy === null ? null : `@${label.addedBy}`;
    if (label.addedByAuthorized === true) {
      yes.push(`label ${quote(label.name)} added by ${by ?? 'an authorised person'} (${describePermission(exempt.labeled_by)})`);
    } else if (label.addedByAuthorized === false) {
      no.push(`label ${quote(label.name)} was added by ${by ?? 'someone'}, ${lacks(exempt.labeled_by)}`);
    } else {
      no.push(
        by === null
          ? `label ${quote(label.name)}: who added it could not be established, so it does not count`
          : `label ${quote(label.name)} was added by ${by}, whose permission could not be checked, so it does not count`,
      );
    }
  }

  if (pattern !== null) {
    if (change.headInRepo) yes.push(`head branch ${change.headRef} matches ${quote(pattern)}`);
    else no.push(`head branch ${change.headRef} matches ${quote(pattern)} but comes from a fork`);
  }

  // exempt.paths: like a hotfix (SPEC 12); read only when configured (the pattern list is empty otherwise)
  let paths: string[] | undefined;
  const byPaths = exempt.pathPatterns.length ? pathExemption(exempt.pathPatterns, change.files) : null;
  if (byPaths !== null) {
    if (byPaths.is) {
      yes.push(byPaths.why);
      paths = byPaths.patterns;
    } else no.push(`not exempt by paths: ${byPaths.why}`);
  }

  if (yes.length > 0) return paths ? { is: true, why: yes.join('; '), paths } : { is: true, why: yes.join('; ') };
  if (no.length > 0) return { is: false, why: byPaths !== null && no.length === 1 ? `no hotfix label or branch; ${no[0]!}` : no.join('; ') };
  return { is: false, why: 'no hotfix label or branch' };
}
