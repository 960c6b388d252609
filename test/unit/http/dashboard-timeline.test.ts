/**
 * The dashboard's timeline section (src/http/dashboard-timeline.ts) from a real store: each
 * repository's windows from its last valid configuration, "starts in ..." within a window's
 * notify_before lead, and the viewer's time zone (an unknown one is said so, escaped, and UTC shown).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { timelineSection, viewerZone } from '../../../src/http/dashboard-timeline.js';
import { accountState } from '../../../src/http/state.js';
import type { AsyncStore } from '../../../src/store/contract.js';
import { openSqliteStore } from '../../../src/store/sqlite/engine.js';

// Fri 4 Dec 2026 15:30 UTC: Berlin's 18:00 start is 2h 30m away
const NOW = Date.UTC(2026, 11, 4, 14, 30);
const RELEASE = { name: 'Release freeze', cron: '0 18 * * FRI', duration: '63h', timezone: 'Europe/Berlin', notify_before: '3h' };

describe('the dashboard timeline section', () => {
  let store: AsyncStore;
  beforeEach(async () => {
    store = openSqliteStore(':memory:');
    await store.upsertInstallation(7, 'acme', 'Organization', false, NOW);
    await store.upsertRepo('acme', 'api', 7, 'acme/api', 'main');
    await store.setLastValidConfig('acme', 'api', JSON.stringify({ windows: [RELEASE, { name: 'quiet', cron: '0 9 * * *', duration: '1h', notify_before: '1h' }] }));
  });
  afterEach(async () => store.close());

  it('draws the windows and says which starts soon', async () => {
    const html = await timelineSection(store, [await accountState(store, 'acme', null, NOW)], NOW, 'Europe/Berlin', null);
    expect(html).toContain('<li data-window="Release freeze">Release freeze starts in 2h 30m <small>(2026-12-04 18:00 Europe/Berlin to 2026-12-07 09:00 Europe/Berlin, acme/api)</small></li>');
    expect(html).not.toContain('quiet starts in'); // its next start (Sat 09:00 UTC) is not within its hour
    expect(html.match(/data-window="Release freeze"/g)).toHaveLength(1 + 2); // the list item and two weekends
    expect(html.match(/data-kind="window" data-window="quiet"/g)).toHaveLength(14);
    expect(html).toContain('data-timezone="Europe/Berlin"');
    expect(html).toContain('<input id="tz" name="tz" value="Europe/Berlin"');
  });

  it('shows UTC for an unknown time zone and says so, escaped', async () => {
    expect(viewerZone(null)).toEqual({ timezone: 'UTC', error: null });
    expect(viewerZone(' Asia/Tokyo ')).toEqual({ timezone: 'Asia/Tokyo', error: null });
    const html = await timelineSection(store, [await accountState(store, 'acme', null, NOW)], NOW, '<script>x</script>', 'acme');
    expect(html).toContain('Unknown time zone &quot;&lt;script&gt;x&lt;/script&gt;&quot;: showing UTC.');
    expect(html).not.toContain('<script>');
    expect(html).toContain('data-timezone="UTC"');
    expect(html).toContain('<input type="hidden" name="account" value="acme">');
  });
});
