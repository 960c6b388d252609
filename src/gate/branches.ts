/**
 * Which branches a config gates. The patterns (GitHub's: `*` stops at `/`, `**` crosses it; see
 * src/config/patterns.ts) are compiled with the config, so matching is a regular expression test.
 */
import type { Config } from '../config/schema.js';
import { compilePattern, type BranchPattern } from '../config/patterns.js';

/** Does the branch name match the pattern? (Compiles it: for one-off checks; the gate uses compiled ones.) */
export function matchesBranch(pattern: string, branch: string): boolean {
  return compilePattern(pattern).re.test(branch);
}

/** The first of the patterns the branch matches (as written), or null. */
export function firstMatchingPattern(patterns: readonly BranchPattern[], branch: string): string | null {
  for (const p of patterns) if (p.re.test(branch)) return p.text;
  return null;
}

/** Is a PR into `baseRef` gated? An empty `branches` list gates only the default branch. */
export function isGatedBranch(config: Pick<Config, 'branches' | 'branchPatterns'>, baseRef: string, defaultBranch: string): boolean {
  const ref = stripRefsHeads(baseRef);
  if (config.branches.length === 0) return ref === stripRefsHeads(defaultBranch);
  return firstMatchingPattern(config.branchPatterns, ref) !== null;
}

/** `refs/heads/main` -> `main`; other names unchanged. */
export function stripRefsHeads(ref: string): string {
  return ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : ref;
}
