/**
 * The comment-command parser (SPEC section 4). Pure: no I/O, no clock, never throws.
 *
 * Two steps, as in triagebot's parser: first find the lines a reader sees as commands, with a real
 * CommonMark + GFM parser (`lines.ts`, on markdown-it: fenced and indented code, block quotes,
 * tables, HTML and inline code are skipped), then parse each one into a typed command or a typed
 * error a user can act on (`grammar.ts`). Whether the command is allowed, and what it refers to
 * (which incident, whether a time is in the future), is for the handler to decide.
 */
import { USAGES } from './help.js';
import { parseCommandLine, startsWithCommandWord, type ParseResult } from './grammar.js';
import { textLines } from './lines.js';

export type { Command, CommandError, ParsedCommand, ParseResult } from './grammar.js';

/** The correct form of each command word and subcommand (`/freeze`, `/incident open`, ...). */
export const USAGE: Readonly<Record<string, string>> = USAGES;

/** Every command line in the comment body, in order; [] when there is none. Never throws. */
export function parseComment(body: string): ParseResult[] {
  if (typeof body !== 'string') return [];
  return textLines(body, startsWithCommandWord).map(parseCommandLine);
}
