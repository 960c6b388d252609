/**
 * Overrides that need more than one person (`overrides.approvals`, SPEC 12), decided here from
 * loaded state: no I/O, no clock. An override is bound to the head commit it was started for (a new
 * push ends it, pending or in force). It is in force once `approvalsNeeded` different people have
 * taken part: the one who started it (`/override reason`) and each `/override approve`. The PR's
 * author never counts (nor may start one when approvals are needed); with `approvals: 1` an override
 * is in force at once, whoever writes it, as before.
 */
import type { OverrideState } from './types.js';

export type OverrideStatus =
  | { state: 'none' }
  /** for an older head commit: a push ended it */
  | { state: 'stale'; override: OverrideState }
  | { state: 'pending'; override: OverrideState; counted: string[]; needed: number; missing: number }
  | { state: 'in-force'; override: OverrideState; counted: string[] };

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/**
 * The approvals reduction: the different people who count, in order (the starter first), leaving
 * out the PR's author and anyone counted already.
 */
export function countedPeople(o: OverrideState, author: string | null | undefined): string[] {
  const people: string[] = [];
  const needsApprovals = (o.approvalsNeeded ?? 1) > 1;
  for (const login of [o.by, ...(o.approvedBy ?? [])]) {
    if (needsApprovals && author && same(login, author)) continue;
    if (people.some((p) => same(p, login))) continue;
    people.push(login);
  }
  return people;
}

/** Where the PR's override stands for its head commit `headSha`. */
export function overrideStatus(o: OverrideState | null, headSha: string, author?: string | null): OverrideStatus {
  if (o === null) return { state: 'none' };
  if (o.sha !== headSha) return { state: 'stale', override: o };
  const needed = o.approvalsNeeded ?? 1;
  const counted = countedPeople(o, author);
  if (counted.length >= needed) return { state: 'in-force', override: o, counted };
  return { state: 'pending', override: o, counted, needed, missing: needed - counted.length };
}

/** Is the override in force for this head commit? */
export function overrideInForce(o: OverrideState | null, headSha: string, author?: string | null): boolean {
  return overrideStatus(o, headSha, author).state === 'in-force';
}

export interface OverrideRequest {
  /** `overrides.approvals` of the repository's config now */
  approvals: number;
  /** the PR's override as stored (the newest not ended), or null */
  current: OverrideState | null;
  headSha: string;
  /** the PR's author; null when not known */
  author: string | null;
  actor: string;
}

/** What `/override reason` does (once the actor is known to hold the `override` permission). */
export type StartVerdict =
  /** record it: in force at once when `needed` is 1, else pending */
  | { kind: 'start'; needed: number; replaces: OverrideStatus['state'] }
  | { kind: 'refused-author' }
  /** nothing changes: one is already pending or in force for this head commit */
  | { kind: 'already'; status: Extract<OverrideStatus, { state: 'pending' | 'in-force' }> };

export function decideOverrideStart(r: OverrideRequest): StartVerdict {
  const status = overrideStatus(r.current, r.headSha, r.author);
  if (r.approvals <= 1) return { kind: 'start', needed: 1, replaces: status.state };
  if (r.author !== null && same(r.actor, r.author)) return { kind: 'refused-author' };
  if (status.state === 'pending' || status.state === 'in-force') return { kind: 'already', status };
  return { kind: 'start', needed: r.approvals, replaces: status.state };
}

/** What `/override approve` does (once the actor is known to hold the `override` permission). */
export type ApproveVerdict =
  | { kind: 'approve'; inForce: boolean; missing: number }
  | { kind: 'nothing-pending'; why: 'none' | 'stale' | 'in-force' | 'not-needed'; override: OverrideState | null }
  | { kind: 'refused-starter'; override: OverrideState }
  | { kind: 'refused-author'; override: OverrideState }
  | { kind: 'refused-again'; override: OverrideState };

export function decideOverrideApprove(r: Omit<OverrideRequest, 'approvals'>): ApproveVerdict {
  const status = overrideStatus(r.current, r.headSha, r.author);
  if (status.state === 'none') return { kind: 'nothing-pending', why: 'none', override: null };
  if (status.state === 'stale') return { kind: 'nothing-pending', why: 'stale', override: status.override };
  const o = status.override;
  if (status.state === 'in-force') return { kind: 'nothing-pending', why: (o.approvalsNeeded ?? 1) > 1 ? 'in-force' : 'not-needed', override: o };
  if (same(r.actor, o.by)) return { kind: 'refused-starter', override: o };
  if (r.author !== null && same(r.actor, r.author)) return { kind: 'refused-author', override: o };
  if (status.counted.some((p) => same(p, r.actor))) return { kind: 'refused-again', override: o };
  const missing = status.missing - 1;
  return { kind: 'approve', inForce: missing <= 0, missing: Math.max(0, missing) };
}
