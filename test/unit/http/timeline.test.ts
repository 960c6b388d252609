/**
 * The fortnight timeline (src/http/timeline.ts), pure: occurrences land at the x of their instant
 * (also across a DST change, where a local day is 23 hours wide), an open-ended freeze runs to the
 * right edge, every piece of text is escaped, and an empty fortnight says so.
 */
import { describe, expect, it } from 'vitest';
import { compileWindow } from '../../../src/time/windows.js';
import { occurrencesBetween } from '../../../src/time/notices.js';
import { renderTimeline, timelineAxis, type TimelineRepo } from '../../../src/http/timeline.js';

/** every element `tag` of the SVG with its attributes (the renderer writes each attribute as name="value") */
function elements(svg: string, tag: string): Record<string, string>[] {
  return [...svg.matchAll(new RegExp(`<${tag}\\b([^>]*?)/?>`, 'g'))].map((m) => Object.fromEntries([...m[1]!.matchAll(/([\w:-]+)="([^"]*)"/g)].map((a) => [a[1]!, a[2]!])));
}
const bars = (svg: string, kind: string) => elements(svg, 'rect').filter((r) => r['data-kind'] === kind);

/** the chart's x of an instant, computed here from the SVG's own axis attributes */
function expectedX(svg: string, t: number): number {
  const root = elements(svg, 'svg')[0]!;
  const from = Date.parse(root['data-from']!);
  const to = Date.parse(root['data-to']!);
  return Number(root['data-chart-x0']) + ((t - from) / (to - from)) * Number(root['data-chart-width']);
}

const repo = (over: Partial<TimelineRepo>): TimelineRepo => ({ name: 'acme/api', windows: [], freezes: [], incidents: [], ...over });

describe('the fortnight timeline', () => {
  it('puts a daily 09:00 Berlin window at its real instant on both sides of the spring DST change', () => {
    const now = Date.UTC(2026, 2, 26, 12, 0); // Thu 26 March 2026, 13:00 in Berlin; DST starts Sun 29 March
    const plan = compileWindow({ name: 'morning', cron: '0 9 * * *', duration: '2h', timezone: 'Europe/Berlin' });
    const axis = timelineAxis(now, 'Europe/Berlin');
    expect(new Date(axis.from).toISOString()).toBe('2026-03-25T23:00:00.000Z'); // local midnight, CET
    expect(new Date(axis.to).toISOString()).toBe('2026-04-08T22:00:00.000Z'); // local midnight, CEST: 14 days minus an hour
    const svg = renderTimeline({
      now,
      timezone: 'Europe/Berlin',
      repositories: [repo({ windows: [{ name: 'morning', mode: 'features', timezone: 'Europe/Berlin', occurrences: occurrencesBetween(plan, axis.from, axis.to) }] })],
    });
    const rects = bars(svg, 'window');
    expect(rects).toHaveLength(14);
    const before = rects.find((r) => r['data-start'] === '2026-03-28T08:00:00.000Z')!; // 09:00 CET
    const after = rects.find((r) => r['data-start'] === '2026-03-30T07:00:00.000Z')!; // 09:00 CEST
    expect(Number(before.x)).toBeCloseTo(expectedX(svg, Date.UTC(2026, 2, 28, 8)), 1);
    expect(Number(after.x)).toBeCloseTo(expectedX(svg, Date.UTC(2026, 2, 30, 7)), 1);
    // two days and 23 hours apart, not three days: the bar moved with the local clock
    const perHour = (expectedX(svg, axis.to) - expectedX(svg, axis.from)) / ((axis.to - axis.from) / 3_600_000);
    expect(Number(after.x) - Number(before.x)).toBeCloseTo(47 * perHour, 1);
    // each bar sits at 09:00 after its local midnight's day line
    const days = elements(svg, 'line').filter((l) => l['data-day']);
    expect(days.map((d) => d['data-day'])).toContain('2026-03-30');
    const line30 = days.find((d) => d['data-day'] === '2026-03-30')!;
    expect(Number(after.x) - Number(line30.x1)).toBeCloseTo(9 * perHour, 1);
    expect(Number(before.width)).toBeCloseTo(2 * perHour, 1);
  });

  it('runs an open-ended freeze and an incident to the right edge, and clips what started before today', () => {
    const now = Date.UTC(2026, 11, 1, 10, 0);
    const svg = renderTimeline({
      now,
      timezone: 'UTC',
      repositories: [
        repo({
          freezes: [
            { id: 4, mode: 'features', reason: 'assessment', scope: 'acme (whole account)', start: now - 3 * 86_400_000, until: null },
            { id: 5, mode: 'all', reason: '', scope: 'acme/api', start: now + 3_600_000, until: now + 5 * 3_600_000 },
          ],
          incidents: [{ key: 'INC-3', severity: 'sev1', title: 'API latency', phase: 'resolved', start: now - 7_200_000 }],
        }),
      ],
    });
    const root = elements(svg, 'svg')[0]!;
    const right = Number(root['data-chart-x0']) + Number(root['data-chart-width']);
    const [open, timed] = bars(svg, 'freeze');
    expect(open).toMatchObject({ 'data-freeze': '4', 'data-open-ended': 'true', 'data-clipped-start': 'true', 'data-end': '' });
    expect(Number(open!.x)).toBeCloseTo(Number(root['data-chart-x0']), 5);
    expect(Number(open!.x) + Number(open!.width)).toBeCloseTo(right, 1);
    expect(timed).toMatchObject({ 'data-freeze': '5', 'data-end': new Date(now + 5 * 3_600_000).toISOString() });
    expect(timed!['data-open-ended']).toBeUndefined();
    expect(Number(timed!.x) + Number(timed!.width)).toBeCloseTo(expectedX(svg, now + 5 * 3_600_000), 1);
    const [incident] = bars(svg, 'incident');
    expect(incident).toMatchObject({ 'data-incident': 'INC-3', 'data-phase': 'resolved', 'data-open-ended': 'true' });
    expect(Number(incident!.x) + Number(incident!.width)).toBeCloseTo(right, 1);
    expect(Number(incident!.x)).toBeCloseTo(expectedX(svg, now - 7_200_000), 1);
  });

  it('escapes every piece of text: names, titles, reasons, the time zone label', () => {
    const now = Date.UTC(2026, 11, 1, 10, 0);
    const evil = '<script>alert(1)</script> & "q" \'s';
    const svg = renderTimeline({
      now,
      timezone: 'UTC',
      repositories: [
        repo({
          name: 'acme/<b>api</b>',
          windows: [{ name: evil, mode: 'all', timezone: 'UTC', occurrences: [{ start: now + 3_600_000, end: now + 7_200_000 }] }],
          freezes: [{ id: 1, mode: 'features', reason: '<img src=x onerror=alert(2)>', scope: 'acme/api', start: now, until: null }],
          incidents: [{ key: 'INC-1', severity: 'sev2', title: '</title><script>x()</script>', phase: 'open', start: now }],
        }),
      ],
    });
    expect(svg).not.toMatch(/<script|<img|<b>|<\/title><script/);
    expect(svg).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot; &#39;s');
    expect(svg).toContain('acme/&lt;b&gt;api&lt;/b&gt;');
    expect(svg).toContain('&lt;img src=x onerror=alert(2)&gt;');
    const [w] = bars(svg, 'window');
    expect(w!['data-window']).toBe('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot; &#39;s');
    // no attribute of ours is an event handler or a style
    const names = [...svg.matchAll(/<[a-z]+\b([^>]*)>/g)].flatMap((m) => [...m[1]!.matchAll(/\s([\w:-]+)=/g)].map((a) => a[1]!));
    expect(names.length).toBeGreaterThan(20);
    expect(names.filter((a) => /^on|^style$|^href$/i.test(a))).toEqual([]);
  });

  it('says so when nothing is scheduled in the fortnight, and when no repository is known', () => {
    const now = Date.UTC(2026, 11, 1, 10, 0);
    const later = compileWindow({ name: 'year-end', from: '2027-03-01T00:00', to: '2027-03-02T00:00' });
    const svg = renderTimeline({
      now,
      timezone: 'UTC',
      repositories: [repo({ windows: [{ name: 'year-end', mode: 'features', timezone: 'UTC', occurrences: occurrencesBetween(later, now - 86_400_000, now + 15 * 86_400_000) }] })],
    });
    expect(bars(svg, 'window')).toHaveLength(0);
    const notes = elements(svg, 'text').filter((t) => t['data-empty'] === 'true');
    expect(notes).toHaveLength(1);
    expect(svg).toContain('Nothing scheduled in the next 14 days: no window occurrence, freeze or incident.');
    expect(svg).toContain('nothing in these 14 days');
    const none = renderTimeline({ now, timezone: 'UTC', repositories: [] });
    expect(none).toContain('No repository known yet: nothing scheduled in the next 14 days.');
    // one with something in it says neither
    const busy = renderTimeline({ now, timezone: 'UTC', repositories: [repo({ freezes: [{ id: 1, mode: 'all', reason: '', scope: 'acme/api', start: now, until: null }] })] });
    expect(busy).not.toContain('Nothing scheduled');
    expect(bars(busy, 'freeze')).toHaveLength(1);
  });

  it('draws the day lines at local midnights of the viewer zone and a legend', () => {
    const now = Date.UTC(2026, 11, 1, 10, 0);
    const svg = renderTimeline({ now, timezone: 'America/New_York', repositories: [] });
    const days = elements(svg, 'line').filter((l) => l['data-day']);
    expect(days).toHaveLength(14);
    expect(days[0]!['data-day']).toBe('2026-12-01');
    expect(Number(days[1]!.x1)).toBeCloseTo(expectedX(svg, Date.UTC(2026, 11, 2, 5)), 1); // midnight EST
    for (const text of ['window (hotfixes only)', 'window (all changes)', 'freeze (hotfixes only)', 'incident open', 'incident in recovery', 'now']) expect(svg).toContain(`>${text}</text>`);
    expect(elements(svg, 'line').find((l) => l['data-kind'] === 'now')!['data-at']).toBe(new Date(now).toISOString());
  });
});
