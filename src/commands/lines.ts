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
 * start with a command word; the inline content is parsed only where a line is read, and
 * markdown-it's quadratic steps on adversarial input are answered in linear time with its own
 * results (`linkLabel`, `mayMatter`, `thematicBreak`, `readInlines`, `quotesUnkept`). Known limit: content nested deeper than `MAX_NESTING` block levels
 * (a list item counts two, the list and the item; a quote one) is not read, nor anything after it:
 * markdown-it skips the rest of the comment there.
 */
import MarkdownIt, { type Options } from 'markdown-it';
import type StateBlock from 'markdown-it/lib/rules_block/state_block.mjs';
import type StateCore from 'markdown-it/lib/rules_core/state_core.mjs';
import type StateInline from 'markdown-it/lib/rules_inline/state_inline.mjs';
import type Token from 'markdown-it/lib/token.mjs';
import type { Nesting } from 'markdown-it/lib/token.mjs';

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

/** Where, in each inline parse's source (by its token list), the last `]` that could close a link or image is, and the last backtick. */
const lastCloserOf = new WeakMap<Token[], { closer: number; backtick: number }>();

/**
 * Whether the link or image rule must run here. It can only make a link or image with a `]`
 * further on, followed by `(` when the comment defines no link references (`env.references`).
 * Without one the rule fails, and so does every rule whose label scan would have passed the
 * positions this one's scan caches (their labels would also end at a `]` without `(`, or not at
 * all). The only other trace a scan leaves is markdown-it's record of the backtick runs it met
 * (`state.backticks`, which decides later code spans), so the shortcut needs no backtick further
 * on either. It is exact, and keeps a 64 KB paragraph of `![` openers linear without scans.
 */
function mayMatter(state: StateInline): boolean {
  let last = lastCloserOf.get(state.tokens);
  if (!last) {
    const references = (state.env as { references?: unknown }).references !== undefined;
    last = { closer: references ? state.src.lastIndexOf(']') : state.src.lastIndexOf(']('), backtick: state.src.lastIndexOf('`') };
    lastCloserOf.set(state.tokens, last);
  }
  return last.closer > state.pos || last.backtick > state.pos;
}

/**
 * Skip pointers over the positions a label scan has already passed, for one inline parse (by its
 * `state.cache`) and one kind of scan (a link's, which stops at a nested link, or an image's).
 */
interface Jumps {
  /** From a position the scan passes without stopping: the next one where it must look (0: not yet known). */
  to: Int32Array;
  /** The change of bracket level from that position to there. */
  gain: Int32Array;
}

const jumpsOf = new WeakMap<object, { link?: Jumps; image?: Jumps }>();

/**
 * markdown-it's `parseLinkLabel` (helpers/parse_link_label.mjs), with the same answers and the same
 * side effects, without its quadratic rescans (64 KB of `![` openers closed by `](x)`: 0.25 s in
 * markdown-it's, under 40 ms here). Its scan steps from `start + 1` through
 * `skipToken`, which caches where each position leads (`state.cache`, written once per position):
 * a text `[` raises the level, a `]` lowers it and ends the scan at level 0, a link inside a link's
 * label ends it (-1), and so does `posMax`. Every scan that reaches a cached position follows the
 * same path from there, so the stretches of cached positions that can end no scan (no `]`, no link
 * inside a link's label) are skipped in one step with their level change, through pointers
 * compressed as in union-find. The scan still steps, as markdown-it does, on every `]`, every link
 * in a link's label and every position not yet cached (calling `skipToken` there in the same order,
 * at the same nesting), so the cache, and with it every later answer, is markdown-it's own; a scan
 * that passes many `]` (a deep `[[[...]]]` ladder) still costs what it costs markdown-it.
 */
export function linkLabel(state: StateInline, start: number, disableNested?: boolean): number {
  const cache = state.cache as Record<number, number | undefined>;
  const src = state.src;
  const max = state.posMax;
  const oldPos = state.pos;
  let level = 1;
  let labelEnd = -1;
  let jumps: Jumps | undefined;
  let pos = start + 1;
  while (pos < max) {
    const marker = src.charCodeAt(pos);
    const next = cache[pos];
    if (next !== undefined && marker !== 0x5d /* ] */ && !(disableNested && marker === 0x5b /* [ */ && next !== pos + 1)) {
      jumps ??= jumpsFor(state, !!disableNested);
      const end = skip(jumps, src, cache, !!disableNested, pos);
      level += skipped;
      pos = end;
      continue;
    }
    // markdown-it's step
    if (marker === 0x5d /* ] */) {
      level--;
      if (level === 0) {
        labelEnd = pos;
        break;
      }
    }
    state.pos = pos;
    state.md.inline.skipToken(state);
    if (marker === 0x5b /* [ */) {
      if (state.pos === pos + 1) level++;
      else if (disableNested) {
        state.pos = oldPos;
        return -1;
      }
    }
    pos = state.pos;
  }
  state.pos = oldPos;
  return labelEnd;
}

/** The jumps of the last inline parse asked for (a WeakMap lookup per scan costs). */
let lastCache: object | undefined;
let lastJumps: { link?: Jumps; image?: Jumps } = {};

function jumpsFor(state: StateInline, link: boolean): Jumps {
  if (state.cache !== lastCache) {
    let both = jumpsOf.get(state.cache);
    if (!both) {
      both = {};
      jumpsOf.set(state.cache, both);
    }
    lastCache = state.cache;
    lastJumps = both;
  }
  const kind = link ? 'link' : 'image';
  let jumps = lastJumps[kind];
  if (!jumps) {
    const size = state.src.length + 2; // skipToken can lead one past posMax (when nested too deep)
    jumps = { to: new Int32Array(size), gain: new Int32Array(size) };
    lastJumps[kind] = jumps;
  }
  return jumps;
}

/** The level change of the last `skip`. */
let skipped = 0;
/** Scratch for `skip`: the positions it passed and the level change of each step. */
let passed: Int32Array = new Int32Array(1024);
let steps: Int32Array = new Int32Array(1024);

/**
 * From `from` (cached, where no scan can end), the first position on its path where a scan must
 * step: a `]`, a link inside a link's label, or one not yet cached. Sets `skipped` to the level
 * change before it, and points every position it passed there.
 */
function skip(jumps: Jumps, src: string, cache: Record<number, number | undefined>, link: boolean, from: number): number {
  const { to, gain } = jumps;
  let count = 0;
  let total = 0;
  let at = from;
  while (at < to.length) {
    let step: number;
    let next = to[at]!;
    if (next !== 0) step = gain[at]!; // passed before: never a stop
    else {
      const cached = cache[at];
      if (cached === undefined) break;
      const marker = src.charCodeAt(at);
      if (marker === 0x5d /* ] */ || (link && marker === 0x5b /* [ */ && cached !== at + 1)) break;
      step = marker === 0x5b /* [ */ && cached === at + 1 ? 1 : 0; // a text `[`
      next = cached;
    }
    if (count === passed.length) {
      passed = grown(passed);
      steps = grown(steps);
    }
    passed[count] = at;
    steps[count++] = step;
    total += step;
    at = next;
  }
  // compress: every position passed now points at `at`, with its own level change to there
  let before = 0;
  for (let k = 0; k < count; k++) {
    const p = passed[k]!;
    to[p] = at;
    gain[p] = total - before;
    before += steps[k]!;
  }
  skipped = total;
  return at;
}

function grown(array: Int32Array): Int32Array {
  const bigger = new Int32Array(array.length * 2);
  bigger.set(array);
  return bigger;
}

type BlockRule = (state: StateBlock, startLine: number, endLine: number, silent: boolean) => boolean;

/** Where the last failed thematic-break check stopped: in `src`, from `from`, the first character that is not `marker` or a space. */
let lastBreak = { src: '', marker: 0, from: 0, bad: -1 };

/**
 * markdown-it's thematic-break rule (`hr`) reads a line to its first character that is neither the
 * marker nor a space, from the line's content start. In `- - - ... x` each of the nested list
 * items starts two characters further on the same line and reads to the same `x`: 100 reads of up
 * to 64 KB. This answers those rereads from the last read (the same line, a start within what it
 * passed), exactly: a character that is neither marker nor space before the line's end means no
 * break. Every other case is markdown-it's own rule.
 */
function thematicBreak(rule: BlockRule): BlockRule {
  return (state, startLine, endLine, silent) => {
    if (state.sCount[startLine]! - state.blkIndent >= 4) return false; // code, as the rule says
    const max = state.eMarks[startLine]!;
    const pos = state.bMarks[startLine]! + state.tShift[startLine]!;
    const marker = state.src.charCodeAt(pos);
    if (marker !== 0x2a /* * */ && marker !== 0x2d /* - */ && marker !== 0x5f /* _ */) return false;
    const memo = lastBreak;
    if (memo.src === state.src && memo.marker === marker && memo.from <= pos + 1 && pos + 1 <= memo.bad && memo.bad < max) return false;
    for (let at = pos + 1; at < max; at++) {
      const ch = state.src.charCodeAt(at);
      if (ch !== marker && ch !== 0x20 && ch !== 0x09) {
        lastBreak = { src: state.src, marker, from: pos + 1, bad: at };
        return false;
      }
    }
    return rule(state, startLine, endLine, silent);
  };
}

/** Wraps an inline rule so that what it consumes, when it makes a token, is recorded as hidden. */
function hiding(name: string, rule: InlineRule): InlineRule {
  return (state, silent) => {
    if ((name === 'link' || name === 'image') && !mayMatter(state)) return false;
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
export function markdown(): MarkdownIt {
  const md = new MarkdownIt('commonmark', { html: true, linkify: false, typographer: false });
  md.set({ maxNesting: MAX_NESTING } as Options); // in markdown-it's options, not in its types
  md.enable(['table']);
  md.disable(['emphasis', 'entity']);
  md.validateLink = () => true;
  md.helpers.parseLinkLabel = linkLabel;
  const ruler = md.inline.ruler as unknown as { __rules__: { name: string; fn: InlineRule }[]; at(name: string, fn: InlineRule): void };
  for (const name of HIDING_RULES) {
    const rule = ruler.__rules__.find((r) => r.name === name);
    if (!rule) throw new Error(`markdown-it has no inline rule ${name}`); // at load: a changed library
    ruler.at(name, hiding(name, rule.fn));
  }
  md.core.ruler.at('inline', readInlines);
  md.block.State = quotesUnkept(md.block.State);
  const blocks = md.block.ruler as unknown as { __rules__: { name: string; fn: BlockRule; alt: string[] }[]; at(name: string, fn: BlockRule, options: { alt: string[] }): void };
  const hr = blocks.__rules__.find((r) => r.name === 'hr');
  if (!hr) throw new Error('markdown-it has no block rule hr');
  blocks.at('hr', thematicBreak(hr.fn), { alt: hr.alt }); // the chains it ends (paragraphs, lists ...) kept
  return md;
}

const md = markdown();

/** What `textLines` passes in markdown-it's `env`: how many candidate lines come before each line. */
interface Env {
  candidatesBefore?: Int32Array;
}

/**
 * markdown-it's core `inline` rule, which parses the inline content of every block, less what
 * `textLines` needs no parse for, when it says so in `env`: the blocks it does not read (quoted,
 * table cells, or with no candidate line) and those with no character a hiding rule starts at
 * (it finds no span there, and reads lines from the content alone). An inline parse changes no
 * other (each has its own state, and inline rules write nothing shared); in 64 KB of `> - > - a`
 * or of a 32,000-line paragraph it is most of the time.
 */
function readInlines(state: StateCore): void {
  const before = (state.env as Env).candidatesBefore;
  const tokens = state.tokens;
  let quoted = 0;
  for (let t = 0; t < tokens.length; t++) {
    const token = tokens[t]!;
    if (token.type === 'blockquote_open') quoted++;
    else if (token.type === 'blockquote_close') quoted--;
    if (token.type !== 'inline') continue;
    if (before && !(isRead(tokens, t, quoted) && before[Math.min(token.map![1], before.length - 1)]! > before[token.map![0]]! && MAY_HIDE.test(token.content))) continue;
    state.md.inline.parse(token.content, state.md, state.env, token.children!);
  }
}

/**
 * markdown-it's block state, which keeps no token inside a block quote (but the quote's own open
 * and close) when `textLines` says so in `env`: it reads nothing quoted, and block rules never read
 * back the tokens they push (a list marks its tight paragraphs among its own, at its own level).
 * The nesting level is counted as before, which bounds the nesting. In 64 KB of `> - > - a`
 * making and collecting those 70,000 tokens is most of the time.
 */
function quotesUnkept(Base: typeof StateBlock): typeof StateBlock {
  return class extends Base {
    private quotes = 0;
    private unkept: Token | undefined;

    override push(type: string, tag: string, nesting: Nesting): Token {
      if ((this.env as Env).candidatesBefore === undefined) return super.push(type, tag, nesting);
      if (type === 'blockquote_close') this.quotes--;
      const kept = this.quotes === 0;
      if (type === 'blockquote_open') this.quotes++;
      if (kept) return super.push(type, tag, nesting);
      if (nesting < 0) this.level--;
      const token = (this.unkept ??= new this.Token('', '', 0)); // written to, never read
      token.level = this.level;
      if (nesting > 0) this.level++;
      return token;
    }
  };
}

/** The characters the hiding rules start at (code spans, inline HTML and autolinks, links and images): without one, no span. */
const MAY_HIDE = /[`<[]/;

/** Whether the inline token at `t` is one `textLines` reads: a paragraph's or heading's, outside block quotes (not a table cell's). */
function isRead(tokens: readonly Token[], t: number, quoted: number): boolean {
  const token = tokens[t]!;
  if (token.type !== 'inline' || quoted > 0 || !token.map || !token.children) return false;
  const parent = tokens[t - 1]?.type;
  return parent === 'paragraph_open' || parent === 'heading_open';
}

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
 * `parseAll` parses the inline content of every block, as markdown-it does (tests compare).
 */
export function textLines(body: string, accept: (text: string) => boolean, { parseAll = false } = {}): TextLine[] {
  const text = body.startsWith('\uFEFF') ? body.slice(1) : body;
  const lines = text.split(/\r\n|\r|\n/); // as markdown-it normalises line endings
  const candidate = lines.map((line) => mayAccept(line, accept));
  if (!candidate.includes(true)) return [];
  const candidatesBefore = new Int32Array(lines.length + 1);
  for (let l = 0; l < lines.length; l++) candidatesBefore[l + 1] = candidatesBefore[l]! + (candidate[l] ? 1 : 0);
  let tokens: Token[];
  try {
    tokens = md.parse(text, parseAll ? {} : ({ candidatesBefore } satisfies Env));
  } catch {
    return []; // never expected: markdown-it bounds its nesting
  }

  const found = new Map<number, TextLine>();
  let quoted = 0;
  for (let t = 0; t < tokens.length; t++) {
    const token = tokens[t]!;
    if (token.type === 'blockquote_open') quoted++;
    else if (token.type === 'blockquote_close') quoted--;
    if (!isRead(tokens, t, quoted)) continue;
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
