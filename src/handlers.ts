/**
 * Webhook handlers: each reads its event from Probot's typed context into plain values, calls one
 * use case of the domain, and logs one structured line. No decisions here. A payload missing what
 * a handler needs (a PayloadError) is logged with its delivery id and ignored; any other error,
 * a TypeError included, is a bug or a failure and is logged as `handler failed`. Neither takes the
 * process down.
 */
import type { Logger } from 'pino';
import type { Context } from 'probot';
import type { Clock } from './clock.js';
import type { CommandRunner } from './commands/execute.js';
import type { Deployments } from './domain/deployments.js';
import type { Installations } from './domain/installations.js';
import type { MergeGroups } from './domain/merge-groups.js';
import { isStoreUnavailable, type PortFactory } from './domain/ports.js';
import { CONFIG_FILE, type PullRequests } from './domain/pull-requests.js';
import { pullFromApi } from './github/octokit-port.js';
import type { GitHubPort, PullInfo } from './github/port.js';
import type { AsyncStore } from './store/contract.js';

export class PayloadError extends Error {}

const isBusy = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && ((error as { code?: string }).code === 'SQLITE_BUSY' || /database is locked/i.test(String((error as Error).message)));

/**
 * A database locked by another process beyond the busy timeout: GitHub never resends a delivery,
 * so it is retried here (1, 2, 4, 8, 16 s). A transaction that failed changed nothing, and the
 * delivery is claimed inside the state change's transaction, so a retry applies it once.
 */
async function withBusyRetry<T>(fn: () => Promise<T>, onRetry: (attempt: number, waitMs: number) => void): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!isBusy(error) || attempt > 5) throw error;
      const wait = 1000 * 2 ** (attempt - 1);
      onRetry(attempt, wait);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

function need<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new PayloadError(`payload has no ${what}`);
  return value;
}

const isBot = (sender: { type?: string; login?: string } | null | undefined): boolean =>
  sender?.type === 'Bot' || Boolean(sender?.login?.endsWith('[bot]'));

type Fields = Record<string, unknown> | void;

/** Every webhook event name Probot knows (`pull_request`, `pull_request.opened`, ...). */
type EventName = Context['name'];

/** The repository part every repository event has. */
interface RepositoryPayload {
  repository?: { name?: string; owner?: { login?: string } | null; default_branch?: string } | null;
}

/** The pull request of a payload, checked for what the gate reads (GitHub always sends it). */
type RawPull = Parameters<typeof pullFromApi>[0];
function pullOf(raw: RawPull | null | undefined, what = 'pull_request'): PullInfo {
  const p = need(raw, what);
  need(p.number, `${what}.number`);
  const head = need(p.head, `${what}.head`);
  need(head.sha, `${what}.head.sha`);
  need(head.ref, `${what}.head.ref`);
  need(need(p.base, `${what}.base`).ref, `${what}.base.ref`);
  need(p.labels, `${what}.labels`);
  return pullFromApi(p);
}

function repoOf(payload: RepositoryPayload) {
  const repository = need(payload.repository, 'repository');
  return { owner: need(repository.owner?.login, 'repository.owner.login'), repo: need(repository.name, 'repository.name'), defaultBranch: repository.default_branch ?? 'main' };
}

/** What the handlers are given: the use cases, and the port and log for each delivery. */
export interface HandlerDeps {
  ports: PortFactory;
  log: Logger;
  clock: Clock;
  store: Pick<AsyncStore, 'upsertRepo' | 'claimDelivery'>;
  pulls: Pick<PullRequests, 'onPullRequest' | 'onRerequest' | 'onPush'>;
  mergeGroups: Pick<MergeGroups, 'queueOf' | 'gate'>;
  commands: Pick<CommandRunner, 'handle'>;
  deployments: Pick<Deployments, 'handleProtectionRule' | 'recordDeploymentStatus'>;
  installations: Pick<Installations, 'onInstallation' | 'onRepositories'>;
}

export class Handlers {
  constructor(private readonly s: HandlerDeps) {}

  /** Wraps a handler: installation check, delivery id, one log line with its duration, errors contained. */
  wrap<E extends EventName>(name: string, fn: (ctx: Context<E>, port: GitHubPort) => Promise<Fields>) {
    return async (ctx: Context<E>): Promise<void> => {
      const started = this.s.clock.now();
      try {
        const installationId = (ctx.payload as { installation?: { id?: number } | null } | null)?.installation?.id;
        if (!installationId) throw new PayloadError('payload has no installation');
        const port = await this.s.ports(installationId);
        const fields = await withBusyRetry(() => fn(ctx, port), (attempt, wait) =>
          this.s.log.warn({ event: name, delivery: ctx.id, attempt, wait_ms: wait }, 'database busy, retrying the delivery'),
        );
        this.s.log.info({ event: name, delivery: ctx.id, ...(fields ?? {}), duration_ms: this.s.clock.now() - started }, name);
      } catch (error) {
        if (error instanceof PayloadError) {
          this.s.log.warn({ event: name, delivery: ctx.id, err: error.message }, 'payload ignored');
          return;
        }
        this.s.log.error({ event: name, delivery: ctx.id, err: error, duration_ms: this.s.clock.now() - started }, 'handler failed');
        // the database did not answer: nothing of it is stored, so the delivery is answered 5xx
        // and GitHub's redelivery can be used (SPEC 9)
        if (isStoreUnavailable(error)) throw error;
      }
    };
  }

  private async rememberRepo(installationId: number, r: { owner: string; repo: string; defaultBranch: string }) {
    await this.s.store.upsertRepo(r.owner, r.repo, installationId, `${r.owner}/${r.repo}`, r.defaultBranch);
  }

  pullRequest = this.wrap<'pull_request'>('pull_request', async (ctx, port) => {
    const r = repoOf(ctx.payload);
    const pull = pullOf(ctx.payload.pull_request);
    await this.rememberRepo(port.installationId, r);
    const label = 'label' in ctx.payload ? (ctx.payload.label?.name ?? null) : null;
    return this.s.pulls.onPullRequest(port, {
      deliveryId: ctx.id,
      action: ctx.payload.action,
      ref: { owner: r.owner, repo: r.repo },
      defaultBranch: r.defaultBranch,
      pull,
      label,
      sender: ctx.payload.sender?.login ?? null,
    });
  });

  issueComment = this.wrap<'issue_comment.created'>('issue_comment', async (ctx, port) => {
    if (ctx.payload.action !== 'created') return { ignored: 'not a new comment' };
    const comment = need(ctx.payload.comment, 'comment');
    if (isBot(ctx.payload.sender) || isBot(comment.user)) return { ignored: 'bot' };
    const r = repoOf(ctx.payload);
    await this.rememberRepo(port.installationId, r);
    const issue = need(ctx.payload.issue, 'issue');
    const outcome = await this.s.commands.handle({
      installationId: port.installationId,
      port,
      owner: r.owner,
      repo: r.repo,
      defaultBranch: r.defaultBranch,
      issueNumber: need(issue.number, 'issue.number'),
      isPull: Boolean(issue.pull_request),
      commentId: need(comment.id, 'comment.id'),
      actor: need(comment.user?.login ?? ctx.payload.sender?.login, 'comment.user.login'),
      body: comment.body ?? '',
      deliveryId: ctx.id,
    });
    return { repo: `${r.owner}/${r.repo}`, pr: issue.number, ran: outcome.ran, reactions: outcome.reactions };
  });

  mergeGroup = this.wrap<'merge_group.checks_requested'>('merge_group', async (ctx, port) => {
    const r = repoOf(ctx.payload);
    await this.rememberRepo(port.installationId, r);
    const group = need(ctx.payload.merge_group, 'merge_group');
    const headSha = need(group.head_sha, 'merge_group.head_sha');
    const baseRef = need(group.base_ref, 'merge_group.base_ref').replace(/^refs\/heads\//, '');
    const numbers = this.s.mergeGroups.queueOf(group.head_ref)?.numbers ?? [];
    const outcome = await this.s.mergeGroups.gate(port, { owner: r.owner, repo: r.repo }, r.defaultBranch, headSha, baseRef, numbers);
    return { repo: `${r.owner}/${r.repo}`, sha: headSha, prs: numbers, decision: outcome.conclusion };
  });

  /** Re-run requests always re-evaluate and post. */
  rerequest = this.wrap<'check_run.rerequested' | 'check_suite.rerequested'>('rerequest', async (ctx, port) => {
    const r = repoOf(ctx.payload);
    await this.rememberRepo(port.installationId, r);
    const run = 'check_run' in ctx.payload ? ctx.payload.check_run : null;
    const suite = run ? run.check_suite : 'check_suite' in ctx.payload ? ctx.payload.check_suite : null;
    const headSha = need(run?.head_sha ?? suite?.head_sha, 'head_sha');
    const ref = { owner: r.owner, repo: r.repo };
    // a merge group's check: its suite's head branch is the queue's branch
    const queue = this.s.mergeGroups.queueOf(suite?.head_branch);
    if (queue) {
      const decision = await this.s.mergeGroups.gate(port, ref, r.defaultBranch, headSha, queue.baseRef, queue.numbers, { force: true });
      return { repo: `${r.owner}/${r.repo}`, sha: headSha, prs: queue.numbers, merge_group: true, decision: decision.conclusion };
    }
    const named: { number: number }[] = suite?.pull_requests ?? run?.pull_requests ?? [];
    return this.s.pulls.onRerequest(port, ref, r.defaultBranch, headSha, named.map((p) => p.number));
  });

  push = this.wrap<'push'>('push', async (ctx, port) => {
    const r = repoOf(ctx.payload);
    const commits: { added?: string[]; modified?: string[] }[] = ctx.payload.commits ?? [];
    const touchesConfig = commits.some((c) => [...(c.added ?? []), ...(c.modified ?? [])].includes(CONFIG_FILE));
    return this.s.pulls.onPush(port, { owner: r.owner, repo: r.repo }, r.defaultBranch, { ref: ctx.payload.ref, after: ctx.payload.after ?? null, touchesConfig });
  });

  installation = this.wrap<'installation'>('installation', async (ctx) => {
    const inst = need(ctx.payload.installation, 'installation');
    const owner = inst.account as { login?: string; type?: string } | null | undefined;
    const account = need(owner?.login, 'installation.account.login');
    const action = ctx.payload.action;
    await this.s.installations.onInstallation({ id: inst.id, account, accountType: owner?.type ?? 'Organization', action });
    return { account, action };
  });

  /** Repositories added while a freeze is on are gated at once. */
  installationRepositories = this.wrap<'installation_repositories'>('installation_repositories', async (ctx) => {
    const inst = need(ctx.payload.installation, 'installation');
    const owner = inst.account as { login?: string; type?: string } | null | undefined;
    const account = need(owner?.login, 'installation.account.login');
    const added = (ctx.payload.repositories_added ?? []).map((x) => x.name).filter((n): n is string => typeof n === 'string');
    const removed = (ctx.payload.repositories_removed ?? []).map((x) => x.name).filter((n): n is string => typeof n === 'string');
    await this.s.installations.onRepositories({ id: inst.id, account, accountType: owner?.type ?? 'Organization', added, removed });
    return { account, added: added.length };
  });

  deploymentProtectionRule = this.wrap<'deployment_protection_rule.requested'>('deployment_protection_rule', async (ctx, port) => {
    const r = repoOf(ctx.payload);
    await this.rememberRepo(port.installationId, r);
    const p = ctx.payload;
    const callbackUrl = need(p.deployment_callback_url, 'deployment_callback_url');
    const environment = need(p.environment, 'environment');
    // `deployment` is optional in the payload: without it the request is still answered (no hotfix can be told)
    const sha = String(p.deployment?.sha ?? (p as { sha?: string }).sha ?? '');
    if (!(await this.s.store.claimDelivery(ctx.id, 'deployment_protection_rule', this.s.clock.now()))) return { duplicate: true };
    const outcome = await this.s.deployments.handleProtectionRule(port, {
      installationId: port.installationId,
      owner: r.owner,
      repo: r.repo,
      environment,
      callbackUrl,
      deploymentId: p.deployment?.id ?? null,
      sha,
      ref: p.deployment?.ref ?? null,
      prNumbers: (p.pull_requests ?? []).map((x) => x.number),
    });
    return { repo: `${r.owner}/${r.repo}`, environment, sha, decision: outcome.answer };
  });

  deploymentStatus = this.wrap<'deployment_status.created'>('deployment_status', async (ctx, port) => {
    const r = repoOf(ctx.payload);
    const status = need(ctx.payload.deployment_status, 'deployment_status');
    const deployment = need(ctx.payload.deployment, 'deployment');
    const counted = await this.s.deployments.recordDeploymentStatus(port, {
      owner: r.owner,
      repo: r.repo,
      deploymentId: need(deployment.id, 'deployment.id'),
      environment: status.environment ?? deployment.environment,
      state: status.state,
      sha: deployment.sha,
      actor: deployment.creator?.login ?? null,
    });
    return { repo: `${r.owner}/${r.repo}`, state: status.state, counted };
  });
}
