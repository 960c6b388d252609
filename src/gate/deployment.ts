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

/** What shipped in a deploy: hotfix when its commit is the merge commit of a hotfix or overridden PR, or every PR is one. */
export function classifyDeploy(config: Pick<Config, 'exempt'>, sha: string, pulls: readonly DeployedPull[]): Pick<DeploymentChange, 'hotfix' | 'overridden'> {
  const verdicts = pulls.map((p) => {
    const h = hotfixStatus(config, p.change);
    const o = p.override;
    const n = p.change.number;
    return { mergeCommitSha: p.mergeCommitSha, hotfix: h.is, overridden: o !== null, why: h.is ? `#${n}: ${h.why}` : o ? `#${n} was overridden by ${o.by}` : `#${n}: ${h.why}` };
  });
  const merged = verdicts.find((v) => v.mergeCommitSha === sha);
  if (merged && (merged.hotfix || merged.overridden)) return { hotfix: { is: merged.hotfix, why: merged.why }, overridden: merged.overridden && !merged.hotfix };
  if (verdicts.length && verdicts.every((v) => v.hotfix || v.overridden)) {
    const allHotfix = verdicts.every((v) => v.hotfix);
    return { hotfix: { is: allHotfix, why: verdicts.map((v) => v.why).join('; ') }, overridden: !allHotfix };
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
