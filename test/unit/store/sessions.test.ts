/**
 * The dashboard's sessions and OAuth states (migration 7) on both engines: a session is found by
 * its hash until it expires or is ended (from any replica), a state is taken once, and the audit
 * takes the `dashboard` source (its CHECK widened, its rows and ids kept).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AsyncStore } from '../../../src/store/contract.js';
import { engines, type EngineDb } from '../../support/engines.js';

const T0 = Date.UTC(2026, 11, 1, 9, 0);
const HOUR = 3_600_000;

describe.each(engines())('dashboard sessions on $name', (engine) => {
  let db: EngineDb;
  let store: AsyncStore;
  beforeEach(async () => {
    db = await engine.fresh();
    store = await db.open();
  });
  afterEach(async () => {
    await db.drop();
  });

  it('finds a session by its hash until it expires, and ends it for every replica', async () => {
    const other = await db.open();
    await store.createDashboardSession({ idHash: 'h1', kind: 'github', login: 'maya', csrf: 'c1', tokenTag: null, now: T0, expiresAt: T0 + 12 * HOUR });
    await store.createDashboardSession({ idHash: 'h2', kind: 'token', login: 'api-token', csrf: 'c2', tokenTag: 't', now: T0, expiresAt: T0 + HOUR });
    expect(await other.getDashboardSession('h1', T0 + HOUR)).toEqual({ kind: 'github', login: 'maya', csrf: 'c1', tokenTag: null, createdAt: T0, expiresAt: T0 + 12 * HOUR });
    expect(await other.getDashboardSession('h2', T0 + HOUR)).toBeNull();
    expect(await store.getDashboardSession('nope', T0)).toBeNull();
    expect(await other.endDashboardSession('h1')).toBe(true);
    expect(await store.getDashboardSession('h1', T0)).toBeNull();
    expect(await store.endDashboardSession('h1')).toBe(false);
    await store.pruneDashboard(T0 + 2 * HOUR);
    expect(await store.getDashboardSession('h2', T0)).toBeNull();
    await expect(store.createDashboardSession({ idHash: 'h3', kind: 'other' as never, login: 'x', csrf: 'c', tokenTag: null, now: T0, expiresAt: T0 + 1 })).rejects.toThrow();
  });

  it('hands an OAuth state out once, also to two replicas at once', async () => {
    const other = await db.open();
    await store.createOAuthState('s1', 'b1', T0, T0 + 600_000);
    const [a, b] = await Promise.all([store.takeOAuthState('s1'), other.takeOAuthState('s1')]);
    expect([a, b].filter(Boolean)).toEqual([{ browserHash: 'b1', expiresAt: T0 + 600_000 }]);
    expect(await store.takeOAuthState('s1')).toBeNull();
    await store.createOAuthState('s2', 'b2', T0, T0 + 600_000);
    await store.pruneDashboard(T0 + 600_000);
    expect(await store.takeOAuthState('s2')).toBeNull();
  });

  it('audits the dashboard as a source, and still refuses an unknown one', async () => {
    const first = await store.audit({ at: T0, account: 'acme', actor: 'maya', source: 'command', action: 'freeze.start' });
    const second = await store.audit({ at: T0 + 1, account: 'acme', actor: 'maya', source: 'dashboard', action: 'incident.close' });
    expect(second).toBeGreaterThan(first);
    expect((await store.auditOfAccount('acme', 5)).map((a) => [a.source, a.action])).toEqual([['dashboard', 'incident.close'], ['command', 'freeze.start']]);
    await expect(store.audit({ at: T0, account: 'acme', actor: 'x', source: 'elsewhere' as never, action: 'y' })).rejects.toThrow();
  });
});
