import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli.js';

function run(argv: string[], now = Date.UTC(2026, 11, 2, 12, 0)) {
  let out = '';
  let err = '';
  return main(argv, { now, out: (s) => (out += s), err: (s) => (err += s) }).then((code) => ({ code, out, err }));
}

function file(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'moratorium-cli-'));
  const path = join(dir, 'moratorium.yml');
  writeFileSync(path, text);
  return path;
}

const WEEKEND = 'windows:\n  - name: weekend\n    cron: "0 18 * * FRI"\n    duration: 63h\n    timezone: Europe/Berlin\n    mode: all\n';

describe('moratorium validate', () => {
  it('accepts a valid file and exits 0', async () => {
    const r = await run(['validate', file(WEEKEND)]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('valid');
  });

  it('prints every problem with its key path and exits 1', async () => {
    const r = await run(['validate', file('enforcement: sometimes\nwindows:\n  - name: w\n    cron: "0 25 * * *"\n    duration: 0s\n    timezone: Nowhere/City\n  - name: r\n    from: 2027-01-04T09:00\n    to: 2026-12-21T00:00\n')]);
    expect(r.code).toBe(1);
    for (const path of ['enforcement', 'windows.0.cron', 'windows.0.duration', 'windows.0.timezone', 'windows.1.to']) expect(r.out).toContain(`: ${path}: `);
  });

  it('knows exempt.paths and overrides.approvals, naming the key of each problem', async () => {
    expect((await run(['validate', file('exempt:\n  paths: ["docs/**"]\noverrides:\n  approvals: 2\n')])).code).toBe(0);
    const r = await run(['validate', file('exempt:\n  paths: ["docs/**", "[z-a]/*.md"]\noverrides:\n  approvals: 6\n')]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(': exempt.paths.1: invalid path pattern "[z-a]/*.md": invalid character class [z-a]');
    expect(r.out).toContain(': overrides.approvals: expected 1 to 5 people');
    const frac = await run(['validate', file('overrides:\n  approvals: 1.5\n')]);
    expect(frac.out).toContain(': overrides.approvals: expected a whole number of people from 1 to 5');
  });

  it('reports a file that is not YAML', async () => {
    const r = await run(['validate', file('windows: [\n')]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('not valid YAML');
  });
});

describe('moratorium explain', () => {
  it('blocks inside a window and says when it ends, in the window timezone', async () => {
    const r = await run(['explain', '--config', file(WEEKEND), '--at', '2026-12-05T12:00']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('decision:    blocked');
    expect(r.out).toContain('Frozen: window "weekend" until Mon 09:00 Europe/Berlin');
    expect(r.out).toContain('next change: 2026-12-07T08:00:00.000Z');
  });

  it('is open outside the window and names the next start as the next change', async () => {
    const r = await run(['explain', '--config', file(WEEKEND), '--at', '2026-12-02T12:00Z']);
    expect(r.out).toContain('decision:    open');
    expect(r.out).toContain('next change: 2026-12-04T17:00:00.000Z');
  });

  it('lets a hotfix label through a simulated features incident but not an all freeze', async () => {
    const hot = await run(['explain', '--incident', 'sev1', '--label', 'hotfix']);
    expect(hot.out).toContain('decision:    open');
    const all = await run(['explain', '--freeze', 'all', '--label', 'hotfix']);
    expect(all.out).toContain('decision:    blocked');
  });

  it('says whether the changed files make a PR exempt by exempt.paths, and by which patterns', async () => {
    const cfg = file('exempt:\n  paths: ["docs/**", "**/*.md"]\n');
    const docs = await run(['explain', '--config', cfg, '--freeze', 'features', '--changed-file', 'docs/a.md', '--changed-file', 'README.md']);
    expect(docs.code).toBe(0);
    expect(docs.out).toContain('decision:    open');
    expect(docs.out).toContain('exempt paths: yes, by "docs/**", "**/*.md"');
    const src = await run(['explain', '--config', cfg, '--freeze', 'features', '--changed-file', 'docs/a.md', '--changed-file', 'src/x.ts']);
    expect(src.out).toContain('decision:    blocked');
    expect(src.out).toContain('exempt paths: no: src/x.ts matches no exempt.paths pattern');
    const all = await run(['explain', '--config', cfg, '--freeze', 'all', '--changed-file', 'docs/a.md']);
    expect(all.out).toContain('decision:    blocked');
    expect((await run(['explain', '--config', cfg])).out).toContain('exempt paths: no: no --changed-file given');
    expect((await run(['explain', '--changed-file', 'docs/a.md'])).out).toContain('exempt paths: not configured');
    const bad = await run(['explain', '--changed-file', '/etc/passwd']);
    expect([bad.code, bad.err]).toEqual([2, expect.stringContaining('--changed-file: a path relative to the repository root')]);
  });

  it('refuses unknown flags with the usage', async () => {
    const r = await run(['explain', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('Usage:');
  });
});
