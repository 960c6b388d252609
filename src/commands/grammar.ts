/**
 * The grammar of one command line (SPEC section 4): command words, flags, durations, incident ids
 * and free text, into a typed command or a typed error a user can act on. Which lines are command
 * lines is for `lines.ts`; whether a command is allowed, and what it refers to (which incident,
 * whether a time is in the future), is for the handler. Pure: no I/O, no clock, never throws.
 */
import type { Severity } from '../config/schema.js';
import { parseDuration } from '../time/duration.js';
import { isIsoDate, isIsoTimeOfDay, parseIsoTime } from '../time/iso.js';
import { USAGES, type UsageKey } from './help.js';

export type Command =
  | { kind: 'freeze'; org: boolean; all: boolean; forMs: number | null; until: number | null /* UTC ms */; reason: string }
  | { kind: 'unfreeze'; org: boolean; reason: string }
  | { kind: 'incident-open'; severity: Severity; repo: boolean; title: string }
  | { kind: 'incident-resolve'; id: number | null; note: string }
  | { kind: 'incident-close'; id: number | null; note: string }
  | { kind: 'incident-report'; id: number | null }
  | { kind: 'override'; reason: string }
  | { kind: 'override-cancel' }
  | { kind: 'override-approve' }
  | { kind: 'status' }
  | { kind: 'help' };

export interface ParsedCommand {
  ok: true;
  command: Command;
  /** The source line, trimmed. */
  line: string;
}

export interface CommandError {
  ok: false;
  /** The command word, lower case: `/freeze`, `/incident`, ... */
  word: string;
  /** The source line, trimmed. */
  line: string;
  /** What is wrong, so that the user can fix it. May quote (shortened) user text: escape it. */
  message: string;
  /** The correct form of the command or subcommand. */
  usage: string;
}

export type ParseResult = ParsedCommand | CommandError;

/** A command word at the start of a line's text, ending at white space. */
const COMMAND_WORD = /^\/(freeze|unfreeze|incident|override|moratorium)(?=\s|$)/i;

type Word = '/freeze' | '/unfreeze' | '/incident' | '/override' | '/moratorium';

/** Whether a line's text (trimmed) starts with one of our command words. */
export function startsWithCommandWord(text: string): boolean {
  return COMMAND_WORD.test(text);
}

export interface CommandLine {
  /** The line as written, trimmed. */
  source: string;
  /** The line as read (inline HTML comments removed), trimmed; starts with a command word. */
  text: string;
}

// ---------------------------------------------------------------------------------------------
// One command line into a command or an error.

/** A mistake in a command, with the form to show. Thrown within this file only. */
class Misuse extends Error {
  constructor(
    message: string,
    readonly usage: UsageKey,
  ) {
    super(message);
  }
}

interface Token {
  text: string;
  start: number;
}

/** The tokens of a command line after its command word, and the free text that follows them. */
class Args {
  private pos = 1; // tokens[0] is the command word
  /** `--` was given: what follows is text (no flags, no optional ID). */
  flagsEnded = false;

  constructor(
    private readonly text: string,
    private readonly tokens: readonly Token[],
  ) {}

  peek(): string | undefined {
    return this.tokens[this.pos]?.text;
  }

  next(): string | undefined {
    const token = this.peek();
    if (token !== undefined) this.pos++;
    return token;
  }

  remaining(): number {
    return this.tokens.length - this.pos;
  }

  /** The rest of the line as written (inner spacing kept), trimmed; '' when nothing is left. */
  rest(): string {
    const token = this.tokens[this.pos];
    return token ? this.text.slice(token.start).trim() : '';
  }
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const word = /\S+/g;
  for (let match = word.exec(text); match; match = word.exec(text)) {
    tokens.push({ text: match[0], start: match.index });
  }
  return tokens;
}

export function parseCommandLine({ source, text }: CommandLine): ParseResult {
  const word = `/${COMMAND_WORD.exec(text)![1]!.toLowerCase()}` as Word;
  const args = new Args(text, tokenize(text));
  try {
    return { ok: true, command: parseArgs(word, args), line: source };
  } catch (error) {
    if (error instanceof Misuse) {
      return { ok: false, word, line: source, message: error.message, usage: USAGES[error.usage] };
    }
    // A bug, not the user's mistake; the contract is to never throw.
    return { ok: false, word, line: source, message: 'this command could not be read (internal error)', usage: USAGES[word] };
  }
}

function parseArgs(word: Word, args: Args): Command {
  switch (word) {
    case '/freeze':
      return parseFreeze(args);
    case '/unfreeze':
      return parseUnfreeze(args);
    case '/incident':
      return parseIncident(args);
    case '/override':
      return parseOverride(args);
    case '/moratorium':
      return parseMoratorium(args);
  }
}

function parseFreeze(args: Args): Command {
  const usage = '/freeze';
  let org = false;
  let all = false;
  let forMs: number | null = null;
  let until: number | null = null;
  let timed: Flag | null = null;
  const known = ['org', 'all', 'for', 'until'];
  for (let flag = nextFlag(args, usage, known); flag; flag = nextFlag(args, usage, known)) {
    if (flag.name === 'org' || flag.name === 'all') {
      noValue(flag, usage);
      if (flag.name === 'org') org = true;
      else all = true;
      continue;
    }
    if (timed) {
      throw new Misuse(
        timed.name === flag.name ? `${flag.written} is given twice` : '--for and --until cannot be used together: give one of them',
        usage,
      );
    }
    timed = flag;
    if (flag.name === 'for') {
      const value = flagValue(args, flag, usage, 'a duration such as 30m, 4h, 2d or 1h30m');
      forMs = parseDuration(value);
      if (forMs === null) {
        throw new Misuse(`--for needs a duration such as 30m, 4h, 2d or 1h30m, not ${quote(value)}`, usage);
      }
    } else {
      let value = flagValue(args, flag, usage, 'a time such as 2026-12-01T18:00Z');
      const time = args.peek();
      if (isIsoDate(value) && time !== undefined && isIsoTimeOfDay(time)) {
        value = `${value}T${args.next()!}`; // `--until 2026-12-01 18:00`
      }
      until = parseIsoTime(value);
      if (until === null) {
        throw new Misuse(
          `--until needs an ISO 8601 time such as 2026-12-01T18:00Z, 2026-12-01T18:00+01:00 or 2026-12-01 ` +
            `(UTC unless an offset is given), not ${quote(value)}`,
          usage,
        );
      }
    }
  }
  return { kind: 'freeze', org, all, forMs, until, reason: args.rest() };
}

function parseUnfreeze(args: Args): Command {
  let org = false;
  for (let flag = nextFlag(args, '/unfreeze', ['org']); flag; flag = nextFlag(args, '/unfreeze', ['org'])) {
    noValue(flag, '/unfreeze');
    org = true;
  }
  return { kind: 'unfreeze', org, reason: args.rest() };
}

const SUBCOMMANDS = 'open, resolve, close or report';

function parseIncident(args: Args): Command {
  const sub = args.next();
  if (sub === undefined) throw new Misuse(`a subcommand is missing: ${SUBCOMMANDS}`, '/incident');
  switch (sub.toLowerCase()) {
    case 'open':
      return parseIncidentOpen(args);
    case 'resolve':
    case 'close': {
      const usage = sub.toLowerCase() === 'resolve' ? '/incident resolve' : '/incident close';
      noFlags(args, usage);
      const id = optionalId(args, usage);
      noFlags(args, usage);
      const note = args.rest();
      return usage === '/incident resolve' ? { kind: 'incident-resolve', id, note } : { kind: 'incident-close', id, note };
    }
    case 'report': {
      const usage = '/incident report';
      noFlags(args, usage);
      const id = optionalId(args, usage);
      noFlags(args, usage);
      const rest = args.rest();
      if (rest !== '') {
        throw new Misuse(
          id === null
            ? `${quote(args.peek()!)} is not an incident id: write INC-3, #3 or 3`
            : `unexpected ${quote(rest)}: /incident report takes only an incident id`,
          usage,
        );
      }
      return { kind: 'incident-report', id };
    }
    default:
      throw new Misuse(`unknown subcommand ${quote(sub)}: use ${SUBCOMMANDS}`, '/incident');
  }
}

/** Every severity, checked against the config's list at compile time. */
const SEVERITY_LIST = ['sev1', 'sev2', 'sev3', 'sev4'] as const satisfies readonly Severity[];
type MissingSeverity = Exclude<Severity, (typeof SEVERITY_LIST)[number]>;
const everySeverityListed: [MissingSeverity] extends [never] ? true : MissingSeverity = true;
void everySeverityListed;

function parseIncidentOpen(args: Args): Command {
  const usage = '/incident open';
  let repo = false;
  const readRepo = (): void => {
    for (let flag = nextFlag(args, usage, ['repo']); flag; flag = nextFlag(args, usage, ['repo'])) {
      noValue(flag, usage);
      repo = true;
    }
  };
  readRepo();
  const written = args.next();
  if (written === undefined) throw new Misuse('a severity (sev1, sev2, sev3 or sev4) and a title are required', usage);
  const severity = SEVERITY_LIST.find((s) => s === written.toLowerCase());
  if (!severity) throw new Misuse(`${quote(written)} is not a severity: use sev1, sev2, sev3 or sev4`, usage);
  readRepo();
  const title = args.rest();
  if (title === '') throw new Misuse('a title is required, such as "API latency"', usage);
  return { kind: 'incident-open', severity, repo, title };
}

const ID = /^(?:inc-|#)?(\d+)[:,.;]?$/i;

/** The incident id at the current position, if the token there looks like one. */
function optionalId(args: Args, usage: UsageKey): number | null {
  const token = args.peek();
  if (args.flagsEnded || token === undefined) return null;
  const match = ID.exec(token);
  if (!match) {
    if (/^inc-/i.test(token)) throw new Misuse(`${quote(token)} is not an incident id: write INC-3, #3 or 3`, usage);
    return null;
  }
  const id = Number(match[1]);
  if (!Number.isSafeInteger(id) || id < 1) {
    throw new Misuse(
      `${quote(token)} is not an incident id (they start at 1); write -- first to start the text with a number`,
      usage,
    );
  }
  args.next();
  return id;
}

function parseOverride(args: Args): Command {
  const usage = '/override';
  if (args.peek()?.toLowerCase() === '--cancel') {
    throw new Misuse('unknown flag --cancel: to end the override, write /override cancel', '/override cancel');
  }
  noFlags(args, usage);
  if (!args.flagsEnded && args.remaining() === 1 && args.peek()!.toLowerCase() === 'cancel') {
    return { kind: 'override-cancel' };
  }
  if (!args.flagsEnded && args.remaining() === 1 && args.peek()!.toLowerCase() === 'approve') {
    return { kind: 'override-approve' };
  }
  const reason = args.rest();
  if (reason === '') {
    throw new Misuse('a reason is required, such as /override hotfix for INC-3 (/override cancel ends an override, /override approve approves a pending one)', usage);
  }
  return { kind: 'override', reason };
}

function parseMoratorium(args: Args): Command {
  const rest = args.rest();
  if (rest === '') return { kind: 'status' };
  if (args.remaining() === 1) {
    const sub = rest.toLowerCase();
    if (sub === 'status') return { kind: 'status' };
    if (sub === 'help') return { kind: 'help' };
  }
  throw new Misuse(`unknown ${quote(rest)}: write /moratorium, /moratorium status or /moratorium help`, '/moratorium');
}

// ---------------------------------------------------------------------------------------------
// Flags

interface Flag {
  /** Lower case, without dashes. */
  name: string;
  /** `--name`, as the messages show it. */
  written: string;
  /** The value given as `--name=value`, or null. */
  inline: string | null;
}

const FLAG = /^--([A-Za-z][^=]*)(?:=([\s\S]*))?$/;
const TYPOGRAPHIC_DASH = /^[\u2010-\u2015\u2212]+([A-Za-z][^=]*)/;
const SINGLE_DASH = /^-([A-Za-z][^=]*)(?:=|$)/;

/**
 * The flag at the current position, consumed, or null when the free text starts there. Throws for
 * an unknown flag, and for a known one written with one dash or a typographic dash (a phone's
 * autocorrect turns `--` into `—`), which would otherwise silently become text.
 */
function nextFlag(args: Args, usage: UsageKey, known: readonly string[]): Flag | null {
  if (args.flagsEnded) return null;
  const token = args.peek();
  if (token === undefined) return null;
  if (token === '--') {
    args.next();
    args.flagsEnded = true;
    return null;
  }
  const match = FLAG.exec(token);
  if (!match) {
    const lookalike = TYPOGRAPHIC_DASH.exec(token) ?? SINGLE_DASH.exec(token);
    const name = lookalike?.[1]?.toLowerCase();
    if (name !== undefined && known.includes(name)) {
      throw new Misuse(`${quote(token)} is not a flag: write --${name}`, usage);
    }
    return null;
  }
  const name = match[1]!.toLowerCase();
  args.next();
  if (!known.includes(name)) {
    const takes = known.length ? `takes ${listOr(known.map((k) => `--${k}`))}` : 'takes no flags';
    throw new Misuse(
      `unknown flag ${shorten(token.split('=')[0]!)}: ${commandOf(usage)} ${takes} (write -- first to start the text with --)`,
      usage,
    );
  }
  return { name, written: `--${name}`, inline: match[2] ?? null };
}

function noFlags(args: Args, usage: UsageKey): void {
  nextFlag(args, usage, []);
}

function noValue(flag: Flag, usage: UsageKey): void {
  if (flag.inline !== null) throw new Misuse(`${flag.written} takes no value`, usage);
}

function flagValue(args: Args, flag: Flag, usage: UsageKey, what: string): string {
  if (flag.inline !== null) {
    if (flag.inline === '') throw new Misuse(`${flag.written} needs ${what}`, usage);
    return flag.inline;
  }
  const value = args.peek();
  if (value === undefined || value.startsWith('--')) throw new Misuse(`${flag.written} needs ${what}`, usage);
  args.next();
  return value;
}

/** `/incident open` -> `/incident open`; `/override cancel` -> `/override`. */
function commandOf(usage: UsageKey): string {
  return usage === '/override cancel' || usage === '/override approve' || usage === '/moratorium status' || usage === '/moratorium help'
    ? usage.split(' ')[0]!
    : usage;
}

function listOr(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]!}`;
}

function shorten(text: string): string {
  const chars = Array.from(text);
  return chars.length > 40 ? `${chars.slice(0, 39).join('')}…` : text;
}

function quote(text: string): string {
  return `"${shorten(text)}"`;
}
