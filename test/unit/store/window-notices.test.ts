/**
 * The notice of a window's occurrence (`windows[].notify_before`) is claimed once, on both engines:
 * by one of several replicas racing for it, inside a transaction (a rolled-back claim is no claim),
 * and it stays claimed after a restart (a store opened again on the same database).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AsyncStore } from '../../../src/store/contract.js';
import { engines, type EngineDb } from '../../support/engines.js';

const T0 = Date.UTC(2026, 11, 4, 16, 0);
const START = Date.UTC(2026, 11, 4, 17, 0);
const KEY = { account: 'acme', windowKey: '["Release freeze","Europe/Berlin","0 18 * * FRI","63h"]', occurrenceStart: START };

describe.each(engines())('window notices on $name', (engine) => {
  let db: EngineDb;
  let store: AsyncStore;
  beforeEach(async () => {
    db = await engine.fresh();
    store = await db.open();
  });
  afterEach(async () => {
    await db.drop();
  });

  it('hands one occurrence notice to exactly one of several replicas racing for it', async () => {
    const replicas = [store, await db.open(), await db.open()];
    const won = await Promise.all(
      Array.from({ length: 6 }, (_, n) => replicas[n % 3]!.transaction((tx) => tx.claimWindowNotice(KEY, 'Release freeze', `r${n}`, T0))),
    );
    expect(won.filter(Boolean)).toHaveLength(1);
    const claim = await replicas[2]!.windowNoticeOf(KEY);
    expect(claim).toEqual({ windowName: 'Release freeze', by: `r${won.indexOf(true)}`, at: T0 });
  });

  it('keeps the claim across a restart, and tells other occurrences, windows and accounts apart', async () => {
    expect(await store.transaction((tx) => tx.claimWindowNotice(KEY, 'Release freeze', 'first', T0))).toBe(true);
    await store.close();
    store = await db.open();
    expect(await store.transaction((tx) => tx.claimWindowNotice({ ...KEY, account: 'ACME' }, 'Release freeze', 'after-restart', T0 + 1000))).toBe(false);
    expect((await store.windowNoticeOf(KEY))?.by).toBe('first');
    const week = 7 * 86_400_000;
    expect(await store.transaction((tx) => tx.claimWindowNotice({ ...KEY, occurrenceStart: START + week }, 'Release freeze', 'x', T0))).toBe(true);
    expect(await store.transaction((tx) => tx.claimWindowNotice({ ...KEY, windowKey: '["Release freeze","UTC","0 18 * * FRI","63h"]' }, 'Release freeze', 'x', T0))).toBe(true);
    expect(await store.transaction((tx) => tx.claimWindowNotice({ ...KEY, account: 'globex' }, 'Release freeze', 'x', T0))).toBe(true);
  });

  it('does not keep a claim whose transaction rolled back', async () => {
    await expect(
      store.transaction(async (tx) => {
        expect(await tx.claimWindowNotice(KEY, 'Release freeze', 'doomed', T0)).toBe(true);
        throw new Error('the job could not be stored');
      }),
    ).rejects.toThrow('the job could not be stored');
    expect(await store.windowNoticeOf(KEY)).toBeNull();
    expect(await store.transaction((tx) => tx.claimWindowNotice(KEY, 'Release freeze', 'second', T0))).toBe(true);
  });

  it('prunes notices of occurrences that started more than 30 days ago', async () => {
    await store.transaction((tx) => tx.claimWindowNotice(KEY, 'Release freeze', 'x', T0));
    await store.prune(START + 29 * 86_400_000);
    expect(await store.windowNoticeOf(KEY)).not.toBeNull();
    await store.prune(START + 31 * 86_400_000);
    expect(await store.windowNoticeOf(KEY)).toBeNull();
  });
});
