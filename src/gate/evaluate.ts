/**
 * The gate: a pure function of (config, state, change, now). It never reads the clock, does no I/O
 * and mutates nothing it is given (a cron window's plan fills its occurrence memo as it is asked,
 * which changes no answer: src/time/windows.ts). SPEC 2 and 5; the rules are numbered as in the
 * design notes.
 */
import type { Config, Mode, RecoveryCadenceConfig } from '../config/schema.js';
import { formatLong } from '../time/format.js';
import { nextBoundary, occurrencesAt } from '../time/windows.js';
import { isGatedBranch } from './branches.js';
import { evaluateCadence } from './cadence.js';
import { hotfixStatus, type HotfixStatus } from './hotfix.js';
import { overrideStatus, type OverrideStatus } from './override.js';
import { renderSummary, renderTitle, type RenderContext } from './render.js';
import type {
  CadenceReason,
  Change,
  Decision,
  FreezeReason,
  FreezeState,
  GateInput,
  GateState,
  IncidentReason,
  IncidentState,
  OverrideState,
  Reason,
  WindowReason,
} from './types.js';

export function evaluateGate(input: GateInput): Decision {
  const { config, state, change, now } = input;
  const hotfix: HotfixStatus = change.kind === 'pull_request' ? hotfixStatus(config, change) : change.hotfix;

  let override: OverrideState | null = null;
  let staleOverride: OverrideState | null = null;
  let pendingOverride: Extract<OverrideStatus, { state: 'pending' }> | null = null;
  let overridden: boolean;
  if (change.kind === 'pull_request') {
    if (state.override !== null) {
      const status = overrideStatus(state.override, change.headSha, change.author);
      if (status.state === 'in-force') override = status.override;
      else if (status.state === 'pending') pendingOverride = status;
      else if (status.state === 'stale') staleOverride = status.override;
    }
    overridden = override !== null;
  } else {
    overridden = change.overridden;
  }

  const freezingSeverities = config.incidents.freeze;
  const recorded: IncidentState[] = [];
  for (const incident of state.incidents) {
    if (incident.phase === 'closed') continue;
    if (!freezingSeverities.includes(incident.severity)) recorded.push(incident);
  }

  // Rule 1: PRs into branches that are not gated.
  if (change.kind === 'pull_request' && !isGatedBranch(config, change.baseRef, change.defaultBranch)) {
    const ctx: RenderContext = {
      config,
      change,
      now,
      gated: false,
      reasons: [],
      decisive: null,
      blockedUntil: null,
      hotfix,
      overridden,
      override,
      staleOverride,
      pendingOverride,
      passedAsHotfix: false,
      recordedIncidents: recorded,
      configProblems: state.configProblems,
      configFallback: state.configFallback,
    };
    return {
      conclusion: 'success',
      gated: false,
      title: renderTitle(ctx),
      summary: renderSummary(ctx),
      reasons: [],
      decisive: null,
      blockedUntil: null,
      nextChangeAt: null,
      hotfix,
      overridden,
      key: 'success|not-gated|-',
    };
  }

  // (no closures here: this runs 100k times a second, and each closure is an allocation)
  const isHotfix = hotfix.is;
  const reasons: Reason[] = [];
  /** the earliest moment > now at which the decision may change by itself */
  let next = Infinity;

  // Rule 6: incidents.
  let inRecovery = false;
  for (const incident of state.incidents) {
    if (incident.phase === 'closed' || !freezingSeverities.includes(incident.severity)) continue;
    const resolved = incident.phase === 'resolved';
    if (resolved) inRecovery = true;
    const mode = resolved ? config.incidents.recovery.mode : config.incidents.mode;
    reasons.push(incidentReason(incident, mode, modeBlocks(mode, isHotfix) && !overridden));
  }

  // Rule 4: manual freezes.
  for (const freeze of state.freezes) {
    if (freeze.until !== null && freeze.until <= now) continue;
    if (freeze.until !== null && freeze.until < next) next = freeze.until;
    reasons.push(freezeReason(freeze, modeBlocks(freeze.mode, isHotfix) && !overridden));
  }

  // Rule 5: scheduled windows.
  for (const w of config.windows) {
    const boundary = nextBoundary(w.plan, now);
    if (boundary !== null && boundary > now && boundary < next) next = boundary;
    const active = occurrencesAt(w.plan, now);
    let start = Infinity;
    let end = -Infinity;
    for (const occ of active) {
      if (isSuppressed(state, w.name, occ.start)) continue;
      if (occ.start < start) start = occ.start;
      if (occ.end > end) end = occ.end;
    }
    if (end === -Infinity) continue;
    const blocks = modeBlocks(w.mode, isHotfix) && !overridden;
    const reason: WindowReason = {
      key: `window:${w.name}`,
      kind: 'window',
      blocks,
      until: end,
      label: `window "${w.name}"`,
      ends: `at ${formatLong(end, w.timezone)}, or earlier for this occurrence with /unfreeze (lift permission)`,
      window: w.name,
      mode: w.mode,
      start,
      end,
      timezone: w.timezone,
    };
    reasons.push(reason);
  }

  // Rule 7: cadences.
  for (const reason of cadenceReasons(config, change, state.deploys, now, inRecovery, overridden)) {
    if (reason.nextSlot !== null && reason.nextSlot < next) next = reason.nextSlot;
    reasons.push(reason);
  }

  if (reasons.length > 1) reasons.sort(compareReasons);

  // Rule 8: the decision.
  let decisive: Reason | null = null;
  let indefinite = false;
  let latest = -Infinity;
  let passedAsHotfix = false;
  for (const r of reasons) {
    if (r.blocks) {
      if (decisive === null) decisive = r;
      if (r.until === null) indefinite = true;
      else if (r.until > latest) latest = r.until;
    } else if (!overridden && r.kind !== 'cadence' && r.mode === 'features' && isHotfix) {
      passedAsHotfix = true;
    }
  }
  const blocked = decisive !== null;
  const blockedUntil = blocked && !indefinite ? latest : null;
  const conclusion = blocked ? 'failure' : 'success';

  const ctx: RenderContext = {
    config,
    change,
    now,
    gated: true,
    reasons,
    decisive,
    blockedUntil,
    hotfix,
    overridden,
    override,
    staleOverride,
    pendingOverride,
    passedAsHotfix,
    recordedIncidents: recorded,
    configProblems: state.configProblems,
    configFallback: state.configFallback,
  };
  return {
    conclusion,
    gated: true,
    title: renderTitle(ctx),
    summary: renderSummary(ctx),
    reasons,
    decisive,
    blockedUntil,
    nextChangeAt: next === Infinity ? null : next,
    hotfix,
    overridden,
    // a pending override changes the words (who may approve) without changing the conclusion
    key: `${conclusion}|${decisiveKey(decisive)}|${blockedUntil === null ? '-' : blockedUntil}${pendingOverride !== null ? '|override-pending' : ''}`,
  };
}

/** Would a constraint in this mode block the change, overrides aside? */
function modeBlocks(mode: Mode, isHotfix: boolean): boolean {
  return mode === 'all' || !isHotfix;
}

function isSuppressed(state: GateState, window: string, occurrenceStart: number): boolean {
  for (const s of state.windowSuppressions) {
    if (s.window === window && s.occurrenceStart === occurrenceStart) return true;
  }
  return false;
}

/**
 * The decisive reason as the posted-decision key sees it. An incident stays the same reason when it
 * is resolved, but its words change ("in recovery", the recovery mode): its phase and mode count.
 */
function decisiveKey(decisive: Reason | null): string {
  if (decisive === null) return '-';
  return decisive.kind === 'incident' ? `${decisive.key}:${decisive.incident.phase}:${decisive.mode}` : decisive.key;
}

function incidentReason(incident: IncidentState, mode: Mode, blocks: boolean): IncidentReason {
  const resolved = incident.phase === 'resolved';
  return {
    key: `incident:${incident.id}`,
    kind: 'incident',
    blocks,
    until: null,
    label: `${incident.severity} incident INC-${incident.id} "${incident.title}"${resolved ? ' in recovery' : ''}`,
    ends: `when closed with /incident close INC-${incident.id} (lift permission)`,
    incident,
    mode,
  };
}

function freezeReason(freeze: FreezeState, blocks: boolean): FreezeReason {
  const org = freeze.scope.repo === null;
  const unfreeze = org ? '/unfreeze --org' : '/unfreeze';
  return {
    key: `freeze:${freeze.id}`,
    kind: 'freeze',
    blocks,
    until: freeze.until,
    label: `${org ? 'organisation' : 'repository'} freeze by @${freeze.createdBy}`,
    ends:
      freeze.until === null
        ? `until lifted with ${unfreeze} (lift permission)`
        : `at ${formatLong(freeze.until, 'UTC')}, or earlier with ${unfreeze} (lift permission)`,
    freeze,
    mode: freeze.mode,
  };
}

/** Which cadences are in force for this change (rule 7), each evaluated whole. */
function cadenceReasons(
  config: Config,
  change: Change,
  deploys: readonly number[],
  now: number,
  inRecovery: boolean,
  overridden: boolean,
): CadenceReason[] {
  const normal = config.cadence;
  const counts = normal === null ? 'merges' : normal.counts;
  let applies: boolean;
  if (change.kind === 'pull_request') applies = counts === 'merges';
  else applies = counts === 'deployments' && normal !== null && normal.environments.includes(change.environment);
  if (!applies) return [];

  const out: CadenceReason[] = [];
  if (normal !== null) out.push(cadenceReason('normal', normal, deploys, now, overridden));
  const recovery = config.incidents.recovery.cadence;
  if (inRecovery && recovery !== null) out.push(cadenceReason('recovery', recovery, deploys, now, overridden));
  return out;
}

function cadenceReason(
  which: 'normal' | 'recovery',
  limits: RecoveryCadenceConfig,
  deploys: readonly number[],
  now: number,
  overridden: boolean,
): CadenceReason {
  const s = evaluateCadence(limits, deploys, now);
  const name = which === 'normal' ? 'Deploy limit' : 'Deploy limit in recovery';
  const label =
    s.blockedBy === 'interval'
      ? `${name}: ${limits.min_interval} between deploys`
      : `${name}: ${s.used} of ${s.max} in ${limits.per}`;
  return {
    key: `cadence:${which}`,
    kind: 'cadence',
    blocks: s.blocked && !overridden,
    until: s.nextSlot,
    label,
    ends:
      s.nextSlot === null
        ? which === 'normal'
          ? 'always in force (configuration)'
          : 'in force until every incident in recovery is closed'
        : `next slot at ${formatLong(s.nextSlot, 'UTC')}`,
    which,
    used: s.used,
    max: s.max,
    per: s.per,
    nextSlot: s.nextSlot,
    perText: limits.per,
    minInterval: s.minInterval,
    minIntervalText: limits.min_interval ?? null,
    lastDeploy: s.last,
    blockedBy: s.blockedBy,
  };
}

const KIND_RANK = { incident: 0, freeze: 1, window: 2, cadence: 3 } as const;

/** Priority order (rule 8): the first blocking reason in this order is the decisive one. */
export function compareReasons(a: Reason, b: Reason): number {
  const k = KIND_RANK[a.kind] - KIND_RANK[b.kind];
  if (k !== 0) return k;
  if (a.kind === 'incident' && b.kind === 'incident') {
    if (a.incident.severity !== b.incident.severity) return a.incident.severity < b.incident.severity ? -1 : 1;
    return a.incident.id - b.incident.id;
  }
  if (a.kind === 'freeze' && b.kind === 'freeze') {
    if (a.mode !== b.mode) return a.mode === 'all' ? -1 : 1;
    if (a.until !== b.until) {
      if (a.until === null) return -1;
      if (b.until === null) return 1;
      return b.until - a.until;
    }
    return a.freeze.id - b.freeze.id;
  }
  if (a.kind === 'window' && b.kind === 'window') {
    if (a.end !== b.end) return b.end - a.end;
    if (a.mode !== b.mode) return a.mode === 'all' ? -1 : 1;
    return a.window < b.window ? -1 : a.window > b.window ? 1 : 0;
  }
  if (a.kind === 'cadence' && b.kind === 'cadence') {
    const as = a.nextSlot ?? -Infinity;
    const bs = b.nextSlot ?? -Infinity;
    if (as !== bs) return bs > as ? 1 : -1;
    return a.which === b.which ? 0 : a.which === 'normal' ? -1 : 1;
  }
  return 0;
}
