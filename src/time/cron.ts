/**
 * Five-field cron expressions (minute hour day-of-month month day-of-week), as in crontab(5):
 * `*`, lists, ranges, steps (`*\/15`, `1-5/2`, `10/20` = `10-max/20`), names (JAN-DEC, SUN-SAT, any
 * case), day-of-week 0-7 with 7 = Sunday, and `?` as `*` in day-of-month and day-of-week.
 *
 * Day matching follows Vixie cron and cronie: a day-of-month or day-of-week field is "restricted" when
 * it contains no `*` (or `?`). When both are restricted a day matches if either matches; otherwise
 * both must match (so `0 0 *\/2 * MON` means odd days that are Mondays).
 */

export interface CronSpec {
  /** index 0-59 */
  minutes: boolean[];
  /** index 0-23 */
  hours: boolean[];
  /** index 1-31 (0 unused) */
  daysOfMonth: boolean[];
  /** index 1-12 (0 unused) */
  months: boolean[];
  /** index 0-6, 0 = Sunday */
  daysOfWeek: boolean[];
  domRestricted: boolean;
  dowRestricted: boolean;
}

interface FieldDef {
  name: string;
  min: number;
  max: number;
  names?: Record<string, number>;
  nameHint?: string;
  question?: boolean;
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] as const;
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;

const FIELDS: readonly FieldDef[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31, question: true },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: Object.fromEntries(MONTH_NAMES.map((n, i) => [n, i + 1])),
    nameHint: 'JAN-DEC',
  },
  {
    name: 'day-of-week',
    min: 0,
    max: 7,
    names: Object.fromEntries(DAY_NAMES.map((n, i) => [n, i])),
    nameHint: 'SUN-SAT',
    question: true,
  },
];

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

class CronError extends Error {}

function fail(field: FieldDef, message: string): never {
  throw new CronError(`${field.name} field: ${message}`);
}

function readValue(text: string, field: FieldDef): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < field.min || n > field.max) fail(field, `${n} is out of range ${field.min}-${field.max}`);
    return n;
  }
  if (field.names) {
    const n = field.names[text.toUpperCase()];
    if (n !== undefined) return n;
    if (/^[A-Za-z]+$/.test(text)) fail(field, `'${text}' is not a name (use ${field.nameHint}) or a number`);
  }
  if (/[LW#]/i.test(text) && /^[0-9A-Za-z#]+$/.test(text))
    fail(field, `'${text}' is not supported; use numbers${field.names ? ', names' : ''}, ranges (1-5), lists (1,3) and steps (*/15)`);
  return fail(field, `'${text}' is not a number${field.names ? ` or a name (${field.nameHint})` : ''}`);
}

function readField(text: string, field: FieldDef): boolean[] {
  const set = new Array<boolean>(field.max + 1).fill(false);
  for (const item of text.split(',')) {
    if (item === '') fail(field, `empty item in the list '${text}'`);
    const slash = item.indexOf('/');
    const base = slash === -1 ? item : item.slice(0, slash);
    let step = 1;
    if (slash !== -1) {
      const stepText = item.slice(slash + 1);
      if (!/^\d+$/.test(stepText)) fail(field, `step '${stepText}' in '${item}' is not a number`);
      step = Number(stepText);
      if (step < 1) fail(field, `step 0 in '${item}' must be at least 1`);
      if (step > field.max - field.min)
        fail(field, `step ${step} in '${item}' is larger than the field's range ${field.min}-${field.max}`);
    }
    let lo: number;
    let hi: number;
    if (base === '*' || base === '?') {
      if (base === '?') {
        if (!field.question) fail(field, `'?' is only allowed in the day-of-month and day-of-week fields`);
        if (slash !== -1 || text !== '?') fail(field, `'?' must stand alone (it means any)`);
      }
      lo = field.min;
      hi = field.max === 7 ? 6 : field.max;
    } else if (base.includes('-')) {
      const parts = base.split('-');
      if (parts.length !== 2 || parts[0] === '' || parts[1] === '') fail(field, `cannot read the range '${base}'`);
      lo = readValue(parts[0]!, field);
      hi = readValue(parts[1]!, field);
      if (hi < lo) {
        const hint = field.name === 'day-of-week' ? ' (to wrap past Sunday, write two ranges, e.g. FRI-SAT,SUN-MON)' : '';
        fail(field, `range '${base}' goes backwards${hint}`);
      }
    } else {
      if (base === '') fail(field, `cannot read '${item}'`);
      lo = readValue(base, field);
      // `10/20` means from 10 to the end in steps of 20
      hi = slash === -1 ? lo : field.max === 7 ? 6 : field.max;
    }
    for (let v = lo; v <= hi; v += step) set[v] = true;
  }
  return set;
}

const MONTH_FULL_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
] as const;

function monthName(m: number): string {
  return MONTH_FULL_NAMES[m - 1]!;
}

const MAX_DAYS = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

function build(expr: string): CronSpec {
  if (typeof expr !== 'string') throw new CronError('a cron expression must be a string');
  const trimmed = expr.trim();
  if (trimmed === '')
    throw new CronError('the cron expression is empty; expected five fields: minute hour day-of-month month day-of-week');
  if (trimmed.startsWith('@')) {
    const macro = MACROS[trimmed.toLowerCase()];
    throw new CronError(
      macro
        ? `'${trimmed}' is not supported; write the five fields instead: '${macro}'`
        : `'${trimmed}' is not supported; expected five fields: minute hour day-of-month month day-of-week`,
    );
  }
  const texts = trimmed.split(/\s+/);
  if (texts.length !== 5) {
    const extra =
      texts.length === 6
        ? ': a seconds field is not supported, remove it'
        : texts.length === 7
          ? ': seconds and year fields are not supported, remove them'
          : '';
    throw new CronError(
      `expected five fields (minute hour day-of-month month day-of-week), got ${texts.length}${extra}`,
    );
  }
  const [minutes, hours, dom, months, dow8] = texts.map((text, i) => readField(text, FIELDS[i]!)) as [
    boolean[],
    boolean[],
    boolean[],
    boolean[],
    boolean[],
  ];
  const daysOfWeek = dow8.slice(0, 7);
  if (dow8[7]) daysOfWeek[0] = true;
  const spec: CronSpec = {
    minutes,
    hours,
    daysOfMonth: dom,
    months,
    daysOfWeek,
    domRestricted: !/[*?]/.test(texts[2]!),
    dowRestricted: !/[*?]/.test(texts[4]!),
  };
  // Days come from day-of-month alone when day-of-week allows every day: they must exist somewhere.
  if (!spec.dowRestricted && daysOfWeek.every(Boolean)) {
    let possible = false;
    for (let m = 1; m <= 12 && !possible; m++) {
      if (!months[m]) continue;
      for (let d = 1; d <= MAX_DAYS[m]! && !possible; d++) if (dom[d]) possible = true;
    }
    if (!possible) {
      const days = dom.flatMap((on, d) => (on ? [d] : []));
      const ms = months.flatMap((on, m) => (on ? [m] : []));
      throw new CronError(
        days.length === 1 && ms.length === 1
          ? `day-of-month field: ${monthName(ms[0]!)} has no day ${days[0]}, so the expression never matches`
          : 'day-of-month field: none of the selected days occurs in the selected months, so the expression never matches',
      );
    }
  }
  return spec;
}

/** null when valid, else a message a user can act on, e.g. 'minute field: 61 is out of range 0-59'. */
export function cronProblem(expr: string): string | null {
  try {
    build(expr);
    return null;
  } catch (e) {
    if (e instanceof CronError) return e.message;
    throw e;
  }
}

/** Parses a five-field cron expression; throws Error(message) when invalid (same text as cronProblem). */
export function parseCron(expr: string): CronSpec {
  try {
    return build(expr);
  } catch (e) {
    if (e instanceof CronError) throw new Error(e.message);
    throw e;
  }
}

/** Whether a day (month 1-12, day 1-31, weekday 0-6 with 0 = Sunday) is one the cron runs on. */
export function cronDayMatches(spec: CronSpec, month: number, day: number, weekday: number): boolean {
  if (!spec.months[month]) return false;
  const dom = spec.daysOfMonth[day] === true;
  const dow = spec.daysOfWeek[weekday] === true;
  return spec.domRestricted && spec.dowRestricted ? dom || dow : dom && dow;
}

export function cronMatches(
  spec: CronSpec,
  local: { month: number; day: number; hour: number; minute: number; weekday: number },
): boolean {
  return (
    spec.minutes[local.minute] === true &&
    spec.hours[local.hour] === true &&
    cronDayMatches(spec, local.month, local.day, local.weekday)
  );
}
