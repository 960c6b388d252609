/**
 * The summary writes plain logins, hex SHAs and config durations without the general escape
 * (src/gate/render.ts: `who`, `sha7`, `durationText`); anything else still goes through it. Both
 * paths must give the words the escape gives.
 */
import { describe, expect, it } from 'vitest';
import { evaluateGate } from '../../../src/gate/evaluate.js';
import { codeSpan, escapeMarkdown } from '../../../src/util/escape.js';
import { HOUR, NOW, freeze, incident, override, scenario } from './scenario.js';

describe('the summary\'s shortcuts around the escape', () => {
  it('writes a login as the escape does, plain or not', () => {
    for (const login of ['alice', 'x-y', '123', 'dependabot[bot]', 'a_b', '-x', '1.x', 'evil\u202elogin', '@twice']) {
      const d = evaluateGate(scenario({ incidents: [incident({ openedBy: login })] }));
      expect(d.summary).toContain(`declared by ${escapeMarkdown(`@${login}`)})`);
      expect(d.summary).not.toMatch(/@(?!\u200b)/);
    }
  });

  it('writes a head commit as a code span, hex or not', () => {
    for (const sha of ['c0ffee1234567890', 'ab`cd`ef12', 'AbC-9_x', '``````````']) {
      const d = evaluateGate(scenario({ freezes: [freeze()], override: override({ sha: 'f'.repeat(40) }), pr: { headSha: sha } }));
      expect(d.summary).toContain(`for head commit ${codeSpan(sha.slice(0, 7))}`);
      expect(d.summary).toContain(`does not cover the head commit ${codeSpan(sha.slice(0, 7))}`);
    }
  });

  it('writes a cadence\'s durations as the escape does', () => {
    const d = evaluateGate(scenario({ config: { cadence: { max: 2, per: '1h30m', min_interval: '90s', counts: 'merges' } }, deploys: [NOW - HOUR] }));
    expect(d.summary).toContain(`1 of 2 deploys in the last ${escapeMarkdown('1h30m')}, at least ${escapeMarkdown('90s')} between deploys`);
  });
});
