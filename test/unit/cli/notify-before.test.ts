/** `moratorium validate` and `moratorium explain` know `windows[].notify_before`. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli.js';

function run(argv: string[]) {
  let out = '';
  let err = '';
  return main(argv, { now: Date.UTC(2026, 11, 1, 12, 0), out: (s) => (out += s), err: (s) => (err += s) }).then((code) => ({ code, out, err }));
}

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'moratorium-cli-')), 'moratorium.yml');
  writeFileSync(path, text);
  return path;
}

const RELEASE = 'windows:\n  - name: Release freeze\n    cron: "0 18 * * FRI"\n    duration: 63h\n    timezone: Europe/Berlin\n    notify_before: 2h30m\n';

describe('notify_before in the CLI', () => {
  it('validate reports a lead that is not a duration or longer than the window period, at its key path', async () => {
    const r = await run(['validate', file(`${RELEASE}  - name: b\n    cron: "0 9 * * 1-5"\n    duration: 1h\n    notify_before: 2d\n  - name: c\n    cron: "0 9 * * *"\n    duration: 1h\n    notify_before: 0m\n`)]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(': windows.1.notify_before: longer than the time between two starts of this window: at most 1d');
    expect(r.out).toContain(': windows.2.notify_before: expected a positive duration');
    expect(r.out).not.toContain('windows.0');
    expect((await run(['validate', file(RELEASE)])).code).toBe(0);
  });

  it('explain says when the next notice is due, and "starts in" within the lead', async () => {
    const before = await run(['explain', '--config', file(RELEASE), '--at', '2026-12-01T12:00']);
    expect(before.out).toContain('notices (windows[].notify_before):\n  - Release freeze: next notice at 2026-12-04T14:30:00.000Z, 2h30m before 2026-12-04 18:00 Europe/Berlin\n');
    const within = await run(['explain', '--config', file(RELEASE), '--at', '2026-12-04T15:00']);
    expect(within.out).toContain('  - Release freeze starts in 2h (2026-12-04 18:00 Europe/Berlin): its notice was due at 2026-12-04T14:30:00.000Z\n');
    const none = await run(['explain', '--config', file('windows: []\n')]);
    expect(none.out).not.toContain('notices');
  });
});
