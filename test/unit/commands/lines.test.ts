import { describe, it, expect } from 'vitest';
import MarkdownIt from 'markdown-it';
import { textLines } from '../../../src/commands/lines.js';
import { startsWithCommandWord } from '../../../src/commands/grammar.js';
import { parseComment } from '../../../src/commands/parse.js';

const lines = (body: string) => textLines(body, startsWithCommandWord).map((line) => line.source);
const kinds = (body: string) => parseComment(body).map((r) => (r.ok ? r.command.kind : `error:${r.word}`));
const paragraphs = (n: number) => Array.from({ length: n }, (_, i) => `paragraph ${i}\n`).join('\n');

/**
 * An independent reference for simple bodies: markdown-it's own HTML rendering (stock CommonMark
 * preset + tables, no span recording). A command line counts when it shows up as the start of a
 * text line of a <p> or <h1>..<h6> outside <blockquote>, <code>, <pre>, <table> and image alt text.
 */
const stock = new MarkdownIt('commonmark', { html: true }).enable(['table']);
function renderedLines(body: string): string[] {
  const html = stock
    .render(body)
    .replace(/<blockquote>[\s\S]*?<\/blockquote>/g, '')
    .replace(/<table>[\s\S]*?<\/table>/g, '')
    .replace(/<pre>[\s\S]*?<\/pre>/g, '')
    .replace(/<code>[\s\S]*?<\/code>/g, '\u0000')
    .replace(/<img [^>]*>/g, '\u0000')
    .replace(/<!--[\s\S]*?-->/g, '\u0000');
  const out: string[] = [];
  for (const block of html.match(/<(p|h[1-6])>[\s\S]*?<\/\1>/g) ?? []) {
    // the bodies here have no ATX headings: every heading is a setext one, whose text starts its line
    for (const line of block.replace(/^<[^>]+>|<\/[^>]+>$/g, '').split('\n')) {
      const text = line.replace(/<\/?(a|em|strong)[^>]*>/g, '').trim();
      if (startsWithCommandWord(text)) out.push(text.split('\u0000')[0]!.trim());
    }
  }
  return out;
}

describe('command lines: markdown-it with recorded spans = what its stock rendering shows as text', () => {
  it.each([
    ['plain commands', '/freeze a\n/unfreeze b\n\n/moratorium'],
    ['a fence between commands', '/freeze a\n```\n/unfreeze\n```\n/freeze b'],
    ['a quote, then a lazy line, then a paragraph', '> q\n/freeze lazy\n\n/freeze after'],
    ['a loose list item continued, and a nested fence', '- item\n  /freeze in item\n  ```\n  /unfreeze\n  ```\n\n- b\n\n/freeze after'],
    ['a code span over lines', 'run `a\n/freeze\n` b\n/freeze after'],
    ['a setext heading', '/freeze heading\n==='],
    ['a table', 'a | b\n--|--\n/freeze | x\n\n/freeze after'],
    ['an image over lines', '![a\n/freeze x](https://example.com/i.png)\n/freeze after'],
    ['a link over lines', '[see\n/freeze x](https://example.com/)'],
  ])('%s', (_name, body) => {
    const first = (found: string[]) => found.map((line) => line.split(/[\s\]]/)[0]!);
    expect(first(lines(body))).toEqual(first(renderedLines(body)));
    expect(lines(body).length).toBeGreaterThan(0);
  });
});

describe('command lines in GFM (the parser-mdast branch\'s cases)', () => {
  it.each([
    ['a table row', 'command | effect\n--- | ---\n/freeze | freezes\n/unfreeze | unfreezes'],
    ['a table row with a leading pipe', '| a |\n| - |\n| /freeze |'],
    ['a link reference definition whose destination is on the next line', '[x]:\n/freeze'],
    ['image alt text', '![a\n/freeze](https://example.com/i.png)'],
    ['a link destination on the next line', '[a](\n/freeze)'],
    ['a reference label on the next line', '[a][\n/freeze x]\n\n[/freeze x]: https://example.com'],
    ['a command in an HTML comment within a list item', '- item\n  <!--\n  /freeze\n  -->'],
    ['code indented inside a list item', '- item\n\n      /freeze'],
    ['a fence inside a list item', '- item\n  ```\n  /freeze\n  ```'],
    ['a lazy line after a quoted paragraph in a list', '- > quoted\n/freeze'],
    ['a code span closing two lines later, CRLF endings', 'run `this\r\n/freeze\r\n` later'],
    ['a line in an HTML block that a tab indents', '<!--\n\t/freeze\n-->'],
    ['a <div> HTML block, up to its blank line', '<div>\n/freeze\n</div>'],
    ['an image whose definition follows it', '![a\n/freeze x]\n\n[a /freeze x]: https://example.com/i.png'],
    ['a full reference image whose definition follows it', 'see ![a\n/freeze x][logo]\n\n[logo]: https://example.com/i.png'],
  ])('ignores %s', (_name, body) => {
    expect(parseComment(body)).toEqual([]);
  });

  it.each([
    ['a line continuing a list item', '- item\n  /freeze', 'freeze'],
    ['a paragraph of its own in a list item', '1. item\n\n   /freeze', 'freeze'],
    ['a paragraph in a list item indented four spaces (text, not code, in the item)', '- item\n\n    /freeze', 'freeze'],
    ['a line after a table, once a blank line ends it', 'a | b\n--|--\n1 | 2\n\n/freeze', 'freeze'],
    ["a setext heading's text", '/freeze\n===', 'freeze'],
    ['a line after a closed fence in a list item', '- ```\n  /unfreeze\n  ```\n\n/freeze', 'freeze'],
    ['a line after a tab-indented code block', '\t/unfreeze\n/freeze', 'freeze'],
    ['the text of a link over lines', '[see\n/freeze x](https://example.com/)', 'freeze'],
    ['a line after a <details> block and a blank line', '<details>\n<summary>s</summary>\n\n/freeze\n\n</details>', 'freeze'],
    ['a line after a javascript: link (CommonMark keeps it a link)', '[a](javascript:x)\n/freeze', 'freeze'],
  ])('reads %s', (_name, body, kind) => {
    expect(kinds(body)).toEqual([kind]);
  });

  it('keeps reading after a block that ends at a blank line', () => {
    const body = ['> quoted', '> /unfreeze', '', '```', '/unfreeze', '```', '', '<!--', '/unfreeze', '', '-->', '/freeze x'].join('\n');
    expect(parseComment(body).map((r) => r.line)).toEqual(['/freeze x']);
  });

  it('does not read on past a fence that never closes, however long the comment', () => {
    const body = ['```', ...Array.from({ length: 3_000 }, (_, i) => (i % 7 === 0 ? '' : '/freeze --all')), '/unfreeze'].join('\n');
    expect(parseComment(body)).toEqual([]);
  });

  it('reads every line of a long paragraph of commands, and the blocks after it (no block-size limit)', () => {
    const wall = Array.from({ length: 600 }, (_, i) => `/freeze wall ${i}`);
    const results = parseComment([...wall, '', '/unfreeze after'].join('\n'));
    expect(results).toHaveLength(601);
    expect(results[599]?.line).toBe('/freeze wall 599');
    expect(results[600]?.line).toBe('/unfreeze after');
    expect(lines(`${'a\n'.repeat(30_000)}/freeze`)).toEqual(['/freeze']); // the paragraph's last line
  });

  it.each([
    ['an image whose definition is 300 paragraphs before it', `[a /freeze x]: https://example.com/i.png\n\n${paragraphs(300)}\n![a\n/freeze x]`, 0],
    ['an image whose definition, in a quote, is 300 paragraphs before it', `> [A  /Freeze x]: https://example.com/i.png\n\n${paragraphs(300)}\n![a\n/freeze x]`, 0],
    ['an image whose definition is 300 paragraphs after it', `![a\n/freeze x]\n\n${paragraphs(300)}\n[a /freeze x]: https://example.com/i.png`, 0],
    ['an image opener with no matching definition, 300 paragraphs from another', `[b]: https://example.com/i.png\n\n${paragraphs(300)}\n![a\n/freeze x]`, 1],
    ['a command after a 500-line fenced block', ['```', ...Array.from({ length: 500 }, (_, i) => `code ${i} <x> \`y\``), '```', '/freeze after'].join('\n'), 1],
    ['a command after a 2,000-item list', [...Array.from({ length: 2_000 }, (_, i) => `- item ${i}`), '', '/freeze after'].join('\n'), 1],
    ['a command after a 500-line paragraph', [...Array.from({ length: 500 }, (_, i) => `word ${i}`), '/freeze after'].join('\n'), 1],
    ['a command after 60 nested quotes', `${'> '.repeat(60)}q\n\n/freeze after`, 1],
    ['a command lazily continuing 60 nested quotes', `${'> '.repeat(60)}q\n/freeze after`, 0],
    ['commands between 400 short fenced blocks', Array.from({ length: 800 }, (_, i) => (i % 2 === 0 ? '```\n/unfreeze\n```' : `/freeze ${i}`)).join('\n'), 400],
  ])('%s', (_name, body, count) => {
    const found = lines(body);
    expect(found).toHaveLength(count);
    expect(found.every((line) => line.startsWith('/freeze'))).toBe(true);
  });

  it('reads lists and quotes nested up to the limit, and nothing nested deeper', () => {
    expect(kinds(`${'- '.repeat(64)}x\n/freeze`)).toEqual(['freeze']); // lazily continues the innermost item
    expect(kinds(`${'> '.repeat(60)}x\n\n/freeze`)).toEqual(['freeze']);
    expect(parseComment(`${'- '.repeat(30_000)}x\n/freeze`)).toEqual([]); // past MAX_NESTING: not read
    // markdown-it skips all that follows a block nested too deep (the parser-mdast branch did too)
    expect(kinds(`/freeze\n\n${'- '.repeat(30_000)}x\n/unfreeze\n\n/unfreeze`)).toEqual(['freeze']);
  });

  it('reads adversarial 64 KB comments (speed: npm run bench)', () => {
    const K64 = 65_536;
    const fill = (unit: string) => unit.repeat(Math.ceil(K64 / unit.length)).slice(0, K64);
    // the comment's last quoted line is '> - > ' (an empty quote in an item, no paragraph): not lazily continued
    expect(kinds(fill('> - > - a\n') + '\n/freeze')).toEqual(['freeze']);
    expect(parseComment(`${fill('> - > - a\n').slice(0, -7)}\n/freeze`)).toEqual([]); // continues '- a'
    expect(kinds(`${fill('> - > - a\n')}\n\n/freeze`)).toEqual(['freeze']);
    expect(parseComment(fill('> '))).toEqual([]);
    expect(parseComment(`${fill('[')}\n/freeze`).map((r) => r.line)).toEqual(['/freeze']); // continues the paragraph
    expect(parseComment(fill('![a\n/freeze ')).length).toBeGreaterThan(5_000); // no `]`: every opener is text
    expect(parseComment(`${fill('![a\n/freeze ')}]`).length).toBeGreaterThan(5_000); // one `]` closes none of them
  });
});
