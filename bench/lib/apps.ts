/** Starting the two apps under test against a FakeGitHub, and watching the fake. */
import type { FakeGitHub, RecordedRequest } from '../../test/fake-github/index.js';
import { startApp, type AppHandle } from '../../test/e2e/harness.js';
import { sleep } from './report.js';

export const TOKEN_ROUTE = 'POST /app/installations/{installation_id}/access_tokens';
export const CHECK_ROUTE = 'POST /repos/{owner}/{repo}/check-runs';

/**
 * Moratorium as users run it (`npm start`), throttle on unless told otherwise; resolves once the
 * start-up reconcile is done, so its requests can be told apart from the workload's.
 */
export async function startMoratorium(fake: FakeGitHub, env: Record<string, string> = {}): Promise<AppHandle> {
  const app = await startApp({ fake, env: { MORATORIUM_GITHUB_THROTTLE: 'on', ...env }, healthTimeoutMs: 60_000 });
  await waitForReconcile(app, 1);
  return app;
}

/** Waits until the app has logged `count` reconcile runs (start-up is the first). */
export async function waitForReconcile(app: AppHandle, count: number, timeoutMs = 600_000): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const done = app.logLines().filter((l) => l.event === 'reconcile' && l.msg === 'reconcile done');
    if (done.length >= count) return done[count - 1]!;
    if (Date.now() > deadline) throw new Error(`no reconcile done within ${timeoutMs} ms\n${app.logs().slice(-3000)}`);
    await sleep(50);
  }
}

/** Resolves when the fake has seen no request for `quietMs` (or after `maxMs`). */
export async function quiesce(fake: FakeGitHub, quietMs = 2500, maxMs = 120_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  let last = fake.requests.length;
  let since = Date.now();
  while (Date.now() < deadline) {
    await sleep(100);
    if (fake.requests.length !== last) {
      last = fake.requests.length;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return;
  }
}

/** Every request the fake answers from now on, as it is answered. */
export function tap(fake: FakeGitHub): { seen: RecordedRequest[]; stop(): void } {
  const seen: RecordedRequest[] = [];
  const on = (r: RecordedRequest) => seen.push(r);
  fake.on('request', on);
  return { seen, stop: () => fake.off('request', on) };
}
