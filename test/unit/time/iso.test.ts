/**
 * The one ISO 8601 parser: what it accepts and refuses, in both forms, and that the bot, the HTTP
 * API, the CLI and windows' from/to all go through it (so they agree on every text).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseComment } from '../../../src/commands/parse.js';
import { parseConfig } from '../../../src/config/schema.js';
import { main as runCli } from '../../../src/cli.js';
import { parseIsoTime } from '../../../src/time/iso.js';
import { zone } from '../../../src/time/zone.js';
import { serve } from '../http/support.js';

const utc = (s: string) => Date.parse(s);

describe('parseIsoTime, instants (bot, API, CLI)', () => {
  it.each<[string, number]>([
    ['2026-12-01', utc('2026-12-01T00:00:00Z')],
    ['2026-12-01T18:00', utc('2026-12-01T18:00:00Z')],
    ['2026-12-01 18:00', utc('2026-12-01T18:00:00Z')],
    ['2026-12-01t18:00z', utc('2026-12-01T18:00:00Z')],
    ['2026-12-01T18:00:05', utc('2026-12-01T18:00:05Z')],
    ['2026-12-01T18:00:05,25Z', utc('2026-12-01T18:00:05.250Z')],
    ['2026-12-01T18:00:05.123456789Z', utc('2026-12-01T18:00:05.123Z')],
    ['2026-12-01T18:00+01:00', utc('2026-12-01T17:00:00Z')],
    ['2026-12-01T18:00+0100', utc('2026-12-01T17:00:00Z')],
    ['2026-12-01T18:00-05', utc('2026-12-01T23:00:00Z')],
    ['2028-02-29T12:00Z', utc('2028-02-29T12:00:00Z')],
  ])('accepts %j', (text, expected) => {
    expect(parseIsoTime(text)).toBe(expected);
  });

  it.each([
    ['2026-02-30T00:00Z', 'a day that does not exist (Date.parse rolls it into March)'],
    ['2027-02-29', 'February 29 in a common year'],
    ['2026-12-01T24:00Z', 'hour 24 (Date.parse reads the next midnight)'],
    ['2026-12-01T18:60', 'minute 60'],
    ['2026-12-01T18:00:60', 'second 60'],
    ['2026-12-01T18:00+24:00', 'an offset of 24 hours'],
    ['2026-12-01T18:00+01:60', 'an offset with 60 minutes'],
    ['2026-12-01T18', 'an hour alone'],
    ['2026-12-01T18Z', 'an hour alone with a zone'],
    ['2026-12-01Z', 'a date with a zone'],
    ['20261201', 'the basic format'],
    ['+002026-12-01T18:00Z', 'an expanded year'],
    ['Tue, 01 Dec 2026 18:00:00 +0100', 'an RFC 2822 date (Date.parse takes it)'],
    ['December 1, 2026 18:00 +01:00', 'English (Date.parse takes it)'],
    [' 2026-12-01', 'a leading space'],
    ['', 'nothing'],
  ])('refuses %j (%s)', (text) => {
    expect(parseIsoTime(text)).toBeNull();
  });

  it('reads a time without an offset in the zone it is given, by the SPEC DST rules', () => {
    const berlin = zone('Europe/Berlin');
    expect(parseIsoTime('2026-07-01T12:00', { zone: berlin })).toBe(utc('2026-07-01T10:00:00Z'));
    expect(parseIsoTime('2026-03-29T02:30', { zone: berlin })).toBe(utc('2026-03-29T01:00:00Z')); // skipped: the transition
    expect(parseIsoTime('2026-10-25T02:30', { zone: berlin })).toBe(utc('2026-10-25T00:30:00Z')); // repeated: the first
    expect(parseIsoTime('2026-07-01T12:00Z', { zone: berlin })).toBe(utc('2026-07-01T12:00:00Z')); // an offset wins
  });
});

describe('parseIsoTime, local times (windows from/to)', () => {
  it.each([
    ['2026-12-21T00:00', utc('2026-12-21T00:00:00Z')],
    ['2026-12-21T00:00:30', utc('2026-12-21T00:00:30Z')],
  ])('accepts %j', (text, expected) => {
    expect(parseIsoTime(text, { form: 'local' })).toBe(expected);
  });

  it.each(['2026-12-21', '2026-12-21 00:00', '2026-12-21t00:00', '2026-12-21T00:00Z', '2026-12-21T00:00+01:00', '2026-12-21T00:00:00.5', '0000-01-01T00:00'])(
    'refuses %j',
    (text) => {
      expect(parseIsoTime(text, { form: 'local' })).toBeNull();
    },
  );

  it('every local time it accepts is also an instant, the same one in UTC', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 24 }), fc.constantFrom('2026-12-21T00:00', '2026-02-29T10:00', '2026-06-01T23:59:59'), (noise, base) => {
        for (const text of [noise, base, base + noise]) {
          const local = parseIsoTime(text, { form: 'local' });
          if (local !== null) expect(parseIsoTime(text)).toBe(local);
        }
      }),
    );
  });
});

describe('one parser for the bot, the API, the CLI and windows', () => {
  const texts = [
    '2026-12-01T18:00Z',
    '2026-12-01T18:00',
    '2026-12-01',
    '2026-12-01T18:00+01:00',
    '2026-02-30T00:00Z',
    '2026-12-01T24:00Z',
    'Tue, 01 Dec 2026 18:00:00 +0100',
    '+002026-12-01T18:00Z',
    '2026-12-01T18Z',
  ];

  it.each(texts)('the bot (/freeze --until %s) reads what parseIsoTime reads', (text) => {
    const [c] = parseComment(`/freeze --until ${text} reason`);
    const expected = parseIsoTime(text);
    if (expected === null) expect(c).toMatchObject({ ok: false });
    else expect(c).toMatchObject({ ok: true, command: { kind: 'freeze', until: expected } });
  });

  it.each(texts)('the CLI (--at %s) reads what parseIsoTime reads', async (text) => {
    let out = '';
    let err = '';
    const code = await runCli(['explain', '--at', text], { now: 0, out: (s) => (out += s), err: (s) => (err += s) });
    const expected = parseIsoTime(text);
    if (expected === null) {
      expect(code).toBe(2);
      expect(err).toContain('--at: not an ISO 8601 time');
    } else {
      expect(code).toBe(0);
      expect(out).toContain(`at:          ${new Date(expected).toISOString()}`);
    }
  });

  it('the HTTP API (POST /freezes until) reads what parseIsoTime reads', async () => {
    const app = await serve();
    try {
      for (const text of texts) {
        const res = await app.fetch('/moratorium/api/v1/freezes', { method: 'POST', json: { account: 'acme', until: text } });
        const expected = parseIsoTime(text);
        if (expected === null) {
          expect([text, res.status]).toEqual([text, 400]);
          expect(res.body.error).toMatch(/ISO 8601/);
        } else {
          expect([text, res.status]).toEqual([text, 201]);
          expect(res.body.until).toBe(new Date(expected).toISOString());
        }
      }
    } finally {
      await app.close();
    }
  });

  it('a window reads from/to with the same parser, in its local form and zone', () => {
    const ok = parseConfig({ windows: [{ name: 'y', from: '2026-12-21T00:00', to: '2027-01-04T09:00:30', timezone: 'America/New_York' }] });
    expect(ok.ok && ok.config.windows[0]!.plan).toMatchObject({
      kind: 'range',
      start: parseIsoTime('2026-12-21T00:00', { zone: zone('America/New_York'), form: 'local' }),
      end: parseIsoTime('2027-01-04T09:00:30', { zone: zone('America/New_York'), form: 'local' }),
    });
    for (const bad of ['2026-02-30T00:00', '2026-12-21T00:00Z', '2026-12-21']) {
      const parsed = parseConfig({ windows: [{ name: 'y', from: bad, to: '2027-01-04T09:00' }] });
      expect(parsed.ok).toBe(false);
    }
  });
});
