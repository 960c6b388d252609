import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { parseComment, USAGE, type Command, type CommandError } from '../../../src/commands/parse.js';
import { parseIsoTime } from '../../../src/time/iso.js';
import { COMMANDS, helpText } from '../../../src/commands/help.js';

/** The one command a body holds; fails the test when it holds anything else. */
function onlyCommand(body: string): Command {
  const results = parseComment(body);
  expect(results).toHaveLength(1);
  const [result] = results;
  if (!result?.ok) throw new Error(`expected a command, got ${JSON.stringify(result)}`);
  return result.command;
}

/** The one error a body holds; fails the test when it holds anything else. */
function onlyError(body: string): CommandError {
  const results = parseComment(body);
  expect(results).toHaveLength(1);
  const [result] = results;
  if (!result || result.ok) throw new Error(`expected an error, got ${JSON.stringify(result)}`);
  return result;
}

/** The kinds of the commands a body holds, in order (errors as `error:<word>`). */
function kinds(body: string): string[] {
  return parseComment(body).map((r) => (r.ok ? r.command.kind : `error:${r.word}`));
}

const FREEZE = { kind: 'freeze', org: false, all: false, forMs: null, until: null, reason: '' } as const;
const H = 3_600_000;

describe('/freeze', () => {
  it.each<[string, Partial<Extract<Command, { kind: 'freeze' }>>]>([
    ['/freeze', {}],
    ['/freeze --org', { org: true }],
    ['/freeze --all', { all: true }],
    ['/freeze --org --all db migration', { org: true, all: true, reason: 'db migration' }],
    ['/freeze --all --all', { all: true }],
    ['/freeze --for 2h', { forMs: 2 * H }],
    ['/freeze --for=1h30m', { forMs: 1.5 * H }],
    ['/freeze --FOR 90S', { forMs: 90_000 }],
    ['/freeze --for 2d --org until the audit', { forMs: 48 * H, org: true, reason: 'until the audit' }],
    ['/freeze --until 2026-12-01T18:00', { until: Date.UTC(2026, 11, 1, 18) }],
    ['/freeze --until 2026-12-01T18:00:00Z', { until: Date.UTC(2026, 11, 1, 18) }],
    ['/freeze --until 2026-12-01T18:00+01:00', { until: Date.UTC(2026, 11, 1, 17) }],
    ['/freeze --until=2026-12-01T18:00:30.250-05:30', { until: Date.UTC(2026, 11, 1, 23, 30, 30, 250) }],
    ['/freeze --until 2026-12-01', { until: Date.UTC(2026, 11, 1) }],
    ['/freeze --until 2026-12-01 18:00 release party', { until: Date.UTC(2026, 11, 1, 18), reason: 'release party' }],
    ['/freeze --until 2028-02-29', { until: Date.UTC(2028, 1, 29) }],
  ])('%s', (line, expected) => {
    expect(onlyCommand(line)).toEqual({ ...FREEZE, ...expected });
  });

  it('treats flags after the reason as part of the reason', () => {
    expect(onlyCommand('/freeze db migration --all --for 2h')).toEqual({ ...FREEZE, reason: 'db migration --all --for 2h' });
  });

  it('starts the reason at -- so that it can begin with a dash', () => {
    expect(onlyCommand('/freeze --org -- --all means all')).toEqual({ ...FREEZE, org: true, reason: '--all means all' });
  });

  it('keeps the reason as written, inner spacing included, trimmed', () => {
    expect(onlyCommand('/freeze   two  spaces @team <b>x</b>   ')).toEqual({ ...FREEZE, reason: 'two  spaces @team <b>x</b>' });
  });

  it.each([
    ['/freeze --foo', 'unknown flag --foo'],
    ['/freeze --all --Foo=1 reason', 'unknown flag --Foo'],
    ['/freeze --for', '--for needs a duration'],
    ['/freeze --for --all', '--for needs a duration'],
    ['/freeze --for=', '--for needs a duration'],
    ['/freeze --for soon', 'not "soon"'],
    ['/freeze --for 0m', 'not "0m"'],
    ['/freeze --until', '--until needs a time'],
    ['/freeze --until tomorrow', 'not "tomorrow"'],
    ['/freeze --until 2026-02-30', 'not "2026-02-30"'],
    ['/freeze --until 2027-02-29', 'not "2027-02-29"'],
    ['/freeze --until 2026-12-01T24:00', 'not "2026-12-01T24:00"'],
    ['/freeze --until 2026-12-01T18:00+25:00', 'ISO 8601'],
    ['/freeze --for 2h --until 2026-12-01', '--for and --until cannot be used together'],
    ['/freeze --until 2026-12-01 --for 2h', '--for and --until cannot be used together'],
    ['/freeze --for 2h --for 3h', '--for is given twice'],
    ['/freeze --org=yes', '--org takes no value'],
    ['/freeze —all big release', 'write --all'],
    ['/freeze –for 2h', 'write --for'],
    ['/freeze -org', 'write --org'],
  ])('%s is an error: %s', (line, message) => {
    const error = onlyError(line);
    expect(error).toMatchObject({ word: '/freeze', line, usage: USAGE['/freeze'] });
    expect(error.message).toContain(message);
  });

  it('names the flags it takes when a flag is unknown', () => {
    expect(onlyError('/freeze --hotfixes').message).toBe(
      'unknown flag --hotfixes: /freeze takes --org, --all, --for or --until (write -- first to start the text with --)',
    );
  });

  it('shortens long user text quoted in a message', () => {
    const error = onlyError(`/freeze --for ${'x'.repeat(500)}`);
    expect(error.message.length).toBeLessThan(200);
    expect(error.message).toContain('…');
  });
});

describe('/unfreeze', () => {
  it.each<[string, Command]>([
    ['/unfreeze', { kind: 'unfreeze', org: false, reason: '' }],
    ['/unfreeze --org all clear', { kind: 'unfreeze', org: true, reason: 'all clear' }],
    ['/UnFreeze done --org', { kind: 'unfreeze', org: false, reason: 'done --org' }],
  ])('%s', (line, expected) => {
    expect(onlyCommand(line)).toEqual(expected);
  });

  it.each([
    ['/unfreeze --all', 'unknown flag --all: /unfreeze takes --org'],
    ['/unfreeze --for 2h', 'unknown flag --for'],
    ['/unfreeze --org=1', '--org takes no value'],
  ])('%s is an error: %s', (line, message) => {
    const error = onlyError(line);
    expect(error).toMatchObject({ word: '/unfreeze', line, usage: USAGE['/unfreeze'] });
    expect(error.message).toContain(message);
  });
});

describe('/incident', () => {
  it.each<[string, Command]>([
    ['/incident open sev1 API latency', { kind: 'incident-open', severity: 'sev1', repo: false, title: 'API latency' }],
    ['/incident OPEN SEV2 DB down', { kind: 'incident-open', severity: 'sev2', repo: false, title: 'DB down' }],
    ['/incident open --repo sev3 flaky deploys', { kind: 'incident-open', severity: 'sev3', repo: true, title: 'flaky deploys' }],
    ['/incident open sev4 --repo flaky deploys', { kind: 'incident-open', severity: 'sev4', repo: true, title: 'flaky deploys' }],
    ['/incident open sev1 title --repo', { kind: 'incident-open', severity: 'sev1', repo: false, title: 'title --repo' }],
    ['/incident open sev1 -- --repo is broken', { kind: 'incident-open', severity: 'sev1', repo: false, title: '--repo is broken' }],
    ['/incident resolve', { kind: 'incident-resolve', id: null, note: '' }],
    ['/incident resolve INC-3', { kind: 'incident-resolve', id: 3, note: '' }],
    ['/incident resolve inc-3 rolled back', { kind: 'incident-resolve', id: 3, note: 'rolled back' }],
    ['/incident resolve #12 failover done', { kind: 'incident-resolve', id: 12, note: 'failover done' }],
    ['/incident resolve 7', { kind: 'incident-resolve', id: 7, note: '' }],
    ['/incident resolve rolled back at 10:00', { kind: 'incident-resolve', id: null, note: 'rolled back at 10:00' }],
    ['/incident close INC-3: assessment done', { kind: 'incident-close', id: 3, note: 'assessment done' }],
    ['/incident Close the assessment is done', { kind: 'incident-close', id: null, note: 'the assessment is done' }],
    ['/incident close -- 3 replicas were lost', { kind: 'incident-close', id: null, note: '3 replicas were lost' }],
    ['/incident report', { kind: 'incident-report', id: null }],
    ['/incident report INC-4', { kind: 'incident-report', id: 4 }],
    ['/incident REPORT #4', { kind: 'incident-report', id: 4 }],
  ])('%s', (line, expected) => {
    expect(onlyCommand(line)).toEqual(expected);
  });

  it.each([
    ['/incident', '/incident', 'a subcommand is missing: open, resolve, close or report'],
    ['/incident reopen 3', '/incident', 'unknown subcommand "reopen": use open, resolve, close or report'],
    ['/incident --repo open sev1 x', '/incident', 'unknown subcommand "--repo"'],
    ['/incident open', '/incident open', 'a severity (sev1, sev2, sev3 or sev4) and a title are required'],
    ['/incident open sev5 x', '/incident open', '"sev5" is not a severity'],
    ['/incident open API is down', '/incident open', '"API" is not a severity: use sev1, sev2, sev3 or sev4'],
    ['/incident open sev1', '/incident open', 'a title is required'],
    ['/incident open sev1 --repo', '/incident open', 'a title is required'],
    ['/incident open --foo sev1 x', '/incident open', 'unknown flag --foo: /incident open takes --repo'],
    ['/incident open sev1 --repo=yes x', '/incident open', '--repo takes no value'],
    ['/incident resolve INC-x', '/incident resolve', '"INC-x" is not an incident id'],
    ['/incident resolve 0 errors', '/incident resolve', '"0" is not an incident id'],
    ['/incident resolve 99999999999999999999', '/incident resolve', 'is not an incident id'],
    ['/incident close --force', '/incident close', 'unknown flag --force: /incident close takes no flags'],
    ['/incident report latest', '/incident report', '"latest" is not an incident id'],
    ['/incident report 4 please', '/incident report', 'unexpected "please"'],
  ])('%s is an error: %s', (line, usage, message) => {
    const error = onlyError(line);
    expect(error).toMatchObject({ word: '/incident', line, usage: USAGE[usage] });
    expect(error.message).toContain(message);
  });
});

describe('/override', () => {
  it.each<[string, Command]>([
    ['/override hotfix for INC-3', { kind: 'override', reason: 'hotfix for INC-3' }],
    ['/override cancel', { kind: 'override-cancel' }],
    ['/override CANCEL  ', { kind: 'override-cancel' }],
    ['/override cancel this because the fix moved', { kind: 'override', reason: 'cancel this because the fix moved' }],
    ['/override approve', { kind: 'override-approve' }],
    ['/override Approve ', { kind: 'override-approve' }],
    ['/override approve the fix for INC-3', { kind: 'override', reason: 'approve the fix for INC-3' }],
    ['/override -- approve', { kind: 'override', reason: 'approve' }],
    ['/override -- cancel', { kind: 'override', reason: 'cancel' }],
    ['/override -- --force it', { kind: 'override', reason: '--force it' }],
  ])('%s', (line, expected) => {
    expect(onlyCommand(line)).toEqual(expected);
  });

  it.each([
    ['/override', '/override', 'a reason is required'],
    ['/override    ', '/override', 'a reason is required'],
    ['/override --force hotfix', '/override', 'unknown flag --force: /override takes no flags'],
    ['/override --cancel', '/override cancel', 'write /override cancel'],
  ])('%s is an error: %s', (line, usage, message) => {
    const error = onlyError(line);
    expect(error).toMatchObject({ word: '/override', line: line.trim(), usage: USAGE[usage] });
    expect(error.message).toContain(message);
  });
});

describe('/moratorium', () => {
  it.each<[string, Command]>([
    ['/moratorium', { kind: 'status' }],
    ['/moratorium status', { kind: 'status' }],
    ['/Moratorium STATUS', { kind: 'status' }],
    ['/moratorium help', { kind: 'help' }],
  ])('%s', (line, expected) => {
    expect(onlyCommand(line)).toEqual(expected);
  });

  it.each(['/moratorium statuss', '/moratorium help me', '/moratorium --help', '/moratorium freeze'])(
    '%s is an error',
    (line) => {
      const error = onlyError(line);
      expect(error).toMatchObject({ word: '/moratorium', line, usage: USAGE['/moratorium'] });
      expect(error.message).toContain('write /moratorium, /moratorium status or /moratorium help');
    },
  );
});

describe('which lines are commands', () => {
  it.each([
    ['a plain comment', 'LGTM, thanks!'],
    ['an empty body', ''],
    ['a blank body', '  \n\t\n'],
    ['a longer command word', '/freezer\n/unfreezeall\n/incidents\n/overrides\n/moratoriums'],
    ['a command word followed by punctuation', '/freeze.\n/freeze:\n/freeze/\n/freeze,now'],
    ['slash words that are not ours', '/hold\n/lgtm\n/assign @me\n/cc @octocat\n/retest'],
    ['a command word that does not start the line', 'please /freeze\n- /freeze\n# /freeze\n1. /freeze\n**/freeze**'],
    ['a command word without its slash', 'freeze --all\nincident open sev1 x'],
    ['a fenced code block', '```\n/freeze\n```'],
    ['a fenced code block with an info string', '```sh title="x"\n/freeze --all\n```'],
    ['a tilde fence', '~~~\n/freeze\n~~~'],
    ['a fence indented by three spaces', '   ```\n/freeze\n   ```'],
    ['a fence closed only by the same character', '```\n~~~\n/freeze\n```'],
    ['a fence closed only by one at least as long', '````\n```\n/freeze\n````'],
    ['a fence that never closes', 'text\n```\n/freeze\n\n/unfreeze'],
    ['indented code', '    /freeze'],
    ['indented code with a tab', '\t/freeze'],
    ['indented code with spaces and a tab', '  \t/freeze'],
    ['a block quote', '> /freeze'],
    ['a block quote without a space', '>/freeze'],
    ['an indented block quote', '   > /freeze'],
    ['a nested block quote', '> > /freeze'],
    ['a line that lazily continues a quoted paragraph', '> should we freeze?\n/freeze'],
    ['a line that lazily continues a quoted list item', '> - item\n/freeze'],
    ['an HTML comment', '<!-- /freeze -->'],
    ['an HTML comment spanning lines', '<!--\n/freeze\n-->'],
    ['an HTML comment that never closes', '<!-- draft\n/freeze\n\n/unfreeze'],
    ['an inline HTML comment spanning lines', 'see <!-- hidden\n/freeze\n--> there'],
    ['a <pre> block', '<pre>\n/freeze\n</pre>'],
    ['inline code', '`/freeze`\n`/freeze` is how'],
    ['inline code spanning lines', 'run `this\n/freeze\n` later'],
    ['a double-backtick code span spanning lines', 'run ``this\n/freeze ` not closed\n`` later'],
  ])('ignores %s', (_name, body) => {
    expect(parseComment(body)).toEqual([]);
  });

  it('ignores a quoted /freeze in a reply (the prow hold test)', () => {
    const reply = [
      '> Looks risky, I would say',
      '> /freeze --all',
      '> until the migration is done',
      '',
      'I disagree, the migration is fine.',
    ].join('\n');
    expect(parseComment(reply)).toEqual([]);
  });

  it('reads a command after a quote once a blank line ends it', () => {
    expect(kinds('> should we freeze?\n\n/freeze')).toEqual(['freeze']);
  });

  it('reads a command after a quoted fence, which lazy continuation does not extend', () => {
    expect(kinds('> ```\n> code\n/freeze')).toEqual(['freeze']);
  });

  it.each([
    ['up to three leading spaces', '   /freeze', 'freeze'],
    ['a line right after a paragraph line', 'We are done here.\n/unfreeze', 'unfreeze'],
    ['a line after a closed fence', '```\n/freeze\n```\n/unfreeze', 'unfreeze'],
    ['a line after a closed tilde fence of a longer length', '~~~~\n/freeze\n~~~\n/freeze\n~~~~~\n/unfreeze', 'unfreeze'],
    ['a line after a backtick "fence" whose info string has a backtick', '```a`b\n/unfreeze', 'unfreeze'],
    ['a line after an issue template comment', '<!-- Describe your change -->\n/unfreeze', 'unfreeze'],
    ['a line after a closed multi-line comment', '<!--\n/freeze\n-->\n/unfreeze', 'unfreeze'],
    ['a line after an inline comment that never closes', 'a <!-- b\n/unfreeze', 'unfreeze'],
    ['a line after a <pre> block', '<pre>\n/freeze\n</pre>\n/unfreeze', 'unfreeze'],
    ['a line after a blank-line-ended paragraph with an unmatched backtick', 'a ` b\n\n/unfreeze', 'unfreeze'],
    ['a line after indented code', '    /freeze\n/unfreeze', 'unfreeze'],
    ['a line after a list', '- one\n- two\n\n/unfreeze', 'unfreeze'],
  ])('reads %s', (_name, body, kind) => {
    expect(kinds(body)).toEqual([kind]);
  });

  it('reads several commands in one comment, each on its own, in order', () => {
    const body = [
      'Declaring this now.',
      '/incident open sev1 --repo API latency',
      '/freeze --org --all --for 4h',
      '```',
      '/unfreeze',
      '```',
      '/freeze --bogus',
      '/moratorium',
    ].join('\n');
    expect(kinds(body)).toEqual(['incident-open', 'freeze', 'error:/freeze', 'status']);
    expect(parseComment(body).map((r) => r.line)).toEqual([
      '/incident open sev1 --repo API latency',
      '/freeze --org --all --for 4h',
      '/freeze --bogus',
      '/moratorium',
    ]);
  });

  it('handles CRLF and lone CR line endings', () => {
    expect(parseComment('/freeze --all db\r\n```\r\n/unfreeze\r\n```\r\n/moratorium help\r\n')).toEqual([
      { ok: true, command: { ...FREEZE, all: true, reason: 'db' }, line: '/freeze --all db' },
      { ok: true, command: { kind: 'help' }, line: '/moratorium help' },
    ]);
    expect(kinds('/freeze\r/unfreeze')).toEqual(['freeze', 'unfreeze']);
  });

  it('reads command words in any case', () => {
    expect(kinds('/FREEZE\n/Unfreeze\n/INCIDENT OPEN SEV1 x\n/Override CANCEL\n/MORATORIUM HELP')).toEqual([
      'freeze',
      'unfreeze',
      'incident-open',
      'override-cancel',
      'help',
    ]);
  });

  it('ends a command word at any white space', () => {
    expect(onlyCommand('/freeze\tdb\u00a0work')).toEqual({ ...FREEZE, reason: 'db\u00a0work' });
  });

  it('reports the source line trimmed', () => {
    expect(parseComment('  /freeze --all  ')[0]?.line).toBe('/freeze --all');
  });

  it('leaves an inline HTML comment out of the command, as the reader sees it', () => {
    expect(onlyCommand('/freeze <!-- not shown --> big release')).toEqual({ ...FREEZE, reason: 'big release' });
    expect(parseComment('/freeze <!-- not shown --> x')[0]?.line).toBe('/freeze <!-- not shown --> x');
  });

  it('ends a command at an inline HTML comment that runs onto later lines', () => {
    expect(parseComment('/freeze db work <!-- hidden\n/unfreeze\n-->')).toEqual([
      { ok: true, command: { ...FREEZE, reason: 'db work' }, line: '/freeze db work <!-- hidden' },
    ]);
  });

  it('ignores a byte order mark at the start of the body', () => {
    expect(kinds('\uFEFF/freeze')).toEqual(['freeze']);
  });

  it('returns [] for a body that is not a string instead of throwing', () => {
    expect(parseComment(null as unknown as string)).toEqual([]);
    expect(parseComment(undefined as unknown as string)).toEqual([]);
  });

  // speed is measured by `npm run bench` (parser row), not asserted here
  it('reads a comment of GitHub-maximum size full of unclosed openers', () => {
    const lines: string[] = [];
    for (let i = 0, size = 0; size < 65_536; i++) {
      const line = i % 3 === 0 ? `a <!-- ${'`'.repeat((i % 40) + 1)} <!--` : i % 3 === 1 ? '/freeze `x <!--' : 'q';
      lines.push(line);
      size += line.length + 1;
    }
    const wide = `a ${'<!-- '.repeat(13_000)}`;
    const results = parseComment(lines.join('\n'));
    expect(results.length).toBeGreaterThan(0);
    expect(results.every((r) => r.line.startsWith('/freeze'))).toBe(true);
    expect(parseComment(wide)).toEqual([]);
    expect(parseComment('`'.repeat(65_536))).toEqual([]);
    expect(parseComment(Array.from({ length: 360 }, (_, i) => '`'.repeat(i + 1)).join(' '))).toEqual([]);
  });
});

describe('parseIsoTime', () => {
  it.each<[string, number | null]>([
    ['2026-12-01', Date.UTC(2026, 11, 1)],
    ['2026-12-01T18:00', Date.UTC(2026, 11, 1, 18)],
    ['2026-12-01t18:00z', Date.UTC(2026, 11, 1, 18)],
    ['2026-12-01T18:00:05.5Z', Date.UTC(2026, 11, 1, 18, 0, 5, 500)],
    ['2026-12-01T18:00+0130', Date.UTC(2026, 11, 1, 16, 30)],
    ['2026-12-01T18:00-02', Date.UTC(2026, 11, 1, 20)],
    ['2026-12-01T00:30+01:00', Date.UTC(2026, 10, 30, 23, 30)],
    ['2026-13-01', null],
    ['2026-04-31', null],
    ['2026-12-01T18', null],
    ['2026-12-01T18:60', null],
    ['2026-12-01Z', null],
    ['20261201', null],
    ['1 December 2026', null],
  ])('%s', (text, expected) => {
    expect(parseIsoTime(text)).toBe(expected);
  });
});

describe('help text', () => {
  it('lists every command and takes its forms from USAGE', () => {
    const text = helpText();
    for (const command of COMMANDS) expect(text).toContain(`\`${command.usage}\``);
    for (const word of ['/freeze', '/unfreeze', '/incident open', '/incident report', '/override cancel', '/moratorium help']) {
      expect(text).toContain(USAGE[word]);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const COMMANDISH = [
  '/freeze', '/unfreeze', '/incident', '/override', '/moratorium', '/FREEZE', '/freezer', '/hold',
  'open', 'resolve', 'close', 'report', 'cancel', 'status', 'help', 'sev1', 'SEV9',
  '--org', '--all', '--for', '--until', '--repo', '--', '--for=2h', '--until=', '—all', '-org', '--x=',
  '2h', '0s', '1h30m', '2026-12-01', '18:00', '2026-12-01T18:00+01:00', '2026-02-30',
  'INC-3', '#3', '3', 'INC-x', '0', '99999999999999999999',
  '```', '````', '~~~', '>', '<!--', '-->', '`', '``', '<pre>', '</pre>', '\\', '#', '-', '*', '1.',
  ' ', '   ', '    ', '\t', '', '\u00a0', '\uFEFF', '\r', '\n', '\r\n',
];

const token = fc.oneof(fc.constantFrom(...COMMANDISH), fc.string({ maxLength: 8 }));
const commandishLine = fc.array(token, { maxLength: 10 }).map((tokens) => tokens.join(' '));
const commandishBody = fc
  .tuple(fc.array(commandishLine, { maxLength: 12 }), fc.constantFrom('\n', '\r\n', '\r'))
  .map(([lines, eol]) => lines.join(eol));

const ANY_BODY = fc.oneof(
  fc.string({ maxLength: 400 }),
  fc.string({ unit: 'binary', maxLength: 400 }),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  commandishBody,
);

const COMMAND_START = /^\s*\/(?:freeze|unfreeze|incident|override|moratorium)(?:\s|$)/i;
const withoutComments = (line: string): string => line.replace(/<!--[\s\S]*?-->/g, '');

/** The body with every line that starts with a command word (as a reader sees it) defused. */
function defuse(body: string): string {
  return body
    .split(/(\r\n|\r|\n)/)
    .map((part) => (COMMAND_START.test(withoutComments(part)) ? `x${part}` : part))
    .join('');
}

describe('parseComment properties', () => {
  it('never throws, and every result names a line of the body', () => {
    fc.assert(
      fc.property(ANY_BODY, (body) => {
        const results = parseComment(body);
        const lines = new Set(body.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/).map((l) => l.trim()));
        for (const result of results) {
          expect(lines.has(result.line)).toBe(true);
          if (!result.ok) {
            expect(result.message).not.toBe('');
            expect(Object.values(USAGE)).toContain(result.usage);
            expect(result.message).not.toContain('internal error');
          }
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('finds nothing in text where no line starts with a command word', () => {
    fc.assert(
      fc.property(ANY_BODY.map(defuse), (body) => {
        expect(parseComment(body)).toEqual([]);
      }),
      { numRuns: 2_000 },
    );
  });

  it('finds nothing in any text quoted as a reply', () => {
    fc.assert(
      fc.property(ANY_BODY, (body) => {
        const quoted = body
          .split(/\r\n|\r|\n/)
          .map((line) => `> ${line}`)
          .join('\n');
        expect(parseComment(quoted)).toEqual([]);
      }),
      { numRuns: 1_000 },
    );
  });

  it('finds nothing in any text inside a long fence', () => {
    fc.assert(
      fc.property(ANY_BODY, (body) => {
        const fenced = `\`\`\`\`\`\`\`\`\`\`md\n${body.replaceAll('`', "'")}\n\`\`\`\`\`\`\`\`\`\``;
        expect(parseComment(fenced)).toEqual([]);
      }),
      { numRuns: 1_000 },
    );
  });

  it('round-trips the flags and reason of any valid /freeze line', () => {
    const MIN = Date.UTC(1971, 0, 1);
    const MAX = Date.UTC(9998, 0, 1);
    const pad = (n: number) => String(n).padStart(2, '0');
    const duration = fc
      .tuple(fc.nat(30), fc.nat(48), fc.nat(120), fc.nat(120))
      .filter(([d, h, m, s]) => d + h + m + s > 0)
      .map(([d, h, m, s]) => ({
        text: `${d ? `${d}d` : ''}${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}`,
        ms: ((d * 24 + h) * 60 + m) * 60_000 + s * 1000,
      }));
    const time = fc
      .tuple(
        fc.oneof(fc.integer({ min: MIN, max: MAX }), fc.integer({ min: MIN / 60_000, max: MAX / 60_000 }).map((m) => m * 60_000)),
        fc.integer({ min: -14 * 60, max: 14 * 60 }),
        fc.constantFrom('colon', 'compact', 'Z', 'none'),
      )
      .map(([ms, offset, zone]) => {
        const off = zone === 'Z' || zone === 'none' ? 0 : offset;
        const local = new Date(ms + off * 60_000).toISOString().slice(0, -1); // drop the Z
        const text = ms % 60_000 === 0 ? local.slice(0, 16) : local;
        const sign = off < 0 ? '-' : '+';
        const hhmm = [pad(Math.floor(Math.abs(off) / 60)), pad(Math.abs(off) % 60)];
        const suffix = zone === 'colon' ? `${sign}${hhmm.join(':')}` : zone === 'compact' ? `${sign}${hhmm.join('')}` : zone === 'Z' ? 'Z' : '';
        return { text: text + suffix, ms };
      });
    const safeWord = fc
      .string({ minLength: 1, maxLength: 8 })
      .filter((w) => !/[\s<]/.test(w) && !/^[-\u2010-\u2015\u2212]/.test(w) && !/^\d{2}:\d{2}/.test(w));
    const reasonWord = fc.oneof(safeWord, fc.constantFrom('--all', '--org', '--for', '-x', 'cancel'));
    const line = fc.record({
      org: fc.boolean(),
      all: fc.boolean(),
      timed: fc.oneof(
        fc.constant(null),
        duration.map((d) => ({ flag: 'for' as const, ...d })),
        time.map((t) => ({ flag: 'until' as const, ...t })),
      ),
      equals: fc.boolean(),
      order: fc.array(fc.integer(), { minLength: 3, maxLength: 3 }),
      upper: fc.boolean(),
      indent: fc.constantFrom('', ' ', '   '),
      gap: fc.constantFrom(' ', '  ', '\t'),
      reason: fc.option(fc.tuple(safeWord, fc.array(reasonWord, { maxLength: 5 })), { nil: null }),
    });

    fc.assert(
      fc.property(line, (l) => {
        const groups: [number, string[]][] = [];
        if (l.org) groups.push([l.order[0]!, ['--org']]);
        if (l.all) groups.push([l.order[1]!, ['--all']]);
        if (l.timed) {
          const flag = `--${l.timed.flag}`;
          groups.push([l.order[2]!, l.equals ? [`${flag}=${l.timed.text}`] : [flag, l.timed.text]]);
        }
        groups.sort((a, b) => a[0] - b[0]);
        const reason = l.reason ? [l.reason[0], ...l.reason[1]].join(l.gap) : '';
        const tokens = [l.upper ? '/FREEZE' : '/freeze', ...groups.flatMap(([, t]) => t)];
        const written = `${l.indent}${tokens.map((t) => (l.upper ? t.toUpperCase() : t)).join(l.gap)}${reason ? l.gap + reason : ''}`;

        expect(parseComment(written)).toEqual([
          {
            ok: true,
            line: written.trim(),
            command: {
              kind: 'freeze',
              org: l.org,
              all: l.all,
              forMs: l.timed?.flag === 'for' ? l.timed.ms : null,
              until: l.timed?.flag === 'until' ? l.timed.ms : null,
              reason,
            },
          },
        ]);
      }),
      { numRuns: 2_000 },
    );
  });
});
