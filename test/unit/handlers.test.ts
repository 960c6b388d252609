/**
 * The webhook handlers tell a payload missing what they need (logged as ignored) from a bug in the
 * code behind them (a TypeError, logged as `handler failed` at error level).
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Context } from 'probot';
import { describe, expect, it } from 'vitest';
import { Handlers, PayloadError, type HandlerDeps } from '../../src/handlers.js';
import { FakePort } from '../support/fake-port.js';
import { pullRequestEvent } from '../fixtures/payloads.js';

const REPO = { owner: 'acme', repo: 'api', installationId: 1 };

function handlersWith(onPullRequest: HandlerDeps['pulls']['onPullRequest']) {
  const lines: Record<string, any>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, any>);
      done();
    },
  });
  const calls: unknown[] = [];
  const unused = () => {
    throw new Error('not used by this test');
  };
  const deps = {
    ports: async () => new FakePort(1),
    log: pino({ level: 'debug' }, sink),
    clock: { now: () => 0 },
    store: { upsertRepo: () => {}, claimDelivery: () => true },
    pulls: {
      onPullRequest: async (...args: Parameters<HandlerDeps['pulls']['onPullRequest']>) => {
        calls.push(args[1]);
        return onPullRequest(...args);
      },
      onRerequest: unused,
      onPush: unused,
    },
    mergeGroups: { queueOf: unused, gate: unused },
    commands: { handle: unused },
    deployments: { handleProtectionRule: unused, recordDeploymentStatus: unused },
    installations: { onInstallation: unused, onRepositories: unused },
  } as unknown as HandlerDeps;
  return { handlers: new Handlers(deps), lines, calls };
}

const deliver = (payload: Record<string, any>, id: string) => ({ id, name: 'pull_request', payload }) as unknown as Context<'pull_request'>;

describe('webhook handlers: ignored payloads and bugs', () => {
  it('ignores a pull_request payload without a head, with a clear message, and calls nothing', async () => {
    const { handlers, lines, calls } = handlersWith(async () => ({}));
    const payload = pullRequestEvent('opened', { number: 7, sha: 'a'.repeat(40) }, REPO);
    delete payload.pull_request.head;
    await handlers.pullRequest(deliver(payload, 'd-1'));
    expect(calls).toEqual([]);
    expect(lines.filter((l) => l.delivery === 'd-1').map((l) => [l.level, l.msg, l.err])).toEqual([[40, 'payload ignored', 'payload has no pull_request.head']]);
  });

  it('ignores a delivery whose payload is not an object, or has no installation', async () => {
    const { handlers, lines, calls } = handlersWith(async () => ({}));
    const noInstallation = pullRequestEvent('opened', { number: 7, sha: 'e'.repeat(40) }, REPO);
    delete noInstallation.installation;
    await handlers.pullRequest(deliver(null as unknown as Record<string, any>, 'd-5'));
    await handlers.pullRequest(deliver(noInstallation, 'd-6'));
    expect(calls).toEqual([]);
    expect(lines.filter((l) => l.delivery === 'd-5' || l.delivery === 'd-6').map((l) => [l.delivery, l.level, l.msg, l.err])).toEqual([
      ['d-5', 40, 'payload ignored', 'payload has no installation'],
      ['d-6', 40, 'payload ignored', 'payload has no installation'],
    ]);
  });

  it('logs a TypeError from the code behind a handler as a bug (handler failed, error level), not as an ignored payload', async () => {
    const { handlers, lines, calls } = handlersWith(async () => {
      throw new TypeError("Cannot read properties of undefined (reading 'sha')");
    });
    await handlers.pullRequest(deliver(pullRequestEvent('opened', { number: 7, sha: 'b'.repeat(40) }, REPO), 'd-2'));
    expect(calls).toHaveLength(1);
    const logged = lines.filter((l) => l.delivery === 'd-2');
    expect(logged.map((l) => [l.level, l.msg])).toEqual([[50, 'handler failed']]);
    expect(logged[0]!.err).toMatchObject({ type: 'TypeError', message: "Cannot read properties of undefined (reading 'sha')" });
  });

  it('still logs a PayloadError raised behind a handler as an ignored payload', async () => {
    const { handlers, lines } = handlersWith(async () => {
      throw new PayloadError('payload has no pull_request.base');
    });
    await handlers.pullRequest(deliver(pullRequestEvent('opened', { number: 7, sha: 'c'.repeat(40) }, REPO), 'd-3'));
    expect(lines.filter((l) => l.delivery === 'd-3').map((l) => [l.level, l.msg, l.err])).toEqual([[40, 'payload ignored', 'payload has no pull_request.base']]);
  });

  it('hands a whole payload to the use case as plain values and logs one info line', async () => {
    const { handlers, lines, calls } = handlersWith(async () => ({ decision: 'success' }));
    await handlers.pullRequest(deliver(pullRequestEvent('labeled', { number: 7, sha: 'd'.repeat(40), labels: ['hotfix'] }, REPO, { label: 'hotfix' }), 'd-4'));
    expect(calls).toEqual([
      expect.objectContaining({ deliveryId: 'd-4', action: 'labeled', ref: { owner: 'acme', repo: 'api' }, defaultBranch: 'main', label: 'hotfix', pull: expect.objectContaining({ number: 7, headSha: 'd'.repeat(40), labels: ['hotfix'] }) }),
    ]);
    expect(lines.filter((l) => l.delivery === 'd-4').map((l) => [l.level, l.msg, l.decision])).toEqual([[30, 'pull_request', 'success']]);
  });
});
