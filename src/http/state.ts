/**
 * What the API's GET state and the dashboard show for an account: active freezes, incidents,
 * windows (active and next), cadence use per repository and whether each repository requires the
 * check. Read from the store only (no GitHub request): each repository's configuration is the last
 * valid one the app saw (`repos.last_valid_config`), or the defaults when it has seen none.
 */
import { DEFAULT_CONFIG, parseConfig, type Config } from '../config/schema.js';
import { formatDuration } from '../time/duration.js';
import { incidentId } from '../domain/actions.js';
import { lookback } from '../domain/gate-state.js';
import { evaluateCadence, type CadenceLimits } from '../gate/cadence.js';
import { nextOccurrences, occurrencesAt } from '../time/windows.js';
import type { Repositories } from '../store/contract.js';
import type { RepoRecord, StoredFreeze, StoredIncident } from '../store/records.js';
import { key } from '../store/records.js';

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());
const DAY = 86_400_000;

export interface FreezeJson {
  id: number;
  account: string;
  repo: string | null;
  mode: string;
  reason: string;
  createdBy: string;
  createdAt: string;
  until: string | null;
  endedAt: string | null;
  endedBy: string | null;
  source: string;
}

export interface IncidentJson {
  id: number;
  key: string;
  severity: string;
  title: string;
  phase: string;
  account: string;
  repo: string | null;
  openedAt: string;
  openedBy: string;
  resolvedAt: string | null;
  closedAt: string | null;
  source: string;
  /** the incident tools' own ids, when one of them opened it */
  external: { source: string; id: string }[];
}

export function freezeJson(f: StoredFreeze): FreezeJson {
  return {
    id: f.id,
    account: f.scope.account,
    repo: f.scope.repo,
    mode: f.mode,
    reason: f.reason,
    createdBy: f.createdBy,
    createdAt: iso(f.createdAt)!,
    until: iso(f.until),
    endedAt: iso(f.endedAt),
    endedBy: f.endedBy,
    source: f.source,
  };
}

export async function incidentJson(store: Repositories, i: StoredIncident): Promise<IncidentJson> {
  return {
    id: i.id,
    key: incidentId(i.id),
    severity: i.severity,
    title: i.title,
    phase: i.phase,
    account: i.scope.account,
    repo: i.scope.repo,
    openedAt: iso(i.openedAt)!,
    openedBy: i.openedBy,
    resolvedAt: iso(i.resolvedAt),
    closedAt: iso(i.closedAt),
    source: i.source,
    external: (await store.externalOfIncident(i.id)).map((e) => ({ source: e.source, id: e.externalId })),
  };
}

export interface RepoConfig {
  config: Config;
  /** 'last-valid': the repository's last valid file; 'defaults': none seen yet */
  source: 'last-valid' | 'defaults';
}

export function repoConfig(repo: RepoRecord): RepoConfig {
  if (!repo.lastValidConfig) return { config: DEFAULT_CONFIG, source: 'defaults' };
  try {
    const parsed = parseConfig(JSON.parse(repo.lastValidConfig));
    if (parsed.ok) return { config: parsed.config, source: 'last-valid' };
  } catch {
    // fall through to the defaults
  }
  return { config: DEFAULT_CONFIG, source: 'defaults' };
}

export interface CadenceLimitJson {
  /** normal: `cadence`; recovery: `incidents.recovery.cadence`, in force while an incident of this repository is resolved */
  cadence: 'normal' | 'recovery';
  used: number;
  max: number;
  per: string;
  minInterval: string | null;
  blocked: boolean;
  blockedBy: 'count' | 'interval' | null;
  nextSlot: string | null;
}

export interface CadenceUseJson {
  account: string;
  repo: string;
  counts: 'merges' | 'deployments';
  /** with counts: deployments, the environment counted; null for merges */
  environment: string | null;
  /** deploys counted in the last 24 hours */
  last24h: number;
  lastAt: string | null;
  /** the limits in force now (empty when none is) */
  limits: CadenceLimitJson[];
}

export interface WindowJson {
  account: string;
  repo: string;
  name: string;
  mode: string;
  timezone: string;
  /** the occurrence in force now, if any; `lifted`: ended early with /unfreeze */
  active: { start: string; end: string; lifted: boolean } | null;
  next: { start: string; end: string }[];
}

export interface RepoJson {
  account: string;
  repo: string;
  fullName: string;
  defaultBranch: string | null;
  /** whether a branch rule or protection requires the `moratorium` check (as last checked), null when unknown */
  requiredState: string | null;
  requiredCheckedAt: string | null;
  config: 'last-valid' | 'defaults';
}

export interface AccountState {
  account: string;
  repo: string | null;
  now: string;
  installationId: number | null;
  freezes: FreezeJson[];
  incidents: IncidentJson[];
  windows: WindowJson[];
  cadence: CadenceUseJson[];
  repositories: RepoJson[];
}

const inScope = (scope: { repo: string | null }, repo: string | null): boolean => repo === null || scope.repo === null || scope.repo === key(repo);

export async function cadenceUse(store: Repositories, config: Config, repo: RepoRecord, incidents: StoredIncident[], now: number): Promise<CadenceUseJson[]> {
  const counts = config.cadence?.counts ?? 'merges';
  const environments = counts === 'deployments' ? (config.cadence?.environments ?? ['production']) : [''];
  const recovery =
    config.incidents.recovery.cadence !== null &&
    incidents.some((i) => i.phase === 'resolved' && config.incidents.freeze.includes(i.severity) && inScope(i.scope, repo.repo));
  const back = Math.max(lookback(config), DAY);
  const out: CadenceUseJson[] = [];
  for (const environment of environments) {
    const kind = counts === 'deployments' ? 'deployment' : 'merge';
    const times = await store.deployTimes(repo.account, repo.repo, kind, environment, now - back);
    const limits: CadenceLimitJson[] = [];
    const limit = (cadence: 'normal' | 'recovery', l: CadenceLimits) => {
      const st = evaluateCadence(l, times, now);
      limits.push({
        cadence,
        used: st.used,
        max: st.max,
        per: formatDuration(st.per),
        minInterval: st.minInterval === null ? null : formatDuration(st.minInterval),
        blocked: st.blocked,
        blockedBy: st.blockedBy,
        nextSlot: iso(st.nextSlot),
      });
    };
    if (config.cadence) limit('normal', config.cadence);
    if (recovery && config.incidents.recovery.cadence) limit('recovery', config.incidents.recovery.cadence);
    out.push({
      account: repo.account,
      repo: repo.repo,
      counts,
      environment: counts === 'deployments' ? environment : null,
      last24h: times.filter((t) => t > now - DAY && t <= now).length,
      lastAt: iso(times.length ? times[times.length - 1]! : null),
      limits,
    });
  }
  return out;
}

export async function windowsOf(store: Repositories, config: Config, repo: RepoRecord, now: number, upcoming = 3): Promise<WindowJson[]> {
  const suppressions = (await store.liveSuppressions(repo.account, now)).filter((s) => inScope(s.scope, repo.repo));
  return config.windows.map((w) => {
    const active = occurrencesAt(w.plan, now);
    const first = active[0];
    const last = active[active.length - 1];
    const lifted = active.length > 0 && active.every((o) => suppressions.some((s) => s.window === w.name && s.occurrenceStart === o.start));
    return {
      account: repo.account,
      repo: repo.repo,
      name: w.name,
      mode: w.mode,
      timezone: w.timezone,
      active: first && last ? { start: iso(first.start)!, end: iso(Math.max(...active.map((o) => o.end)))!, lifted } : null,
      next: nextOccurrences(w.plan, now, upcoming).map((o) => ({ start: iso(o.start)!, end: iso(o.end)! })),
    };
  });
}

export function repoJson(repo: RepoRecord, source: RepoConfig['source']): RepoJson {
  return {
    account: repo.account,
    repo: repo.repo,
    fullName: repo.fullName,
    defaultBranch: repo.defaultBranch,
    requiredState: repo.requiredState,
    requiredCheckedAt: iso(repo.requiredCheckedAt),
    config: source,
  };
}

/** The state of an account (or of one repository and its account-wide constraints) at `now`. */
export async function accountState(store: Repositories, account: string, repo: string | null, now: number): Promise<AccountState> {
  const incidents = (await store.activeIncidents(account)).filter((i) => inScope(i.scope, repo));
  const freezes = (await store.activeFreezes(account, now)).filter((f) => inScope(f.scope, repo));
  const repos = (await store.reposOfAccount(account)).filter((r) => repo === null || r.repo === key(repo));
  const windows: WindowJson[] = [];
  const cadence: CadenceUseJson[] = [];
  const repositories: RepoJson[] = [];
  for (const r of repos) {
    const { config, source } = repoConfig(r);
    windows.push(...(await windowsOf(store, config, r, now)));
    cadence.push(...(await cadenceUse(store, config, r, incidents, now)));
    repositories.push(repoJson(r, source));
  }
  return {
    account: key(account),
    repo: repo === null ? null : key(repo),
    now: iso(now)!,
    installationId: await store.installationOfAccount(account),
    freezes: freezes.map(freezeJson),
    incidents: await Promise.all(incidents.map((i) => incidentJson(store, i))),
    windows,
    cadence,
    repositories,
  };
}
