/** `exempt.paths` (SPEC 12): the pure rule, and what the gate makes of it in each freeze mode. */
import { describe, expect, it } from 'vitest';
import { compilePattern, pathPatternProblem } from '../../../src/config/patterns.js';
import { parseConfig } from '../../../src/config/schema.js';
import { evaluateGate } from '../../../src/gate/evaluate.js';
import { FILES_CAP, pathExemption } from '../../../src/gate/paths.js';
import type { ChangedFiles } from '../../../src/gate/types.js';
import { HOUR, NOW, config, freeze, scenario } from './scenario.js';

const patterns = (...p: string[]) => p.map(compilePattern);
const files = (...paths: (string | [string, string])[]): ChangedFiles => ({
  files: paths.map((p) => (typeof p === 'string' ? { path: p, previousPath: null } : { path: p[1], previousPath: p[0] })),
  count: paths.length,
  capped: false,
});

describe('pathExemption', () => {
  it('is not asked when no exempt.paths is configured', () => {
    expect(pathExemption([], files('docs/a.md'))).toBeNull();
  });

  it('exempts a PR whose files all match, naming the patterns that matched', () => {
    const r = pathExemption(patterns('docs/**', '**/*.md', 'LICENSE'), files('docs/guide/a.txt', 'README.md', 'pkg/CHANGES.md'));
    expect(r).toEqual({ is: true, why: 'all 3 changed files match exempt.paths "docs/**", "**/*.md"', patterns: ['docs/**', '**/*.md'] });
  });

  it('`**/` also matches no folder: **/*.md matches README.md at the root', () => {
    expect(pathExemption(patterns('**/*.md'), files('README.md'))?.is).toBe(true);
    expect(pathExemption(patterns('docs/**/*.md'), files('docs/a.md'))?.is).toBe(true);
    expect(pathExemption(patterns('docs/**/*.md'), files('docs/x/y/a.md'))?.is).toBe(true);
  });

  it('`*` stops at a slash', () => {
    const r = pathExemption(patterns('docs/*'), files('docs/a.md', 'docs/deep/b.md'));
    expect(r).toEqual({ is: false, why: 'docs/deep/b.md matches no exempt.paths pattern', patterns: [] });
  });

  it('one file outside the patterns is enough to gate it', () => {
    expect(pathExemption(patterns('docs/**'), files('docs/a.md', 'src/x.ts'))).toMatchObject({ is: false, why: 'src/x.ts matches no exempt.paths pattern' });
  });

  it('a renamed file counts with its old and its new path', () => {
    expect(pathExemption(patterns('docs/**'), files(['docs/old.md', 'docs/new.md']))?.is).toBe(true);
    // moved out of docs/: the new path is outside
    expect(pathExemption(patterns('docs/**'), files(['docs/run.sh', 'scripts/run.sh']))).toMatchObject({
      is: false,
      why: 'scripts/run.sh (renamed from docs/run.sh) matches no exempt.paths pattern',
    });
    // moved into docs/: the old path is outside (its removal from src/ is a change to src/)
    expect(pathExemption(patterns('docs/**'), files(['src/notes.md', 'docs/notes.md']))).toMatchObject({
      is: false,
      why: 'src/notes.md (renamed to docs/notes.md) matches no exempt.paths pattern',
    });
  });

  it(`is never exempt at or above the endpoint's cap of ${FILES_CAP} files`, () => {
    const many = (n: number): ChangedFiles => ({ files: Array.from({ length: n }, (_, i) => ({ path: `docs/${i}.md`, previousPath: null })), count: n, capped: false });
    expect(pathExemption(patterns('docs/**'), many(FILES_CAP - 1))?.is).toBe(true);
    expect(pathExemption(patterns('docs/**'), many(FILES_CAP))).toMatchObject({ is: false, why: expect.stringContaining('never exempt') });
    // changed_files above the cap: the list was not even read
    expect(pathExemption(patterns('docs/**'), { files: [], count: FILES_CAP + 1, capped: true })).toMatchObject({ is: false, why: expect.stringContaining(`${FILES_CAP + 1} files`) });
    // a list that stopped at the cap, whatever count says
    expect(pathExemption(patterns('docs/**'), { ...many(10), count: null, capped: true })?.is).toBe(false);
  });

  it('an unknown or empty file list is never exempt', () => {
    expect(pathExemption(patterns('docs/**'), null)?.is).toBe(false);
    expect(pathExemption(patterns('docs/**'), undefined)?.is).toBe(false);
    expect(pathExemption(patterns('docs/**'), files())?.is).toBe(false);
  });
});

describe('the gate with exempt.paths', () => {
  const cfg = { exempt: { paths: ['docs/**', '*.md'] } };
  const docs = files('docs/a.md', 'README.md');

  it('a docs-only PR passes a features freeze, and the summary names the patterns', () => {
    const d = evaluateGate(scenario({ config: cfg, freezes: [freeze({ mode: 'features' })], pr: { files: docs } }));
    expect(d.conclusion).toBe('success');
    expect(d.hotfix).toMatchObject({ is: true, paths: ['docs/**', '*.md'] });
    expect(d.title).toBe('Open (exempt paths)');
    expect(d.summary).toContain('Every file this pull request changes matches `exempt.paths` (`docs/**`, `*.md`)');
    expect(d.summary).toContain('all 2 changed files match exempt.paths');
    expect(d.summary).toContain('✅ exempt paths pass');
  });

  it('never passes an all freeze', () => {
    const d = evaluateGate(scenario({ config: cfg, freezes: [freeze({ mode: 'all' })], pr: { files: docs } }));
    expect(d.conclusion).toBe('failure');
  });

  it('never passes a cadence', () => {
    const d = evaluateGate(scenario({ config: { ...cfg, cadence: { max: 1, per: '24h' } }, deploys: [NOW - HOUR], pr: { files: docs } }));
    expect(d.conclusion).toBe('failure');
    expect(d.decisive?.kind).toBe('cadence');
  });

  it('the next head commit with a file outside the patterns is blocked again', () => {
    const d = evaluateGate(scenario({ config: cfg, freezes: [freeze({ mode: 'features' })], pr: { files: files('docs/a.md', 'src/x.ts') } }));
    expect(d.conclusion).toBe('failure');
    expect(d.hotfix.why).toBe('no hotfix label or branch; not exempt by paths: src/x.ts matches no exempt.paths pattern');
  });

  it('without exempt.paths the files change nothing', () => {
    const d = evaluateGate(scenario({ config: {}, freezes: [freeze({ mode: 'features' })], pr: { files: docs } }));
    expect(d.conclusion).toBe('failure');
    expect(d.hotfix.why).toBe('no hotfix label or branch');
  });
});

describe('exempt.paths in the config', () => {
  it.each([
    ['[z-a].md', 'invalid character class [z-a]'],
    ['docs/[abc', 'unclosed ['],
    ['/docs/**', 'drop the leading /'],
    ['./docs/**', 'drop the leading ./'],
    ['docs/', 'not folders'],
    ['docs/../src/**', 'no . or .. segments'],
    ['docs\\', 'trailing \\'],
  ])('%s is a config problem naming the key', (pattern, message) => {
    const r = parseConfig({ exempt: { paths: ['docs/**', pattern] } });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]!.path).toBe('exempt.paths.1');
    expect(r.problems[0]!.message).toContain(message);
  });

  it('accepts the syntax of branch patterns', () => {
    for (const p of ['docs/**', '**/*.md', '*.{md}', 'a?c', '[a-z]*.txt', '[!x].md', '\\[literal].md']) expect(pathPatternProblem(p)).toBeNull();
    expect(parseConfig({ exempt: { paths: ['docs/**'] } }).ok).toBe(true);
    expect(parseConfig({ exempt: { paths: 'docs/**' } }).ok).toBe(false);
  });

  it('defaults to none', () => {
    expect(config().exempt.paths).toEqual([]);
  });
});
