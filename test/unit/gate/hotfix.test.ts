import { describe, expect, it } from 'vitest';
import { hotfixStatus } from '../../../src/gate/hotfix.js';
import type { LabelState } from '../../../src/gate/types.js';
import { config, label } from './scenario.js';

const defaults = config();

function pr(labels: LabelState[], headRef = 'feature/x', headInRepo = true) {
  return { labels, headRef, headInRepo };
}

describe('hotfixStatus', () => {
  it.each([
    ['a hotfix label added by someone with write', pr([label('hotfix', 'alice', true)]), true, 'label "hotfix" added by @alice (write)'],
    ['label names compare case-insensitively', pr([label('HotFix', 'alice', true)]), true, 'label "HotFix" added by @alice (write)'],
    [
      'a hotfix label added by someone without write is not enough',
      pr([label('hotfix', 'bob', false)]),
      false,
      'label "hotfix" was added by @bob, who lacks write',
    ],
    [
      'a label whose author could not be checked does not count',
      pr([label('hotfix', 'bob', null)]),
      false,
      'label "hotfix" was added by @bob, whose permission could not be checked, so it does not count',
    ],
    [
      'a label whose author is unknown does not count',
      pr([label('hotfix', null, null)]),
      false,
      'label "hotfix": who added it could not be established, so it does not count',
    ],
    ['other labels do not matter', pr([label('bug', 'alice', true)]), false, 'no hotfix label or branch'],
    ['a same-repository hotfix/* branch', pr([], 'hotfix/db'), true, 'head branch hotfix/db matches "hotfix/*"'],
    [
      'a fork head branch matching hotfix/* is NOT a hotfix',
      pr([], 'hotfix/db', false),
      false,
      'head branch hotfix/db matches "hotfix/*" but comes from a fork',
    ],
    ['hotfix/* does not cross /', pr([], 'hotfix/db/extra'), false, 'no hotfix label or branch'],
    ['nothing at all', pr([]), false, 'no hotfix label or branch'],
    [
      'an authorised label wins over an unauthorised one',
      pr([label('hotfix', 'bob', false), label('hotfix', 'alice', true)]),
      true,
      'label "hotfix" added by @alice (write)',
    ],
    [
      'label and branch both count',
      pr([label('hotfix', 'alice', true)], 'hotfix/db'),
      true,
      'label "hotfix" added by @alice (write); head branch hotfix/db matches "hotfix/*"',
    ],
  ])('%s', (_name, change, is, why) => {
    expect(hotfixStatus(defaults, change)).toEqual({ is, why });
  });

  it('uses the configured labels, branches and permission wording', () => {
    const c = config({ exempt: { labels: ['urgent'], labeled_by: ['maintain', '@acme/sre'], branches: ['fix/**'] } });
    expect(hotfixStatus(c, pr([label('hotfix', 'alice', true)]))).toEqual({ is: false, why: 'no hotfix label or branch' });
    expect(hotfixStatus(c, pr([label('urgent', 'alice', true)]))).toEqual({
      is: true,
      why: 'label "urgent" added by @alice (one of: maintain, @acme/sre)',
    });
    expect(hotfixStatus(c, pr([label('urgent', 'bob', false)])).why).toBe(
      'label "urgent" was added by @bob, who is not one of: maintain, @acme/sre',
    );
    expect(hotfixStatus(c, pr([], 'fix/a/b')).is).toBe(true);
  });

  it('an empty exempt list makes nothing a hotfix', () => {
    const c = config({ exempt: { labels: [], branches: [] } });
    expect(hotfixStatus(c, pr([label('hotfix', 'alice', true)], 'hotfix/x')).is).toBe(false);
  });
});
