#!/usr/bin/env node
// The CLI (`npx moratorium explain|validate|gate|record-deploy|migrate-to-postgres`): runs the
// compiled sources in dist/ (built by `npm install` through the `prepare` script, or `npm run
// build`). Its composition root: the clock, sleeping and the environment are given to src/cli.ts
// from here.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(compiled)) {
  process.stderr.write('moratorium: dist/cli.js is missing: run `npm run build` (or `npm install`) in the moratorium checkout first\n');
  process.exit(2);
}
const { main } = await import(compiled.href);
process.exitCode = await main(process.argv.slice(2), {
  now: Date.now(),
  clock: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  env: process.env,
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
});
