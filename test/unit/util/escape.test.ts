import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { codeSpan, escapeMarkdown, escapePlain } from '../../../src/util/escape.js';

const ZWSP = '\u200b';

describe('escapeMarkdown', () => {
  it.each([
    ['plain text stays as is', 'API latency', 'API latency'],
    ['mentions are defused', 'ping @alice and @acme/sre', `ping @${ZWSP}alice and @${ZWSP}acme/sre`],
    ['HTML is escaped', '<img src=x onerror=alert(1)> & co', '&lt;img src=x onerror=alert\\(1\\)&gt; &amp; co'],
    ['links cannot be formed', '[click](https://evil.example)', '\\[click\\]\\(https://evil.example\\)'],
    ['images cannot be formed', '![x](y)', '\\!\\[x\\]\\(y\\)'],
    ['emphasis and code are literal', '*bold* _it_ `code` ~~s~~', '\\*bold\\* \\_it\\_ \\`code\\` \\~\\~s\\~\\~'],
    ['line breaks cannot start a new block', 'one\n# two\r\n- three', 'one # two - three'],
    ['a leading heading marker is escaped', '# title', '\\# title'],
    ['a leading list marker is escaped', '- item', '\\- item'],
    ['a leading ordered-list marker is escaped', '1. item', '1\\. item'],
    ['a leading quote is escaped', '> quote', '&gt; quote'],
    ['table pipes are escaped', 'a | b', 'a \\| b'],
    ['backslashes are escaped', 'a\\b', 'a\\\\b'],
    ['bidi overrides are dropped', 'abc\u202edef', 'abcdef'],
  ])('%s', (_name, input, expected) => {
    expect(escapeMarkdown(input)).toBe(expected);
  });

  it('never leaves a mention, a tag or a line break', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (s) => {
        const out = escapeMarkdown(s);
        expect(out).not.toMatch(/@(?!\u200b)/);
        expect(out).not.toMatch(/[<>\r\n]/);
        expect(out).not.toMatch(/(?<!\\)[[\]]/);
      }),
    );
  });
});

describe('escapePlain', () => {
  it('defuses mentions and folds lines, leaving the rest readable', () => {
    expect(escapePlain('@alice <b>\nnext')).toBe(`@${ZWSP}alice <b> next`);
    expect(escapePlain('API latency')).toBe('API latency');
  });

  it('is idempotent on mentions', () => {
    expect(escapePlain(escapePlain('@a'))).toBe(`@${ZWSP}a`);
  });
});

describe('codeSpan', () => {
  it.each([
    ['abc', '`abc`'],
    ['a`b', '``a`b``'],
    ['`a', '`` `a ``'],
    ['', '` `'],
  ])('%j -> %j', (input, expected) => {
    expect(codeSpan(input)).toBe(expected);
  });
});
