/**
 * The dashboard's fortnight at a glance (SPEC section 11): a server-rendered SVG timeline of the
 * next 14 days per repository (window occurrences, freezes with their ends, incidents), with a legend,
 * drawn in the viewer's time zone. Pure: the input carries `now` and every instant; the output is an
 * SVG string with every piece of text escaped, no script, and presentation attributes only (the
 * dashboard's Content Security Policy allows no inline style).
 *
 * The axis runs from the viewer's local midnight of today to local midnight 14 days later, linear in
 * real time: a day of a DST change is 23 or 25 hours wide, and an occurrence lands where its instant
 * is. Every bar carries data attributes (kind, names, ISO start and end) for tests and tools.
 */
import { formatLong } from '../time/format.js';
import { DAY, naiveToLocalTime } from '../time/units.js';
import { naiveToUtc, utcToNaive, zone as zoneNamed } from '../time/zone.js';

export interface TimelineWindow {
  name: string;
  mode: string;
  /** the window's own timezone (for its tooltip) */
  timezone: string;
  /** the occurrences overlapping the fortnight (src/time/notices.ts's occurrencesBetween) */
  occurrences: { start: number; end: number }[];
}

export interface TimelineFreeze {
  id: number;
  mode: string;
  reason: string;
  /** account-wide freezes show on every repository of the account */
  scope: string;
  start: number;
  /** null: until lifted (runs to the right edge) */
  until: number | null;
}

export interface TimelineIncident {
  key: string;
  severity: string;
  title: string;
  /** open | resolved (recovery until closed): either runs to the right edge */
  phase: string;
  start: number;
}

export interface TimelineRepo {
  name: string;
  windows: TimelineWindow[];
  freezes: TimelineFreeze[];
  incidents: TimelineIncident[];
}

export interface TimelineInput {
  now: number;
  /** the viewer's IANA time zone (already validated) */
  timezone: string;
  repositories: TimelineRepo[];
  /** default 14 */
  days?: number;
}

const WIDTH = 1100;
const LABEL_W = 220;
const X0 = LABEL_W + 10;
const CHART_W = WIDTH - X0 - 10;
const HEADER_H = 44;
const ROW_H = 20;
const BAR_H = 12;
const LEGEND_H = 50;

export const COLOURS = {
  windowFeatures: '#3d7fd9',
  windowAll: '#1f3f8f',
  freezeFeatures: '#1ba3a3',
  freezeAll: '#0b5f5f',
  incidentOpen: '#d33030',
  incidentRecovery: '#e39b00',
  now: '#d33030',
  past: '#88888833',
  grid: '#88888866',
} as const;

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Escapes text for SVG (XML) element content and quoted attribute values. */
export function x(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const n = (v: number): string => String(Math.round(v * 100) / 100);
const iso = (t: number): string => new Date(t).toISOString();
const modeText = (mode: string): string => (mode === 'all' ? 'all changes' : 'hotfixes only');
const clip = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** The axis: local midnights of the viewer's zone, from today's to the one `days` later. */
export function timelineAxis(now: number, timezone: string, days = 14): { from: number; to: number; midnights: number[] } {
  const z = zoneNamed(timezone);
  const today = Math.floor(utcToNaive(z, now) / DAY) * DAY;
  const midnights = Array.from({ length: days + 1 }, (_, i) => naiveToUtc(z, today + i * DAY));
  return { from: midnights[0]!, to: midnights[days]!, midnights };
}

/** The x of an instant on the axis (clamped to the chart). */
export function xOf(t: number, axis: { from: number; to: number }): number {
  const c = Math.min(axis.to, Math.max(axis.from, t));
  return X0 + ((c - axis.from) / (axis.to - axis.from)) * CHART_W;
}

interface Bar {
  kind: 'window' | 'freeze' | 'incident';
  start: number;
  /** null: open-ended, to the right edge */
  end: number | null;
  fill: string;
  title: string;
  data: Record<string, string>;
}

interface Row {
  label: string;
  heading?: boolean;
  bars: Bar[];
  note?: string;
}

/** The SVG for the fortnight from `now`'s local day, in the viewer's zone. */
export function renderTimeline(input: TimelineInput): string {
  const days = input.days ?? 14;
  const axis = timelineAxis(input.now, input.timezone, days);
  const inRange = (start: number, end: number | null) => start < axis.to && (end === null || end > axis.from);
  const tz = input.timezone;

  const rows: Row[] = [];
  let bars = 0;
  for (const repo of input.repositories) {
    rows.push({ label: repo.name, heading: true, bars: [] });
    const before = rows.length;
    for (const w of repo.windows) {
      const occ = w.occurrences.filter((o) => inRange(o.start, o.end));
      if (occ.length === 0) continue;
      rows.push({
        label: `window "${w.name}"`,
        bars: occ.map((o) => ({
          kind: 'window',
          start: o.start,
          end: o.end,
          fill: w.mode === 'all' ? COLOURS.windowAll : COLOURS.windowFeatures,
          title: `Window "${w.name}" (${modeText(w.mode)}): ${formatLong(o.start, w.timezone)} to ${formatLong(o.end, w.timezone)}`,
          data: { window: w.name, mode: w.mode },
        })),
      });
    }
    const freezes = repo.freezes.filter((f) => inRange(f.start, f.until));
    if (freezes.length) {
      rows.push({
        label: 'freezes',
        bars: freezes.map((f) => ({
          kind: 'freeze',
          start: f.start,
          end: f.until,
          fill: f.mode === 'all' ? COLOURS.freezeAll : COLOURS.freezeFeatures,
          title: `Freeze ${f.id} on ${f.scope} (${modeText(f.mode)}) ${f.until === null ? 'until lifted' : `until ${formatLong(f.until, tz)}`}${f.reason ? `: ${f.reason}` : ''}`,
          data: { freeze: String(f.id), mode: f.mode },
        })),
      });
    }
    const incidents = repo.incidents.filter((i) => inRange(i.start, null));
    if (incidents.length) {
      rows.push({
        label: 'incidents',
        bars: incidents.map((i) => ({
          kind: 'incident',
          start: i.start,
          end: null,
          fill: i.phase === 'open' ? COLOURS.incidentOpen : COLOURS.incidentRecovery,
          title: `${i.key} ${i.severity} "${i.title}": ${i.phase === 'open' ? 'open' : 'resolved, in recovery'} until closed`,
          data: { incident: i.key, phase: i.phase },
        })),
      });
    }
    for (const r of rows.slice(before)) bars += r.bars.length;
    if (rows.length === before) rows.push({ label: '', bars: [], note: 'nothing in these 14 days' });
  }

  const empty = bars === 0;
  const bodyH = Math.max(rows.length, 1) * ROW_H + (empty ? ROW_H : 0);
  const height = HEADER_H + bodyH + LEGEND_H;
  const chartBottom = HEADER_H + bodyH;
  const out: string[] = [];
  const label = `The next ${days} days in ${tz}, from ${formatLong(axis.from, tz)}`;
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-labelledby="timeline-title" font-family="system-ui, sans-serif" font-size="12" data-from="${x(iso(axis.from))}" data-to="${x(iso(axis.to))}" data-timezone="${x(tz)}" data-chart-x0="${X0}" data-chart-width="${CHART_W}">`,
    `<title id="timeline-title">${x(label)}</title>`,
  );

  // the past part of today, the day grid and its labels
  const nowX = xOf(input.now, axis);
  out.push(`<rect data-kind="past" x="${X0}" y="${HEADER_H}" width="${n(nowX - X0)}" height="${bodyH}" fill="${COLOURS.past}"/>`);
  const z = zoneNamed(tz);
  for (let i = 0; i < days; i++) {
    const left = xOf(axis.midnights[i]!, axis);
    const right = xOf(axis.midnights[i + 1]!, axis);
    const local = naiveToLocalTime(utcToNaive(z, axis.midnights[i]!));
    const dayText = `${WEEKDAYS[local.weekday]} ${local.day}`;
    out.push(
      `<line data-day="${local.year}-${String(local.month).padStart(2, '0')}-${String(local.day).padStart(2, '0')}" x1="${n(left)}" y1="${HEADER_H - 12}" x2="${n(left)}" y2="${chartBottom}" stroke="${COLOURS.grid}" stroke-width="1"/>`,
      `<text x="${n((left + right) / 2)}" y="${HEADER_H - 18}" text-anchor="middle" fill="currentColor">${x(dayText)}</text>`,
    );
    if (i === 0 || local.day === 1) out.push(`<text x="${n(left + 2)}" y="11" fill="currentColor" font-size="10">${x(`${MONTHS[local.month - 1]} ${local.year}`)}</text>`);
  }
  out.push(`<line x1="${n(xOf(axis.to, axis))}" y1="${HEADER_H - 12}" x2="${n(xOf(axis.to, axis))}" y2="${chartBottom}" stroke="${COLOURS.grid}" stroke-width="1"/>`);

  rows.forEach((row, i) => {
    const y = HEADER_H + i * ROW_H;
    const mid = y + ROW_H / 2 + 4;
    if (row.label) {
      out.push(
        `<text x="${row.heading ? 4 : 14}" y="${mid}" fill="currentColor"${row.heading ? ' font-weight="600"' : ''}>${x(clip(row.label, row.heading ? 34 : 32))}</text>`,
      );
    }
    if (row.note) out.push(`<text x="${X0 + 4}" y="${mid}" fill="currentColor" font-style="italic" opacity="0.7">${x(row.note)}</text>`);
    for (const b of row.bars) {
      const left = xOf(b.start, axis);
      const right = b.end === null ? xOf(axis.to, axis) : xOf(b.end, axis);
      const width = Math.max(2, right - left);
      const data = Object.entries(b.data)
        .map(([k, v]) => ` data-${k}="${x(v)}"`)
        .join('');
      const ends =
        ` data-start="${x(iso(b.start))}" data-end="${b.end === null ? '' : x(iso(b.end))}"` +
        (b.end === null ? ' data-open-ended="true"' : '') +
        (b.start < axis.from ? ' data-clipped-start="true"' : '') +
        (b.end !== null && b.end > axis.to ? ' data-clipped-end="true"' : '');
      out.push(
        `<rect data-kind="${b.kind}"${data}${ends} x="${n(left)}" y="${y + (ROW_H - BAR_H) / 2}" width="${n(width)}" height="${BAR_H}" rx="2" fill="${b.fill}"><title>${x(b.title)}</title></rect>`,
      );
      if (b.end === null) {
        // an arrow at the edge: it goes on beyond the fortnight
        const ex = xOf(axis.to, axis);
        out.push(`<path d="M ${n(ex - 6)} ${y + 3} L ${n(ex)} ${y + ROW_H / 2} L ${n(ex - 6)} ${y + ROW_H - 3} Z" fill="currentColor" opacity="0.8"/>`);
      }
    }
  });
  if (empty) {
    const y = HEADER_H + (rows.length ? rows.length : 0) * ROW_H + ROW_H / 2 + 4;
    const text = input.repositories.length
      ? `Nothing scheduled in the next ${days} days: no window occurrence, freeze or incident.`
      : `No repository known yet: nothing scheduled in the next ${days} days.`;
    out.push(`<text data-empty="true" x="${X0 + CHART_W / 2}" y="${y}" text-anchor="middle" fill="currentColor">${x(text)}</text>`);
  }
  out.push(`<line data-kind="now" data-at="${x(iso(input.now))}" x1="${n(nowX)}" y1="${HEADER_H - 12}" x2="${n(nowX)}" y2="${chartBottom}" stroke="${COLOURS.now}" stroke-width="2"/>`);

  // the legend
  const legend: [string, string][] = [
    [COLOURS.windowFeatures, 'window (hotfixes only)'],
    [COLOURS.windowAll, 'window (all changes)'],
    [COLOURS.freezeFeatures, 'freeze (hotfixes only)'],
    [COLOURS.freezeAll, 'freeze (all changes)'],
    [COLOURS.incidentOpen, 'incident open'],
    [COLOURS.incidentRecovery, 'incident in recovery'],
  ];
  const ly = chartBottom + 18;
  let lx = 4;
  out.push(`<g data-kind="legend">`);
  for (const [fill, text] of legend) {
    out.push(`<rect x="${n(lx)}" y="${ly - 10}" width="14" height="10" rx="2" fill="${fill}"/><text x="${n(lx + 18)}" y="${ly}" fill="currentColor">${x(text)}</text>`);
    lx += 34 + text.length * 7;
  }
  const l2 = ly + 20;
  out.push(
    `<line x1="8" y1="${l2 - 11}" x2="8" y2="${l2 + 1}" stroke="${COLOURS.now}" stroke-width="2"/><text x="16" y="${l2}" fill="currentColor">now</text>`,
    `<path d="M 52 ${l2 - 10} L 58 ${l2 - 5} L 52 ${l2} Z" fill="currentColor"/><text x="62" y="${l2}" fill="currentColor">goes on (until lifted or closed)</text>`,
    `<text x="290" y="${l2}" fill="currentColor" opacity="0.75">${x(`Times in ${tz}; day lines at local midnight. Hover a bar for its times.`)}</text>`,
    `</g>`,
    `</svg>`,
  );
  return out.join('\n');
}
