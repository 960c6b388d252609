import { describe, expect, it } from 'vitest';
import { compareMergeFirst, isApproved, mergeFirstOrder, reviewVerdicts, type MergeCandidate, type Review } from '../../../src/gate/merge-order.js';

let t = Date.UTC(2026, 11, 1, 9, 0);
const review = (reviewer: string | null, state: string, submittedAt: number | null = (t += 60_000)): Review => ({ reviewer, state, submittedAt });

describe('approved, from the reviews (newest APPROVED or CHANGES_REQUESTED of each reviewer)', () => {
  it('no reviews: not approved', () => {
    expect(isApproved([])).toBe(false);
  });

  it('one approval: approved', () => {
    expect(isApproved([review('alice', 'APPROVED')])).toBe(true);
  });

  it('only comments: not approved', () => {
    expect(isApproved([review('alice', 'COMMENTED'), review('bob', 'COMMENTED')])).toBe(false);
  });

  it('a comment after an approval changes nothing', () => {
    expect(isApproved([review('alice', 'APPROVED'), review('alice', 'COMMENTED')])).toBe(true);
  });

  it('a comment after a change request changes nothing (still blocks)', () => {
    expect(isApproved([review('alice', 'CHANGES_REQUESTED'), review('alice', 'COMMENTED'), review('bob', 'APPROVED')])).toBe(false);
  });

  it('a DISMISSED after an APPROVED removes the approval', () => {
    expect(isApproved([review('alice', 'APPROVED'), review('alice', 'DISMISSED')])).toBe(false);
    expect(reviewVerdicts([review('alice', 'APPROVED'), review('alice', 'DISMISSED')]).size).toBe(0);
  });

  it('a dismissed change request no longer blocks another reviewer’s approval', () => {
    expect(isApproved([review('alice', 'DISMISSED'), review('bob', 'APPROVED')])).toBe(true);
    expect(isApproved([review('bob', 'APPROVED'), review('alice', 'CHANGES_REQUESTED'), review('alice', 'DISMISSED')])).toBe(true);
  });

  it('an approval after a dismissal counts again', () => {
    expect(isApproved([review('alice', 'APPROVED'), review('alice', 'DISMISSED'), review('alice', 'APPROVED')])).toBe(true);
  });

  it('a reviewer whose newest verdict is CHANGES_REQUESTED blocks the approval of others', () => {
    expect(isApproved([review('alice', 'APPROVED'), review('bob', 'APPROVED'), review('carol', 'APPROVED'), review('carol', 'CHANGES_REQUESTED')])).toBe(false);
  });

  it('a reviewer who approves after requesting changes no longer blocks', () => {
    expect(isApproved([review('alice', 'CHANGES_REQUESTED'), review('alice', 'APPROVED')])).toBe(true);
  });

  it('the newest review counts by submitted_at, whatever the list order', () => {
    const older = review('alice', 'APPROVED');
    const newer = review('alice', 'CHANGES_REQUESTED');
    expect(isApproved([newer, older])).toBe(false);
    expect(isApproved([review('alice', 'CHANGES_REQUESTED', older.submittedAt), review('alice', 'APPROVED', newer.submittedAt)].reverse())).toBe(true);
  });

  it('reviewers are told apart case-insensitively (GitHub logins)', () => {
    expect(isApproved([review('Alice', 'APPROVED'), review('alice', 'CHANGES_REQUESTED')])).toBe(false);
  });

  it('PENDING reviews and reviews of deleted accounts are not counted', () => {
    expect(isApproved([review('alice', 'PENDING', null)])).toBe(false);
    expect(isApproved([review(null, 'APPROVED')])).toBe(false);
    expect(isApproved([review(null, 'CHANGES_REQUESTED'), review('bob', 'APPROVED')])).toBe(true);
  });
});

describe('fan-out order: auto-merge, then approved, then the rest, most recently updated first', () => {
  const c = (repo: string, number: number, updatedAt: number, readiness: MergeCandidate['readiness']): MergeCandidate => ({ repo, number, updatedAt, readiness });

  it('puts auto-merge before approved before the rest, whatever the update times', () => {
    const rest = c('acme/api', 1, 900, 'other');
    const approved = c('acme/web', 2, 100, 'approved');
    const auto = c('acme/worker', 3, 10, 'auto-merge');
    expect(mergeFirstOrder([rest, approved, auto])).toEqual([auto, approved, rest]);
  });

  it('orders within each rank by last update, across repositories', () => {
    const items = [c('acme/api', 1, 100, 'approved'), c('acme/web', 5, 300, 'approved'), c('acme/api', 2, 200, 'approved'), c('acme/web', 6, 50, 'other'), c('acme/api', 3, 60, 'other')];
    expect(mergeFirstOrder(items).map((i) => `${i.repo}#${i.number}`)).toEqual(['acme/web#5', 'acme/api#2', 'acme/api#1', 'acme/api#3', 'acme/web#6']);
  });

  it('breaks ties of rank and update time by repository, then the newer number', () => {
    const items = [c('acme/web', 1, 100, 'other'), c('acme/API', 1, 100, 'other'), c('acme/api', 7, 100, 'other')];
    expect(mergeFirstOrder(items).map((i) => `${i.repo}#${i.number}`)).toEqual(['acme/api#7', 'acme/API#1', 'acme/web#1']);
    expect(compareMergeFirst(items[0]!, items[0]!)).toBe(0);
  });

  it('does not change the array it is given', () => {
    const items = [c('acme/api', 1, 1, 'other'), c('acme/api', 2, 2, 'auto-merge')];
    const copy = [...items];
    mergeFirstOrder(items);
    expect(items).toEqual(copy);
  });
});
