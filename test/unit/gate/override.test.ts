/** `overrides.approvals` (SPEC 12): the approvals reduction and the decisions of /override and /override approve. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/schema.js';
import { evaluateGate } from '../../../src/gate/evaluate.js';
import { countedPeople, decideOverrideApprove, decideOverrideStart, overrideInForce, overrideStatus } from '../../../src/gate/override.js';
import type { OverrideState } from '../../../src/gate/types.js';
import { HEAD, OLD_HEAD, freeze, override, scenario } from './scenario.js';

const two = (over: Partial<OverrideState> = {}): OverrideState => override({ by: 'dave', approvalsNeeded: 2, approvedBy: [], ...over });

describe('the approvals reduction', () => {
  it('an override of one person is in force at once (approvals: 1, as before), even by the author', () => {
    expect(overrideStatus(override(), HEAD, 'dave')).toMatchObject({ state: 'in-force', counted: ['dave'] });
    expect(overrideStatus(override({ approvalsNeeded: 1 }), HEAD, null).state).toBe('in-force');
  });

  it('with two, it is pending until a second, different person approves', () => {
    expect(overrideStatus(two(), HEAD, 'alice')).toMatchObject({ state: 'pending', counted: ['dave'], needed: 2, missing: 1 });
    expect(overrideStatus(two({ approvedBy: ['erin'] }), HEAD, 'alice')).toMatchObject({ state: 'in-force', counted: ['dave', 'erin'] });
  });

  it('the starter approving, a repeated approval (in any case) or the author never counts', () => {
    expect(countedPeople(two({ approvedBy: ['Dave', 'dave'] }), 'alice')).toEqual(['dave']);
    expect(countedPeople(two({ approvedBy: ['alice'] }), 'Alice')).toEqual(['dave']);
    expect(overrideStatus(two({ approvedBy: ['alice', 'DAVE'] }), HEAD, 'alice').state).toBe('pending');
    const three = two({ approvalsNeeded: 3, approvedBy: ['erin', 'Erin'] });
    expect(overrideStatus(three, HEAD, 'alice')).toMatchObject({ state: 'pending', missing: 1 });
    expect(overrideStatus({ ...three, approvedBy: ['erin', 'frank'] }, HEAD, 'alice').state).toBe('in-force');
  });

  it('a new push ends it, pending or in force', () => {
    expect(overrideStatus(two(), OLD_HEAD).state).toBe('stale');
    expect(overrideStatus(two({ approvedBy: ['erin'] }), OLD_HEAD).state).toBe('stale');
    expect(overrideInForce(two({ approvedBy: ['erin'] }), OLD_HEAD)).toBe(false);
    expect(overrideStatus(null, HEAD).state).toBe('none');
  });
});

describe('/override reason', () => {
  const base = { current: null, headSha: HEAD, author: 'alice', actor: 'dave' };
  it('starts an override in force with approvals: 1, whoever writes it (the author too), replacing any', () => {
    expect(decideOverrideStart({ ...base, approvals: 1 })).toEqual({ kind: 'start', needed: 1, replaces: 'none' });
    expect(decideOverrideStart({ ...base, approvals: 1, actor: 'alice' })).toEqual({ kind: 'start', needed: 1, replaces: 'none' });
    expect(decideOverrideStart({ ...base, approvals: 1, current: override() })).toEqual({ kind: 'start', needed: 1, replaces: 'in-force' });
  });
  it('starts a pending one with approvals: 2; the author is refused', () => {
    expect(decideOverrideStart({ ...base, approvals: 2 })).toEqual({ kind: 'start', needed: 2, replaces: 'none' });
    expect(decideOverrideStart({ ...base, approvals: 2, actor: 'ALICE' })).toEqual({ kind: 'refused-author' });
  });
  it('changes nothing while one is pending or in force for this head; replaces one for an older head', () => {
    expect(decideOverrideStart({ ...base, approvals: 2, actor: 'erin', current: two() })).toMatchObject({ kind: 'already', status: { state: 'pending' } });
    expect(decideOverrideStart({ ...base, approvals: 2, current: two({ approvedBy: ['erin'] }) })).toMatchObject({ kind: 'already', status: { state: 'in-force' } });
    expect(decideOverrideStart({ ...base, approvals: 2, current: two({ sha: OLD_HEAD }) })).toEqual({ kind: 'start', needed: 2, replaces: 'stale' });
  });
});

describe('/override approve', () => {
  const base = { headSha: HEAD, author: 'alice', actor: 'erin' };
  it('a second, different person puts it in force', () => {
    expect(decideOverrideApprove({ ...base, current: two() })).toEqual({ kind: 'approve', inForce: true, missing: 0 });
    expect(decideOverrideApprove({ ...base, current: two({ approvalsNeeded: 3 }) })).toEqual({ kind: 'approve', inForce: false, missing: 1 });
  });
  it('refuses the starter, the author and a second approval by the same person', () => {
    expect(decideOverrideApprove({ ...base, actor: 'Dave', current: two() }).kind).toBe('refused-starter');
    expect(decideOverrideApprove({ ...base, actor: 'alice', current: two() }).kind).toBe('refused-author');
    expect(decideOverrideApprove({ ...base, current: two({ approvalsNeeded: 3, approvedBy: ['erin'] }) }).kind).toBe('refused-again');
  });
  it('with nothing pending there is nothing to approve', () => {
    expect(decideOverrideApprove({ ...base, current: null })).toMatchObject({ kind: 'nothing-pending', why: 'none' });
    expect(decideOverrideApprove({ ...base, current: two({ sha: OLD_HEAD }) })).toMatchObject({ kind: 'nothing-pending', why: 'stale' });
    expect(decideOverrideApprove({ ...base, current: two({ approvedBy: ['frank'] }) })).toMatchObject({ kind: 'nothing-pending', why: 'in-force' });
    expect(decideOverrideApprove({ ...base, current: override() })).toMatchObject({ kind: 'nothing-pending', why: 'not-needed' });
  });
});

describe('the gate with a pending override', () => {
  const cfg = { overrides: { approvals: 2 } };
  it('stays blocked, and says what is pending, who started it and who may approve', () => {
    const d = evaluateGate(scenario({ config: cfg, freezes: [freeze()], override: two(), pr: { author: 'alice' } }));
    expect(d.conclusion).toBe('failure');
    expect(d.overridden).toBe(false);
    expect(d.key).toMatch(/\|override-pending$/);
    expect(d.summary).toContain('An override is pending approval');
    expect(d.summary).toContain('- Override: **pending** (1 of 2 people), started by @\u200bdave for head commit');
    expect(d.summary).toContain('one more person with the `override` permission (maintain), other than @\u200bdave and the author @\u200balice, comments `/override approve`');
  });
  it('opens once approved, naming both people; the key no longer says pending', () => {
    const d = evaluateGate(scenario({ config: cfg, freezes: [freeze()], override: two({ approvedBy: ['erin'] }), pr: { author: 'alice' } }));
    expect(d.conclusion).toBe('success');
    expect(d.overridden).toBe(true);
    expect(d.key).toBe('success|-|-');
    expect(d.summary).toContain('- Override: **yes**, by @\u200bdave, approved by @\u200berin for head commit');
  });
  it('an approval by the author does not open it', () => {
    const d = evaluateGate(scenario({ config: cfg, freezes: [freeze()], override: two({ approvedBy: ['alice'] }), pr: { author: 'alice' } }));
    expect(d.conclusion).toBe('failure');
  });
  it('without an override the summary says two people are needed', () => {
    const d = evaluateGate(scenario({ config: cfg, freezes: [freeze()], pr: { author: 'alice' } }));
    expect(d.summary).toContain('other than the author @\u200balice comments `/override <reason>`');
    expect(d.summary).toContain('once a second, different person with that permission (not the author) comments `/override approve`');
  });
});

describe('overrides.approvals in the config', () => {
  it.each([[0], [6], [1.5], ['2'], [null]])('%j is a config problem naming the key', (approvals) => {
    const r = parseConfig({ overrides: { approvals } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems).toEqual([{ path: 'overrides.approvals', message: expect.stringMatching(/1 to 5/) }]);
  });
  it('takes 1 to 5, default 1', () => {
    for (const n of [1, 2, 5]) expect(parseConfig({ overrides: { approvals: n } }).ok).toBe(true);
    const r = parseConfig({});
    expect(r.ok && r.config.overrides.approvals).toBe(1);
    expect(parseConfig({ overrides: { approval: 2 } }).ok).toBe(false);
  });
});
