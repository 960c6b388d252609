/**
 * The one ISO 8601 time parser, for the bot (`/freeze --until`), the HTTP API (`until`), the CLI
 * (`--at`) and windows' `from`/`to`.
 *
 * Instants (the default form): `2026-12-01` (midnight), `2026-12-01T18:00`, `2026-12-01 18:00`, with
 * seconds and a fraction (`18:00:05.5`), and an offset `Z`, `+01:00`, `+0100` or `+01`; `T` and `Z`
 * in either case. Without an offset the time is read in `zone` (UTC unless given).
 * Local times (`form: 'local'`, windows' from/to): only `2026-12-21T00:00` or `2026-12-21T00:00:30`,
 * no offset, read in the window's zone by the SPEC's DST rules.
 * Either way: null when the text is not one, or names a day or time that does not exist.
 */
import { daysInMonth, naiveFromFields } from './units.js';
import { naiveToUtc, UTC, type Zone } from './zone.js';

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:([Tt ])(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;
const TIME_OF_DAY = /^\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export interface IsoTimeOptions {
  /** the zone of a time written without an offset (default UTC) */
  zone?: Zone;
  /** 'instant' (default): any form above; 'local': YYYY-MM-DDTHH:MM[:SS] only, no offset */
  form?: 'instant' | 'local';
}

/** UTC milliseconds of an ISO 8601 time, or null (see the module comment for what is accepted). */
export function parseIsoTime(text: string, options: IsoTimeOptions = {}): number | null {
  if (typeof text !== 'string') return null;
  const match = ISO_TIME.exec(text);
  if (!match) return null;
  const [, y, mo, d, sep, h, mi, s, fraction, offset] = match;
  if (options.form === 'local' && (sep !== 'T' || fraction !== undefined || offset !== undefined)) return null;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h ?? 0);
  const minute = Number(mi ?? 0);
  const second = Number(s ?? 0);
  if (year < 1 && options.form === 'local') return null;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const ms = Number(`${fraction ?? ''}000`.slice(0, 3));
  const naive = naiveFromFields(year, month, day, hour, minute, second) + ms;
  if (!Number.isFinite(naive)) return null;
  if (offset === undefined) {
    const t = naiveToUtc(options.zone ?? UTC, naive);
    return Number.isFinite(t) ? t : null;
  }
  let offsetMinutes = 0;
  if (offset.toUpperCase() !== 'Z') {
    const digits = offset.slice(1).replace(':', '');
    const offsetHours = Number(digits.slice(0, 2));
    const offsetMins = Number(digits.slice(2) || 0);
    if (offsetHours > 23 || offsetMins > 59) return null;
    offsetMinutes = (offset[0] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  return naive - offsetMinutes * 60_000;
}

/** A date alone, `2026-12-01` (the bot then also reads a following time of day, `18:00`). */
export function isIsoDate(text: string): boolean {
  return DATE.test(text);
}

/** A time of day as the second word of `--until 2026-12-01 18:00`: `18:00`, `18:00:05`, `18:00Z`, `18:00+01:00`. */
export function isIsoTimeOfDay(text: string): boolean {
  return TIME_OF_DAY.test(text);
}
