import { describe, expect, it } from 'vitest';
import { decideMergeGroup, decideSharedHead, strictest } from '../../../src/gate/combine.js';
import { evaluateGate } from '../../../src/gate/evaluate.js';
import { HOTFIX_LABELS, freeze, override, scenario } from './scenario.js';

// one freeze for every scenario: the decisions compared below must be of the same state
const FREEZE = freeze({ mode: 'features' });
const blocked = (number: number) => scenario({ pr: { number }, freezes: [FREEZE] });
const hotfix = (number: number) => scenario({ pr: { number }, labels: HOTFIX_LABELS, freezes: [FREEZE] });
const open = (number: number) => scenario({ pr: { number } });

describe('strictest: one check for several decisions', () => {
  it('takes the first failure, else the first decision', () => {
    const [a, b, c] = [evaluateGate(open(1)), evaluateGate(blocked(2)), evaluateGate(blocked(3))];
    expect(strictest([a, b, c])).toBe(b);
    expect(strictest([a, evaluateGate(open(4))])).toBe(a);
  });

  it('refuses an empty list rather than inventing a decision', () => {
    expect(() => strictest([])).toThrow(RangeError);
  });
});

describe('decideSharedHead: PRs sharing a head commit get the strictest decision', () => {
  it("is the PR's own decision when every PR on the commit passes", () => {
    const d = decideSharedHead(hotfix(1), [open(2)]);
    expect(d.conclusion).toBe('success');
    expect(d.hotfix.is).toBe(true);
  });

  it('fails a hotfix PR when another PR on the same commit is blocked (a green check would let that one merge)', () => {
    const d = decideSharedHead(hotfix(1), [hotfix(2), blocked(3)]);
    expect(d.conclusion).toBe('failure');
    expect(d).toEqual(evaluateGate(blocked(3)));
  });

  it("keeps the PR's own failure, whatever the others say", () => {
    expect(decideSharedHead(blocked(1), [hotfix(2)])).toEqual(evaluateGate(blocked(1)));
  });

  it('is the plain gate for a PR alone on its commit', () => {
    expect(decideSharedHead(blocked(1))).toEqual(evaluateGate(blocked(1)));
    expect(decideSharedHead(open(1), [])).toEqual(evaluateGate(open(1)));
  });
});

describe('decideMergeGroup: a group passes only when each of its PRs would', () => {
  const whenEmpty = scenario({ pr: { number: 0, headRef: '' }, freezes: [freeze({ mode: 'all' })] });

  it('passes a group of passing PRs with the first one\'s decision', () => {
    const d = decideMergeGroup([hotfix(1), open(2)], whenEmpty);
    expect(d).toEqual(evaluateGate(hotfix(1)));
  });

  it('fails the group on the first blocked PR, an overridden one counting as passing', () => {
    const overridden = scenario({ pr: { number: 5 }, freezes: [FREEZE], override: override() });
    expect(evaluateGate(overridden).conclusion).toBe('success');
    const d = decideMergeGroup([overridden, blocked(6), blocked(7)], whenEmpty);
    expect(d.conclusion).toBe('failure');
    expect(d).toEqual(evaluateGate(blocked(6)));
  });

  it('judges a group whose PRs cannot be found as the ordinary change it is given', () => {
    const d = decideMergeGroup([], whenEmpty);
    expect(d).toEqual(evaluateGate(whenEmpty));
    expect(d.conclusion).toBe('failure');
    expect(decideMergeGroup([], open(0)).conclusion).toBe('success');
  });
});
