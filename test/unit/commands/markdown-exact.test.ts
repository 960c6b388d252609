/**
 * The command finder's speed-ups of markdown-it (`lines.ts`: the label scan `linkLabel`, the
 * closing-bracket shortcut, the thematic-break reread, the inline parses it leaves out) must give
 * exactly markdown-it's results:
 * compared here with stock markdown-it on many generated strings (fixed seed) and on the
 * adversarial shapes of `npm run bench`.
 */
import { describe, it, expect } from 'vitest';
import MarkdownIt, { type Options } from 'markdown-it';
import type StateInline from 'markdown-it/lib/rules_inline/state_inline.mjs';
import { startsWithCommandWord } from '../../../src/commands/grammar.js';
import { linkLabel, markdown, MAX_NESTING, textLines } from '../../../src/commands/lines.js';

/** Deterministic strings: random runs of `units`, sometimes one unit repeated (long bracket ladders). */
function generator(seed: number, units: readonly string[]) {
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  return (maxLength: number): string => {
    const weights = units.map(() => rand() ** 2);
    const total = weights.reduce((a, b) => a + b, 0);
    const pick = () => {
      let r = rand() * total;
      let k = 0;
      while ((r -= weights[k]!) > 0 && k < units.length - 1) k++;
      return units[k]!;
    };
    let out = rand() < 0.25 ? '[r]: /u\n\n' : ''; // link references defined: the reference forms are live
    if (rand() < 0.3) out += pick().repeat(1 + Math.floor(rand() * 60));
    const length = 1 + Math.floor(rand() * maxLength);
    while (out.length < length) out += pick();
    return out;
  };
}

/** A markdown-it instance that records the inline states it tokenizes (their `cache` is the label scans' memory). */
function instrumented(preset: 'commonmark' | 'default', maxNesting: number, fast: boolean) {
  const md = new MarkdownIt(preset, { html: true });
  md.set({ maxNesting } as Options);
  if (fast) md.helpers.parseLinkLabel = linkLabel;
  const states: StateInline[] = [];
  const tokenize = md.inline.tokenize.bind(md.inline);
  md.inline.tokenize = (state: StateInline) => {
    states.push(state);
    tokenize(state);
  };
  return {
    parse(src: string) {
      states.length = 0;
      const tokens = JSON.stringify(md.parse(src, {}));
      return { tokens, caches: JSON.stringify(states.map((s) => s.cache)) };
    },
  };
}

const INLINE_UNITS = ['[', ']', '![', '(', ')', '](x)', '`', '``', '<', '>', '<a>', '<x@y.z>', '\\', 'a', ' ', '\n', '[r]', '"', '*', '!'];

describe('linkLabel = markdown-it\'s parseLinkLabel (answers and cache)', () => {
  // small nesting bounds reach markdown-it's "too deep: skip to the end" branch on short strings
  for (const [preset, maxNesting] of [['commonmark', 20], ['commonmark', 6], ['default', 100], ['default', 3]] as const) {
    it(`${preset} preset, maxNesting ${maxNesting}: 1,500 generated strings`, () => {
      const stock = instrumented(preset, maxNesting, false);
      const fast = instrumented(preset, maxNesting, true);
      const next = generator(maxNesting * 7919, INLINE_UNITS);
      let differing = 0;
      let links = 0;
      for (let i = 0; i < 1_500; i++) {
        const src = next(i % 10 === 0 ? 1_500 : 80);
        const expected = stock.parse(src);
        const actual = fast.parse(src);
        if (actual.tokens !== expected.tokens || actual.caches !== expected.caches) {
          differing++;
          expect({ src, tokens: actual.tokens, caches: actual.caches }).toEqual({ src, ...expected });
        }
        if (expected.tokens.includes('"link_open"') || expected.tokens.includes('"image"')) links++;
      }
      expect(differing).toBe(0);
      expect(links).toBeGreaterThan(100); // the strings do make links and images
    });
  }

  it.each([
    ['image openers, one ] at the end', `${'![a\n/freeze '.repeat(600)}]`],
    ['image openers closed by a link destination', `${'![a\n/freeze '.repeat(600)}](x)`],
    ['link openers with references defined', `[r]: /u\n\n${'[a\n/freeze '.repeat(600)}]`],
    ['a bracket ladder', `${'['.repeat(700)}${']'.repeat(700)}(x)`],
    ['links inside link labels', `${'[a]('.repeat(300)}${')]'.repeat(300)}`],
  ])('%s', (_name, src) => {
    for (const maxNesting of [20, MAX_NESTING]) {
      expect(instrumented('commonmark', maxNesting, true).parse(src)).toEqual(instrumented('commonmark', maxNesting, false).parse(src));
    }
  });
});

/** Stock markdown-it set up as `lines.ts` sets up its own (without its speed-ups). */
function stockCommands(): MarkdownIt {
  const md = new MarkdownIt('commonmark', { html: true, linkify: false, typographer: false });
  md.set({ maxNesting: MAX_NESTING } as Options);
  md.enable(['table']);
  md.disable(['emphasis', 'entity']);
  md.validateLink = () => true;
  return md;
}

describe('the command finder\'s markdown-it = stock markdown-it, token for token', () => {
  const stock = stockCommands();
  const ours = markdown();
  const same = (src: string) => expect(JSON.stringify(ours.parse(src, {}))).toBe(JSON.stringify(stock.parse(src, {})));

  it('on 2,000 generated inline strings', () => {
    const next = generator(11, [...INLINE_UNITS, '/freeze ']);
    for (let i = 0; i < 2_000; i++) same(next(i % 10 === 0 ? 1_500 : 80));
  });

  it('on 2,000 generated block strings (thematic breaks, lists, quotes)', () => {
    const next = generator(23, ['-', '*', '_', ' ', '\t', '\n', '- ', '* ', '> ', '1. ', '    ', 'a', '---\n', '`', '[', ']', '](x)']);
    let breaks = 0;
    for (let i = 0; i < 2_000; i++) {
      const src = next(i % 10 === 0 ? 1_000 : 60);
      same(src);
      if (stock.parse(src, {}).some((t) => t.type === 'hr')) breaks++;
    }
    expect(breaks).toBeGreaterThan(100);
  });

  it.each([
    ['image openers, one ] at the end', `${'![a\n/freeze '.repeat(5_400)}]`],
    ['image openers closed by a link destination', `${'![a\n/freeze '.repeat(2_000)}](x)`],
    ['nested list markers', `${'- '.repeat(30_000)}x\n/freeze`],
    ['nested list markers, a break at the end', `${'- '.repeat(300)}-\n/freeze`],
    ['nested star markers', `${'* '.repeat(300)}*x\n/freeze`],
    ['quoted nested list items', `${'> - > - a\n'.repeat(600)}\n/freeze`],
    ['nested list markers and breaks', `${'- - - x\n- * - -\n  - _ _ _\n'.repeat(200)}`],
  ])('%s', (_name, src) => same(src));
});

describe('textLines parses only the blocks it reads, and finds what a parse of every block finds', () => {
  const found = (body: string, parseAll: boolean) => textLines(body, startsWithCommandWord, { parseAll });

  it('on 2,000 generated comments', () => {
    const next = generator(37, ['/freeze x', '/unfreeze', '\n', '\n\n', '> ', '- ', '1. ', '    ', '`', '``', '<!--', '-->', '<b>', '[', ']', '](x)', '![', '![a\n', '[a\n', '](\n', '|', '---', '===', 'a', ' ', '\\', '*']);
    let withLines = 0;
    for (let i = 0; i < 2_000; i++) {
      const body = next(i % 10 === 0 ? 2_000 : 120);
      const all = found(body, true);
      expect(found(body, false)).toEqual(all);
      if (all.length > 0) withLines++;
    }
    expect(withLines).toBeGreaterThan(100); // (163 with this seed)
  });

  it.each([
    ['quoted nested list items', `${'> - > - a\n'.repeat(600)}\n/freeze`],
    ['a long paragraph', `${'a\n'.repeat(5_000)}/freeze`],
    ['a code span over a long paragraph', `\`${'a\n'.repeat(5_000)}/freeze\` /freeze`],
    ['a table, then a paragraph', 'a | b\n--|--\n/freeze | x\n\n/freeze y'],
    ['an image over lines', '![a\n/freeze x](y)\n/freeze after'],
    ['a link destination on the next line', '[a](\n/freeze)\n/freeze after'],
  ])('%s', (_name, body) => expect(found(body, false)).toEqual(found(body, true)));
});
