/**
 * Neutralising user text (incident titles, freeze reasons, logins, label and branch names, config
 * messages) before it goes into anything GitHub renders. SPEC 4: replies and summaries never ping
 * anyone or render markup from user text.
 *
 * - `escapeMarkdown` is for markdown bodies (check summaries, comments): it defuses @mentions,
 *   escapes HTML and every markdown punctuation character, and folds line breaks into spaces so user
 *   text cannot start a heading, list, quote or table row of its own.
 * - `escapePlain` is for plain-text, one-line fields (check run titles, commit status descriptions):
 *   GitHub does not render markup there, so only mentions are defused and the text is folded to one line.
 */

/** Zero-width space: `@\u200balice` looks like `@alice` but is not a mention. */
const ZWSP = '\u200b';

// Control characters other than tab/newline, bidi overrides and isolates (which can reorder text).
// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g;
const LINE_BREAKS = /\s*[\r\n\u2028\u2029]+\s*/g;
/** `@` not already followed by our zero-width space. Defusing every `@` is simpler than guessing GitHub's mention rules. */
const AT = /@(?!\u200b)/g;
/** Inline markdown punctuation (CommonMark: any ASCII punctuation may be backslash-escaped). */
const MD_PUNCT = /[\\`*_{}[\]()!|~]/g;
/** What would start a block (heading, list item, quote, setext line) if the text began a line. */
const BLOCK_START = /^(\s*)(?:([#+=-])|(\d+)\.)/;
/** Text made of these needs nothing (the common case: a login, a plain title). */
const SAFE = /^[A-Za-z][A-Za-z0-9 "',./:?%]*$/;
const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/**
 * Bounded memo of escaped strings: the same logins, titles and reasons are escaped on every
 * evaluation. It changes no result, only how fast one is computed.
 */
const MEMO_LIMIT = 2_000;
const plainMemo = new Map<string, string>();
const markdownMemo = new Map<string, string>();

function memo(cache: Map<string, string>, text: string, compute: (t: string) => string): string {
  if (text.length > 512) return compute(text);
  let out = cache.get(text);
  if (out === undefined) {
    out = compute(text);
    if (cache.size >= MEMO_LIMIT) cache.clear();
    cache.set(text, out);
  }
  return out;
}

function plain(text: string): string {
  return text.replace(INVISIBLE, '').replace(LINE_BREAKS, ' ').replace(AT, `@${ZWSP}`);
}

function markdown(text: string): string {
  return text
    .replace(INVISIBLE, '')
    .replace(LINE_BREAKS, ' ')
    .replace(MD_PUNCT, '\\$&')
    .replace(BLOCK_START, (_m, space: string, marker: string | undefined, digits: string | undefined) =>
      marker !== undefined ? `${space}\\${marker}` : `${space}${digits}\\.`,
    )
    .replace(/[&<>]/g, (c) => HTML[c]!)
    .replace(AT, `@${ZWSP}`);
}

/** One line, no mentions, no control characters: for plain-text fields. */
export function escapePlain(text: string): string {
  if (SAFE.test(text)) return text;
  return memo(plainMemo, text, plain);
}

/** User text made inert for a markdown body: renders as the literal text, on one line, pinging nobody. */
export function escapeMarkdown(text: string): string {
  if (SAFE.test(text)) return text;
  return memo(markdownMemo, text, markdown);
}

/**
 * Text for inside a markdown code span (`` `...` ``): code spans render literally and never ping, so
 * only backticks (which would end the span) and line breaks need handling.
 */
export function codeSpan(text: string): string {
  const flat = text.replace(INVISIBLE, '').replace(LINE_BREAKS, ' ');
  if (flat === '') return '` `';
  let fence = '`';
  while (flat.includes(fence)) fence += '`';
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}
