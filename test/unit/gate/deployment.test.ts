import { describe, expect, it } from 'vitest';
import { classifyDeploy, decideDeployment, expiredHold, HOLD_LIMIT_MS, type DeployedPull, type DeploymentInput } from '../../../src/gate/deployment.js';
import type { PullRequestChange } from '../../../src/gate/types.js';
import { DAY, HEAD, HOUR, NOW, config, freeze, label, scenario } from './scenario.js';

function pull(number: number, over: Partial<DeployedPull> & { labels?: PullRequestChange['labels']; headRef?: string } = {}): DeployedPull {
  const change = scenario({ pr: { number, headRef: over.headRef ?? `feature-${number}` }, labels: over.labels ?? [] }).change as PullRequestChange;
  return { change, mergeCommitSha: over.mergeCommitSha ?? null, override: over.override ?? null };
}

function input(over: Partial<DeploymentInput> & { raw?: Record<string, unknown> } = {}): DeploymentInput {
  const { raw, ...rest } = over;
  return {
    config: config(raw),
    state: scenario().state,
    now: NOW,
    account: 'acme',
    repo: 'api',
    environment: 'production',
    sha: HEAD,
    pulls: [],
    behindOlder: false,
    heldSince: null,
    ...rest,
  };
}

const frozen = (mode: 'all' | 'features' = 'all', until: number | null = null) => ({ ...scenario().state, freezes: [freeze({ mode, until })] });

describe('decideDeployment: a new protection request', () => {
  it('approves an environment Moratorium does not gate, without asking the gate', () => {
    const v = decideDeployment(input({ environment: 'staging', state: frozen() }));
    expect(v).toMatchObject({ answer: 'approved', decision: null, counts: false, wakeAt: [] });
    expect(v.comment).toBe('Moratorium does not gate the "staging" environment (deployments.environments), so it is approved.');
  });

  it('approves when the gate is open, saying nothing is in force', () => {
    const v = decideDeployment(input());
    expect(v.answer).toBe('approved');
    expect(v.decision?.conclusion).toBe('success');
    expect(v.comment).toContain('No incident, freeze, window or deploy limit is in force.');
  });

  it('holds a blocked request by default (when_blocked: wait), waking at its boundary and before the 30-day limit', () => {
    const until = NOW + 2 * HOUR;
    const v = decideDeployment(input({ state: frozen('all', until) }));
    expect(v.answer).toBe('held');
    expect(v.comment).toMatch(/^held: /);
    expect(v.wakeAt).toEqual([v.decision!.nextChangeAt!, NOW + HOLD_LIMIT_MS]);
    expect(v.decision!.nextChangeAt).toBe(until);
    expect(v.recheckHeld).toBe(false);
  });

  it('rejects a blocked request at once under when_blocked: reject, saying when it can go', () => {
    const until = NOW + 2 * HOUR;
    const v = decideDeployment(input({ raw: { deployments: { when_blocked: 'reject' } }, state: frozen('all', until) }));
    expect(v.answer).toBe('rejected');
    expect(v.comment).toContain(`It can go after ${new Date(until).toISOString()}.`);
  });

  it('queues an open-gate request behind older held ones of its environment, and asks for them to be checked', () => {
    const v = decideDeployment(input({ behindOlder: true }));
    expect(v).toMatchObject({ answer: 'held', comment: 'held behind older requests', recheckHeld: true });
  });

  it('approves a hotfix deploy through a features freeze, and says why', () => {
    const v = decideDeployment(input({ state: frozen('features'), pulls: [pull(7, { labels: [label('hotfix')], mergeCommitSha: HEAD })] }));
    expect(v.answer).toBe('approved');
    expect(v.comment).toContain('It is a hotfix');
  });

  it('counts an approval at once only when a deployment cadence counts the environment', () => {
    const cadence = { max: 3, per: '1d', counts: 'deployments', environments: ['production'] };
    expect(decideDeployment(input({ raw: { cadence } })).counts).toBe(true);
    expect(decideDeployment(input({ raw: { cadence: { ...cadence, counts: 'merges' } } })).counts).toBe(false);
    expect(decideDeployment(input({ raw: { cadence, deployments: { environments: ['production', 'staging'] } }, environment: 'staging' })).counts).toBe(false);
  });
});

describe('decideDeployment: a held request', () => {
  it('is approved once the gate opened', () => {
    const v = decideDeployment(input({ heldSince: NOW - HOUR }));
    expect(v.answer).toBe('approved');
    expect(v.comment).toMatch(/^Moratorium: the gate opened \(.*\); approved\.$/);
  });

  it('stays held while blocked, waking at the boundary only', () => {
    const until = NOW + HOUR;
    const v = decideDeployment(input({ heldSince: NOW - HOUR, state: frozen('all', until) }));
    expect(v).toMatchObject({ answer: 'held', wakeAt: [until] });
  });

  it('is rejected when blocked and the config now says when_blocked: reject', () => {
    expect(decideDeployment(input({ heldSince: NOW - HOUR, raw: { deployments: { when_blocked: 'reject' } }, state: frozen() })).answer).toBe('rejected');
  });

  it('is rejected after 29 days, before GitHub gives up, whatever the gate says', () => {
    const v = decideDeployment(input({ heldSince: NOW - 29 * DAY }));
    expect(v).toMatchObject({ answer: 'rejected', decision: null });
    expect(v.comment).toContain('held this deployment for 29 days');
    expect(expiredHold(NOW - 29 * DAY + 1, NOW)).toBeNull();
    expect(expiredHold(NOW - 29 * DAY, NOW)).toEqual(v);
  });
});

describe('classifyDeploy: what shipped in a deploy', () => {
  const cfg = config();

  it('is a hotfix when its commit is the merge commit of a hotfix PR', () => {
    const c = classifyDeploy(cfg, HEAD, [pull(1), pull(2, { headRef: 'hotfix/db', mergeCommitSha: HEAD })]);
    expect(c).toEqual({ hotfix: { is: true, why: expect.stringContaining('#2') }, overridden: false });
  });

  it('is a hotfix when its commit is the head commit of a hotfix PR (a deploy tool may ship it before the merge), unless another PR shares that head', () => {
    const hot = pull(4, { headRef: 'hotfix/x' });
    const other = pull(5, { mergeCommitSha: 'c'.repeat(40) });
    other.change = { ...other.change, headSha: 'd'.repeat(40) };
    expect(classifyDeploy(cfg, hot.change.headSha, [hot, other])).toEqual({ hotfix: { is: true, why: expect.stringContaining('#4') }, overridden: false });
    expect(classifyDeploy(cfg, hot.change.headSha, [hot, pull(6)]).hotfix.is).toBe(false);
    expect(classifyDeploy(cfg, 'd'.repeat(40), [hot, other]).hotfix.is).toBe(false);
  });

  it('is overridden when its merge commit is that of an overridden PR', () => {
    expect(classifyDeploy(cfg, HEAD, [pull(3, { mergeCommitSha: HEAD, override: { by: 'dave' } })])).toEqual({ hotfix: { is: false, why: '#3 was overridden by dave' }, overridden: true });
  });

  it('is a hotfix when every PR is one, overridden when some are only overridden, and neither otherwise', () => {
    expect(classifyDeploy(cfg, HEAD, [pull(1, { headRef: 'hotfix/a' }), pull(2, { headRef: 'hotfix/b' })]).hotfix.is).toBe(true);
    expect(classifyDeploy(cfg, HEAD, [pull(1, { headRef: 'hotfix/a' }), pull(2, { override: { by: 'dave' } })])).toMatchObject({ hotfix: { is: false }, overridden: true });
    expect(classifyDeploy(cfg, HEAD, [pull(1, { headRef: 'hotfix/a' }), pull(2)])).toEqual({ hotfix: { is: false, why: 'not every PR in it is a hotfix' }, overridden: false });
    expect(classifyDeploy(cfg, HEAD, [])).toEqual({ hotfix: { is: false, why: 'no hotfix PR is associated with this commit' }, overridden: false });
  });
});
