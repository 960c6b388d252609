/**
 * The words of a decision: the one-line title (SPEC 5) and the markdown summary. Deterministic: every
 * time is formatted against the `now` of the evaluation, and every piece of user text (titles, reasons,
 * logins, names, config messages) is escaped here: `escapePlain` in the title, `escapeMarkdown` in
 * the summary.
 */
import { describePermission, type Config, type ConfigProblem, type Mode } from '../config/schema.js';
import { formatLong, formatShort } from '../time/format.js';
import { UTC, utcToNaive, zone } from '../time/zone.js';
import { codeSpan, escapeMarkdown, escapePlain } from '../util/escape.js';
import type { HotfixStatus } from './hotfix.js';
import type { OverrideStatus } from './override.js';
import type { CadenceReason, Change, IncidentState, OverrideState, PullRequestChange, Reason } from './types.js';

export interface RenderContext {
  config: Config;
  change: Change;
  now: number;
  gated: boolean;
  /** in priority order */
  reasons: Reason[];
  decisive: Reason | null;
  blockedUntil: number | null;
  hotfix: HotfixStatus;
  overridden: boolean;
  /** the override that applies (PR, current head SHA) */
  override: OverrideState | null;
  /** an override of this PR for another (older) head SHA: ignored */
  staleOverride: OverrideState | null;
  /** an override of the head commit that waits for approvals (`overrides.approvals`) */
  pendingOverride: Extract<OverrideStatus, { state: 'pending' }> | null;
  /** open only because the change is a hotfix passing a `features` constraint */
  passedAsHotfix: boolean;
  /** open or resolved incidents whose severity does not freeze */
  recordedIncidents: IncidentState[];
  configProblems: ConfigProblem[];
  configFallback: 'last-valid' | 'defaults' | undefined;
}

/** Titles stay under this many characters when shortening user text can do it (commit status descriptions hold 140). */
export const TITLE_LIMIT = 139;

const MODE_SUFFIX: Record<Mode, string> = { features: '(hotfixes only)', all: '(all changes)' };

const DAY = 86_400_000;

/**
 * `14:05 UTC` later the same local day, `Mon 09:00 Europe/Berlin` within six days, else
 * `2027-01-04 09:00 UTC` (SPEC 5's examples: a slot later today is written with the time alone).
 */
export function shortTime(t: number, tz: string, now: number): string {
  const z = tz === 'UTC' ? UTC : zone(tz);
  const naive = utcToNaive(z, t);
  const day = Math.floor(naive / DAY);
  if (t >= now && day === Math.floor(utcToNaive(z, now) / DAY)) {
    const minutes = Math.floor((naive - day * DAY) / 60_000);
    return `${pad2(Math.floor(minutes / 60))}:${pad2(minutes % 60)} ${tz}`;
  }
  return `${formatShort(t, tz, now)} ${tz}`;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function longTime(t: number, tz: string): string {
  return formatLong(t, tz);
}

/**
 * `prefix + "user" + suffix` within TITLE_LIMIT, shortening the user text (already escaped for a
 * plain field) with an ellipsis when needed.
 */
function fit(prefix: string, user: string, suffix: string): string {
  const room = TITLE_LIMIT - prefix.length - suffix.length;
  if (user.length <= room) return prefix + user + suffix;
  const keep = Math.max(8, room - 1);
  // do not cut a surrogate pair in half
  let cut = user.slice(0, keep);
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  return `${prefix}${cut}…${suffix}`;
}

export function renderTitle(ctx: RenderContext): string {
  if (!ctx.gated) return 'Not gated';
  const r = ctx.decisive;
  if (r === null) {
    const wouldBlock = ctx.overridden && anyWouldBlock(ctx);
    if (wouldBlock) {
      if (ctx.override !== null) return fit('Open (override by ', escapePlain(`@${ctx.override.by}`), ')');
      return 'Open (override)';
    }
    if (ctx.passedAsHotfix) return ctx.hotfix.paths ? 'Open (exempt paths)' : 'Open (hotfix)';
    return 'Open';
  }
  const now = ctx.now;
  switch (r.kind) {
    case 'incident': {
      const i = r.incident;
      const tail = `"${r.incident.phase === 'resolved' ? ' in recovery' : ''} ${MODE_SUFFIX[r.mode]}`;
      return fit(`Frozen: ${i.severity} incident INC-${i.id} "`, escapePlain(i.title), tail);
    }
    case 'freeze': {
      const who = r.freeze.scope.repo === null ? 'organisation' : 'repository';
      const tail =
        r.until === null
          ? ` ${MODE_SUFFIX[r.mode]}`
          : ` until ${shortTime(r.until, 'UTC', now)}${r.mode === 'features' ? ` ${MODE_SUFFIX.features}` : ''}`;
      return fit(`Frozen: ${who} freeze by `, escapePlain(`@${r.freeze.createdBy}`), tail);
    }
    case 'window': {
      const tail = `" until ${shortTime(r.end, r.timezone, now)}${r.mode === 'features' ? ` ${MODE_SUFFIX.features}` : ''}`;
      return fit('Frozen: window "', escapePlain(r.window), tail);
    }
    case 'cadence': {
      const slot = r.nextSlot === null ? '' : `, next slot ${shortTime(r.nextSlot, 'UTC', now)}`;
      return `${r.label}${slot}`;
    }
  }
}

/** Would this reason block the change were there no override? */
function wouldBlockWithoutOverride(ctx: RenderContext, r: Reason): boolean {
  return r.kind === 'cadence' ? r.nextSlot !== null : r.mode === 'all' || !ctx.hotfix.is;
}

function anyWouldBlock(ctx: RenderContext): boolean {
  for (const r of ctx.reasons) if (wouldBlockWithoutOverride(ctx, r)) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// Summary

/** A login as GitHub allows it: what escapeMarkdown leaves as it is after the defused `@`. */
const PLAIN_LOGIN = /^[A-Za-z0-9][A-Za-z0-9-]*$/;

function who(login: string): string {
  return PLAIN_LOGIN.test(login) ? `@\u200b${login}` : escapeMarkdown(`@${login}`);
}

/** Letters and digits only: a code span of them is the text between single backticks, and escapeMarkdown leaves them as they are. */
const PLAIN_CODE = /^[0-9A-Za-z]+$/;

function sha7(sha: string): string {
  const short = sha.slice(0, 7);
  return PLAIN_CODE.test(short) ? `\`${short}\`` : codeSpan(short);
}

const MODE_TEXT: Record<Mode, string> = {
  all: 'blocks all changes',
  features: 'blocks every change that is not a hotfix',
};

/**
 * The summary is built by concatenation, not by joining an array of lines: the sections below
 * return their lines each preceded by (or, for the first section, followed by) its line break.
 */

/** The configuration problems, each line followed by a line break ('' when there are none). */
function configSection(ctx: RenderContext): string {
  if (ctx.configProblems.length === 0) return '';
  const fallback =
    ctx.configFallback === 'last-valid'
      ? 'the last valid configuration it saw for this repository'
      : ctx.configFallback === 'defaults'
        ? 'the default configuration (no valid one has been seen for this repository)'
        : 'the last valid configuration it saw for this repository, or the defaults when there was none';
  let text = `### ⚠️ Configuration problems\n\n${codeSpan('.github/moratorium.yml')} is invalid, so the gate used ${fallback}. Fix these:\n\n`;
  for (const p of ctx.configProblems) text += `- ${codeSpan(p.path)}: ${escapeMarkdown(p.message)}\n`;
  return `${text}\n`;
}

function changeNoun(change: Change): string {
  return change.kind === 'pull_request' ? 'pull request' : 'deployment';
}

function statusLine(ctx: RenderContext): string {
  const noun = changeNoun(ctx.change);
  const r = ctx.decisive;
  if (r !== null) {
    const ends =
      ctx.blockedUntil !== null
        ? `It opens on its own at ${longTime(ctx.blockedUntil, 'UTC')}, unless something else starts by then.`
        : 'It stays blocked until someone lifts what blocks it (see below).';
    const pending = ctx.pendingOverride !== null ? ' An override is pending approval (see below).' : '';
    return `**Blocked:** ${escapeMarkdown(r.label)}. ${ends}${pending}`;
  }
  if (ctx.overridden && anyWouldBlock(ctx)) {
    return ctx.override !== null
      ? `**Open** by override: ${who(ctx.override.by)} overrode the constraints below for head commit ${sha7(ctx.override.sha)}.`
      : '**Open** by override: this deployment is the merge commit of an overridden pull request.';
  }
  if (ctx.passedAsHotfix && ctx.hotfix.paths) {
    return `**Open.** Every file this ${noun} changes matches ${codeSpan('exempt.paths')} (${ctx.hotfix.paths.map((p) => codeSpan(p)).join(', ')}), so it passes the constraints below that allow hotfixes.`;
  }
  if (ctx.passedAsHotfix) return `**Open.** This ${noun} is a hotfix, so the constraints below that allow hotfixes do not block it.`;
  if (ctx.reasons.length > 0) return `**Open.** Nothing below blocks this ${noun} now.`;
  return `**Open.** No incident, freeze, window or deploy limit is in force.`;
}

function mark(ctx: RenderContext, r: Reason): string {
  if (r.blocks) return '⛔ **blocks**';
  if (wouldBlockWithoutOverride(ctx, r)) return '✅ overridden';
  if (r.kind === 'cadence') return '✅ within the limit';
  return ctx.hotfix.paths ? '✅ exempt paths pass' : '✅ hotfix passes';
}

/** A duration as the config writes it (`24h`, `1h30m`): letters and digits need no escaping. */
function durationText(text: string): string {
  return PLAIN_CODE.test(text) ? text : escapeMarkdown(text);
}

function cadenceLine(r: CadenceReason): string {
  let text = `${r.used} of ${r.max} deploys in the last ${durationText(r.perText)}`;
  if (r.minIntervalText !== null) text += `, at least ${durationText(r.minIntervalText)} between deploys`;
  if (r.lastDeploy !== null) text += ` (last deploy ${longTime(r.lastDeploy, 'UTC')})`;
  return text;
}

function reasonLine(ctx: RenderContext, r: Reason): string {
  const m = mark(ctx, r);
  switch (r.kind) {
    case 'incident': {
      const i = r.incident;
      const where = i.scope.repo === null ? `the whole ${escapeMarkdown(i.scope.account)} account` : 'this repository';
      const phase =
        i.phase === 'resolved'
          ? `resolved${i.resolvedAt !== null ? ` ${longTime(i.resolvedAt, 'UTC')}` : ''}, in recovery until closed`
          : `open since ${longTime(i.openedAt, 'UTC')}`;
      return (
        `- ${m} — **${i.severity} incident INC-${i.id}** "${escapeMarkdown(i.title)}" (${phase}; declared by ${who(i.openedBy)}) ` +
        `freezes ${where} and ${MODE_TEXT[r.mode]}. Ends when someone with the \`lift\` permission runs \`/incident close INC-${i.id}\`.`
      );
    }
    case 'freeze': {
      const f = r.freeze;
      const org = f.scope.repo === null;
      const unfreeze = org ? '`/unfreeze --org`' : '`/unfreeze`';
      const reason = f.reason.trim() === '' ? '' : `: "${escapeMarkdown(f.reason.trim())}"`;
      const ends =
        f.until === null
          ? `Ends when someone with the \`lift\` permission runs ${unfreeze}.`
          : `Ends ${longTime(f.until, 'UTC')}, or earlier when someone with the \`lift\` permission runs ${unfreeze}.`;
      return (
        `- ${m} — **${org ? `Organisation freeze (${escapeMarkdown(f.scope.account)})` : 'Repository freeze'}** by ${who(f.createdBy)} ` +
        `since ${longTime(f.createdAt, 'UTC')}${reason}; ${MODE_TEXT[r.mode]}. ${ends}`
      );
    }
    case 'window':
      return (
        `- ${m} — **Window "${escapeMarkdown(r.window)}"** since ${longTime(r.start, r.timezone)}; ` +
        `${MODE_TEXT[r.mode]}. Ends ${longTime(r.end, r.timezone)}; ` +
        'someone with the `lift` permission can end this occurrence early with `/unfreeze`.'
      );
    case 'cadence': {
      const title = r.which === 'normal' ? 'Deploy limit' : 'Deploy limit in recovery';
      const scope =
        r.which === 'normal'
          ? 'from the configuration'
          : 'while an incident is in recovery, until it is closed';
      const next = r.nextSlot === null ? 'A deploy is allowed now.' : `Next slot ${longTime(r.nextSlot, 'UTC')}.`;
      return `- ${m} — **${title}** (${scope}): ${cadenceLine(r)}. ${next} It applies to hotfixes too; only an override exempts.`;
    }
  }
}

function notGatedLine(ctx: RenderContext): string {
  const change = ctx.change;
  if (change.kind !== 'pull_request') return '**Not gated.**';
  const branches = ctx.config.branches;
  const which =
    branches.length === 0
      ? `only the default branch (${escapeMarkdown(change.defaultBranch)}) is gated`
      : `the gated branches are those matching ${branches.map((b) => codeSpan(b)).join(', ')}`;
  return `**Not gated.** This pull request targets ${escapeMarkdown(change.baseRef)}, and ${which}, so the gate does not apply.`;
}

/** What the change is and how to override, each line preceded by a line break. */
function changeSection(ctx: RenderContext): string {
  const change = ctx.change;
  if (change.kind !== 'pull_request') {
    return (
      `\n### This deployment\n\n- Hotfix: ${ctx.hotfix.is ? '**yes**' : 'no'} — ${escapeMarkdown(ctx.hotfix.why)}.\n` +
      (ctx.overridden
        ? '- Override: **yes**, its commit is the merge commit of an overridden pull request.'
        : '- A deployment is overridden when its commit is the merge commit of a pull request overridden with `/override <reason>`.')
    );
  }
  let text = `\n### This pull request\n\n- Hotfix: ${ctx.hotfix.is ? '**yes**' : 'no'} — ${escapeMarkdown(ctx.hotfix.why)}.`;
  if (ctx.override !== null) {
    const reason = ctx.override.reason.trim() === '' ? '' : `: "${escapeMarkdown(ctx.override.reason.trim())}"`;
    const approved = ctx.override.approvedBy?.length ? `, approved by ${ctx.override.approvedBy.map(who).join(', ')}` : '';
    return (
      `${text}\n- Override: **yes**, by ${who(ctx.override.by)}${approved} for head commit ${sha7(ctx.override.sha)}${reason}. ` +
      'A new push ends it; `/override cancel` ends it now.'
    );
  }
  if (ctx.pendingOverride !== null) {
    const p = ctx.pendingOverride;
    const o = p.override;
    const reason = o.reason.trim() === '' ? '' : `: "${escapeMarkdown(o.reason.trim())}"`;
    const approved = o.approvedBy?.length ? `, approved so far by ${o.approvedBy.map(who).join(', ')}` : '';
    const others = p.counted.map(who).join(', ');
    return (
      `${text}\n- Override: **pending** (${p.counted.length} of ${p.needed} people), started by ${who(o.by)}${approved} for head commit ${sha7(o.sha)}${reason}. ` +
      `It takes effect when ${p.missing === 1 ? 'one more person' : `${p.missing} more people`} with ${overridePermission(ctx)}, other than ${others} and ${authorOf(change)}, ` +
      `${p.missing === 1 ? 'comments' : 'each comment'} \`/override approve\`. A new push ends it; \`/override cancel\` ends it now.`
    );
  }
  if (ctx.staleOverride !== null) {
    text +=
      `\n- Override: the override by ${who(ctx.staleOverride.by)} was for an older commit ` +
      `(${sha7(ctx.staleOverride.sha)}) and does not cover the head commit ${sha7(change.headSha)}.`;
  }
  const approvals = ctx.config.overrides.approvals;
  return (
    text +
    (approvals > 1
      ? `\n- To override freezes, windows, incidents and deploy limits for head commit ${sha7(change.headSha)}, ` +
        `someone with ${overridePermission(ctx)} other than ${authorOf(change)} comments \`/override <reason>\` on this pull request; ` +
        `it takes effect once ${approvals - 1 === 1 ? 'a second, different person' : `${approvals - 1} more different people`} with that permission (not the author) ${approvals - 1 === 1 ? 'comments' : 'each comment'} \`/override approve\`.`
      : `\n- To override freezes, windows, incidents and deploy limits for head commit ${sha7(change.headSha)}, ` +
        'someone with the `override` permission comments `/override <reason>` on this pull request.')
  );
}

function overridePermission(ctx: RenderContext): string {
  return `the \`override\` permission (${escapeMarkdown(describePermission(ctx.config.permissions.override))})`;
}

function authorOf(change: PullRequestChange): string {
  return change.author ? `the author ${who(change.author)}` : "the pull request's author";
}

/** The incidents that gate nothing, each line preceded by a line break ('' when there are none). */
function recordedSection(ctx: RenderContext): string {
  if (ctx.recordedIncidents.length === 0) return '';
  let text = '\n\n### Incidents recorded (gate nothing)\n';
  for (const i of ctx.recordedIncidents) {
    text +=
      `\n- ${i.severity} incident INC-${i.id} "${escapeMarkdown(i.title)}" (${i.phase}): recorded, gates nothing ` +
      `(${i.severity} is not in ${codeSpan('incidents.freeze')}).`;
  }
  return text;
}

export function renderSummary(ctx: RenderContext): string {
  const problems = configSection(ctx);
  if (!ctx.gated) return problems + notGatedLine(ctx) + recordedSection(ctx);
  let text = `${problems}${statusLine(ctx)}\n`;
  if (ctx.reasons.length > 0) {
    text += '\n### Active constraints\n';
    for (const r of ctx.reasons) text += `\n${reasonLine(ctx, r)}`;
    text += '\n';
  }
  return text + changeSection(ctx) + recordedSection(ctx);
}
