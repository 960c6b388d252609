/**
 * Decisions over more than one change, decided once from loaded inputs (no I/O, no clock):
 * - a head commit shared by several open PRs carries one check, the strictest of theirs;
 * - a merge group passes only when each of its PRs would pass, judged against the group's base.
 */
import { evaluateGate } from './evaluate.js';
import type { Decision, GateInput } from './types.js';

/**
 * The strictest of `decisions`: the first failure in order, else the first decision. The order is
 * the caller's: for a shared head, the PR being gated comes first, so its own summary is shown
 * unless another PR on the same commit is blocked.
 */
export function strictest(decisions: readonly Decision[]): Decision {
  if (decisions.length === 0) throw new RangeError('strictest of no decisions');
  return decisions.find((d) => d.conclusion === 'failure') ?? decisions[0]!;
}

/**
 * The check of a head commit: `own` is the PR being gated, `others` the other open PRs whose head
 * is the same commit (each with its own base, labels and override). The strictest wins: one
 * posted check serves them all, and a green one would let a blocked PR merge.
 */
export function decideSharedHead(own: GateInput, others: readonly GateInput[] = []): Decision {
  const first = evaluateGate(own);
  // nothing is stricter than a failure: the others need no evaluation
  if (first.conclusion === 'failure') return first;
  return strictest([first, ...others.map(evaluateGate)]);
}

/**
 * A merge group's check on its head commit: each PR in the group (already given the group's base
 * branch), the strictest wins; a group whose PRs cannot be found is judged by `whenEmpty` (an
 * ordinary change into the group's base).
 */
export function decideMergeGroup(members: readonly GateInput[], whenEmpty: GateInput): Decision {
  return members.length ? strictest(members.map(evaluateGate)) : evaluateGate(whenEmpty);
}
