import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isGatedBranch, matchesBranch } from '../../../src/gate/branches.js';
import { config } from './scenario.js';

describe('branch patterns', () => {
  it.each([
    // pattern, branch, matches
    ['main', 'main', true],
    ['main', 'main2', false],
    ['main', 'xmain', false],
    ['release/*', 'release/1.2', true],
    ['release/*', 'release/', true],
    ['release/*', 'release/1.2/hotfix', false], // * stops at /
    ['release/*', 'release', false],
    ['release/**', 'release/1.2/hotfix', true], // ** crosses /
    ['release/**', 'release/1.2', true],
    ['**', 'any/thing/at/all', true],
    ['**/prod', 'prod', true], // **/ also matches no directory
    ['**/prod', 'a/b/prod', true],
    ['**/prod', 'a/b/preprod', false],
    ['a/**/b', 'a/b', true],
    ['a/**/b', 'a/x/y/b', true],
    ['*', 'main', true],
    ['*', 'feature/x', false],
    ['v?', 'v1', true],
    ['v?', 'v12', false],
    ['v?', 'v/', false], // ? is one character other than /
    ['v1.?', 'v1.x', true],
    ['v1.0', 'v1x0', false], // . is literal
    ['release-[0-9]', 'release-7', true],
    ['release-[0-9]', 'release-x', false],
    ['release-[!0-9]', 'release-x', true],
    ['release-[!0-9]', 'release-7', false],
    ['release-[!0-9]', 'release-/', false],
    ['[abc]', 'b', true],
    ['[', '[', true], // unclosed class is literal
    ['a+b', 'a+b', true],
    ['a+b', 'aab', false],
    ['(x)', '(x)', true],
    ['\\*', '*', true],
    ['\\*', 'x', false],
    ['[z-a]', 'q', false], // an invalid range matches nothing
    ['feature/*-wip', 'feature/foo-wip', true],
    ['feature/*-wip', 'feature/a/b-wip', false],
  ])('%s vs %s -> %s', (pattern, branch, expected) => {
    expect(matchesBranch(pattern, branch)).toBe(expected);
  });

  it('a literal pattern matches exactly itself', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9._/+()$^|-]{1,20}$/), fc.string({ maxLength: 20 }), (name, other) => {
        expect(matchesBranch(name, name)).toBe(true);
        if (other !== name) expect(matchesBranch(name, other)).toBe(false);
      }),
    );
  });

  it('* never matches a name with more slashes than the pattern; ** does', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z0-9-]{1,6}$/), { minLength: 2, maxLength: 5 }), (parts) => {
        const name = `release/${parts.join('/')}`;
        expect(matchesBranch('release/*', name)).toBe(false);
        expect(matchesBranch('release/**', name)).toBe(true);
      }),
    );
  });
});

describe('isGatedBranch', () => {
  it.each([
    [[], 'main', 'main', true],
    [[], 'develop', 'main', false],
    [[], 'refs/heads/main', 'main', true],
    [[], 'trunk', 'trunk', true],
    [['main', 'release/*'], 'release/2.0', 'main', true],
    [['main', 'release/*'], 'release/2.0/rc1', 'main', false],
    [['main', 'release/**'], 'release/2.0/rc1', 'main', true],
    // with patterns the default branch is gated only when a pattern names it
    [['release/*'], 'main', 'main', false],
    [['*'], 'main', 'main', true],
  ] as [string[], string, string, boolean][])('branches %j, base %s, default %s -> %s', (branches, base, def, expected) => {
    expect(isGatedBranch(config({ branches }), base, def)).toBe(expected);
  });
});
