/**
 * Loads `.github/moratorium.yml` through Probot's config plugin (so `_extends` and the account's
 * `.github` repository work), validates it, and caches it per repository for at most five minutes.
 * A push to a default branch seen by any replica drops the cached config on all of them, through
 * the store's notifications (`config_changed`: LISTEN/NOTIFY on PostgreSQL).
 * "Missing", "could not load" and "invalid" are distinct outcomes, each reported.
 */
import type { Clock } from '../clock.js';
import type { GitHubPort, RepoRef } from '../github/port.js';
import type { AsyncStore } from '../store/contract.js';
import { key } from '../store/records.js';
import { DEFAULT_CONFIG, parseConfig, type Config, type ConfigProblem } from './schema.js';

export const CONFIG_TTL_MS = 5 * 60_000;
/** the store topic a config change is notified on, to every replica */
export const CONFIG_TOPIC = 'config_changed';

export interface LoadedConfig {
  config: Config;
  /** problems of the file as it is now (the gate then runs on the last valid config or the defaults) */
  problems: ConfigProblem[];
  source: 'file' | 'missing' | 'last-valid' | 'defaults';
}

export class ConfigUnavailableError extends Error {
  constructor(message: string) {
    super(`configuration could not be loaded: ${message}`);
  }
}

interface Entry {
  loaded: LoadedConfig;
  at: number;
  /**
   * the repository's `pushed_at` when its own file (or its lack of one) was read: while the listing
   * shows the same, the entry stands past the TTL (a repository without a file of its own still
   * follows the account's `.github`, which is read again on its own TTL)
   */
  version: string | null;
  viaAccount: boolean;
}

export class ConfigService {
  private readonly cache = new Map<string, Entry>();

  private unlisten: (() => Promise<void>) | null = null;
  /** counts invalidations */
  private generation = 0;

  private clear(): void {
    this.generation++;
    this.cache.clear();
  }

  constructor(
    private readonly store: AsyncStore,
    private readonly clock: Clock,
  ) {}

  /**
   * Listens for config changes seen by other replicas. When the listening connection was lost and
   * is back, changes notified meanwhile are unknown: the whole cache is dropped.
   */
  async start(): Promise<void> {
    if (this.unlisten) return;
    this.unlisten = await this.store.listen(
      CONFIG_TOPIC,
      (payload) => {
        try {
          const { account, repo } = JSON.parse(payload) as { account?: unknown; repo?: unknown };
          if (typeof account === 'string' && typeof repo === 'string') this.invalidate(account, repo);
          else this.clear();
        } catch {
          this.clear();
        }
      },
      { onResync: () => this.clear() },
    );
  }

  async stop(): Promise<void> {
    const u = this.unlisten;
    this.unlisten = null;
    await u?.();
  }

  /**
   * The config of `repo` (of the whole account, for `.github`) changed: dropped here at once and,
   * through the store, on every other replica. Throws when the store cannot notify (the webhook is
   * then answered 5xx and can be redelivered).
   */
  async changed(account: string, repo: string): Promise<void> {
    this.invalidate(account, repo);
    await this.store.notify(CONFIG_TOPIC, JSON.stringify({ account: key(account), repo: key(repo) }));
  }

  /**
   * The config that governs `ref`. Throws ConfigUnavailableError when GitHub cannot be asked and
   * nothing is known. `ref.pushedAt` (a repository as GitHub's listing gave it): a file read while
   * the repository had the same `pushed_at` is not read again (no push, no change).
   */
  async get(port: GitHubPort, ref: RepoRef & { pushedAt?: string | null }): Promise<LoadedConfig> {
    const cacheKey = `${key(ref.owner)}/${key(ref.repo)}`;
    const now = this.clock.now();
    const hit = this.cache.get(cacheKey);
    const version = ref.pushedAt ?? null;
    // both versions known: they decide (a push moved pushed_at: read again, even within the TTL)
    const fresh = hit && (version !== null && hit.version !== null ? hit.version === version : now - hit.at < CONFIG_TTL_MS);
    if (hit && fresh) {
      return hit.viaAccount && now - hit.at >= CONFIG_TTL_MS ? this.getAccount(port, ref.owner) : hit.loaded;
    }

    const isAccountRepo = key(ref.repo) === '.github';
    // a change notified while this read is under way: what it read may be the old file, so it is not cached
    const generation = this.generation;
    const fetched = await port.fetchConfig(ref, { fallback: false });
    let loaded: LoadedConfig;
    // what was read is the repository's own (no `_extends` elsewhere): it holds while `pushed_at` does
    const own = fetched.kind !== 'error' && (fetched.kind !== 'found' || fetched.own === true);
    let viaAccount = false;
    switch (fetched.kind) {
      case 'missing':
        viaAccount = !isAccountRepo;
        // no file of its own: the account's `.github` repository's, fetched once per account
        loaded = isAccountRepo ? { config: DEFAULT_CONFIG, problems: [], source: 'missing' } : await this.getAccount(port, ref.owner);
        break;
      case 'found': {
        const parsed = parseConfig(fetched.data);
        if (parsed.ok) {
          loaded = { config: parsed.config, problems: [], source: 'file' };
          await this.rememberValid(ref, fetched.data);
        } else {
          loaded = (await this.fallback(ref, parsed.problems));
        }
        break;
      }
      case 'unparsable':
        loaded = (await this.fallback(ref, [{ path: '(file)', message: fetched.message }]));
        break;
      case 'error': {
        // the last decision stands: use what we knew rather than guessing
        if (hit) return hit.loaded;
        const stored = await this.lastValid(ref);
        if (stored) return { config: stored, problems: [], source: 'last-valid' };
        throw new ConfigUnavailableError(fetched.message);
      }
    }
    if (generation === this.generation) this.cache.set(cacheKey, { loaded, at: now, version: own ? version : null, viaAccount });
    return loaded;
  }

  /** The account's own config (its `.github` repository), which rules account-scoped actions. */
  async getAccount(port: GitHubPort, account: string): Promise<LoadedConfig> {
    return this.get(port, { owner: account, repo: '.github' });
  }

  /** A push to the default branch of a repository drops its cache; of `.github`, the whole account's. */
  invalidate(account: string, repo: string): void {
    this.generation++;
    const prefix = `${key(account)}/`;
    if (key(repo) === '.github') {
      for (const k of this.cache.keys()) if (k.startsWith(prefix)) this.cache.delete(k);
    } else {
      this.cache.delete(`${prefix}${key(repo)}`);
    }
  }

  private async rememberValid(ref: RepoRef, raw: unknown): Promise<void> {
    if (await this.store.getRepo(ref.owner, ref.repo)) await this.store.setLastValidConfig(ref.owner, ref.repo, JSON.stringify(raw ?? {}));
  }

  private async lastValid(ref: RepoRef): Promise<Config | null> {
    const json = (await this.store.getRepo(ref.owner, ref.repo))?.lastValidConfig;
    if (!json) return null;
    const parsed = parseConfig(JSON.parse(json));
    return parsed.ok ? parsed.config : null;
  }

  private async fallback(ref: RepoRef, problems: ConfigProblem[]): Promise<LoadedConfig> {
    const last = await this.lastValid(ref);
    return last ? { config: last, problems, source: 'last-valid' } : { config: DEFAULT_CONFIG, problems, source: 'defaults' };
  }
}
