/**
 * The command list (SPEC section 4): the usage strings the parser puts in its errors, and the text
 * `/moratorium help` replies with. Pure data; the reply code escapes nothing here since nothing here
 * comes from a user.
 */

/** The correct form of each command word and subcommand, as shown to users. */
export const USAGES = {
  '/freeze': '/freeze [--org] [--all] [--for DURATION | --until TIME] [reason]',
  '/unfreeze': '/unfreeze [--org] [reason]',
  '/incident': '/incident open SEVERITY [--repo] title | /incident resolve|close [ID] [note] | /incident report [ID]',
  '/incident open': '/incident open SEVERITY [--repo] title',
  '/incident resolve': '/incident resolve [ID] [note]',
  '/incident close': '/incident close [ID] [note]',
  '/incident report': '/incident report [ID]',
  '/override': '/override reason',
  '/override cancel': '/override cancel',
  '/override approve': '/override approve',
  '/moratorium': '/moratorium [status | help]',
  '/moratorium status': '/moratorium [status]',
  '/moratorium help': '/moratorium help',
} as const;

export type UsageKey = keyof typeof USAGES;

/** Which `permissions` key of the configuration a command needs, or `anyone`. */
export type CommandPermission = 'freeze' | 'lift' | 'incident' | 'override' | 'anyone';

export interface CommandHelp {
  usage: string;
  effect: string;
  permission: CommandPermission;
}

/** Every command, in the order the SPEC lists them. */
export const COMMANDS: readonly CommandHelp[] = [
  {
    usage: USAGES['/freeze'],
    effect: 'freezes this repository (the whole account with `--org`); hotfixes still flow unless `--all`',
    permission: 'freeze',
  },
  {
    usage: USAGES['/unfreeze'],
    effect: "ends the manual freezes and the current occurrence of active windows (never an incident's)",
    permission: 'lift',
  },
  {
    usage: USAGES['/incident open'],
    effect: 'declares an incident for the account (this repository with `--repo`)',
    permission: 'incident',
  },
  {
    usage: USAGES['/incident resolve'],
    effect: 'service restored: the incident moves to recovery',
    permission: 'incident',
  },
  {
    usage: USAGES['/incident close'],
    effect: 'assessment complete: the incident and its moratorium end',
    permission: 'lift',
  },
  {
    usage: USAGES['/incident report'],
    effect: "the incident's timeline (the newest incident when no ID is given)",
    permission: 'anyone',
  },
  {
    usage: USAGES['/override'],
    effect: "on a pull request: exempts its current head commit from freezes and cadence",
    permission: 'override',
  },
  { usage: USAGES['/override cancel'], effect: "ends this pull request's override, pending or in force", permission: 'override' },
  {
    usage: USAGES['/override approve'],
    effect: "with `overrides.approvals` above 1: approves this pull request's pending override (never by the one who started it or the author)",
    permission: 'override',
  },
  { usage: USAGES['/moratorium status'], effect: "the gate's state for this repository", permission: 'anyone' },
  { usage: USAGES['/moratorium help'], effect: 'this list', permission: 'anyone' },
];

const NOTES: readonly string[] = [
  '`ID` is `INC-3`, `#3` or `3`; it may be left out when only one incident fits.',
  '`SEVERITY` is `sev1`, `sev2`, `sev3` or `sev4`.',
  '`DURATION` is like `90s`, `30m`, `4h`, `2d` or `1h30m`.',
  '`TIME` is ISO 8601, such as `2026-12-01T18:00Z`, `2026-12-01T18:00+01:00` or `2026-12-01`; UTC when no offset is given.',
  'Flags come before the free text; write `--` to start the text with something that looks like a flag or an ID.',
  'A command is a line of its own; commands in code, quotes and HTML comments are ignored.',
];

/** The markdown `/moratorium help` replies with. */
export function helpText(): string {
  const commands = COMMANDS.map((c) => `- \`${c.usage}\`: ${c.effect}`);
  return ['**Moratorium commands**', '', ...commands, '', ...NOTES.map((n) => `- ${n}`)].join('\n');
}
