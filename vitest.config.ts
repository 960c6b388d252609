import { defineConfig } from 'vitest/config';

const timeouts = { testTimeout: 30_000, hookTimeout: 60_000 };
// SPEC 9: the same suite passes on both stores. With a PostgreSQL server for the tests
// (MORATORIUM_TEST_DATABASE_URL: scripts/test-servers.sh, .ci/run), the e2e folder runs a second
// time with every app on PostgreSQL (test/e2e/harness.ts: MORATORIUM_E2E_STORE=postgres).
const postgres = Boolean(process.env.MORATORIUM_TEST_DATABASE_URL?.trim());
if (!postgres) {
  if (process.env.MORATORIUM_TEST_REQUIRE_SERVERS === '1') {
    throw new Error('MORATORIUM_TEST_DATABASE_URL is not set but MORATORIUM_TEST_REQUIRE_SERVERS=1: the e2e suite on PostgreSQL cannot be skipped');
  }
  console.warn(`\n${'!'.repeat(88)}\n!!! MORATORIUM_TEST_DATABASE_URL is not set: the e2e suite on PostgreSQL is SKIPPED.\n!!! Start the servers with: eval "$(scripts/test-servers.sh start)"\n${'!'.repeat(88)}\n`);
}

export default defineConfig({
  test: {
    // the e2e tests run `npm start` (compiled JavaScript in dist/): build it once first
    globalSetup: ['test/global-setup.ts'],
    ...timeouts,
    // e2e tests start the app as a child process on their own ports; keep files parallel but bounded
    maxWorkers: 2,
    projects: [
      { test: { name: 'sqlite', include: ['test/**/*.test.ts'], ...timeouts } },
      ...(postgres ? [{ test: { name: 'e2e-postgres', include: ['test/e2e/**/*.test.ts'], env: { MORATORIUM_E2E_STORE: 'postgres' }, ...timeouts } }] : []),
    ],
  },
});
