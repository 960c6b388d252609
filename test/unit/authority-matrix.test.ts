/**
 * Who may do what (SPEC 3 `permissions`, SPEC 4 authority), as tables: every command against every
 * repository permission level, team memberships (active and pending, of the installation's
 * organisation and of another), logins named in the config, the account's config for account-scoped
 * actions, a failing authority check, and comments that must never act (bots, edits, quotes, code).
 *
 * Each cell runs in process against the app's parts (src/compose.ts) with an in-memory store and the fake GitHub port
 * (test/support/fake-port.ts); the observed table must equal the expected one, and no refused or
 * ignored cell may change any state (incidents, freezes, overrides, window suppressions, audit).
 */
import type { Context } from 'probot';
import { describe, expect, it } from 'vitest';
import { Handlers } from '../../src/handlers.js';
import type { Role } from '../../src/github/port.js';
import type { Repositories } from '../../src/store/contract.js';
import { FakePort, testServices } from '../support/fake-port.js';

const T0 = Date.UTC(2026, 10, 30, 10, 0);
const PR = 7;
const SHA = 'sha-api-7';

/** The commands, as written in a comment on PR #7 of acme/api. */
const COMMANDS: Record<string, string> = {
  '/freeze': '/freeze matrix freeze',
  '/freeze --org --all': '/freeze --org --all matrix freeze',
  '/unfreeze': '/unfreeze matrix',
  '/unfreeze --org': '/unfreeze --org matrix',
  '/incident open': '/incident open sev1 Matrix incident',
  '/incident open --repo': '/incident open sev2 --repo Matrix incident',
  '/incident resolve': '/incident resolve INC-1 matrix',
  '/incident close': '/incident close INC-1 matrix',
  '/incident report': '/incident report INC-1',
  '/override': '/override matrix reason',
  '/override cancel': '/override cancel',
  '/moratorium status': '/moratorium status',
  '/moratorium help': '/moratorium help',
};
/** commands that change nothing whoever runs them */
const READS = new Set(['/incident report', '/moratorium status', '/moratorium help']);

interface Actor {
  login: string;
  role: Role;
  teams?: Array<[org: string, slug: string, state: 'active' | 'pending']>;
}

interface World {
  /** the repository's `.github/moratorium.yml` (and the account's, unless `accountConfig`) */
  config?: Record<string, unknown>;
  /** the account's `.github` repository config */
  accountConfig?: Record<string, unknown>;
  failAuthority?: boolean;
}

/**
 * A fresh world: acme/api with PR #7, and something for every command to change: an open
 * account incident (INC-1), a repository freeze, an account freeze, an override on #7.
 */
async function makeWorld(actor: Actor, w: World) {
  const port = new FakePort();
  port.addRepo('acme', 'api');
  port.addPull('api', { number: PR, headSha: SHA });
  if (w.config) port.config = { kind: 'found', data: w.config };
  if (w.accountConfig) port.configs.set('.github', { kind: 'found', data: w.accountConfig });
  port.roles.set(actor.login, actor.role);
  for (const [org, slug, state] of actor.teams ?? []) port.setTeamMember(org, slug, actor.login, state);
  const t = await testServices(port, T0);
  const setup = { login: 'setup', source: 'api' as const };
  await t.store.transaction(async (tx) => {
    await t.services.actions.openIncident(tx, { account: 'acme', repo: null }, 'sev2', 'Earlier incident', setup, 1);
    await t.services.actions.freeze(tx, { account: 'acme', repo: 'api' }, 'features', null, 'repository freeze', setup, 1);
    await t.services.actions.freeze(tx, { account: 'acme', repo: null }, 'features', null, 'account freeze', setup, 1);
    await t.services.actions.override(tx, 'acme', 'api', PR, SHA, 'earlier override', setup, 1);
  });
  // the set-up's own fan-outs run first, so that only the comment's work is left
  t.services.committed();
  await t.services.jobs.idle();
  port.failAuthority = Boolean(w.failAuthority);
  port.comments.length = 0;
  port.reactions.length = 0;
  return { port, ...t };
}

async function snapshot(store: Repositories): Promise<string> {
  return JSON.stringify({
    incidents: (await store.incidentCandidates('acme', 'api')).map((i) => [i.id, i.phase, i.severity, i.title]),
    freezes: (await store.activeFreezes('acme', T0)).map((f) => [f.id, f.mode, f.reason]),
    override: await store.activeOverride('acme', 'api', PR),
    suppressions: await store.liveSuppressions('acme', T0),
    audit: (await store.auditOfAccount('acme', 1000)).length,
  });
}

interface Cell {
  reactions: string[];
  changed: boolean;
  replied: boolean;
}

/** Runs one comment through `services.commands.handle` (the command runner itself). */
async function viaCommands(actor: Actor, world: World, body: string): Promise<Cell> {
  const t = await makeWorld(actor, world);
  try {
    const before = await snapshot(t.store);
    const outcome = await t.services.commands.handle({
      installationId: 1,
      port: t.port,
      owner: 'acme',
      repo: 'api',
      defaultBranch: 'main',
      issueNumber: PR,
      isPull: true,
      commentId: 9001,
      actor: actor.login,
      body,
      deliveryId: 'delivery-9001',
    });
    await t.services.jobs.idle();
    return { reactions: outcome.reactions, changed: (await snapshot(t.store)) !== before, replied: t.port.comments.length > 0 };
  } finally {
    await t.services.stop();
  }
}

interface Delivery {
  action?: string;
  login: string;
  type?: 'User' | 'Bot';
  body: string;
  association?: string;
  commentId?: number;
}

function commentEvent(d: Delivery, deliveryId: string): Context {
  const user = { login: d.login, type: d.type ?? 'User', id: 4242 };
  return {
    id: deliveryId,
    name: 'issue_comment',
    payload: {
      action: d.action ?? 'created',
      installation: { id: 1 },
      repository: { name: 'api', owner: { login: 'acme' }, default_branch: 'main' },
      issue: { number: PR, pull_request: { url: 'https://api.github.com/repos/acme/api/pulls/7' } },
      comment: { id: d.commentId ?? 9001, body: d.body, user, author_association: d.association ?? 'NONE' },
      sender: user,
    },
  } as unknown as Context;
}

/** Runs comment deliveries through the webhook handler (where bots and edits are told apart). */
async function viaHandlers(actor: Actor, world: World, deliveries: Delivery[]): Promise<Cell> {
  const t = await makeWorld(actor, world);
  try {
    const before = await snapshot(t.store);
    const handlers = new Handlers(t.services);
    for (const [i, d] of deliveries.entries()) await handlers.issueComment(commentEvent(d, `delivery-${i}`));
    await t.services.jobs.idle();
    return { reactions: t.port.reactions.map((r) => r.content), changed: (await snapshot(t.store)) !== before, replied: t.port.comments.length > 0 };
  } finally {
    await t.services.stop();
  }
}

/** "+" allowed (+1, state changed unless a read), "-" refused (-1, nothing changed), "." ignored (no reaction, no reply). */
type Mark = '+' | '-' | '.';

function markOf(cell: Cell): string {
  if (cell.reactions.length === 0 && !cell.replied) return '.';
  if (cell.reactions.length === 1 && cell.reactions[0] === '+1') return '+';
  if (cell.reactions.length === 1 && cell.reactions[0] === '-1') return '-';
  return `?${cell.reactions.join(',')}`;
}

/** Parses an expected table: a header row of columns, then one row per command. */
function parseTable(text: string): { columns: string[]; rows: Array<{ command: string; marks: Mark[] }> } {
  const lines = text
    .trim()
    .split('\n')
    .map((l) => l.split('|').map((c) => c.trim()));
  const [head, ...rest] = lines;
  return { columns: head!.slice(1), rows: rest.map((cells) => ({ command: cells[0]!, marks: cells.slice(1) as Mark[] })) };
}

function render(columns: string[], rows: Array<{ command: string; marks: string[] }>): string {
  const widths = [Math.max(...rows.map((r) => r.command.length)), ...columns.map((c) => c.length)];
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
  return [line(['command', ...columns]), ...rows.map((r) => line([r.command, ...r.marks]))].join('\n');
}

/**
 * Runs every cell of `expected` and checks the whole table, and that no cell other than an allowed
 * state-changing command changed anything (and that each allowed one did).
 */
async function checkMatrix(expected: string, actorOf: (column: string) => Actor, world: World, run = viaCommands): Promise<void> {
  const { columns, rows } = parseTable(expected);
  const observed: Array<{ command: string; marks: string[] }> = [];
  const unauthorisedChanges: string[] = [];
  const missingChanges: string[] = [];
  for (const row of rows) {
    const body = COMMANDS[row.command];
    if (body === undefined) throw new Error(`no command ${row.command}`);
    const marks: string[] = [];
    for (const [i, column] of columns.entries()) {
      const cell = await run(actorOf(column), world, body);
      const mark = markOf(cell);
      marks.push(mark);
      const mutates = !READS.has(row.command);
      if (cell.changed && (mark !== '+' || !mutates)) unauthorisedChanges.push(`${row.command} by ${column} (${mark})`);
      if (!cell.changed && mark === '+' && mutates && row.marks[i] === '+') missingChanges.push(`${row.command} by ${column}`);
    }
    observed.push({ command: row.command, marks });
  }
  expect(render(columns, observed)).toBe(render(columns, rows));
  expect(unauthorisedChanges).toEqual([]);
  expect(missingChanges).toEqual([]);
}

describe('authority matrix', () => {
  it('default permissions: each command against each repository permission level', async () => {
    await checkMatrix(
      `
      command               | none | read | triage | write | maintain | admin
      /freeze               | -    | -    | -      | +     | +        | +
      /freeze --org --all   | -    | -    | -      | +     | +        | +
      /unfreeze             | -    | -    | -      | -     | +        | +
      /unfreeze --org       | -    | -    | -      | -     | +        | +
      /incident open        | -    | -    | -      | +     | +        | +
      /incident open --repo | -    | -    | -      | +     | +        | +
      /incident resolve     | -    | -    | -      | +     | +        | +
      /incident close       | -    | -    | -      | -     | +        | +
      /incident report      | +    | +    | +      | +     | +        | +
      /override             | -    | -    | -      | -     | +        | +
      /override cancel      | -    | -    | -      | -     | +        | +
      /moratorium status    | +    | +    | +      | +     | +        | +
      /moratorium help      | +    | +    | +      | +     | +        | +
      `,
      (level) => ({ login: `user-${level}`, role: level as Role }),
      {},
    );
  });

  it('permission lists: active team members of the organisation and named logins count; pending members and other organisations do not', async () => {
    const actors: Record<string, Actor> = {
      'sre (active)': { login: 'sam', role: 'read', teams: [['acme', 'sre', 'active']] },
      'sre (pending)': { login: 'pat', role: 'read', teams: [['acme', 'sre', 'pending']] },
      'release (active)': { login: 'rel', role: 'triage', teams: [['acme', 'release', 'active']] },
      'other-org/sre': { login: 'otto', role: 'read', teams: [['other-org', 'sre', 'active']] },
      '@carol': { login: 'carol', role: 'none' },
      maintain: { login: 'mo', role: 'maintain', teams: [['acme', 'sre', 'pending']] },
      admin: { login: 'ada', role: 'admin' },
    };
    await checkMatrix(
      `
      command               | sre (active) | sre (pending) | release (active) | other-org/sre | @carol | maintain | admin
      /freeze               | -            | -             | +                | -             | -      | +        | +
      /freeze --org --all   | -            | -             | +                | -             | -      | +        | +
      /unfreeze             | +            | -             | -                | -             | -      | -        | +
      /unfreeze --org       | +            | -             | -                | -             | -      | -        | +
      /incident open        | +            | -             | -                | -             | +      | +        | +
      /incident open --repo | +            | -             | -                | -             | +      | +        | +
      /incident resolve     | +            | -             | -                | -             | +      | +        | +
      /incident close       | +            | -             | -                | -             | -      | -        | +
      /incident report      | +            | +             | +                | +             | +      | +        | +
      /override             | -            | -             | +                | -             | -      | -        | +
      /override cancel      | -            | -             | +                | -             | -      | -        | +
      /moratorium status    | +            | +             | +                | +             | +      | +        | +
      /moratorium help      | +            | +             | +                | +             | +      | +        | +
      `,
      (column) => actors[column]!,
      {
        config: {
          permissions: {
            freeze: ['maintain', 'acme/release'],
            lift: ['admin', '@acme/sre'],
            incident: ['maintain', 'acme/sre', 'other-org/sre', '@carol'],
            override: ['admin', 'acme/release'],
          },
        },
      },
    );
  });

  it("account-scoped actions take the account's .github config, repository ones the repository's", async () => {
    const open = { freeze: 'read', lift: 'read', incident: 'read', override: 'read' };
    const closed = { freeze: 'admin', lift: 'admin', incident: 'admin', override: 'admin' };
    const table = `
      command               | repo config lets anyone, account config admins only | repo config admins only, account config anyone
      /freeze               | +                                                   | -
      /freeze --org --all   | -                                                   | +
      /unfreeze             | +                                                   | -
      /unfreeze --org       | -                                                   | +
      /incident open        | -                                                   | +
      /incident open --repo | +                                                   | -
      /incident resolve     | -                                                   | +
      /incident close       | -                                                   | +
      /override             | +                                                   | -
      /override cancel      | +                                                   | -
      `;
    // the world differs by column: check the table one column at a time (INC-1 is an account incident)
    const { columns, rows } = parseTable(table);
    const worlds: World[] = [
      { config: { permissions: open }, accountConfig: { permissions: closed } },
      { config: { permissions: closed }, accountConfig: { permissions: open } },
    ];
    for (const [i, column] of columns.entries()) {
      await checkMatrix(`command | ${column}\n${rows.map((r) => `${r.command} | ${r.marks[i]}`).join('\n')}`, () => ({ login: 'wendy', role: 'write' }), worlds[i]!);
    }
  });

  it('refuses every permissioned command, whoever asks, when GitHub cannot be asked about authority', async () => {
    await checkMatrix(
      `
      command               | admin | @carol (named) | sre (active)
      /freeze               | -     | -              | -
      /freeze --org --all   | -     | -              | -
      /unfreeze             | -     | -              | -
      /unfreeze --org       | -     | -              | -
      /incident open        | -     | +              | -
      /incident open --repo | -     | +              | -
      /incident resolve     | -     | +              | -
      /incident close       | -     | -              | -
      /incident report      | +     | +              | +
      /override             | -     | -              | -
      /override cancel      | -     | -              | -
      /moratorium status    | +     | +              | +
      /moratorium help      | +     | +              | +
      `,
      (column) =>
        column === 'admin' ? { login: 'ada', role: 'admin' } : column === 'sre (active)' ? { login: 'sam', role: 'admin', teams: [['acme', 'sre', 'active']] } : { login: 'carol', role: 'admin' },
      {
        failAuthority: true,
        // a login named before any level needs no GitHub call; a level or a team does
        config: { permissions: { freeze: ['admin', 'carol'], lift: ['acme/sre', 'admin'], incident: ['@carol', 'acme/sre', 'write'], override: ['acme/sre', 'admin', 'carol'] } },
      },
    );
  });

  it('never acts on bots, edits, deletions, quotes, code or HTML comments, nor on author_association; runs a comment once', async () => {
    const admin: Actor = { login: 'ada', role: 'admin' };
    const mutating = Object.keys(COMMANDS).filter((c) => !READS.has(c));
    const variants: Record<string, (body: string) => Delivery[]> = {
      'plain comment': (body) => [{ login: 'ada', body }],
      'same comment twice': (body) => [
        { login: 'ada', body },
        { login: 'ada', body },
      ],
      'bot login': (body) => [{ login: 'deploy-helper[bot]', type: 'Bot', body }],
      'bot type': (body) => [{ login: 'automation', type: 'Bot', body }],
      edited: (body) => [{ login: 'ada', body, action: 'edited' }],
      deleted: (body) => [{ login: 'ada', body, action: 'deleted' }],
      'block quote': (body) => [{ login: 'ada', body: `> ${body}` }],
      'nested quote': (body) => [{ login: 'ada', body: `> > ${body}` }],
      'fenced code': (body) => [{ login: 'ada', body: `\`\`\`\n${body}\n\`\`\`` }],
      'tilde fence': (body) => [{ login: 'ada', body: `~~~sh\n${body}\n~~~` }],
      'indented code': (body) => [{ login: 'ada', body: `text\n\n    ${body}` }],
      'inline code': (body) => [{ login: 'ada', body: `\`${body}\`` }],
      'HTML comment': (body) => [{ login: 'ada', body: `<!--\n${body}\n-->` }],
      'mid-line': (body) => [{ login: 'ada', body: `please ${body}` }],
      'OWNER association, no permission': (body) => [{ login: 'owen', body, association: 'OWNER' }],
    };
    const expectedRow = (variant: string): Mark => (variant === 'plain comment' || variant === 'same comment twice' ? '+' : variant.startsWith('OWNER') ? '-' : '.');
    const columns = Object.keys(variants);
    const observed: Array<{ command: string; marks: string[] }> = [];
    const wanted: Array<{ command: string; marks: string[] }> = [];
    const unauthorisedChanges: string[] = [];
    for (const command of mutating) {
      const marks: string[] = [];
      for (const variant of columns) {
        const cell = await viaHandlers(admin, {}, variants[variant]!(COMMANDS[command]!));
        const mark = markOf(cell);
        marks.push(mark);
        if (cell.changed !== (mark === '+')) unauthorisedChanges.push(`${command} / ${variant}: ${mark}, changed ${cell.changed}`);
      }
      observed.push({ command, marks });
      wanted.push({ command, marks: columns.map(expectedRow) });
    }
    expect(render(columns, observed)).toBe(render(columns, wanted));
    expect(unauthorisedChanges).toEqual([]);
  });
});
