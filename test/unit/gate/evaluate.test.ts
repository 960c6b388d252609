import { describe, expect, it } from 'vitest';
import { evaluateGate } from '../../../src/gate/evaluate.js';
import type { Decision, Reason } from '../../../src/gate/types.js';
import {
  DAY,
  HOTFIX_LABELS,
  HOUR,
  MINUTE,
  NOW,
  OLD_HEAD,
  freeze,
  incident,
  label,
  override,
  scenario,
  suppression,
  type Scenario,
} from './scenario.js';

function gate(s: Scenario): Decision {
  return evaluateGate(scenario(s));
}

function summaryOf(reasons: Reason[]): [string, boolean][] {
  return reasons.map((r) => [r.key, r.blocks]);
}

/** Saturday 2026-06-13 10:00 UTC (12:00 in Berlin): inside the weekend window. */
const SATURDAY = Date.UTC(2026, 5, 13, 10, 0);
/** Fri 2026-06-12 18:00 Berlin and Mon 2026-06-15 09:00 Berlin */
const WEEKEND_START = Date.UTC(2026, 5, 12, 16, 0);
const WEEKEND_END = Date.UTC(2026, 5, 15, 7, 0);
const weekend = (mode: 'all' | 'features' = 'all') => ({
  name: 'weekend',
  cron: '0 18 * * FRI',
  duration: '63h',
  timezone: 'Europe/Berlin',
  mode,
});

const hotfixKinds = {
  'not a hotfix': {},
  'a hotfix by label': { labels: HOTFIX_LABELS },
  'a hotfix by branch': { pr: { headRef: 'hotfix/db' } },
} satisfies Record<string, Scenario>;

describe('rule 1: branches that are not gated', () => {
  it('a PR into a branch that is not gated passes with "Not gated", whatever is active', () => {
    const d = gate({
      pr: { baseRef: 'develop' },
      freezes: [freeze({ mode: 'all' })],
      incidents: [incident()],
      config: { cadence: { max: 1, per: '24h' } },
      deploys: [NOW - HOUR],
    });
    expect(d).toMatchObject({
      conclusion: 'success',
      title: 'Not gated',
      gated: false,
      reasons: [],
      decisive: null,
      blockedUntil: null,
      nextChangeAt: null,
      key: 'success|not-gated|-',
    });
  });

  it.each([
    [[], 'main', true],
    [[], 'release/1.0', false],
    [['release/*'], 'release/1.0', true],
    [['release/*'], 'release/1.0/rc', false],
    [['release/**'], 'release/1.0/rc', true],
    [['release/*'], 'main', false],
  ] as [string[], string, boolean][])('branches %j, base %s: gated=%s', (branches, baseRef, gated) => {
    const d = gate({ config: { branches }, pr: { baseRef }, freezes: [freeze({ mode: 'all' })] });
    expect(d.gated).toBe(gated);
    expect(d.conclusion).toBe(gated ? 'failure' : 'success');
  });

  it('deployments are always evaluated (environment gating is the caller’s)', () => {
    const d = gate({ deployment: { environment: 'staging' }, freezes: [freeze({ mode: 'all' })] });
    expect(d.gated).toBe(true);
    expect(d.conclusion).toBe('failure');
  });
});

describe('rule 4: manual freezes, each scope x mode x hotfix', () => {
  const cases: [string, string | null, 'all' | 'features', keyof typeof hotfixKinds, boolean][] = [];
  for (const [scopeName, repo] of [
    ['repository', 'api'],
    ['organisation', null],
  ] as const)
    for (const mode of ['all', 'features'] as const)
      for (const kind of Object.keys(hotfixKinds) as (keyof typeof hotfixKinds)[])
        cases.push([scopeName, repo, mode, kind, mode === 'all' || kind === 'not a hotfix']);

  it.each(cases)('%s freeze (%s scope) in mode %s, %s: blocks=%s', (_scope, repo, mode, kind, blocks) => {
    const f = freeze({ repo, mode });
    const d = gate({ ...hotfixKinds[kind], freezes: [f] });
    expect(d.conclusion).toBe(blocks ? 'failure' : 'success');
    expect(summaryOf(d.reasons)).toEqual([[`freeze:${f.id}`, blocks]]);
    expect(d.decisive?.key ?? null).toBe(blocks ? `freeze:${f.id}` : null);
    expect(d.hotfix.is).toBe(kind !== 'not a hotfix');
  });

  it('a timed freeze blocks until its end, which is when the decision next changes', () => {
    const f = freeze({ mode: 'all', until: NOW + 2 * HOUR });
    const d = gate({ freezes: [f] });
    expect(d).toMatchObject({ conclusion: 'failure', blockedUntil: NOW + 2 * HOUR, nextChangeAt: NOW + 2 * HOUR });
    expect(d.key).toBe(`failure|freeze:${f.id}|${NOW + 2 * HOUR}`);
  });

  it('an indefinite freeze has no end of its own', () => {
    const f = freeze({ mode: 'all' });
    const d = gate({ freezes: [f] });
    expect(d).toMatchObject({ blockedUntil: null, nextChangeAt: null, key: `failure|freeze:${f.id}|-` });
    expect(d.decisive?.ends).toBe('until lifted with /unfreeze (lift permission)');
    const org = gate({ freezes: [freeze({ repo: null })] });
    expect(org.decisive?.ends).toBe('until lifted with /unfreeze --org (lift permission)');
  });

  it.each([
    ['ended exactly now', NOW],
    ['ended earlier', NOW - MINUTE],
  ])('a freeze that %s is ignored', (_name, until) => {
    const d = gate({ freezes: [freeze({ mode: 'all', until })] });
    expect(d).toMatchObject({ conclusion: 'success', title: 'Open', reasons: [], nextChangeAt: null });
  });

  it('a hotfix passing a features freeze is "Open (hotfix)"', () => {
    expect(gate({ labels: HOTFIX_LABELS, freezes: [freeze()] }).title).toBe('Open (hotfix)');
  });

  it('a hotfix label added by someone without write does not pass a features freeze', () => {
    const d = gate({ labels: [label('hotfix', 'bob', false)], freezes: [freeze()] });
    expect(d.conclusion).toBe('failure');
    expect(d.hotfix).toEqual({ is: false, why: 'label "hotfix" was added by @bob, who lacks write' });
  });

  it('a fork head branch matching hotfix/* does not pass a features freeze', () => {
    const d = gate({ pr: { headRef: 'hotfix/db', headInRepo: false }, freezes: [freeze()] });
    expect(d.conclusion).toBe('failure');
    expect(d.hotfix.is).toBe(false);
  });
});

describe('rule 6: incidents', () => {
  it.each([
    // phase, severity, hotfix, blocks, listed
    ['open', 'sev1', false, true, true],
    ['open', 'sev2', false, true, true],
    ['open', 'sev3', false, false, false],
    ['open', 'sev4', false, false, false],
    ['open', 'sev1', true, false, true],
    ['resolved', 'sev1', false, true, true],
    ['resolved', 'sev2', true, false, true],
    ['resolved', 'sev3', false, false, false],
    ['closed', 'sev1', false, false, false],
  ] as const)('%s %s incident, hotfix=%s: blocks=%s, listed=%s', (phase, severity, hotfix, blocks, listed) => {
    const d = gate({ incidents: [incident({ phase, severity })], ...(hotfix ? { labels: HOTFIX_LABELS } : {}) });
    expect(d.conclusion).toBe(blocks ? 'failure' : 'success');
    const incidentReasons = d.reasons.filter((r) => r.kind === 'incident');
    expect(summaryOf(incidentReasons)).toEqual(listed ? [['incident:3', blocks]] : []);
    if (listed) {
      expect(incidentReasons[0]!.until).toBeNull();
      expect(incidentReasons[0]!.ends).toBe('when closed with /incident close INC-3 (lift permission)');
    }
  });

  it('an open freezing incident blocks with no end of its own', () => {
    const d = gate({ incidents: [incident()] });
    expect(d).toMatchObject({
      conclusion: 'failure',
      blockedUntil: null,
      nextChangeAt: null,
      key: 'failure|incident:3:open:features|-',
      title: 'Frozen: sev1 incident INC-3 "API latency" (hotfixes only)',
    });
  });

  it('resolving the decisive incident changes the key, so the check is posted again with the recovery wording', () => {
    const open = gate({ incidents: [incident()] });
    const resolved = gate({ incidents: [incident({ phase: 'resolved' })] });
    expect(resolved.conclusion).toBe('failure');
    expect(resolved.key).not.toBe(open.key);
    expect(resolved.title).toContain('in recovery');
  });

  it('incidents.mode all blocks hotfixes while open; recovery.mode decides once resolved', () => {
    const c = { incidents: { mode: 'all', recovery: { mode: 'features', cadence: null } } };
    expect(gate({ config: c, labels: HOTFIX_LABELS, incidents: [incident()] }).conclusion).toBe('failure');
    expect(gate({ config: c, labels: HOTFIX_LABELS, incidents: [incident({ phase: 'resolved' })] }).conclusion).toBe(
      'success',
    );
    const c2 = { incidents: { recovery: { mode: 'all' } } };
    const d = gate({ config: c2, labels: HOTFIX_LABELS, incidents: [incident({ phase: 'resolved' })] });
    expect(d.conclusion).toBe('failure');
    expect(d.title).toBe('Frozen: sev1 incident INC-3 "API latency" in recovery (all changes)');
  });

  it('incidents.freeze decides which severities freeze', () => {
    const c = { incidents: { freeze: ['sev3'] } };
    expect(gate({ config: c, incidents: [incident({ severity: 'sev1' })] }).conclusion).toBe('success');
    expect(gate({ config: c, incidents: [incident({ severity: 'sev3' })] }).conclusion).toBe('failure');
  });

  it('an incident of a non-freezing severity is recorded in the summary but gates nothing', () => {
    const d = gate({ incidents: [incident({ severity: 'sev3', id: 9, title: 'Slow dashboard' })] });
    expect(d.title).toBe('Open');
    expect(d.summary).toContain('INC-9');
    expect(d.summary).toContain('recorded, gates nothing');
  });
});

describe('rule 5: windows', () => {
  it('an active window blocks until the end of its occurrence', () => {
    const d = gate({ now: SATURDAY, config: { windows: [weekend()] } });
    expect(d.conclusion).toBe('failure');
    expect(d.decisive).toMatchObject({
      key: 'window:weekend',
      kind: 'window',
      until: WEEKEND_END,
      start: WEEKEND_START,
      end: WEEKEND_END,
      timezone: 'Europe/Berlin',
      mode: 'all',
    });
    expect(d.blockedUntil).toBe(WEEKEND_END);
    expect(d.nextChangeAt).toBe(WEEKEND_END);
    expect(d.title).toBe('Frozen: window "weekend" until Mon 09:00 Europe/Berlin');
  });

  it('an inactive window is no reason, but its next start is when the decision next changes', () => {
    const d = gate({ config: { windows: [weekend()] } });
    expect(d).toMatchObject({ conclusion: 'success', reasons: [], nextChangeAt: WEEKEND_START });
  });

  it('a features window lets hotfixes through; an all window does not', () => {
    expect(gate({ now: SATURDAY, config: { windows: [weekend('features')] }, labels: HOTFIX_LABELS }).title).toBe(
      'Open (hotfix)',
    );
    expect(gate({ now: SATURDAY, config: { windows: [weekend('all')] }, labels: HOTFIX_LABELS }).conclusion).toBe(
      'failure',
    );
  });

  it('an occurrence ended with /unfreeze no longer blocks; the next one does', () => {
    const s: Scenario = {
      now: SATURDAY,
      config: { windows: [weekend()] },
      windowSuppressions: [suppression('weekend', WEEKEND_START)],
    };
    const d = gate(s);
    expect(d).toMatchObject({ conclusion: 'success', reasons: [] });
    expect(d.nextChangeAt).not.toBeNull();
    expect(d.nextChangeAt!).toBeGreaterThan(SATURDAY);
    expect(gate({ ...s, now: WEEKEND_START + 7 * DAY + HOUR }).conclusion).toBe('failure');
  });

  it('a suppression of another window or another occurrence changes nothing', () => {
    expect(
      gate({ now: SATURDAY, config: { windows: [weekend()] }, windowSuppressions: [suppression('other', WEEKEND_START)] })
        .conclusion,
    ).toBe('failure');
    expect(
      gate({
        now: SATURDAY,
        config: { windows: [weekend()] },
        windowSuppressions: [suppression('weekend', WEEKEND_START - 7 * DAY)],
      }).conclusion,
    ).toBe('failure');
  });

  it('overlapping occurrences: blocked until the latest end, even when one is suppressed', () => {
    // every hour, lasting 90 minutes: at 12:15 the 11:00 and 12:00 occurrences are both active
    const hourly = { name: 'hourly', cron: '0 * * * *', duration: '90m', mode: 'all' };
    const at = NOW + 15 * MINUTE;
    const d = gate({ now: at, config: { windows: [hourly] } });
    expect(d.decisive).toMatchObject({ start: NOW - HOUR, end: NOW + 90 * MINUTE });
    const s = gate({ now: at, config: { windows: [hourly] }, windowSuppressions: [suppression('hourly', NOW)] });
    expect(s.decisive).toMatchObject({ start: NOW - HOUR, end: NOW + 30 * MINUTE });
  });

  it('a one-off window from/to in its timezone', () => {
    const c = { windows: [{ name: 'launch', from: '2026-06-10T08:00', to: '2026-06-10T16:00', timezone: 'America/New_York' }] };
    const d = gate({ config: c });
    expect(d.decisive).toMatchObject({ key: 'window:launch', end: Date.UTC(2026, 5, 10, 20, 0), mode: 'features' });
    expect(d.nextChangeAt).toBe(Date.UTC(2026, 5, 10, 20, 0));
  });
});

describe('rule 7: cadence', () => {
  const sixPerDay = { cadence: { max: 6, per: '24h', min_interval: '30m' } };
  const sixDeploys = [1, 2, 3, 4, 5, 6].map((h) => NOW - 22 * HOUR + 5 * MINUTE + (h - 1) * 3 * HOUR);

  it('at the limit: blocked until the oldest deploy leaves the window', () => {
    const d = gate({ config: sixPerDay, deploys: sixDeploys });
    expect(d).toMatchObject({
      conclusion: 'failure',
      blockedUntil: NOW + 2 * HOUR + 5 * MINUTE,
      nextChangeAt: NOW + 2 * HOUR + 5 * MINUTE,
      key: `failure|cadence:normal|${NOW + 2 * HOUR + 5 * MINUTE}`,
    });
    expect(d.decisive).toMatchObject({ kind: 'cadence', which: 'normal', used: 6, max: 6, per: DAY, blockedBy: 'count' });
    expect(d.title).toBe('Deploy limit: 6 of 6 in 24h, next slot 14:05 UTC');
  });

  it('min_interval: blocked until last + interval', () => {
    const d = gate({ config: sixPerDay, deploys: [NOW - 25 * MINUTE] });
    expect(d.decisive).toMatchObject({ blockedBy: 'interval', nextSlot: NOW + 5 * MINUTE });
  });

  it('below the limit: listed with its use, not blocking', () => {
    const d = gate({ config: sixPerDay, deploys: [NOW - 5 * HOUR, NOW - 4 * HOUR] });
    expect(d.conclusion).toBe('success');
    expect(d.title).toBe('Open');
    expect(d.reasons).toHaveLength(1);
    expect(d.reasons[0]).toMatchObject({ key: 'cadence:normal', blocks: false, used: 2, max: 6, nextSlot: null });
    expect(d.summary).toContain('2 of 6');
    expect(d.nextChangeAt).toBeNull();
  });

  it('blocks hotfixes too', () => {
    expect(gate({ config: sixPerDay, deploys: sixDeploys, labels: HOTFIX_LABELS }).conclusion).toBe('failure');
    expect(gate({ config: sixPerDay, deploys: sixDeploys, pr: { headRef: 'hotfix/x' } }).conclusion).toBe('failure');
  });

  it.each([
    ['merges', 'pull_request', 'production', true],
    ['merges', 'deployment', 'production', false],
    ['deployments', 'pull_request', 'production', false],
    ['deployments', 'deployment', 'production', true],
    ['deployments', 'deployment', 'staging', false],
  ] as const)('counts %s applies to a %s (%s): %s', (counts, kind, environment, applies) => {
    const d = gate({
      config: { cadence: { max: 1, per: '1h', counts } },
      deploys: [NOW - MINUTE],
      ...(kind === 'deployment' ? { deployment: { environment } } : {}),
    });
    expect(d.conclusion).toBe(applies ? 'failure' : 'success');
    expect(d.reasons.length).toBe(applies ? 1 : 0);
  });

  describe('recovery cadence', () => {
    const resolved = [incident({ phase: 'resolved' })];

    it('applies while a freezing incident is resolved, to hotfixes too (default 2 per 24h, 2h apart)', () => {
      const d = gate({ incidents: resolved, labels: HOTFIX_LABELS, deploys: [NOW - 3 * HOUR] });
      expect(d.conclusion).toBe('success');
      expect(summaryOf(d.reasons)).toEqual([
        ['incident:3', false],
        ['cadence:recovery', false],
      ]);
      const blocked = gate({ incidents: resolved, labels: HOTFIX_LABELS, deploys: [NOW - 3 * HOUR, NOW - HOUR] });
      expect(blocked.decisive).toMatchObject({ key: 'cadence:recovery', blockedBy: 'count', nextSlot: NOW + 21 * HOUR });
      expect(blocked.title).toBe('Deploy limit in recovery: 2 of 2 in 24h, next slot Thu 09:00 UTC');
    });

    it('does not apply while the incident is open, or for a non-freezing severity', () => {
      const deploys = [NOW - 3 * HOUR, NOW - HOUR];
      expect(gate({ incidents: [incident()], labels: HOTFIX_LABELS, deploys }).reasons.map((r) => r.key)).toEqual([
        'incident:3',
      ]);
      expect(gate({ incidents: [incident({ phase: 'resolved', severity: 'sev4' })], deploys }).conclusion).toBe('success');
    });

    it('normal and recovery cadences are each evaluated whole: the stricter one decides', () => {
      const config = { cadence: { max: 6, per: '24h', min_interval: '30m' } };
      const deploys = [NOW - 3 * HOUR, NOW - 40 * MINUTE];
      const d = gate({ config, incidents: resolved, labels: HOTFIX_LABELS, deploys });
      expect(summaryOf(d.reasons)).toEqual([
        ['incident:3', false],
        ['cadence:recovery', true],
        ['cadence:normal', false],
      ]);
      expect(d.decisive).toMatchObject({ which: 'recovery', nextSlot: NOW + 21 * HOUR });
      // once closed, only the normal cadence remains
      expect(gate({ config, incidents: [], deploys }).conclusion).toBe('success');
    });

    it('when both block, the later slot is decisive and blockedUntil is the later of the two', () => {
      const config = { cadence: { max: 1, per: '1h' } };
      const deploys = [NOW - 10 * MINUTE];
      const d = gate({ config, incidents: resolved, labels: HOTFIX_LABELS, deploys });
      expect(summaryOf(d.reasons)).toEqual([
        ['incident:3', false],
        ['cadence:recovery', true],
        ['cadence:normal', true],
      ]);
      expect(d.blockedUntil).toBe(NOW + 110 * MINUTE);
      expect(d.nextChangeAt).toBe(NOW + 50 * MINUTE);
    });

    it('counts what the normal cadence counts: with counts deployments, PRs are not limited', () => {
      const config = { cadence: { max: 6, per: '24h', counts: 'deployments' } };
      const deploys = [NOW - 3 * HOUR, NOW - HOUR];
      expect(gate({ config, incidents: resolved, labels: HOTFIX_LABELS, deploys }).conclusion).toBe('success');
      const dep = gate({ config, incidents: resolved, deployment: { hotfix: { is: true, why: 'x' } }, deploys });
      expect(dep.decisive?.key).toBe('cadence:recovery');
    });

    it('with no normal cadence it counts merges: deployments are not limited', () => {
      const deploys = [NOW - 3 * HOUR, NOW - HOUR];
      const dep = gate({ incidents: resolved, deployment: { hotfix: { is: true, why: 'x' } }, deploys });
      expect(dep.conclusion).toBe('success');
    });

    it('recovery.cadence null: no recovery limit', () => {
      const d = gate({
        config: { incidents: { recovery: { cadence: null } } },
        incidents: resolved,
        labels: HOTFIX_LABELS,
        deploys: [NOW - 3 * HOUR, NOW - HOUR, NOW - MINUTE],
      });
      expect(d.conclusion).toBe('success');
      expect(d.reasons.map((r) => r.key)).toEqual(['incident:3']);
    });
  });
});

describe('rule 3: overrides', () => {
  const everything: Scenario = {
    now: SATURDAY,
    config: { windows: [weekend('all')], cadence: { max: 1, per: '24h' } },
    freezes: [freeze({ mode: 'all' })],
    incidents: [incident({ id: 4, phase: 'resolved' }), incident({ id: 3 })],
    deploys: [SATURDAY - HOUR],
  };

  it('an override of the head SHA exempts from everything; every constraint is still listed', () => {
    const d = gate({ ...everything, override: override() });
    expect(d.conclusion).toBe('success');
    expect(d.overridden).toBe(true);
    expect(d.decisive).toBeNull();
    expect(d.reasons.map((r) => r.kind)).toEqual(['incident', 'incident', 'freeze', 'window', 'cadence', 'cadence']);
    expect(d.reasons.every((r) => !r.blocks)).toBe(true);
    expect(d.title).toBe('Open (override by @\u200bdave)');
    expect(d.key).toBe('success|-|-');
  });

  it('an override for an older SHA is ignored, and the summary says so', () => {
    const d = gate({ ...everything, override: override({ sha: OLD_HEAD }) });
    expect(d.conclusion).toBe('failure');
    expect(d.overridden).toBe(false);
    expect(d.summary).toContain('was for an older commit');
    expect(d.summary).toContain('`deadbee`');
  });

  it('an override with nothing active is plain "Open"', () => {
    const d = gate({ override: override() });
    expect(d).toMatchObject({ conclusion: 'success', overridden: true, title: 'Open' });
  });

  it('a deployment that is the merge commit of an overridden PR is exempt', () => {
    const d = gate({ ...everything, deployment: { overridden: true } });
    expect(d).toMatchObject({ conclusion: 'success', overridden: true, title: 'Open (override)' });
    expect(gate({ ...everything, deployment: {} }).conclusion).toBe('failure');
  });
});

describe('rule 8: the decisive reason and blockedUntil', () => {
  const at = NOW;
  const timedAll = (id: number, until: number) => freeze({ id, mode: 'all', until });

  it.each([
    ['sev1 before sev2, whatever the ids', { incidents: [incident({ id: 1, severity: 'sev2' }), incident({ id: 5, severity: 'sev1' })] }, 'incident:5'],
    ['lower id among equal severities', { incidents: [incident({ id: 7 }), incident({ id: 2 })] }, 'incident:2'],
    ['an incident before a freeze', { incidents: [incident({ id: 8, severity: 'sev2' })], freezes: [freeze({ id: 1, mode: 'all' })] }, 'incident:8'],
    ['an all freeze before a features freeze', { freezes: [freeze({ id: 1 }), freeze({ id: 2, mode: 'all', until: at + HOUR })] }, 'freeze:2'],
    ['an indefinite freeze before a timed one', { freezes: [timedAll(1, at + DAY), freeze({ id: 2, mode: 'all' })] }, 'freeze:2'],
    ['the later of two timed freezes', { freezes: [timedAll(1, at + HOUR), timedAll(2, at + DAY)] }, 'freeze:2'],
    [
      'a freeze before a window',
      { now: SATURDAY, config: { windows: [weekend()] }, freezes: [freeze({ id: 1, until: SATURDAY + HOUR })] },
      'freeze:1',
    ],
    [
      'a window before a cadence',
      { now: SATURDAY, config: { windows: [weekend()], cadence: { max: 1, per: '30d' } }, deploys: [SATURDAY - HOUR] },
      'window:weekend',
    ],
    [
      'a blocking reason before a non-blocking one of higher priority',
      { labels: HOTFIX_LABELS, incidents: [incident()], freezes: [freeze({ id: 1, mode: 'all' })] },
      'freeze:1',
    ],
  ] as [string, Scenario, string][])('%s', (_name, s, key) => {
    expect(gate(s).decisive?.key).toBe(key);
  });

  it('blockedUntil is null when any block has no end, else the latest end', () => {
    expect(gate({ freezes: [timedAll(1, at + HOUR), freeze({ id: 2 })] }).blockedUntil).toBeNull();
    expect(gate({ freezes: [timedAll(1, at + HOUR), timedAll(2, at + DAY)] }).blockedUntil).toBe(at + DAY);
    // a features freeze a hotfix passes does not extend the block
    const d = gate({ labels: HOTFIX_LABELS, freezes: [timedAll(1, at + HOUR), freeze({ id: 2, until: at + DAY })] });
    expect(d.blockedUntil).toBe(at + HOUR);
  });

  it('nextChangeAt is the earliest timed freeze end, window edge or cadence slot', () => {
    const d = gate({
      config: { windows: [weekend()], cadence: { max: 1, per: '24h' } },
      freezes: [timedAll(1, at + DAY), freeze({ id: 2, until: at + 3 * HOUR })],
      deploys: [at - 20 * HOUR],
    });
    expect(d.nextChangeAt).toBe(at + 3 * HOUR);
    expect(gate({ config: { windows: [weekend()] }, freezes: [timedAll(1, at + 30 * DAY)] }).nextChangeAt).toBe(
      WEEKEND_START,
    );
  });

  it('is deterministic: same input, same decision', () => {
    const s = scenario({ incidents: [incident()], freezes: [freeze()], config: { windows: [weekend()] } });
    expect(evaluateGate(s)).toEqual(evaluateGate(s));
  });

  it('does not mutate its input', () => {
    const s = scenario({
      incidents: [incident(), incident({ id: 1, severity: 'sev2' })],
      freezes: [freeze(), freeze({ mode: 'all' })],
      deploys: [NOW - HOUR],
      config: { cadence: { max: 3, per: '1d' } },
    });
    const copy = structuredClone(s);
    evaluateGate(s);
    expect(s).toEqual(copy);
  });
});
