#!/usr/bin/env node
// The offline CLI (`npx moratorium explain|validate`): runs the TypeScript sources through tsx.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv.slice(2), { now: Date.now(), out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) });
