/**
 * REDIS_URL as a user sets it (SPEC 9): the app started with `npm start` shares its write throttle
 * through the Redis of MORATORIUM_TEST_REDIS_URL, and refuses to start, saying why, when Redis does
 * not answer. The pace itself across two processes: test/integration/redis-throttle.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { FakeGitHub } from '../fake-github/index.js';
import { REDIS_URL, requireServer } from '../support/engines.js';
import { freePort, startApp } from './harness.js';

requireServer('MORATORIUM_TEST_REDIS_URL', 'the REDIS_URL start-up test');

describe.skipIf(!REDIS_URL)('REDIS_URL', () => {
  it('starts with the write throttle shared through Redis', async () => {
    const fake = await FakeGitHub.start();
    try {
      fake.addInstallation({ id: 7, account: 'acme' });
      const app = await startApp({ fake, env: { REDIS_URL: REDIS_URL!, MORATORIUM_GITHUB_THROTTLE: 'on' } });
      await app.waitForLog('write throttle shared through Redis', 20_000);
      expect((await fetch(`${app.url}/moratorium/health`)).status).toBe(200);
      expect(await app.stop()).toBe(0);
    } finally {
      await fake.stop();
    }
  }, 60_000);

  it('exits with a clear message when Redis does not answer', async () => {
    const fake = await FakeGitHub.start();
    try {
      const dead = `redis://127.0.0.1:${await freePort()}`;
      await expect(startApp({ fake, env: { REDIS_URL: dead, MORATORIUM_GITHUB_THROTTLE: 'on' }, healthTimeoutMs: 30_000 })).rejects.toThrow(
        /exited before it was healthy \(code 1[\s\S]*Redis \(REDIS_URL\) does not answer/,
      );
    } finally {
      await fake.stop();
    }
  }, 60_000);
});
