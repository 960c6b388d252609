/**
 * One replica's GitHub client, in a process of its own (the throttle plugin keeps module-wide state,
 * so two replicas must be two processes). It authenticates as installation INSTALLATION through
 * Probot against BASE_URL, prints "ready", waits for "go" on stdin, sends COUNT check-run writes at
 * once and lets the throttle pace them, then prints "done".
 */
import pino from 'pino';
import { Probot } from 'probot';
import { createOctokitClass } from '../../src/github/client.js';
import { createSharedThrottle } from '../../src/github/shared-throttle.js';

const env = process.env as Record<string, string>;
const shared = env.REDIS_URL ? createSharedThrottle(env.REDIS_URL) : undefined;
await shared?.ready();
const Octokit = createOctokitClass({ throttle: true, ...(shared ? { shared } : {}) });
const probot = new Probot({ appId: 1, privateKey: env.PRIVATE_KEY!, baseUrl: env.BASE_URL!, log: pino({ level: 'silent' }), Octokit });
const octokit = (await probot.auth(Number(env.INSTALLATION))) as unknown as InstanceType<typeof Octokit>;
// a read first: the token is fetched (through the auth group), not counted as a write
await octokit.request('GET /repos/{owner}/{repo}', { owner: 'acme', repo: 'api' });
process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
await Promise.all(
  Array.from({ length: Number(env.COUNT) }, (_, n) =>
    octokit.rest.checks.create({ owner: 'acme', repo: 'api', name: 'moratorium', head_sha: `${env.NAME}-${n}` }),
  ),
);
process.stdout.write('done\n');
await shared?.close();
process.exit(0);
