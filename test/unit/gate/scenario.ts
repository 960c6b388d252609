/**
 * Scenario-named fixtures for the gate: `scenario({ freezes: [freeze({ mode: 'all' })], labels: [...] })`
 * builds a whole GateInput with sensible defaults (a PR into main, default config, nothing active).
 */
import { configSchema, type Config } from '../../../src/config/schema.js';
import type {
  DeploymentChange,
  FreezeState,
  GateInput,
  GateState,
  IncidentState,
  LabelState,
  OverrideState,
  PullRequestChange,
  WindowSuppression,
} from '../../../src/gate/types.js';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** Wednesday 2026-06-10 12:00 UTC */
export const NOW = Date.UTC(2026, 5, 10, 12, 0);
export const HEAD = 'c0ffee1234567890c0ffee1234567890c0ffee12';
export const OLD_HEAD = 'deadbeef00000000deadbeef00000000deadbeef';

export function config(raw: Record<string, unknown> = {}): Config {
  return configSchema.parse(raw);
}

let nextId = 100;

export function freeze(over: Partial<FreezeState> & { repo?: string | null } = {}): FreezeState {
  const { repo, ...rest } = over;
  return {
    id: nextId++,
    scope: { account: 'acme', repo: repo === undefined ? 'api' : repo },
    mode: 'features',
    reason: 'release prep',
    createdBy: 'alice',
    createdAt: NOW - HOUR,
    until: null,
    ...rest,
  };
}

export function incident(over: Partial<IncidentState> & { repo?: string | null } = {}): IncidentState {
  const { repo, ...rest } = over;
  const phase = rest.phase ?? 'open';
  return {
    id: 3,
    severity: 'sev1',
    title: 'API latency',
    phase,
    scope: { account: 'acme', repo: repo === undefined ? null : repo },
    openedAt: NOW - 2 * HOUR,
    openedBy: 'carol',
    resolvedAt: phase === 'open' ? null : NOW - HOUR,
    ...rest,
  };
}

export function label(name: string, by: string | null = 'alice', authorized: boolean | null = true): LabelState {
  return { name, addedBy: by, addedByAuthorized: authorized };
}

export function override(over: Partial<OverrideState> = {}): OverrideState {
  return { sha: HEAD, by: 'dave', reason: 'customer escalation', createdAt: NOW - MINUTE, ...over };
}

export function suppression(window: string, occurrenceStart: number): WindowSuppression {
  return { scope: { account: 'acme', repo: 'api' }, window, occurrenceStart };
}

export interface Scenario {
  /** raw config (as from YAML), parsed with the schema; or an already parsed one */
  config?: Record<string, unknown>;
  parsedConfig?: Config;
  now?: number;
  freezes?: FreezeState[];
  incidents?: IncidentState[];
  windowSuppressions?: WindowSuppression[];
  override?: OverrideState | null;
  deploys?: number[];
  configProblems?: GateState['configProblems'];
  configFallback?: GateState['configFallback'];
  /** PR fields (ignored with `deployment`) */
  pr?: Partial<PullRequestChange>;
  labels?: LabelState[];
  /** gate a deployment instead of a PR */
  deployment?: Partial<DeploymentChange>;
}

export function scenario(s: Scenario = {}): GateInput {
  const cfg = s.parsedConfig ?? config(s.config);
  const state: GateState = {
    freezes: s.freezes ?? [],
    incidents: s.incidents ?? [],
    windowSuppressions: s.windowSuppressions ?? [],
    override: s.override ?? null,
    deploys: s.deploys ?? [],
    configProblems: s.configProblems ?? [],
    ...(s.configFallback !== undefined ? { configFallback: s.configFallback } : {}),
  };
  const change =
    s.deployment !== undefined
      ? ({
          kind: 'deployment',
          account: 'acme',
          repo: 'api',
          environment: 'production',
          sha: HEAD,
          hotfix: { is: false, why: 'no merged pull request is a hotfix' },
          overridden: false,
          ...s.deployment,
        } satisfies DeploymentChange)
      : ({
          kind: 'pull_request',
          account: 'acme',
          repo: 'api',
          defaultBranch: 'main',
          number: 42,
          baseRef: 'main',
          headRef: 'feature/search',
          headSha: HEAD,
          headInRepo: true,
          labels: s.labels ?? [],
          ...s.pr,
        } satisfies PullRequestChange);
  return { config: cfg, state, change, now: s.now ?? NOW };
}

/** A hotfix PR (authorised label). */
export const HOTFIX_LABELS = [label('hotfix', 'alice', true)];
