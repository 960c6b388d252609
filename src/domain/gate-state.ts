/** Assembles the gate's inputs from the store: the only bridge between SQL rows and the pure core. */
import type { Config } from '../config/schema.js';
import type { LoadedConfig } from '../config/load.js';
import type { Change, GateState, Scope } from '../gate/types.js';
import type { Repositories } from '../store/contract.js';
import { key } from '../store/records.js';

const inScope = (scope: Scope, repo: string): boolean => scope.repo === null || scope.repo === key(repo);

/** What cadence counts for this change: merges (environment '') or deployments of one environment. */
export function countedDeploys(config: Config, change: Change): { kind: 'merge' | 'deployment'; environment: string } {
  const counts = config.cadence?.counts ?? 'merges';
  if (counts === 'deployments') return { kind: 'deployment', environment: change.kind === 'deployment' ? change.environment : '' };
  return { kind: 'merge', environment: '' };
}

/** How far back deploys matter: the longest `per` or `min_interval` in force. */
export function lookback(config: Config): number {
  let ms = 0;
  for (const c of [config.cadence, config.incidents.recovery.cadence]) {
    if (!c) continue;
    ms = Math.max(ms, c.perMs, c.minIntervalMs ?? 0);
  }
  return ms;
}

export async function gateStateFor(store: Repositories, loaded: LoadedConfig, change: Change, now: number): Promise<GateState> {
  const { account, repo } = change;
  const counted = countedDeploys(loaded.config, change);
  const back = lookback(loaded.config);
  return {
    freezes: (await store.activeFreezes(account, now)).filter((f) => inScope(f.scope, repo)),
    incidents: (await store.activeIncidents(account)).filter((i) => inScope(i.scope, repo)),
    windowSuppressions: (await store.liveSuppressions(account, now)).filter((s) => inScope(s.scope, repo)),
    override: change.kind === 'pull_request' ? await store.activeOverride(account, repo, change.number) : null,
    deploys: back > 0 ? (await store.deployTimes(account, repo, counted.kind, counted.environment, now - back)) : [],
    configProblems: loaded.problems,
    // problems with a valid (or absent) default-branch config are those of a PR's own version of the
    // file: the gate then ran on the default branch's config, which is neither fallback
    ...(loaded.problems.length && (loaded.source === 'last-valid' || loaded.source === 'defaults') ? { configFallback: loaded.source } : {}),
  };
}
