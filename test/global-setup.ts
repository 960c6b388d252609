/**
 * Builds the app once before the suite: the e2e tests start it with `npm start`, which runs the
 * compiled JavaScript in dist/, so they must run against the sources as they are now. The build is
 * incremental (dist/.tsbuildinfo): a few seconds when nothing changed.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
  const run = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' });
  if (run.status !== 0) {
    throw new Error(`the build before the tests failed (npm run build):\n${run.stdout}${run.stderr}${run.error ? String(run.error) : ''}`);
  }
}
