/**
 * The answer to a deployment protection rule (SPEC 6), decided once from loaded inputs: approve,
 * reject, or hold (and approve when the gate opens). Also what shipped in the deploy (hotfix,
 * overridden) and whether an approval counts for a deployment cadence. No I/O, no clock.
 */
import type { Config } from '../config/schema.js';
import { escapeMarkdown } from '../util/escape.js';
import { evaluateGate } from './evaluate.js';
import { hotfixStatus } from './hotfix.js';
import type { Decision, DeploymentChange, GateState, PullRequestChange } from './types.js';

/** GitHub waits up to 30 days for an answer; give one, with a reason, before that. */
export const HOLD_LIMIT_MS = 29 * 86_400_000;

export type DeploymentAnswer = 'approved' | 'rejected' | 'held';

/** A PR associated with the deployed commit, as loaded for the decision. */
export interface DeployedPull {
  change: PullRequestChange;
  mergeCommitSha: string | null;
  /** an override recorded for the PR's head commit */
  override: { by: string } | null;
}

export interface DeploymentInput {
  config: Config;
  /** the gate's state for a deployment of `environment` (see gate-state) */
  state: GateState;
  now: number;
  account: string;
  repo: string;
  environment: string;
  sha: string;
  /** the PRs associated with `sha` (empty when the environment is not gated: none are loaded) */
  pulls: readonly DeployedPull[];
  /** older requests of the same repository and environment are held: a new one queues behind them */
  behindOlder: boolean;
  /** when answering a held request: when it was first held; null for a new request */
  heldSince: number | null;
}

export interface DeploymentVerdict {
  /** `held` for a held request means: still held */
  answer: DeploymentAnswer;
  /** for GitHub (approved, rejected) or the log (held) */
  comment: string;
  /** the gate's decision, null when the gate was not asked (environment not gated, held too long) */
  decision: Decision | null;
  /** moments the held request must be looked at again */
  wakeAt: number[];
  /** an approval the deployment cadence counts at once, provisionally (its success status settles it) */
  counts: boolean;
  /** a new request held behind older ones: check the held requests of the repository now */
  recheckHeld: boolean;
}

/** Whether Moratorium gates deployments to `environment` (deployments.environments). */
export const gatesEnvironment = (config: Pick<Config, 'deployments'>, environment: string): boolean => config.deployments.environments.includes(environment);

/** A held request is answered (rejected) before GitHub's 30-day limit. */
export const heldTooLong = (heldSince: number, now: number): boolean => now - heldSince >= HOLD_LIMIT_MS;

/** The answer to a request held too long (rejected before GitHub's limit), or null while it may wait. */
export function expiredHold(heldSince: number, now: number): DeploymentVerdict | null {
  if (!heldTooLong(heldSince, now)) return null;
  return {
    answer: 'rejected',
    comment: "Moratorium held this deployment for 29 days and the gate never opened; rejected before GitHub's 30-day limit. Request it again when the gate is open.",
    decision: null,
    wakeAt: [],
    counts: false,
    recheckHeld: false,
  };
}

/**
 * What shipped in a deploy: hotfix when its commit is the merge or head commit of a hotfix or
 * overridden PR (SPEC 10: a deploy tool may ship a PR's head before it merges), or every PR is one.
 */
export function classifyDeploy(config: Pick<Config, 'exempt'>, sha: string, pulls: readonly DeployedPull[]): Pick<DeploymentChange, 'hotfix' | 'overridden'> {
  const verdicts = pulls.map((p) => {
    const h = hotfixStatus(config, p.change);
    const o = p.override;
    const n = p.change.number;
    return { mergeCommitSha: p.mergeCommitSha, headSha: p.change.headSha, hotfix: h.is, overridden: o !== null, why: h.is ? `#${n}: ${h.why}` : o ? `#${n} was overridden by ${o.by}` : `#${n}: ${h.why}` };
  });
  const merged = verdicts.find((v) => v.mergeCommitSha === sha);
  if (merged && (merged.hotfix || merged.overridden)) return { hotfix: { is: merged.hotfix, why: merged.why }, overridden: merged.overridden && !merged.hotfix };
  // the head commit of PRs (several PRs may share one: the strictest counts, so every one must be exempt)
  const heads = verdicts.filter((v) => v.headSha === sha);
  const exempt = heads.length && heads.every((v) => v.hotfix || v.overridden) ? heads : verdicts.length && verdicts.every((v) => v.hotfix || v.overridden) ? verdicts : null;
  if (exempt) {
    const allHotfix = exempt.every((v) => v.hotfix);
    return { hotfix: { is: allHotfix, why: exempt.map((v) => v.why).join('; ') }, overridden: !allHotfix };
  }
  return { hotfix: { is: false, why: verdicts.length ? 'not every PR in it is a hotfix' : 'no hotfix PR is associated with this commit' }, overridden: false };
}

/** Whether an approval to `environment` counts at once for a deployment cadence. */
function countsApproval(config: Pick<Config, 'cadence'>, environment: string): boolean {
  const cadence = config.cadence;
  return cadence?.counts === 'deployments' && cadence.environments.includes(environment);
}

/**
 * The answer to a new request (heldSince null) or to a held one. A new request is approved when
 * the gate is open and nothing older waits; rejected when blocked under `when_blocked: reject`;
 * held otherwise. A held request is rejected after 29 days, approved once the gate opens, rejected
 * when blocked under `when_blocked: reject` (the config may have changed), and otherwise stays held.
 */
export function decideDeployment(input: DeploymentInput): DeploymentVerdict {
  const { config, environment, now, heldSince } = input;
  const verdict = (answer: DeploymentAnswer, comment: string, decision: Decision | null, more: Partial<DeploymentVerdict> = {}): DeploymentVerdict => ({
    answer,
    comment,
    decision,
    wakeAt: [],
    counts: false,
    recheckHeld: false,
    ...more,
  });
  const expired = heldSince !== null ? expiredHold(heldSince, now) : null;
  if (expired) return expired;
  if (!gatesEnvironment(config, environment)) return verdict('approved', notGatedComment(environment), null);
  const change: DeploymentChange = { kind: 'deployment', account: input.account, repo: input.repo, environment, sha: input.sha, ...classifyDeploy(config, input.sha, input.pulls) };
  const decision = evaluateGate({ config, state: input.state, change, now });
  const reject = config.deployments.when_blocked === 'reject';
  if (heldSince !== null) {
    if (decision.conclusion === 'success') return verdict('approved', `Moratorium: the gate opened (${escapeMarkdown(decision.title)}); approved.`, decision, { counts: countsApproval(config, environment) });
    if (reject) return verdict('rejected', rejectComment(decision), decision);
    return verdict('held', `held: ${decision.title}`, decision, { wakeAt: decision.nextChangeAt !== null ? [decision.nextChangeAt] : [] });
  }
  // held requests go first: a newcomer queues behind them rather than taking a slot they wait for
  if (decision.conclusion === 'success' && !input.behindOlder) return verdict('approved', approveComment(decision), decision, { counts: countsApproval(config, environment) });
  if (decision.conclusion !== 'success' && reject) return verdict('rejected', rejectComment(decision), decision);
  return verdict('held', input.behindOlder ? 'held behind older requests' : `held: ${decision.title}`, decision, {
    wakeAt: [...(decision.nextChangeAt !== null ? [decision.nextChangeAt] : []), now + HOLD_LIMIT_MS],
    recheckHeld: input.behindOlder,
  });
}

function notGatedComment(environment: string): string {
  return `Moratorium does not gate the "${escapeMarkdown(environment)}" environment (deployments.environments), so it is approved.`;
}

/** The approval says why the gate is open: nothing in force, a hotfix, an override, or room in the cadence. */
function approveComment(decision: Decision): string {
  const parts = [`Moratorium: ${escapeMarkdown(decision.title)}.`];
  if (decision.reasons.length === 0) {
    parts.push('No incident, freeze, window or deploy limit is in force.');
  } else {
    if (decision.overridden) parts.push('Its commit is the merge commit of an overridden pull request.');
    else if (decision.hotfix.is) parts.push(`It is a hotfix (${escapeMarkdown(decision.hotfix.why)}).`);
    parts.push(`In force, and not blocking it: ${decision.reasons.map((r) => escapeMarkdown(r.label)).join('; ')}.`);
  }
  return parts.join(' ');
}

function rejectComment(decision: Decision): string {
  const when = decision.blockedUntil ? ` It can go after ${new Date(decision.blockedUntil).toISOString()}.` : ' It can go once the block is lifted.';
  return `Moratorium: ${escapeMarkdown(decision.title)}.${when}`;
}

/** One reason of the gate as the HTTP API shows it. */
export interface GateAnswerReason {
  kind: string;
  key: string;
  blocks: boolean;
  label: string;
  ends: string;
  until: number | null;
}

/** The gate for a deploy tool (SPEC 10): what a protection request would get now, as plain data. */
export interface GateAnswer {
  open: boolean;
  gated: boolean;
  title: string;
  reasons: GateAnswerReason[];
  hotfix: boolean;
  /** why it is (or is not) a hotfix; null when the environment is not gated */
  hotfixWhy: string | null;
  blockedUntil: number | null;
  nextChangeAt: number | null;
}

/**
 * The verdict a new protection request would get, as the gate API answers it: open exactly when it
 * would be approved. A request that would wait behind older held ones of its environment is not open.
 */
export function gateAnswerOf(verdict: DeploymentVerdict, environment: string): GateAnswer {
  const d = verdict.decision;
  if (d === null) {
    const label = `environment "${environment}" is not gated (it is not in deployments.environments)`;
    return {
      open: verdict.answer === 'approved',
      gated: false,
      title: verdict.answer === 'approved' ? `Not gated: ${label}` : verdict.comment,
      reasons: [{ kind: 'not_gated', key: `not_gated:${environment}`, blocks: false, label, ends: 'add it to deployments.environments to gate it', until: null }],
      hotfix: false,
      hotfixWhy: null,
      blockedUntil: null,
      nextChangeAt: null,
    };
  }
  const reasons: GateAnswerReason[] = d.reasons.map((r) => ({ kind: r.kind, key: r.key, blocks: r.blocks, label: r.label, ends: r.ends, until: r.until }));
  const queued = verdict.answer !== 'approved' && d.conclusion === 'success';
  if (queued) {
    reasons.push({ kind: 'queue', key: `queue:${environment}`, blocks: true, label: `older deployment requests to "${environment}" are held and go first`, ends: 'when they are answered', until: null });
  }
  return {
    open: verdict.answer === 'approved',
    gated: true,
    title: queued ? `Waiting: older deployment requests to "${environment}" go first` : d.title,
    reasons,
    hotfix: d.hotfix.is || d.overridden,
    hotfixWhy: d.hotfix.why,
    blockedUntil: queued ? null : d.blockedUntil,
    nextChangeAt: d.nextChangeAt,
  };
}
