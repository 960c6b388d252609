import { describe, expect, it } from 'vitest';
import { evaluateGate } from '../../../src/gate/evaluate.js';
import { TITLE_LIMIT, shortTime } from '../../../src/gate/render.js';
import type { Decision } from '../../../src/gate/types.js';
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
  type Scenario,
} from './scenario.js';

const ZWSP = '\u200b';
const SATURDAY = Date.UTC(2026, 5, 13, 10, 0);
const weekend = { name: 'weekend', cron: '0 18 * * FRI', duration: '63h', timezone: 'Europe/Berlin', mode: 'all' };

function gate(s: Scenario): Decision {
  return evaluateGate(scenario(s));
}

/** Six deploys in the last 24h, the oldest leaving the window at 14:05 UTC today. */
const sixDeploys = [0, 1, 2, 3, 4, 5].map((i) => NOW - 22 * HOUR + 5 * MINUTE + i * 3 * HOUR);

describe('titles (SPEC 5 examples, exactly)', () => {
  it.each([
    ['an open sev1 incident', { incidents: [incident()] }, 'Frozen: sev1 incident INC-3 "API latency" (hotfixes only)'],
    [
      'a sev1 incident in recovery',
      { incidents: [incident({ phase: 'resolved' })] },
      'Frozen: sev1 incident INC-3 "API latency" in recovery (hotfixes only)',
    ],
    [
      'an incident in all mode',
      { config: { incidents: { mode: 'all' } }, incidents: [incident({ id: 12, severity: 'sev2', title: 'DB failover' })] },
      'Frozen: sev2 incident INC-12 "DB failover" (all changes)',
    ],
    ['the weekend window', { now: SATURDAY, config: { windows: [weekend] } }, 'Frozen: window "weekend" until Mon 09:00 Europe/Berlin'],
    [
      'a features window',
      { now: SATURDAY, config: { windows: [{ ...weekend, mode: 'features' }] } },
      'Frozen: window "weekend" until Mon 09:00 Europe/Berlin (hotfixes only)',
    ],
    [
      'a timed repository freeze',
      { freezes: [freeze({ mode: 'all', until: NOW + 2 * HOUR })] },
      `Frozen: repository freeze by @${ZWSP}alice until 14:00 UTC`,
    ],
    [
      'a timed features freeze ending another day',
      { freezes: [freeze({ until: NOW + DAY })] },
      `Frozen: repository freeze by @${ZWSP}alice until Thu 12:00 UTC (hotfixes only)`,
    ],
    [
      'a timed freeze ending in more than six days',
      { freezes: [freeze({ mode: 'all', until: Date.UTC(2027, 0, 4, 9, 0) })] },
      `Frozen: repository freeze by @${ZWSP}alice until 2027-01-04 09:00 UTC`,
    ],
    [
      'an indefinite organisation freeze',
      { freezes: [freeze({ repo: null })] },
      `Frozen: organisation freeze by @${ZWSP}alice (hotfixes only)`,
    ],
    [
      'an indefinite all freeze',
      { freezes: [freeze({ mode: 'all' })] },
      `Frozen: repository freeze by @${ZWSP}alice (all changes)`,
    ],
    [
      'the deploy limit',
      { config: { cadence: { max: 6, per: '24h' } }, deploys: sixDeploys },
      'Deploy limit: 6 of 6 in 24h, next slot 14:05 UTC',
    ],
    [
      'the minimum interval',
      { config: { cadence: { max: 6, per: '24h', min_interval: '30m' } }, deploys: [NOW + 2 * HOUR + 5 * MINUTE - 30 * MINUTE - 2 * HOUR] },
      'Deploy limit: 30m between deploys, next slot 12:05 UTC',
    ],
    ['nothing active', {}, 'Open'],
    ['an override', { freezes: [freeze({ mode: 'all' })], override: override({ by: 'alice' }) }, `Open (override by @${ZWSP}alice)`],
    ['a hotfix passing a features freeze', { freezes: [freeze()], labels: HOTFIX_LABELS }, 'Open (hotfix)'],
    ['a hotfix with nothing active', { labels: HOTFIX_LABELS }, 'Open'],
    ['not gated', { pr: { baseRef: 'develop' } }, 'Not gated'],
  ] as [string, Scenario, string][])('%s', (_name, s, title) => {
    expect(gate(s).title).toBe(title);
  });

  it('the min_interval title at 14:05 UTC', () => {
    const d = gate({ config: { cadence: { max: 6, per: '24h', min_interval: '30m' } }, deploys: [NOW + 2 * HOUR + 5 * MINUTE - 30 * MINUTE], now: NOW + 2 * HOUR });
    expect(d.title).toBe('Deploy limit: 30m between deploys, next slot 14:05 UTC');
  });

  it('user text in titles pings nobody and stays on one line', () => {
    const d = gate({ incidents: [incident({ title: 'cc @alice\nand @acme/sre' })] });
    expect(d.title).toBe(`Frozen: sev1 incident INC-3 "cc @${ZWSP}alice and @${ZWSP}acme/sre" (hotfixes only)`);
  });

  it('a long incident title is shortened so the title stays within the limit', () => {
    const d = gate({ incidents: [incident({ title: 'x'.repeat(300) })] });
    expect(d.title.length).toBeLessThanOrEqual(TITLE_LIMIT);
    expect(d.title).toMatch(/^Frozen: sev1 incident INC-3 "x+…" \(hotfixes only\)$/);
    const w = gate({ now: SATURDAY, config: { windows: [{ ...weekend, name: 'w'.repeat(100) }] } });
    expect(w.title.length).toBeLessThanOrEqual(TITLE_LIMIT);
    expect(w.title.endsWith('…" until Mon 09:00 Europe/Berlin')).toBe(true);
  });

  it('shortTime: same local day, within six days, or a date', () => {
    expect(shortTime(NOW + 2 * HOUR, 'UTC', NOW)).toBe('14:00 UTC');
    expect(shortTime(NOW + 13 * HOUR, 'UTC', NOW)).toBe('Thu 01:00 UTC');
    // 23:30 UTC is already Thursday in Berlin
    expect(shortTime(NOW + 11 * HOUR + 30 * MINUTE, 'Europe/Berlin', NOW)).toBe('Thu 01:30 Europe/Berlin');
    expect(shortTime(NOW + 10 * DAY, 'UTC', NOW)).toBe('2026-06-20 12:00 UTC');
  });
});

describe('the summary', () => {
  it('lists config problems first, saying which config the gate used', () => {
    const d = gate({
      incidents: [incident()],
      configProblems: [
        { path: 'windows.0.cron', message: 'expected 5 fields' },
        { path: 'cadence.max', message: 'expected a number' },
      ],
      configFallback: 'last-valid',
    });
    const lines = d.summary.split('\n');
    expect(lines[0]).toBe('### ⚠️ Configuration problems');
    expect(d.summary).toContain('the gate used the last valid configuration');
    expect(d.summary).toContain('- `windows.0.cron`: expected 5 fields');
    expect(d.summary).toContain('- `cadence.max`: expected a number');
    expect(d.summary.indexOf('cadence.max')).toBeLessThan(d.summary.indexOf('INC-3'));
    expect(gate({ configProblems: [{ path: 'x', message: 'y' }], configFallback: 'defaults' }).summary).toContain(
      'the default configuration',
    );
    expect(gate({ configProblems: [{ path: 'x', message: 'y' }], pr: { baseRef: 'develop' } }).summary.startsWith(
      '### ⚠️ Configuration problems',
    )).toBe(true);
  });

  it('escapes @mentions and HTML from every piece of user text', () => {
    const d = gate({
      incidents: [
        incident({ title: '<img src=x onerror=alert(1)> @everyone', openedBy: 'mallory' }),
        incident({ id: 9, severity: 'sev4', title: '@acme/all [click](https://evil.example)' }),
      ],
      freezes: [freeze({ reason: 'see @bob <b>now</b>', createdBy: 'alice' })],
      labels: [label('hotfix', 'eve', false)],
      override: override({ sha: OLD_HEAD, by: 'dave' }),
      configProblems: [{ path: 'windows.0.name', message: '<script>@carol</script>' }],
    });
    expect(d.summary).not.toMatch(/@(?!\u200b)/);
    // the only `<` outside escaped text is the command placeholder inside a code span
    expect(d.summary.replace(/`[^`\n]*`/g, '')).not.toMatch(/</);
    expect(d.summary).not.toContain('](https');
    expect(d.summary).toContain('&lt;img src=x onerror=alert\\(1\\)&gt;');
    expect(d.summary).toContain(`@${ZWSP}mallory`);
    expect(d.summary).toContain(`@${ZWSP}eve`);
  });

  it('says when each constraint ends and who can lift it', () => {
    const d = gate({
      now: SATURDAY,
      config: { windows: [weekend], cadence: { max: 6, per: '24h' } },
      incidents: [incident()],
      freezes: [freeze({ repo: null }), freeze({ mode: 'all', until: SATURDAY + HOUR })],
      deploys: [SATURDAY - HOUR, SATURDAY - 2 * HOUR],
    });
    expect(d.summary).toContain('`/incident close INC-3`');
    expect(d.summary).toContain('`/unfreeze --org`');
    expect(d.summary).toContain('Ends 2026-06-13 11:00 UTC, or earlier when someone with the `lift` permission runs `/unfreeze`');
    expect(d.summary).toContain('Ends 2026-06-15 09:00 Europe/Berlin');
    expect(d.summary).toContain('2 of 6 deploys in the last 24h');
    expect(d.summary).toContain('It stays blocked until someone lifts what blocks it');
  });

  it('says whether the PR is a hotfix and why, and how to override it', () => {
    const d = gate({ freezes: [freeze()], labels: [label('hotfix', 'bob', false)] });
    expect(d.summary).toContain(`Hotfix: no — label "hotfix" was added by @${ZWSP}bob, who lacks write.`);
    expect(d.summary).toContain('`/override <reason>`');
    expect(d.summary).toContain('the `override` permission');
    expect(d.summary).toContain('`c0ffee1`');
    const h = gate({ freezes: [freeze()], pr: { headRef: 'hotfix/db_fix' } });
    expect(h.summary).toContain('Hotfix: **yes** — head branch hotfix/db\\_fix matches "hotfix/\\*".');
    expect(h.summary).toContain('✅ hotfix passes');
  });

  it('an override: who, for which commit, and what it overrides', () => {
    const d = gate({ freezes: [freeze({ mode: 'all' })], override: override() });
    expect(d.summary).toContain(`**Open** by override: @${ZWSP}dave overrode the constraints below for head commit \`c0ffee1\``);
    expect(d.summary).toContain('✅ overridden');
    expect(d.summary).toContain('"customer escalation"');
  });

  it('lists incidents that are recorded but do not freeze', () => {
    const d = gate({ incidents: [incident({ id: 5, severity: 'sev3', title: 'Slow dashboard' })] });
    expect(d.summary).toContain('### Incidents recorded (gate nothing)');
    expect(d.summary).toContain('sev3 incident INC-5 "Slow dashboard" (open): recorded, gates nothing');
  });

  it('explains a branch that is not gated', () => {
    expect(gate({ pr: { baseRef: 'develop' } }).summary).toContain('only the default branch (main) is gated');
    expect(gate({ config: { branches: ['release/*'] }, pr: { baseRef: 'develop' } }).summary).toContain(
      'matching `release/*`',
    );
  });

  it('a deployment summary talks about the deployment', () => {
    const d = gate({ deployment: { hotfix: { is: true, why: 'every pull request in it is a hotfix' } }, freezes: [freeze()] });
    expect(d.title).toBe('Open (hotfix)');
    expect(d.summary).toContain('### This deployment');
    expect(d.summary).toContain('Hotfix: **yes** — every pull request in it is a hotfix.');
  });

  it('with nothing active it says so', () => {
    expect(gate({}).summary).toContain('No incident, freeze, window or deploy limit is in force.');
  });
});
