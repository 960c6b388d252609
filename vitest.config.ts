import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // the e2e tests run `npm start` (compiled JavaScript in dist/): build it once first
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // e2e tests start the app as a child process on their own ports; keep files parallel but bounded
    maxWorkers: 2,
  },
});
