/**
 * Properties of the gate over random scenarios: what an `all` freeze and an override mean, that the
 * cadence really limits deploys when deploys only happen while the gate is open, and that
 * nextChangeAt is honest (in the future, and nothing changes before it).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { evaluateGate } from '../../../src/gate/evaluate.js';
import type { Decision, FreezeState, IncidentState, LabelState, OverrideState } from '../../../src/gate/types.js';
import { occurrencesAt } from '../../../src/time/windows.js';
import { DAY, HEAD, HOUR, MINUTE, NOW, config, freeze, incident, label, override, scenario, suppression } from './scenario.js';

const WINDOWS = [
  { name: 'weekend', cron: '0 18 * * FRI', duration: '63h', timezone: 'Europe/Berlin', mode: 'all' },
  { name: 'nightly', cron: '0 22 * * *', duration: '8h', timezone: 'UTC', mode: 'features' },
  { name: 'half-hourly', cron: '*/30 * * * *', duration: '10m', timezone: 'America/New_York', mode: 'all' },
  { name: 'overlapping', cron: '0 */2 * * *', duration: '3h', timezone: 'Asia/Kolkata', mode: 'features' },
  { name: 'launch', from: '2026-06-11T08:00', to: '2026-06-12T16:00', timezone: 'America/New_York', mode: 'features' },
] as const;

const durations = ['20m', '1h', '6h', '24h'] as const;

const cadenceArb = fc.option(
  fc.record(
    {
      max: fc.integer({ min: 1, max: 4 }),
      per: fc.constantFrom(...durations),
      min_interval: fc.constantFrom('5m', '30m', '2h'),
      counts: fc.constantFrom('merges', 'deployments'),
    },
    { requiredKeys: ['max', 'per', 'counts'] },
  ),
  { nil: null },
);

const recoveryCadenceArb = fc.option(
  fc.record(
    { max: fc.integer({ min: 1, max: 4 }), per: fc.constantFrom(...durations), min_interval: fc.constantFrom('5m', '2h') },
    { requiredKeys: ['max', 'per'] },
  ),
  { nil: null },
);

const configArb = fc.record({
  windows: fc.subarray([...WINDOWS]),
  cadence: cadenceArb,
  incidents: fc.record({
    freeze: fc.subarray(['sev1', 'sev2', 'sev3', 'sev4'] as const),
    mode: fc.constantFrom('all', 'features'),
    recovery: fc.record({ mode: fc.constantFrom('all', 'features'), cadence: recoveryCadenceArb }),
  }),
});

/** Offsets from `now`: mostly near it, sometimes exactly on it. */
const offsetArb = fc.oneof(fc.integer({ min: -3 * DAY, max: 3 * DAY }), fc.constant(0), fc.integer({ min: -2, max: 2 }));

const freezeArb = (now: number) =>
  fc
    .record({
      mode: fc.constantFrom('all', 'features'),
      until: fc.option(offsetArb, { nil: null }),
      repo: fc.constantFrom('api', null),
      id: fc.integer({ min: 1, max: 50 }),
    })
    .map(({ until, ...f }): FreezeState => freeze({ ...f, until: until === null ? null : now + until }));

const incidentArb = fc
  .record({
    id: fc.integer({ min: 1, max: 50 }),
    severity: fc.constantFrom('sev1', 'sev2', 'sev3', 'sev4'),
    phase: fc.constantFrom('open', 'resolved', 'closed'),
  })
  .map((i): IncidentState => incident(i));

type HotfixKind = 'none' | 'label' | 'label-unauthorised' | 'branch' | 'fork-branch';
const hotfixArb = fc.constantFrom<HotfixKind>('none', 'label', 'label-unauthorised', 'branch', 'fork-branch');

function prFor(kind: HotfixKind): { labels: LabelState[]; pr: { headRef: string; headInRepo: boolean } } {
  switch (kind) {
    case 'label':
      return { labels: [label('hotfix', 'alice', true)], pr: { headRef: 'feature/x', headInRepo: true } };
    case 'label-unauthorised':
      return { labels: [label('hotfix', 'bob', false)], pr: { headRef: 'feature/x', headInRepo: true } };
    case 'branch':
      return { labels: [], pr: { headRef: 'hotfix/x', headInRepo: true } };
    case 'fork-branch':
      return { labels: [], pr: { headRef: 'hotfix/x', headInRepo: false } };
    default:
      return { labels: [], pr: { headRef: 'feature/x', headInRepo: true } };
  }
}

const worldArb = fc
  .record({
    config: configArb,
    now: fc.integer({ min: 0, max: 14 * DAY }).map((o) => NOW + o),
    hotfix: hotfixArb,
    deployment: fc.option(
      fc.record({ environment: fc.constantFrom('production', 'staging'), hotfix: fc.boolean(), overridden: fc.boolean() }),
      { nil: null },
    ),
    override: fc.constantFrom<'none' | 'current' | 'old'>('none', 'current', 'old'),
    incidents: fc.array(incidentArb, { maxLength: 3 }),
    freezeSeeds: fc.array(fc.nat(), { maxLength: 3 }),
    deployOffsets: fc.array(fc.integer({ min: -2 * DAY, max: 0 }), { maxLength: 8 }),
    suppress: fc.boolean(),
  })
  .chain((w) =>
    fc.record({ freezes: fc.array(freezeArb(w.now), { maxLength: 3 }) }).map(({ freezes }) => ({ ...w, freezes })),
  );

type World = typeof worldArb extends fc.Arbitrary<infer T> ? T : never;

/** The GateInput of a world at a given moment (state fixed, only `now` moves). */
function inputAt(w: World, now: number, extra: { freezes?: FreezeState[]; overrideSha?: string } = {}) {
  const cfg = config(w.config);
  const ov: OverrideState | null =
    extra.overrideSha !== undefined
      ? override({ sha: extra.overrideSha })
      : w.override === 'current'
        ? override()
        : w.override === 'old'
          ? override({ sha: 'f'.repeat(40) })
          : null;
  const { labels, pr } = prFor(w.hotfix);
  // with `suppress`, the occurrences active at the world's own moment were ended with /unfreeze
  const windowSuppressions = w.suppress
    ? cfg.windows.flatMap((win) => occurrencesAt(win.plan, w.now).map((o) => suppression(win.name, o.start)))
    : [];
  return scenario({
    parsedConfig: cfg,
    now,
    windowSuppressions,
    freezes: [...w.freezes, ...(extra.freezes ?? [])],
    incidents: w.incidents,
    override: ov,
    deploys: w.deployOffsets.map((o) => w.now + o).sort((a, b) => a - b),
    labels,
    pr,
    ...(w.deployment !== null
      ? {
          deployment: {
            environment: w.deployment.environment,
            hotfix: { is: w.deployment.hotfix, why: 'test' },
            overridden: w.deployment.overridden,
          },
        }
      : {}),
  });
}

function isOverridden(w: World, sha = w.override === 'current' ? HEAD : null): boolean {
  return w.deployment !== null ? w.deployment.overridden : sha === HEAD;
}

/** What must not change between two moments when nothing happens. */
function essence(d: Decision) {
  return {
    conclusion: d.conclusion,
    key: d.key,
    reasons: d.reasons.map((r) => `${r.key}:${r.blocks}:${r.until}`),
  };
}

const MINUTES: Record<string, number> = { '1m': 1, '10m': 10, '15m': 15, '30m': 30, '45m': 45, '1h': 60, '2h': 120, '6h': 360, '12h': 720, '24h': 1440 };

describe('gate properties', () => {
  it('an all freeze passes nothing but an override', () => {
    fc.assert(
      fc.property(worldArb, fc.option(fc.integer({ min: 1, max: 30 * DAY }), { nil: null }), fc.constantFrom('api', null), (w, until, repo) => {
        const all = freeze({ mode: 'all', until: until === null ? null : w.now + until, repo });
        const d = evaluateGate(inputAt(w, w.now, { freezes: [all] }));
        expect(d.conclusion).toBe(isOverridden(w) ? 'success' : 'failure');
        expect(d.overridden).toBe(isOverridden(w));
      }),
      { numRuns: 300 },
    );
  });

  it('an open incident in all mode passes nothing but an override', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        const world: World = { ...w, config: { ...w.config, incidents: { ...w.config.incidents, freeze: ['sev1'], mode: 'all' } } };
        const input = inputAt(world, w.now);
        input.state.incidents = [...input.state.incidents, incident({ id: 99, severity: 'sev1' })];
        const d = evaluateGate(input);
        expect(d.conclusion).toBe(isOverridden(world) ? 'success' : 'failure');
      }),
      { numRuns: 200 },
    );
  });

  it('an override never covers another SHA', () => {
    fc.assert(
      fc.property(
        worldArb.filter((w) => w.deployment === null),
        fc.stringMatching(/^[0-9a-f]{40}$/).filter((s) => s !== HEAD),
        (w, sha) => {
          const withOther = evaluateGate(inputAt(w, w.now, { overrideSha: sha }));
          const without = evaluateGate(inputAt({ ...w, override: 'none' }, w.now));
          expect(withOther.overridden).toBe(false);
          expect(essence(withOther)).toEqual(essence(without));
          expect(withOther.title).toBe(without.title);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('nextChangeAt is never <= now, and nothing changes before it', () => {
    fc.assert(
      fc.property(worldArb, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 4 }), (w, fractions) => {
        const d = evaluateGate(inputAt(w, w.now));
        if (d.nextChangeAt !== null) expect(d.nextChangeAt).toBeGreaterThan(w.now);
        const horizon = d.nextChangeAt ?? w.now + 60 * DAY;
        const points = [w.now + 1, horizon - 1, ...fractions.map((f) => w.now + Math.floor(f * (horizon - w.now)))];
        for (const t of points) {
          if (t < w.now || t >= horizon) continue;
          expect(essence(evaluateGate(inputAt(w, t))), `at now + ${t - w.now} ms`).toEqual(essence(d));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a decision is blocked exactly when a reason blocks, and blockedUntil is never in the past', () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        const d = evaluateGate(inputAt(w, w.now));
        expect(d.conclusion === 'failure').toBe(d.reasons.some((r) => r.blocks));
        expect(d.decisive === null).toBe(d.conclusion === 'success');
        if (d.blockedUntil !== null) expect(d.blockedUntil).toBeGreaterThan(w.now);
        if (d.conclusion === 'success') expect(d.blockedUntil).toBeNull();
        expect(d.title.includes('\n')).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  describe('cadence simulation: deploy only while the gate is open', () => {
    const simulation = fc.record({
      max: fc.integer({ min: 1, max: 4 }),
      per: fc.constantFrom('30m', '1h', '6h', '24h'),
      minInterval: fc.option(fc.constantFrom('1m', '10m', '45m'), { nil: undefined }),
      recovery: fc.option(
        fc.record(
          { max: fc.integer({ min: 1, max: 3 }), per: fc.constantFrom('1h', '12h'), min_interval: fc.constantFrom('15m', '2h') },
          { requiredKeys: ['max', 'per'] },
        ),
        { nil: null },
      ),
      /** gaps between arrival attempts; 0 retries at once, -1 waits for nextChangeAt, -2 comes 1 ms before it */
      gaps: fc.array(fc.oneof(fc.integer({ min: 0, max: 3 * HOUR }), fc.constant(-1), fc.constant(-2), fc.constant(1)), {
        minLength: 5,
        maxLength: 80,
      }),
      hotfix: fc.boolean(),
    });

    it('never more than max in any rolling per, never closer than min_interval, for each cadence in force', () => {
      fc.assert(
        fc.property(simulation, (sim) => {
          const cfg = config({
            cadence: { max: sim.max, per: sim.per, ...(sim.minInterval ? { min_interval: sim.minInterval } : {}) },
            incidents: { recovery: { mode: 'features', cadence: sim.recovery } },
          });
          const incidents = sim.recovery === null ? [] : [incident({ phase: 'resolved' })];
          const deploys: number[] = [];
          let t = NOW;
          for (const gap of sim.gaps) {
            const input = scenario({
              parsedConfig: cfg,
              now: t,
              deploys,
              incidents,
              ...(sim.hotfix ? { pr: { headRef: 'hotfix/x' } } : {}),
            });
            const d = evaluateGate(input);
            if (d.conclusion === 'success') deploys.push(t);
            if (gap === -1 && d.nextChangeAt !== null) t = d.nextChangeAt;
            else if (gap === -2 && d.nextChangeAt !== null && d.nextChangeAt - 1 > t) t = d.nextChangeAt - 1;
            else t += Math.max(gap, 0);
          }
          const limits: { max: number; per: string; min: string | undefined }[] = [
            { max: sim.max, per: sim.per, min: sim.minInterval },
          ];
          if (sim.recovery !== null) {
            limits.push({ max: sim.recovery.max, per: sim.recovery.per, min: sim.recovery.min_interval });
          }
          for (const l of limits) {
            const per = MINUTES[l.per]! * MINUTE;
            const min = l.min === undefined ? 0 : MINUTES[l.min]! * MINUTE;
            for (let i = 0; i < deploys.length; i++) {
              const inWindow = deploys.filter((d) => d > deploys[i]! - per && d <= deploys[i]!).length;
              expect(inWindow).toBeLessThanOrEqual(l.max);
              if (i > 0) expect(deploys[i]! - deploys[i - 1]!).toBeGreaterThanOrEqual(min);
            }
          }
          // and the gate was not needlessly shut: with attempts spread out, something got through
          if (sim.hotfix || sim.recovery === null) expect(deploys.length).toBeGreaterThan(0);
        }),
        { numRuns: 300 },
      );
    });
  });
});
