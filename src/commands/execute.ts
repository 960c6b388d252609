/**
 * Runs the commands of one new comment: parse (pure), prepare and authorise (GitHub reads), then one
 * transaction that claims the comment and delivery, applies every command in order, and stores the
 * reply and reactions (and any fan-out) as jobs. A duplicate delivery or comment changes nothing.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { ConfigService, LoadedConfig } from '../config/load.js';
import { describePermission, type Permission } from '../config/schema.js';
import { countedPeople, decideOverrideApprove, decideOverrideStart } from '../gate/override.js';
import type { OverrideState } from '../gate/types.js';
import type { GitHubPort, PullInfo, RepoRef } from '../github/port.js';
import type { AsyncStore, Repositories } from '../store/contract.js';
import type { StoredIncident } from '../store/records.js';
import { Actions, PhaseError, incidentId, type Actor } from '../domain/actions.js';
import { buildReport, renderReport } from '../domain/report.js';
import { ordinaryDecision, renderStatus, stillBlocking } from '../domain/status.js';
import { escapeMarkdown, codeSpan } from '../util/escape.js';
import { windowsToLift } from './act.js';
import { holds, type AuthorityAnswer } from './authorize.js';
import { helpText } from './help.js';
import { parseComment, type Command, type ParseResult } from './parse.js';

export interface CommentContext {
  installationId: number;
  port: GitHubPort;
  owner: string;
  repo: string;
  defaultBranch: string;
  issueNumber: number;
  isPull: boolean;
  commentId: number;
  actor: string;
  body: string;
  deliveryId: string;
}

export type Reaction = '+1' | '-1' | 'confused';

export interface ReplyJob {
  installationId: number;
  owner: string;
  repo: string;
  issueNumber: number;
  commentId: number;
  reactions: Reaction[];
  body: string;
  /** steps already taken; `commentTried`: an attempt to post the comment may have reached GitHub */
  done: { reactions: Reaction[]; comment: boolean; commentTried?: boolean };
}

type PermissionKey = 'freeze' | 'lift' | 'incident' | 'override';

interface Plan {
  result: ParseResult;
  /** set when the command cannot run: not understood */
  problem?: string;
  permission?: { key: PermissionKey; rule: Permission; scope: string };
  answer?: AuthorityAnswer;
  incident?: StoredIncident;
  pull?: PullInfo | null;
  windows?: { name: string; start: number; end: number }[];
  until?: number | null;
  /** `overrides.approvals` of this repository's config */
  approvals?: number;
}

const PHASES_FOR: Record<string, readonly string[]> = {
  'incident-resolve': ['open'],
  'incident-close': ['open', 'resolved'],
  'incident-report': ['open', 'resolved', 'closed'],
};

export interface CommandOutcome {
  ran: boolean;
  reactions: Reaction[];
  body: string;
}

export class CommandRunner {
  constructor(
    private readonly store: AsyncStore,
    private readonly configs: ConfigService,
    private readonly actions: Actions,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly afterCommit: () => void,
  ) {}

  async handle(ctx: CommentContext): Promise<CommandOutcome> {
    const results = parseComment(ctx.body);
    if (results.length === 0 || (await this.store.commentSeen(ctx.commentId))) return { ran: false, reactions: [], body: '' };
    const ref: RepoRef = { owner: ctx.owner, repo: ctx.repo };

    let repoConfig: LoadedConfig | null = null;
    let accountConfig: LoadedConfig | null = null;
    let configError: string | null = null;
    const repoCfg = async () => (repoConfig ??= await this.configs.get(ctx.port, ref));
    const accountCfg = async () => (accountConfig ??= await this.configs.getAccount(ctx.port, ctx.owner));

    const plans: Plan[] = [];
    for (const result of results) {
      const plan: Plan = { result };
      plans.push(plan);
      if (!result.ok) continue;
      try {
        await this.prepare(ctx, plan, result.command, repoCfg, accountCfg);
      } catch (error) {
        configError = error instanceof Error ? error.message : String(error);
        plan.answer = { allowed: false, needed: 'a permission that could not be checked', role: null, checked: { logins: [], teams: [], foreignTeams: [] }, error: configError };
      }
    }
    const repoLoaded = await repoCfg().catch(() => null);

    const now = this.clock.now();
    const outcome = await this.store.transaction(async (tx) => {
      if (!(await tx.claimComment(ctx.commentId, ctx.owner, now))) return null;
      await tx.claimDelivery(ctx.deliveryId, 'issue_comment', now);
      const reactions = new Set<Reaction>();
      const parts: string[] = [];
      for (const plan of plans) {
        const { reaction, text } = await this.apply(tx, ctx, plan, repoLoaded);
        reactions.add(reaction);
        parts.push(`${codeSpan(plan.result.line)}\n${text}`);
      }
      const body = parts.join('\n\n');
      const job: ReplyJob = { installationId: ctx.installationId, owner: ctx.owner, repo: ctx.repo, issueNumber: ctx.issueNumber, commentId: ctx.commentId, reactions: [...reactions], body, done: { reactions: [], comment: false } };
      await tx.enqueueJob('reply', job, now, now);
      return { ran: true, reactions: [...reactions], body };
    });
    this.afterCommit();
    if (!outcome) return { ran: false, reactions: [], body: '' };
    this.log.info({ event: 'issue_comment', repo: `${ctx.owner}/${ctx.repo}`, pr: ctx.issueNumber, commands: plans.length, reactions: outcome.reactions }, 'commands run');
    return outcome;
  }

  /** Everything a command needs from GitHub, fetched before the transaction. */
  private async prepare(ctx: CommentContext, plan: Plan, cmd: Command, repoCfg: () => Promise<LoadedConfig>, accountCfg: () => Promise<LoadedConfig>): Promise<void> {
    const ref = { owner: ctx.owner, repo: ctx.repo };
    const now = this.clock.now();
    const authorise = async (k: PermissionKey, onAccount: boolean) => {
      const loaded = onAccount ? await accountCfg() : await repoCfg();
      const rule = loaded.config.permissions[k];
      plan.permission = { key: k, rule, scope: onAccount ? `the account's configuration (${ctx.owner}/.github)` : 'this repository' };
      plan.answer = await holds(ctx.port, ref, ctx.actor, rule, ctx.owner);
    };
    switch (cmd.kind) {
      case 'freeze':
        if (cmd.forMs !== null) plan.until = now + cmd.forMs;
        else if (cmd.until !== null) {
          if (cmd.until <= now) {
            plan.problem = `${new Date(cmd.until).toISOString()} is in the past.`;
            return;
          }
          plan.until = cmd.until;
        } else plan.until = null;
        await authorise('freeze', cmd.org);
        return;
      case 'unfreeze': {
        await authorise('lift', cmd.org);
        const loaded = cmd.org ? await accountCfg() : await repoCfg();
        plan.windows = await windowsToLift(this.store, loaded.config, ctx.owner, cmd.org ? null : ctx.repo, now);
        return;
      }
      case 'incident-open':
        await authorise('incident', !cmd.repo);
        return;
      case 'incident-resolve':
      case 'incident-close':
      case 'incident-report': {
        const found = await this.findIncident(ctx, cmd.kind, cmd.id);
        if (typeof found === 'string') {
          plan.problem = found;
          return;
        }
        plan.incident = found;
        if (cmd.kind === 'incident-report') return;
        await authorise(cmd.kind === 'incident-resolve' ? 'incident' : 'lift', found.scope.repo === null);
        return;
      }
      case 'override':
      case 'override-cancel':
      case 'override-approve':
        if (!ctx.isPull) {
          plan.problem = '/override works on pull requests: an override is bound to a pull request head commit.';
          return;
        }
        await authorise('override', false);
        if (plan.answer?.allowed && cmd.kind !== 'override-cancel') {
          plan.pull = await ctx.port.getPull(ref, ctx.issueNumber);
          plan.approvals = (await repoCfg()).config.overrides.approvals;
        }
        return;
      case 'status':
        await repoCfg();
        return;
      case 'help':
        return;
    }
  }

  /** The `override` permission as this repository's config words it. */
  private overridePermission(loaded: LoadedConfig | null): string {
    return loaded ? describePermission(loaded.config.permissions.override) : 'see permissions.override';
  }

  /** The incident an ID (or its absence) names, or why it names none. */
  private async findIncident(ctx: CommentContext, kind: string, id: number | null): Promise<StoredIncident | string> {
    const candidates = await this.store.incidentCandidates(ctx.owner, ctx.repo);
    const eligible = candidates.filter((i) => PHASES_FOR[kind]!.includes(i.phase));
    if (id !== null) {
      const incident = candidates.find((i) => i.id === id);
      if (!incident) return `${incidentId(id)} is not an incident of ${escapeMarkdown(ctx.owner)} or of this repository.`;
      return incident;
    }
    if (kind === 'incident-report') return candidates[0] ?? 'There is no incident to report on.';
    if (eligible.length === 1) return eligible[0]!;
    const what = kind === 'incident-resolve' ? 'open' : 'open or resolved';
    if (eligible.length === 0) return `There is no ${what} incident here.`;
    return `Several incidents are ${what}: name one of ${eligible.map((i) => incidentId(i.id)).join(', ')}.`;
  }

  /** Applies one planned command inside the transaction. */
  private async apply(tx: Repositories, ctx: CommentContext, plan: Plan, repoLoaded: LoadedConfig | null): Promise<{ reaction: Reaction; text: string }> {
    const { result } = plan;
    if (!result.ok) return { reaction: 'confused', text: `Not understood: ${escapeMarkdown(result.message)}\nUsage: ${codeSpan(result.usage)}` };
    if (plan.problem) return { reaction: 'confused', text: `Not understood: ${plan.problem}` };
    if (plan.answer && !plan.answer.allowed) {
      if (plan.answer.error) {
        this.log.warn({ event: 'issue_comment', delivery: ctx.deliveryId, err: plan.answer.error }, 'authority check failed');
        return { reaction: '-1', text: 'Refused: your permission could not be checked with GitHub just now, so nothing was changed. Try again shortly.' };
      }
      const where = plan.permission ? ` (the \`${plan.permission.key}\` permission of ${plan.permission.scope})` : '';
      return { reaction: '-1', text: `Refused: this needs ${escapeMarkdown(plan.answer.needed)}${where}; ${whatWasFound(plan.answer, ctx.owner)}. Nothing was changed.` };
    }
    const actor: Actor = { login: ctx.actor, source: 'command', deliveryId: ctx.deliveryId };
    const cmd = result.command;
    const now = this.clock.now();
    const scope = (org: boolean) => ({ account: ctx.owner, repo: org ? null : ctx.repo });
    try {
      switch (cmd.kind) {
        case 'freeze': {
          const f = await this.actions.freeze(tx, scope(cmd.org), cmd.all ? 'all' : 'features', plan.until ?? null, cmd.reason, actor, ctx.installationId);
          const what = cmd.org ? `every repository of ${escapeMarkdown(ctx.owner)}` : 'this repository';
          const until = f.until ? `until ${new Date(f.until).toISOString()}` : 'until lifted with `/unfreeze`';
          return { reaction: '+1', text: `Froze ${what} (freeze ${f.id}, ${f.mode === 'all' ? 'all changes' : 'hotfixes still flow'}) ${until}.` };
        }
        case 'unfreeze': {
          const r = await this.actions.unfreeze(tx, scope(cmd.org), plan.windows ?? [], cmd.reason, actor, ctx.installationId);
          const ended = [...r.freezes.map((f) => `freeze ${f.id}`), ...r.windows.map((w) => `the current occurrence of window "${escapeMarkdown(w)}"`)];
          const head = ended.length ? `Ended ${ended.join(', ')}.` : 'There was no manual freeze or active window to end here.';
          const tail = repoLoaded ? ` ${stillBlocking(await ordinaryDecision(tx, repoLoaded, ctx.owner, ctx.repo, ctx.defaultBranch, now))}` : '';
          return { reaction: '+1', text: head + tail };
        }
        case 'incident-open': {
          const i = await this.actions.openIncident(tx, scope(!cmd.repo), cmd.severity, cmd.title, actor, ctx.installationId);
          const freezes = repoLoaded ? repoLoaded.config.incidents.freeze.includes(cmd.severity) : true;
          const where = cmd.repo ? 'this repository' : `every repository of ${escapeMarkdown(ctx.owner)}`;
          return {
            reaction: '+1',
            text: `Opened ${incidentId(i.id)} (${i.severity}) "${escapeMarkdown(i.title)}" for ${where}. ${freezes ? 'Feature PRs are blocked until it is closed; hotfixes still flow.' : 'Its severity does not freeze anything (incidents.freeze).'} Resolve it with \`/incident resolve ${incidentId(i.id)}\` when service is restored; only \`/incident close ${incidentId(i.id)}\` ends the moratorium.`,
          };
        }
        case 'incident-resolve': {
          const i = await this.actions.resolveIncident(tx, plan.incident!.id, cmd.note, actor);
          return { reaction: '+1', text: `${incidentId(i.id)} resolved: service restored, recovery begins. The moratorium stays (recovery cadence applies) until \`/incident close ${incidentId(i.id)}\`.` };
        }
        case 'incident-close': {
          const i = await this.actions.closeIncident(tx, plan.incident!.id, cmd.note, actor);
          return { reaction: '+1', text: `${incidentId(i.id)} closed: assessment complete, its moratorium has ended.` };
        }
        case 'incident-report':
          return { reaction: '+1', text: renderReport(await buildReport(tx, plan.incident!, now)) };
        case 'override': {
          const pull = plan.pull;
          if (!pull || pull.state !== 'open') return { reaction: 'confused', text: 'Not understood: this pull request is not open.' };
          const approvals = plan.approvals ?? 1;
          const author = pull.author ?? null;
          const verdict = decideOverrideStart({ approvals, current: await tx.activeOverride(ctx.owner, ctx.repo, ctx.issueNumber), headSha: pull.headSha, author, actor: ctx.actor });
          const sha = pull.headSha.slice(0, 7);
          switch (verdict.kind) {
            case 'refused-author':
              return { reaction: '-1', text: `Refused: with \`overrides.approvals: ${approvals}\`, the pull request's author (${who(author ?? ctx.actor)}) can neither start nor approve an override. Nothing was changed.` };
            case 'already': {
              const o = verdict.status.override;
              return verdict.status.state === 'pending'
                ? { reaction: 'confused', text: `Not understood: an override of commit ${sha} is already pending, started by ${who(o.by)}${approvedSoFar(o)}: ${pendingHow(verdict.status.counted, approvals, this.overridePermission(repoLoaded), author, verdict.status.missing)} Nothing was changed.` }
                : { reaction: 'confused', text: `Not understood: commit ${sha} already has an override in force (by ${who(o.by)}${approvedSoFar(o)}). Nothing was changed.` };
            }
            case 'start':
              await this.actions.override(tx, ctx.owner, ctx.repo, ctx.issueNumber, pull.headSha, cmd.reason, actor, ctx.installationId, verdict.needed);
              if (verdict.needed === 1) {
                return { reaction: '+1', text: `Override recorded for commit ${sha}: this PR passes freezes and cadence until a new push. Cancel with \`/override cancel\`.` };
              }
              return {
                reaction: '+1',
                text: `Override requested for commit ${sha}, pending approval (1 of ${verdict.needed} people): ${pendingHow([ctx.actor], verdict.needed, this.overridePermission(repoLoaded), author, verdict.needed - 1)} The gate applies until then. A new push ends it; \`/override cancel\` ends it now.`,
              };
          }
          return { reaction: 'confused', text: 'Not understood.' };
        }
        case 'override-approve': {
          const pull = plan.pull;
          if (!pull || pull.state !== 'open') return { reaction: 'confused', text: 'Not understood: this pull request is not open.' };
          const author = pull.author ?? null;
          const current = await tx.activeOverride(ctx.owner, ctx.repo, ctx.issueNumber);
          const verdict = decideOverrideApprove({ current, headSha: pull.headSha, author, actor: ctx.actor });
          const sha = pull.headSha.slice(0, 7);
          switch (verdict.kind) {
            case 'nothing-pending': {
              const o = verdict.override;
              const why = {
                none: 'this pull request has no pending override. To start one, someone with the `override` permission comments `/override <reason>`.',
                stale: `the pending override by ${o ? who(o.by) : 'someone'} was for commit ${o ? o.sha.slice(0, 7) : 'an older commit'}; the push of ${sha} ended it. To start one for ${sha}, comment \`/override <reason>\`.`,
                'in-force': `the override of commit ${sha} is already in force (by ${o ? who(o.by) : 'someone'}${o ? approvedSoFar(o) : ''}).`,
                'not-needed': `the override of commit ${sha} by ${o ? who(o.by) : 'someone'} needed no approval and is in force.`,
              }[verdict.why];
              return { reaction: 'confused', text: `Not understood: there is nothing to approve: ${why} Nothing was changed.` };
            }
            case 'refused-starter':
              return { reaction: '-1', text: `Refused: you started this override; it needs a second, different person with the \`override\` permission to approve it. Nothing was changed.` };
            case 'refused-author':
              return { reaction: '-1', text: `Refused: you are the pull request's author, and the author never counts towards an override. Nothing was changed.` };
            case 'refused-again':
              return { reaction: '-1', text: `Refused: you have already approved this override; it needs someone else. Nothing was changed.` };
            case 'approve': {
              if (!(await this.actions.approveOverride(tx, ctx.owner, ctx.repo, ctx.issueNumber, pull.headSha, verdict.inForce, actor, ctx.installationId))) {
                return { reaction: 'confused', text: 'Not understood: there is nothing to approve (the pending override ended meanwhile). Nothing was changed.' };
              }
              const o = current!;
              if (verdict.inForce) {
                return { reaction: '+1', text: `Override approved: in force for commit ${sha} (started by ${who(o.by)}, approved by ${[...(o.approvedBy ?? []), ctx.actor].map(who).join(', ')}). This PR passes freezes and cadence until a new push. Cancel with \`/override cancel\`.` };
              }
              const counted = [...countedPeople(o, author), ctx.actor];
              return {
                reaction: '+1',
                text: `Approval recorded (${counted.length} of ${o.approvalsNeeded ?? 1} people): ${pendingHow(counted, o.approvalsNeeded ?? 1, this.overridePermission(repoLoaded), author, verdict.missing)}`,
              };
            }
          }
          return { reaction: 'confused', text: 'Not understood.' };
        }
        case 'override-cancel': {
          const current = await tx.activeOverride(ctx.owner, ctx.repo, ctx.issueNumber);
          const pending = current !== null && countedPeople(current, null).length < (current.approvalsNeeded ?? 1);
          const had = await this.actions.cancelOverride(tx, ctx.owner, ctx.repo, ctx.issueNumber, actor, ctx.installationId);
          if (!had) return { reaction: '+1', text: 'This PR had no override; nothing changed.' };
          return { reaction: '+1', text: pending ? `Pending override by ${who(current.by)} cancelled: nothing is left to approve.` : 'Override cancelled: the gate applies to this PR again.' };
        }
        case 'status':
          if (!repoLoaded) return { reaction: '-1', text: 'The configuration could not be loaded just now; try again shortly.' };
          return { reaction: '+1', text: await renderStatus(tx, repoLoaded, ctx.owner, ctx.repo, ctx.defaultBranch, now) };
        case 'help':
          return { reaction: '+1', text: helpText() };
      }
    } catch (error) {
      if (error instanceof PhaseError) return { reaction: 'confused', text: `Not understood: ${escapeMarkdown(error.message)}.` };
      throw error;
    }
  }
}

function who(login: string): string {
  return escapeMarkdown(`@${login}`);
}

function approvedSoFar(o: OverrideState): string {
  return o.approvedBy?.length ? `, approved by ${o.approvedBy.map(who).join(', ')}` : '';
}

/** Who may still approve a pending override, and how. */
function pendingHow(counted: string[], needed: number, permission: string, author: string | null, missing: number): string {
  const others = [...counted.map(who), author ? `the author ${who(author)}` : "the pull request's author"];
  const n = missing === 1 ? 'one more person' : `${missing} more people`;
  return `it takes effect when ${n} with the \`override\` permission (${escapeMarkdown(permission)}), other than ${andList(others)}, ${missing === 1 ? 'comments' : 'each comment'} \`/override approve\` (${needed} people in all).`;
}

/** "a", "a and b", "a, b and c" */
function andList(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** "a", "a or b", "a, b or c" */
function orList(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

/** What a refused authority check found, naming only what was checked (the role only when asked). */
export function whatWasFound(answer: AuthorityAnswer, owner: string): string {
  const facts: string[] = [];
  if (answer.role !== null) facts.push(answer.role === 'none' ? 'you have no role on this repository' : `your role on this repository is ${answer.role}`);
  const { logins, teams, foreignTeams } = answer.checked;
  if (logins.length) facts.push(`you are not ${orList(logins.map((l) => escapeMarkdown(`@${l}`)))}`);
  if (teams.length) facts.push(`you are not an active member of team ${orList(teams.map((t) => escapeMarkdown(`@${t}`)))}`);
  if (foreignTeams.length) {
    const one = foreignTeams.length === 1;
    facts.push(`team ${orList(foreignTeams.map((t) => escapeMarkdown(`@${t}`)))} ${one ? 'is' : 'are'} not of ${escapeMarkdown(owner)}, so ${one ? 'it does' : 'they do'} not count`);
  }
  return facts.length ? facts.join('; ') : 'nothing in it matched you';
}

/** The hidden line that marks a reply as the answer to one command comment (see sendReply). */
export function replyMarker(commentId: number): string {
  return `<!-- moratorium:reply ${commentId} -->`;
}

/**
 * Sends what a reply job owes, step by step, recording each step so a retry never repeats one.
 *
 * The reply comment carries a hidden marker naming the command comment. Before the comment is
 * posted, the job records that it is about to be (in the same save as the last reaction, so the
 * first attempt costs no extra write and no extra request). A later attempt that finds this record
 * cannot know whether the earlier POST reached GitHub (the process died, or the answer was lost), so
 * it first looks for a comment by a bot carrying the marker, posted after the command, and posts
 * only when there is none: a reply is posted once.
 */
export async function sendReply(port: GitHubPort, job: ReplyJob, save: (job: ReplyJob) => void | Promise<void>): Promise<void> {
  const ref = { owner: job.owner, repo: job.repo };
  const retried = job.done.commentTried === true;
  const owed = job.reactions.filter((reaction) => !job.done.reactions.includes(reaction));
  if (!job.done.comment && !retried && owed.length === 0) {
    job.done.commentTried = true;
    await save(job);
  }
  for (const [i, reaction] of owed.entries()) {
    await port.addReaction(ref, job.commentId, reaction);
    job.done.reactions.push(reaction);
    if (i === owed.length - 1 && !job.done.comment) job.done.commentTried = true;
    await save(job);
  }
  if (!job.done.comment) {
    const marker = replyMarker(job.commentId);
    const posted = retried ? await port.findMarkedComment(ref, job.issueNumber, marker, job.commentId) : null;
    if (posted === null) await port.createComment(ref, job.issueNumber, `${job.body}\n\n${marker}`);
    job.done.comment = true;
    await save(job);
  }
}
