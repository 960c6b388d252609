/**
 * Branch patterns as GitHub writes them (fnmatch with path semantics):
 * `*` matches any run of characters except `/`, `**` any run including `/` (and `**​/` also matches
 * no directory at all), `?` one character except `/`, `[abc]` / `[a-z]` / `[!abc]` one character of a
 * set, and `\x` a literal x. Everything else is literal; the whole name must match.
 */
const REGEX_SPECIAL = /[.*+?^${}()|[\]\\/]/;

function literal(c: string): string {
  return REGEX_SPECIAL.test(c) ? `\\${c}` : c;
}

/** The pattern as an anchored regular expression. */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        let j = i + 2;
        while (pattern[j] === '*') j++;
        const atSegmentStart = i === 0 || pattern[i - 1] === '/';
        if (atSegmentStart && pattern[j] === '/') {
          re += '(?:.*/)?';
          i = j + 1;
        } else {
          re += '.*';
          i = j;
        }
      } else {
        re += '[^/]*';
        i++;
      }
    } else if (c === '?') {
      re += '[^/]';
      i++;
    } else if (c === '\\' && i + 1 < pattern.length) {
      re += literal(pattern[i + 1]!);
      i += 2;
    } else if (c === '[') {
      const cls = charClass(pattern, i);
      if (cls) {
        re += cls.re;
        i = cls.next;
      } else {
        re += '\\[';
        i++;
      }
    } else {
      re += literal(c);
      i++;
    }
  }
  return new RegExp(`^${re}$`, 'u');
}

/** `[...]` starting at `start`, or null when it is not closed (then `[` is literal). */
function charClass(pattern: string, start: number): { re: string; next: number } | null {
  let i = start + 1;
  let negate = false;
  if (pattern[i] === '!' || pattern[i] === '^') {
    negate = true;
    i++;
  }
  let body = '';
  let first = true;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === ']' && !first) {
      // a class never matches `/` (path semantics)
      return { re: negate ? `[^/${body}]` : `(?!/)[${body}]`, next: i + 1 };
    }
    if (c === '\\' && i + 1 < pattern.length) {
      body += classChar(pattern[i + 1]!);
      i += 2;
    } else if (c === '-' && !first && pattern[i + 1] !== ']' && pattern[i + 1] !== undefined) {
      body += '-';
      i++;
    } else {
      body += classChar(c);
      i++;
    }
    first = false;
  }
  return null;
}

function classChar(c: string): string {
  return /[\]\\^\-[]/.test(c) ? `\\${c}` : c;
}

/** A branch pattern as written, with its regular expression (compiled with the config). */
export interface BranchPattern {
  readonly text: string;
  readonly re: RegExp;
}

export function compilePattern(text: string): BranchPattern {
  let re: RegExp;
  try {
    re = globToRegExp(text);
  } catch {
    // e.g. a reversed range `[z-a]`: such a pattern matches nothing rather than everything
    re = /(?!)/;
  }
  return { text, re };
}

/**
 * Why a path pattern (`exempt.paths`) is not usable, or null when it is. The syntax is that of
 * branch patterns; what is lenient there (an unclosed `[` is literal, a reversed range matches
 * nothing) is a mistake here, where a pattern that silently matches nothing would quietly keep
 * every PR gated, so it is reported as a config problem.
 */
export function pathPatternProblem(text: string): string | null {
  if (text.trim() !== text) return 'a path pattern has no leading or trailing spaces';
  if (text.startsWith('/')) return 'paths are relative to the repository root: drop the leading /';
  if (text.startsWith('./')) return 'paths are relative to the repository root: drop the leading ./';
  if (text.endsWith('/')) return 'a pattern matches files, not folders: write docs/** for everything under docs/';
  if (/(^|\/)\.\.?(\/|$)/.test(text)) return 'a path has no . or .. segments';
  if (text.includes('//')) return 'a path has no empty segments (//)';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\\') {
      if (i + 1 >= text.length) return 'a trailing \\ escapes nothing';
      i += 2;
    } else if (c === '[') {
      const cls = charClass(text, i);
      if (cls === null) return 'unclosed [ (write \\[ for a literal [)';
      try {
        new RegExp(cls.re, 'u');
      } catch {
        return `invalid character class ${text.slice(i, cls.next)} (a range must go from low to high, such as [a-z])`;
      }
      i = cls.next;
    } else i++;
  }
  return null;
}
