/**
 * Webhook handlers: each reads its event, calls the domain, and logs one structured line.
 * No decisions here. A payload missing what a handler needs is logged with its delivery id and
 * ignored; it never takes the process down.
 */
import type { Context } from 'probot';
import type { Services } from './services.js';
import { pullFromApi } from './github/octokit-port.js';
import type { GitHubPort, PullInfo } from './github/port.js';
import { holds } from './commands/authorize.js';
import { parseConfig } from './config/schema.js';
import { parse as parseYaml } from 'yaml';
import { pullInfoFromRecord } from './schedule/boundaries.js';
import { headConfigKey } from './domain/gatekeeper.js';

type AnyContext = Context & { payload: Record<string, any> };

const CONFIG_FILE = '.github/moratorium.yml';

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

export class Handlers {
  constructor(private readonly s: Services) {}

  /** Wraps a handler: installation check, delivery id, one log line with its duration, errors contained. */
  wrap(name: string, fn: (ctx: AnyContext, port: GitHubPort) => Promise<Record<string, unknown> | void>) {
    return async (context: Context): Promise<void> => {
      const ctx = context as AnyContext;
      const started = Date.now();
      const installationId = ctx.payload.installation?.id as number | undefined;
      try {
        if (!installationId) throw new PayloadError('payload has no installation');
        const port = await this.s.ports(installationId);
        const fields = await withBusyRetry(() => fn(ctx, port), (attempt, wait) =>
          this.s.log.warn({ event: name, delivery: ctx.id, attempt, wait_ms: wait }, 'database busy, retrying the delivery'),
        );
        this.s.log.info({ event: name, delivery: ctx.id, ...(fields ?? {}), duration_ms: Date.now() - started }, name);
      } catch (error) {
        if (error instanceof PayloadError || error instanceof TypeError) {
          this.s.log.warn({ event: name, delivery: ctx.id, err: error.message }, 'payload ignored');
          return;
        }
        this.s.log.error({ event: name, delivery: ctx.id, err: error, duration_ms: Date.now() - started }, 'handler failed');
      }
    };
  }

  private repoOf(ctx: AnyContext) {
    const repository = need(ctx.payload.repository, 'repository');
    return { owner: need(repository.owner?.login as string, 'repository.owner.login'), repo: need(repository.name as string, 'repository.name'), defaultBranch: (repository.default_branch as string) ?? 'main' };
  }

  private rememberRepo(installationId: number, r: { owner: string; repo: string; defaultBranch: string }) {
    this.s.store.upsertRepo(r.owner, r.repo, installationId, `${r.owner}/${r.repo}`, r.defaultBranch);
  }

  pullRequest = this.wrap('pull_request', async (ctx, port) => {
    const r = this.repoOf(ctx);
    const pull = pullFromApi(need(ctx.payload.pull_request, 'pull_request'));
    const action = ctx.payload.action as string;
    this.rememberRepo(port.installationId, r);
    const ref = { owner: r.owner, repo: r.repo };
    if (!this.s.store.claimDelivery(ctx.id, `pull_request.${action}`, this.s.clock.now())) return { repo: `${r.owner}/${r.repo}`, pr: pull.number, duplicate: true };
    // an older SHA arriving after a newer one must not win: the store keeps the newest by updated_at
    this.s.gatekeeper.remember(port.installationId, ref, pull);
    const latest = this.s.store.getPull(r.owner, r.repo, pull.number);
    if (latest && latest.headSha !== pull.headSha) return { repo: `${r.owner}/${r.repo}`, pr: pull.number, stale: true };

    if (action === 'closed') {
      if (pull.merged) await this.s.deployments.recordMerge(port, ref, r.defaultBranch, pull, (ctx.payload.sender?.login as string) ?? null);
      return { repo: `${r.owner}/${r.repo}`, pr: pull.number, merged: pull.merged };
    }
    if (action === 'labeled' || action === 'unlabeled') {
      const label = ctx.payload.label?.name as string | undefined;
      if (label) await this.recordLabel(port, ref, pull.number, label, action, ctx.payload.sender?.login as string | undefined);
    }
    // drafts get their gate when opened and when marked ready; other events on drafts change nothing mergeable
    if (pull.draft && action !== 'opened' && action !== 'reopened') return { repo: `${r.owner}/${r.repo}`, pr: pull.number, draft: true };
    let outcome;
    try {
      await this.checkHeadConfig(port, ref, pull.headSha);
      outcome = await this.s.gatekeeper.gatePull(port, ref, r.defaultBranch, pull);
    } catch (error) {
      // GitHub failed even after Octokit's retries: a stored job keeps trying, so no stale check stays
      this.s.queueGatePull(port.installationId, r.owner, r.repo, pull.number, this.s.clock.now() + 5_000);
      throw error;
    }
    return { repo: `${r.owner}/${r.repo}`, pr: pull.number, sha: pull.headSha, decision: outcome.decision.conclusion, changed: outcome.posted };
  });

  /**
   * A PR whose head commit changes `.github/moratorium.yml` gets its own version's problems in its
   * summary. Known from push events, so PRs that do not touch the file cost no GitHub read; the file
   * is read once per head commit and its problems stored for every later post. Returns them.
   */
  private async checkHeadConfig(port: GitHubPort, ref: { owner: string; repo: string }, sha: string) {
    const k = headConfigKey(ref, sha);
    const stored = this.s.store.getMeta(k);
    if (stored !== 'pending') return [];
    const text = await port.fileAt(ref, CONFIG_FILE, sha);
    let problems: { path: string; message: string }[] = [];
    if (text !== null) {
      let raw: unknown;
      try {
        raw = parseYaml(text);
        const parsed = parseConfig(raw);
        if (!parsed.ok) problems = parsed.problems.map((p) => ({ path: `this PR's .github/moratorium.yml: ${p.path}`, message: p.message }));
      } catch (error) {
        problems = [{ path: "this PR's .github/moratorium.yml", message: `not valid YAML: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}` }];
      }
    }
    this.s.store.setMeta(k, JSON.stringify(problems));
    return problems;
  }

  private async recordLabel(port: GitHubPort, ref: { owner: string; repo: string }, number: number, label: string, action: string, sender: string | undefined) {
    const loaded = await this.s.configs.get(port, ref);
    if (!loaded.config.exempt.labels.some((l) => l.toLowerCase() === label.toLowerCase())) return;
    const now = this.s.clock.now();
    if (action === 'unlabeled' || !sender) {
      this.s.store.deleteLabelGrant(ref.owner, ref.repo, number, label);
      return;
    }
    const answer = await holds(port, ref, sender, loaded.config.exempt.labeled_by, ref.owner);
    if (answer.error) this.s.store.deleteLabelGrant(ref.owner, ref.repo, number, label);
    else this.s.store.setLabelGrant(ref.owner, ref.repo, number, label, sender, answer.allowed, now);
  }

  issueComment = this.wrap('issue_comment', async (ctx, port) => {
    if (ctx.payload.action !== 'created') return { ignored: 'not a new comment' };
    const comment = need(ctx.payload.comment, 'comment');
    if (isBot(ctx.payload.sender) || isBot(comment.user)) return { ignored: 'bot' };
    const r = this.repoOf(ctx);
    this.rememberRepo(port.installationId, r);
    const issue = need(ctx.payload.issue, 'issue');
    const outcome = await this.s.commands.handle({
      installationId: port.installationId,
      port,
      owner: r.owner,
      repo: r.repo,
      defaultBranch: r.defaultBranch,
      issueNumber: need(issue.number as number, 'issue.number'),
      isPull: Boolean(issue.pull_request),
      commentId: need(comment.id as number, 'comment.id'),
      actor: need((comment.user?.login ?? ctx.payload.sender?.login) as string, 'comment.user.login'),
      body: (comment.body as string) ?? '',
      deliveryId: ctx.id,
    });
    return { repo: `${r.owner}/${r.repo}`, pr: issue.number, ran: outcome.ran, reactions: outcome.reactions };
  });

  mergeGroup = this.wrap('merge_group', async (ctx, port) => {
    const r = this.repoOf(ctx);
    this.rememberRepo(port.installationId, r);
    const group = need(ctx.payload.merge_group, 'merge_group');
    const headSha = need(group.head_sha as string, 'merge_group.head_sha');
    const baseRef = String(need(group.base_ref as string, 'merge_group.base_ref')).replace(/^refs\/heads\//, '');
    const numbers = this.s.mergeGroups.queueOf(group.head_ref as string | undefined)?.numbers ?? [];
    const outcome = await this.s.mergeGroups.gate(port, { owner: r.owner, repo: r.repo }, r.defaultBranch, headSha, baseRef, numbers);
    return { repo: `${r.owner}/${r.repo}`, sha: headSha, prs: numbers, decision: outcome.conclusion };
  });

  /** Re-run requests always re-evaluate and post. */
  rerequest = this.wrap('rerequest', async (ctx, port) => {
    const r = this.repoOf(ctx);
    this.rememberRepo(port.installationId, r);
    const suite = ctx.payload.check_run?.check_suite ?? ctx.payload.check_suite;
    const headSha = need((ctx.payload.check_run?.head_sha ?? suite?.head_sha) as string, 'head_sha');
    const ref = { owner: r.owner, repo: r.repo };
    // a merge group's check: its suite's head branch is the queue's branch
    const queue = this.s.mergeGroups.queueOf(suite?.head_branch as string | undefined);
    if (queue) {
      const decision = await this.s.mergeGroups.gate(port, ref, r.defaultBranch, headSha, queue.baseRef, queue.numbers, { force: true });
      return { repo: `${r.owner}/${r.repo}`, sha: headSha, prs: queue.numbers, merge_group: true, decision: decision.conclusion };
    }
    const numbers = ((suite?.pull_requests ?? ctx.payload.check_run?.pull_requests ?? []) as { number: number }[]).map((p) => p.number);
    let pulls: PullInfo[] = [];
    for (const n of numbers) {
      const p = await port.getPull(ref, n);
      if (p && p.state === 'open' && p.headSha === headSha) pulls.push(p);
    }
    if (!pulls.length) pulls = (await port.pullsForCommit(ref, headSha)).filter((p) => p.state === 'open' && p.headSha === headSha);
    let posted = 0;
    for (const pull of pulls) {
      this.s.gatekeeper.remember(port.installationId, ref, pull);
      const outcome = await this.s.gatekeeper.gatePull(port, ref, r.defaultBranch, pull, { force: true });
      if (outcome.posted) posted++;
    }
    return { repo: `${r.owner}/${r.repo}`, sha: headSha, prs: pulls.map((p) => p.number), posted };
  });

  /**
   * A push to the default branch drops the cached config (of the account, for `.github`). A push
   * elsewhere that changes the config file marks its head commit, so the PR's check shows the
   * problems of its own version.
   */
  push = this.wrap('push', async (ctx, port) => {
    const r = this.repoOf(ctx);
    if (ctx.payload.ref === `refs/heads/${r.defaultBranch}`) {
      this.s.configs.invalidate(r.owner, r.repo);
      return { repo: `${r.owner}/${r.repo}`, ref: ctx.payload.ref, config: 'invalidated' };
    }
    const commits = (ctx.payload.commits ?? []) as { added?: string[]; modified?: string[] }[];
    const touches = commits.some((c) => [...(c.added ?? []), ...(c.modified ?? [])].includes(CONFIG_FILE));
    const after = ctx.payload.after as string | undefined;
    if (!touches || !after) return { repo: `${r.owner}/${r.repo}`, ref: ctx.payload.ref };
    const ref = { owner: r.owner, repo: r.repo };
    if (this.s.store.getMeta(headConfigKey(ref, after)) === null) this.s.store.setMeta(headConfigKey(ref, after), 'pending');
    // the PR event may have come first: gate its PRs again with the problems of their version
    const pulls = this.s.store.openPullsBySha(r.owner, r.repo, after);
    if (pulls.length) {
      const problems = await this.checkHeadConfig(port, ref, after);
      // the problems change the summary, not the decision: post even when the decision is the same
      for (const p of pulls) await this.s.gatekeeper.gatePull(port, ref, r.defaultBranch, pullInfoFromRecord(p), { force: problems.length > 0 });
    }
    return { repo: `${r.owner}/${r.repo}`, ref: ctx.payload.ref, config: 'changed on branch' };
  });

  installation = this.wrap('installation', async (ctx, port) => {
    const inst = need(ctx.payload.installation, 'installation');
    const account = need(inst.account?.login as string, 'installation.account.login');
    const action = ctx.payload.action as string;
    if (action === 'deleted') {
      this.s.store.deleteInstallation(inst.id);
      return { account, action };
    }
    this.s.store.upsertInstallation(inst.id, account, inst.account?.type ?? 'Organization', action === 'suspend', this.s.clock.now());
    if (action === 'created' || action === 'unsuspend' || action === 'new_permissions_accepted') this.s.queueFanOut(port.installationId, account, null, `installation ${action}`);
    return { account, action };
  });

  /** Repositories added while a freeze is on are gated at once. */
  installationRepositories = this.wrap('installation_repositories', async (ctx, port) => {
    const inst = need(ctx.payload.installation, 'installation');
    const account = need(inst.account?.login as string, 'installation.account.login');
    this.s.store.upsertInstallation(inst.id, account, inst.account?.type ?? 'Organization', false, this.s.clock.now());
    for (const repo of (ctx.payload.repositories_removed ?? []) as { name: string }[]) this.s.store.deleteRepo(account, repo.name);
    const added = (ctx.payload.repositories_added ?? []) as { name: string }[];
    for (const repo of added) this.s.queueFanOut(port.installationId, account, repo.name, 'repository added');
    return { account, added: added.length };
  });

  deploymentProtectionRule = this.wrap('deployment_protection_rule', async (ctx, port) => {
    const r = this.repoOf(ctx);
    this.rememberRepo(port.installationId, r);
    const p = ctx.payload;
    const callbackUrl = need(p.deployment_callback_url as string, 'deployment_callback_url');
    const environment = need(p.environment as string, 'environment');
    // `deployment` is optional in the payload: without it the request is still answered (no hotfix can be told)
    const sha = String(p.deployment?.sha ?? p.sha ?? '');
    if (!this.s.store.claimDelivery(ctx.id, 'deployment_protection_rule', this.s.clock.now())) return { duplicate: true };
    const outcome = await this.s.deployments.handleProtectionRule(port, {
      installationId: port.installationId,
      owner: r.owner,
      repo: r.repo,
      environment,
      callbackUrl,
      deploymentId: (p.deployment?.id as number) ?? null,
      sha,
      ref: (p.deployment?.ref as string) ?? null,
      prNumbers: ((p.pull_requests ?? []) as { number: number }[]).map((x) => x.number),
    });
    return { repo: `${r.owner}/${r.repo}`, environment, sha, decision: outcome.answer };
  });

  deploymentStatus = this.wrap('deployment_status', async (ctx, port) => {
    const r = this.repoOf(ctx);
    const status = need(ctx.payload.deployment_status, 'deployment_status');
    const deployment = need(ctx.payload.deployment, 'deployment');
    const counted = await this.s.deployments.recordDeploymentStatus(port, {
      owner: r.owner,
      repo: r.repo,
      deploymentId: need(deployment.id as number, 'deployment.id'),
      environment: (status.environment ?? deployment.environment) as string,
      state: status.state as string,
      sha: deployment.sha as string,
      actor: (deployment.creator?.login as string) ?? null,
    });
    return { repo: `${r.owner}/${r.repo}`, state: status.state, counted };
  });
}
