/**
 * `exempt.paths` (SPEC 12): a PR whose changed files all match the patterns passes `features`
 * freezes like a hotfix (never `all` freezes or cadence). A renamed file counts with its old and its
 * new path. A PR whose file list is not known, is empty, or is as long as the endpoint's cap (or whose
 * `changed_files` exceeds it) is never exempt by paths: the list may be incomplete.
 */
import type { BranchPattern } from '../config/patterns.js';
import type { ChangedFiles } from './types.js';

/** The pull request files endpoint returns at most this many files. */
export const FILES_CAP = 3000;

export interface PathExemption {
  is: boolean;
  /** raw text (paths and patterns unescaped): whoever renders it escapes it */
  why: string;
  /** with `is`: the patterns (as written) that matched at least one path, in config order */
  patterns: string[];
}

function quote(s: string): string {
  return `"${s}"`;
}

/** Is the PR exempt by its paths? null when no `exempt.paths` is configured. */
export function pathExemption(patterns: readonly BranchPattern[], files: ChangedFiles | null | undefined): PathExemption | null {
  if (patterns.length === 0) return null;
  const no = (why: string): PathExemption => ({ is: false, why, patterns: [] });
  if (files === null || files === undefined) return no('its changed files are not known, so exempt.paths does not apply');
  if ((files.count !== null && files.count > FILES_CAP) || files.capped || files.files.length >= FILES_CAP) {
    return no(`it changes ${files.count !== null && files.count > FILES_CAP ? files.count : `${FILES_CAP} or more`} files, more than GitHub lists (${FILES_CAP}), so it is never exempt by exempt.paths`);
  }
  if (files.files.length === 0) return no('it changes no files, so exempt.paths does not apply');
  const used = new Array<boolean>(patterns.length).fill(false);
  for (const f of files.files) {
    for (const path of f.previousPath === null || f.previousPath === f.path ? [f.path] : [f.previousPath, f.path]) {
      let matched = false;
      for (let i = 0; i < patterns.length; i++) {
        if (patterns[i]!.re.test(path)) {
          used[i] = true;
          matched = true;
          break;
        }
      }
      if (!matched) {
        const renamed = path === f.previousPath ? ` (renamed to ${f.path})` : f.previousPath !== null && f.previousPath !== f.path ? ` (renamed from ${f.previousPath})` : '';
        return no(`${path}${renamed} matches no exempt.paths pattern`);
      }
    }
  }
  const matched = patterns.filter((_, i) => used[i]).map((p) => p.text);
  const n = files.files.length;
  return {
    is: true,
    why: `${n === 1 ? 'its only changed file matches' : `all ${n} changed files match`} exempt.paths ${matched.map(quote).join(', ')}`,
    patterns: matched,
  };
}
