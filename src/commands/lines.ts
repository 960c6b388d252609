/**
 * Which lines of a comment GitHub renders as ordinary text (SPEC section 4). The markdown is read
 * by `markdown-it` (CommonMark with GFM tables and strikethrough), as triagebot reads it with
 * pulldown-cmark, and a line counts when its first character is in the text of a paragraph or a
 * setext heading outside block quotes: so fenced and indented code, inline code, HTML (comments,
 * `<pre>`, `<div>` ... blocks, inline tags), block quotes and the lines that lazily continue them,
 * tables, ATX headings (`# /freeze` starts with `#`), list markers, image alt text, link
 * destinations and link reference definitions never start a command.
 *
 * Pure: no I/O, no clock, never throws. The grammar of a command is in `grammar.ts`.
 *
 * markdown-it gives block tokens their lines (`map`) but inline tokens no offsets, so the inline
 * rules that can hide text (code spans, inline HTML, autolinks, images, the destination and
 * reference part of links) are wrapped to record the source ranges they consume. A paragraph's
 * inline content holds one `\n`-separated segment per source line, each the line without its
 * container prefix (quote markers, list indentation), so a line's first character is found in it.
 *
 * Speed: one parse of the whole comment (64 KB at most on GitHub), and none when no line could
 * start with a command word. Known limit: content nested deeper than `MAX_NESTING` block levels
 * (a list item counts two, the list and the item; a quote one) is not read, nor anything after it:
 * markdown-it skips the rest of the comment there.
 */
import MarkdownIt, { type Options } from 'markdown-it';
import type StateInline from 'markdown-it/lib/rules_inline/state_inline.mjs';
import type Token from 'markdown-it/lib/token.mjs';

export interface TextLine {
  /** The line as written, trimmed. */
  source: string;
  /** The line as read: inline HTML comments removed, cut where a comment or code span runs onto the next line, trimmed. */
  text: string;
}

/** Block nesting markdown-it reads (its default preset has 100, its CommonMark preset 20). */
export const MAX_NESTING = 200;

type InlineRule = (state: StateInline, silent: boolean) => boolean;

interface Span {
  /** Offsets in the inline content that was parsed. */
  start: number;
  end: number;
  /** An HTML comment, removed from a command's text when it ends on the same line. */
  comment: boolean;
  /** Code or HTML, which cuts a command's text when it runs onto a later line. */
  cuts: boolean;
}

/** The hidden ranges of each inline parse, by the token list it fills (images' alt text has its own). */
const spansOf = new WeakMap<Token[], Span[]>();

function record(state: StateInline, span: Span): void {
  let spans = spansOf.get(state.tokens);
  if (!spans) {
    spans = [];
    spansOf.set(state.tokens, spans);
  }
  spans.push(span);
}

/** The last `]` of each inline parse's source, by its token list. */
const lastBracketOf = new WeakMap<Token[], number>();

/**
 * Whether a `]` follows: without one no link or image can start here. markdown-it's label scan
 * from every `[` runs to the end of the paragraph, which made a 64 KB paragraph of unclosed `![`
 * take 300 ms; this exact shortcut makes it linear (one `]` at the end still costs, see the README).
 */
function bracketFollows(state: StateInline): boolean {
  let last = lastBracketOf.get(state.tokens);
  if (last === undefined) {
    last = state.src.lastIndexOf(']');
    lastBracketOf.set(state.tokens, last);
  }
  return last > state.pos;
}

/** Wraps an inline rule so that what it consumes, when it makes a token, is recorded as hidden. */
function hiding(name: string, rule: InlineRule): InlineRule {
  return (state, silent) => {
    if ((name === 'link' || name === 'image') && !bracketFollows(state)) return false;
    const start = state.pos;
    const count = state.tokens.length;
    const ok = rule(state, silent);
    if (!ok || silent || state.tokens.length === count) return ok; // nothing made: literal text
    const end = state.pos;
    switch (name) {
      case 'backticks':
        record(state, { start, end, comment: false, cuts: true });
        break;
      case 'html_inline':
        record(state, { start, end, comment: state.src.startsWith('<!--', start), cuts: true });
        break;
      case 'link': {
        // The text between the brackets is shown; the destination, title or reference label is not.
        const labelEnd = state.md.helpers.parseLinkLabel(state, start, true);
        record(state, { start, end: start + 1, comment: false, cuts: false });
        if (labelEnd >= 0) record(state, { start: labelEnd, end, comment: false, cuts: false });
        state.pos = end;
        break;
      }
      default: // image (its alt text is not shown as text), autolink
        record(state, { start, end, comment: false, cuts: false });
    }
    return ok;
  };
}

const HIDING_RULES = ['backticks', 'html_inline', 'link', 'image', 'autolink'];

/**
 * CommonMark + GFM as GitHub reads it, less what only decides how text looks, never whether it is
 * text: emphasis, strikethrough (their delimiters are never `/`, and markdown-it resolves them
 * after code, HTML and links) and character references. No typographer, no linkify (GitHub's
 * extended autolinks never span a line). Every link destination is valid, as in CommonMark
 * (markdown-it refuses `javascript:` ones, which would turn them into text).
 */
function markdown(): MarkdownIt {
  const md = new MarkdownIt('commonmark', { html: true, linkify: false, typographer: false });
  md.set({ maxNesting: MAX_NESTING } as Options); // in markdown-it's options, not in its types
  md.enable(['table']);
  md.disable(['emphasis', 'entity']);
  md.validateLink = () => true;
  const ruler = md.inline.ruler as unknown as { __rules__: { name: string; fn: InlineRule }[]; at(name: string, fn: InlineRule): void };
  for (const name of HIDING_RULES) {
    const rule = ruler.__rules__.find((r) => r.name === name);
    if (!rule) throw new Error(`markdown-it has no inline rule ${name}`); // at load: a changed library
    ruler.at(name, hiding(name, rule.fn));
  }
  return md;
}

const md = markdown();

const SAME_LINE_COMMENT = /<!--[\s\S]*?-->/g;

/** Whether a line could be accepted once read: a cheap test that never says no to one that is. */
function mayAccept(line: string, accept: (text: string) => boolean): boolean {
  if (accept(line.trim())) return true;
  return line.includes('<!--') && accept(line.replace(SAME_LINE_COMMENT, '').trim());
}

/**
 * The lines rendered as ordinary text whose text passes `accept`, in order. `accept` must be true
 * only for text that starts with a word: the lines whose trimmed text (same-line HTML comments
 * removed) does not pass it are not looked at, and with none the comment is not parsed.
 */
export function textLines(body: string, accept: (text: string) => boolean): TextLine[] {
  const text = body.startsWith('\uFEFF') ? body.slice(1) : body;
  const lines = text.split(/\r\n|\r|\n/); // as markdown-it normalises line endings
  const candidate = lines.map((line) => mayAccept(line, accept));
  if (!candidate.includes(true)) return [];
  let tokens: Token[];
  try {
    tokens = md.parse(text, {});
  } catch {
    return []; // never expected: markdown-it bounds its nesting
  }

  const found = new Map<number, TextLine>();
  let quoted = 0;
  for (let t = 0; t < tokens.length; t++) {
    const token = tokens[t]!;
    if (token.type === 'blockquote_open') quoted++;
    else if (token.type === 'blockquote_close') quoted--;
    if (token.type !== 'inline' || quoted > 0 || !token.map || !token.children) continue;
    const parent = tokens[t - 1]?.type;
    if (parent !== 'paragraph_open' && parent !== 'heading_open') continue; // table cells
    readInline(token, lines, candidate, accept, found);
  }
  return [...found.entries()].sort((a, b) => a[0] - b[0]).map(([, line]) => line);
}

/** The candidate lines of one paragraph or heading whose first character is text. */
function readInline(
  token: Token,
  lines: readonly string[],
  candidate: readonly boolean[],
  accept: (text: string) => boolean,
  found: Map<number, TextLine>,
): void {
  const content = token.content;
  // Disjoint (an image's alt text is parsed apart, a link records its parts after its text's).
  const spans = (spansOf.get(token.children!) ?? []).sort((a, b) => a.start - b.start);
  let segStart = 0;
  for (let l = token.map![0]; segStart <= content.length && l < lines.length; l++) {
    let segEnd = content.indexOf('\n', segStart);
    if (segEnd < 0) segEnd = content.length;
    if (candidate[l]) {
      const raw = lines[l]!;
      const segment = content.slice(segStart, segEnd);
      // The segment is the line without its container prefix: the same text once trimmed means
      // the line's first character is the segment's (not a list marker, not a heading's `#`).
      if (segment.trim() === raw.trim()) {
        const at = segStart + (segment.length - segment.trimStart().length);
        const line = readLine(content, spans, firstEndingAfter(spans, at), at, segEnd, raw);
        if (line && accept(line.text)) found.set(l, line);
      }
    }
    segStart = segEnd + 1;
  }
}

/**
 * The line from content offset `at` to `end`, or null when `at` is hidden (in code, HTML, an
 * image ...). `spans` are disjoint and sorted; `from` is the index of the first that may matter.
 */
function readLine(content: string, spans: readonly Span[], from: number, at: number, end: number, raw: string): TextLine | null {
  let visible = '';
  let copied = at;
  let stop = end;
  for (let s = from; s < spans.length && spans[s]!.start < end; s++) {
    const span = spans[s]!;
    if (span.end <= at) continue;
    if (span.start <= at) return null; // begun before the line's first character: not text
    if (span.end > end) {
      if (span.cuts) stop = span.start; // runs onto the next line: the command ends where it starts
      break;
    }
    if (span.comment) {
      visible += content.slice(copied, span.start);
      copied = span.end;
    }
  }
  visible += content.slice(copied, stop);
  return { source: raw.trim(), text: visible.trim() };
}

/** The index of the first span that ends after `at`. */
function firstEndingAfter(spans: readonly Span[], at: number): number {
  let low = 0;
  let high = spans.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (spans[mid]!.end <= at) low = mid + 1;
    else high = mid;
  }
  return low;
}
