/**
 * The real GitHub port (`OctokitPort`) as the app builds it, through Probot and the app's Octokit
 * class, against a fake GitHub in-process: for tests of what the port sends and reads.
 */
import { generateKeyPairSync } from 'node:crypto';
import { Probot } from 'probot';
import { createOctokitClass } from '../../src/github/client.js';
import { OctokitPort, type Octokit } from '../../src/github/octokit-port.js';
import type { ConditionalReads } from '../../src/github/port.js';
import type { FakeGitHub } from '../fake-github/index.js';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });

/** A Probot of App 1 on the fake's API, with the app's Octokit class (Octokit's own retries off). */
export function probotOn(fake: FakeGitHub, opts: { throttle: boolean }): Probot {
  const Octokit = createOctokitClass({ throttle: opts.throttle }).defaults({ retry: { enabled: false } });
  return new Probot({ appId: 1, privateKey, secret: 'test', baseUrl: fake.apiUrl, Octokit });
}

/** The port of one installation, authenticated through `probot`; `reads` keeps its listings' ETags. */
export async function realPort(probot: Probot, installationId: number, reads: ConditionalReads | null = null): Promise<OctokitPort> {
  return new OctokitPort(installationId, (await probot.auth(installationId)) as Octokit, undefined, reads);
}
