/**
 * `moratorium validate FILE` and `moratorium explain`: the gate, offline, from a config file. No
 * GitHub credentials, no database. `moratorium gate` and `record-deploy` (src/cli-gate.ts) ask a running app over HTTP. (`moratorium migrate-to-postgres`: src/store/migrate-to-postgres.ts.) `now` and the output streams are injected (tests run it in-process).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_CONFIG, parseConfig, SEVERITIES, type Config, type ConfigProblem, type Severity } from './config/schema.js';
import { parseDuration } from './time/duration.js';
import { parseIsoTime } from './time/iso.js';
import { formatDuration } from './time/duration.js';
import { formatLong } from './time/format.js';
import { formatCountdown, nextNoticeAt, upcomingWithinLead } from './time/notices.js';
import { evaluateGate } from './gate/evaluate.js';
import { gateCli, GATE_USAGE, recordDeployCli, type GateCliIo } from './cli-gate.js';
import { pathExemption } from './gate/paths.js';
import type { ChangedFiles, FreezeState, GateState, IncidentState, PullRequestChange } from './gate/types.js';

export interface CliIo {
  now: number;
  out(text: string): void;
  err(text: string): void;
  /** for `gate --wait` and `record-deploy` (the entry point, bin/moratorium.js, passes the real ones) */
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
  env?: Record<string, string | undefined>;
}

const USAGE = `Usage:
  moratorium validate FILE
      Prints every problem of a .github/moratorium.yml (key path and message); exits 1 if there is any.
  moratorium explain [--config FILE] [--at TIME] [--base BRANCH] [--default-branch BRANCH]
                     [--head BRANCH] [--fork] [--label NAME]... [--freeze all|features]
                     [--incident SEVERITY[:resolved]] [--deploys-ago DURATION]...
                     [--changed-file PATH]...
      Prints the gate's decision for a PR, its reasons and when it next changes on its own.
      --changed-file names a file the PR changes (repeatable): whether exempt.paths exempts it, and by
      which patterns (without it, a PR's files are unknown and it is never exempt by paths).
      TIME is ISO 8601 as /freeze --until takes it (2026-12-01, 2026-12-01T18:00, 2026-12-01T18:00+01:00;
      UTC without an offset); labels count as added by someone allowed to.
${GATE_USAGE}  moratorium migrate-to-postgres --from FILE --to URL
      Moves the state of a SQLite file (MORATORIUM_DB) into an empty PostgreSQL database, with the app stopped.
`;

function loadConfigFile(path: string): { raw: unknown; problems: ConfigProblem[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return { raw: null, problems: [{ path: '(file)', message: `cannot read ${path}: ${error instanceof Error ? error.message : String(error)}` }] };
  }
  try {
    return { raw: parseYaml(text) ?? {}, problems: [] };
  } catch (error) {
    return { raw: null, problems: [{ path: '(file)', message: `not valid YAML: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}` }] };
  }
}

function validate(path: string | undefined, io: CliIo): number {
  if (!path) {
    io.err(USAGE);
    return 2;
  }
  const loaded = loadConfigFile(path);
  const problems = loaded.problems.length ? loaded.problems : (() => {
    const parsed = parseConfig(loaded.raw);
    return parsed.ok ? [] : parsed.problems;
  })();
  if (!problems.length) {
    io.out(`${path}: valid\n`);
    return 0;
  }
  for (const p of problems) io.out(`${path}: ${p.path}: ${p.message}\n`);
  return 1;
}

function explain(args: string[], io: CliIo): number {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        config: { type: 'string' },
        at: { type: 'string' },
        base: { type: 'string' },
        'default-branch': { type: 'string', default: 'main' },
        head: { type: 'string', default: 'feature' },
        fork: { type: 'boolean', default: false },
        label: { type: 'string', multiple: true, default: [] },
        freeze: { type: 'string' },
        incident: { type: 'string' },
        'deploys-ago': { type: 'string', multiple: true, default: [] },
        'changed-file': { type: 'string', multiple: true, default: [] },
      },
      strict: true,
    }));
  } catch (error) {
    io.err(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  let config: Config = DEFAULT_CONFIG;
  let problems: ConfigProblem[] = [];
  if (values.config) {
    const loaded = loadConfigFile(values.config);
    const parsed = loaded.problems.length ? { ok: false as const, problems: loaded.problems } : parseConfig(loaded.raw);
    if (parsed.ok) config = parsed.config;
    else problems = parsed.problems;
  }
  const now = values.at ? parseIsoTime(values.at) : io.now;
  if (now === null) {
    io.err(`--at: not an ISO 8601 time: ${values.at}\n`);
    return 2;
  }
  const freezes: FreezeState[] = [];
  if (values.freeze) {
    if (values.freeze !== 'all' && values.freeze !== 'features') {
      io.err('--freeze takes all or features\n');
      return 2;
    }
    freezes.push({ id: 1, scope: { account: 'cli', repo: 'cli' }, mode: values.freeze, reason: 'simulated', createdBy: 'cli', createdAt: now, until: null });
  }
  const incidents: IncidentState[] = [];
  if (values.incident) {
    const [severity, phase] = values.incident.toLowerCase().split(':');
    if (!(SEVERITIES as readonly string[]).includes(severity ?? '') || (phase !== undefined && phase !== 'resolved' && phase !== 'open')) {
      io.err('--incident takes sev1..sev4, optionally :resolved\n');
      return 2;
    }
    incidents.push({ id: 1, severity: severity as Severity, title: 'simulated', phase: phase === 'resolved' ? 'resolved' : 'open', scope: { account: 'cli', repo: null }, openedAt: now, openedBy: 'cli', resolvedAt: phase === 'resolved' ? now : null });
  }
  const deploys: number[] = [];
  for (const ago of values['deploys-ago']) {
    const ms = parseDuration(ago);
    if (ms === null) {
      io.err(`--deploys-ago: not a duration: ${ago}\n`);
      return 2;
    }
    deploys.push(now - ms);
  }
  deploys.sort((a, b) => a - b);
  const state: GateState = { freezes, incidents, windowSuppressions: [], override: null, deploys, configProblems: problems };
  const changed = values['changed-file'];
  for (const path of changed) {
    if (path === '' || path.startsWith('/')) {
      io.err(`--changed-file: a path relative to the repository root, such as docs/a.md: ${JSON.stringify(path)}\n`);
      return 2;
    }
  }
  const files: ChangedFiles | null = changed.length ? { files: changed.map((path) => ({ path, previousPath: null })), count: changed.length, capped: false } : null;
  const defaultBranch = values['default-branch'];
  const change: PullRequestChange = {
    kind: 'pull_request',
    account: 'cli',
    repo: 'cli',
    defaultBranch,
    number: 1,
    baseRef: values.base ?? defaultBranch,
    headRef: values.head,
    headSha: 'cli',
    headInRepo: !values.fork,
    labels: values.label.map((name) => ({ name, addedBy: 'cli', addedByAuthorized: true })),
    ...(files ? { files } : {}),
  };
  const d = evaluateGate({ config, state, change, now });
  io.out(`at:          ${new Date(now).toISOString()}\n`);
  io.out(`decision:    ${d.conclusion === 'success' ? 'open' : 'blocked'} (${d.conclusion})\n`);
  io.out(`title:       ${d.title}\n`);
  io.out(`hotfix:      ${d.hotfix.is ? 'yes' : 'no'}: ${d.hotfix.why}\n`);
  const byPaths = pathExemption(config.exempt.pathPatterns, files);
  io.out(
    `exempt paths: ${
      byPaths === null
        ? 'not configured (exempt.paths is empty)'
        : byPaths.is
          ? `yes, by ${byPaths.patterns.map((p) => JSON.stringify(p)).join(', ')} (passes features freezes, never all freezes or cadence)`
          : `no: ${changed.length ? byPaths.why : 'no --changed-file given, so the files are unknown'}`
    }\n`,
  );
  io.out(`next change: ${d.nextChangeAt === null ? 'none on its own' : new Date(d.nextChangeAt).toISOString()}\n`);
  if (problems.length) {
    io.out('config problems (the defaults were used):\n');
    for (const p of problems) io.out(`  - ${p.path}: ${p.message}\n`);
  }
  io.out('reasons:\n');
  if (!d.reasons.length) io.out('  - none\n');
  for (const r of d.reasons) io.out(`  - [${r.blocks ? 'blocks' : 'passes'}] ${r.label}: ${r.ends}\n`);
  explainNotices(config, now, io);
  return 0;
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'validate') return validate(rest[0], io);
  if (command === 'explain') return explain(rest, io);
  if (command === 'gate' || command === 'record-deploy') {
    if (!io.clock || !io.sleep) {
      io.err(`moratorium ${command}: this entry point gives no clock\n`);
      return 2;
    }
    const gateIo: GateCliIo = { out: io.out, err: io.err, clock: io.clock, sleep: io.sleep, env: io.env ?? {} };
    return command === 'gate' ? gateCli(rest, gateIo) : recordDeployCli(rest, gateIo);
  }
  if (command === 'migrate-to-postgres') return (await import('./store/migrate-to-postgres.js')).migrateToPostgresCli(rest, io);
  io[command === undefined || command === 'help' || command === '--help' ? 'out' : 'err'](USAGE);
  return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
}

/** windows[].notify_before: when each window's notice is (or was) due, and "starts in" within its lead. */
function explainNotices(config: Config, now: number, io: CliIo): void {
  const noticed = config.windows.filter((w) => w.notifyBeforeMs !== null);
  if (!noticed.length) return;
  io.out('notices (windows[].notify_before):\n');
  for (const w of noticed) {
    const lead = w.notifyBeforeMs!;
    const soon = upcomingWithinLead(w.plan, lead, now);
    if (soon) {
      io.out(`  - ${w.name} starts in ${formatCountdown(soon.inMs)} (${formatLong(soon.start, w.timezone)}): its notice was due at ${new Date(soon.start - lead).toISOString()}\n`);
      continue;
    }
    const at = nextNoticeAt(w.plan, lead, now);
    io.out(
      at === null
        ? `  - ${w.name}: no notice to come (no later start)\n`
        : `  - ${w.name}: next notice at ${new Date(at).toISOString()}, ${formatDuration(lead)} before ${formatLong(at + lead, w.timezone)}\n`,
    );
  }
}
