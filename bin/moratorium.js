#!/usr/bin/env node
// The CLI (`npx moratorium explain|validate|gate|record-deploy|migrate-to-postgres`): runs the
// TypeScript sources through tsx. Its composition root: the clock, sleeping and the environment
// are given to src/cli.ts from here.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv.slice(2), {
  now: Date.now(),
  clock: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  env: process.env,
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
});
