/**
 * State changes shared by comment commands, the HTTP API, incident-tool webhooks and the scheduler.
 * Each method is synchronous and must run inside `store.tx`: the change, its audit entry and the
 * fan-out it owes are committed together.
 */
import type { Mode, Severity } from '../config/schema.js';
import type { Clock } from '../clock.js';
import type { AuditSource, StoredFreeze, StoredIncident, Store } from '../store/store.js';
import { key } from '../store/store.js';
import type { FanOutPayload } from './fanout.js';

export interface Actor {
  login: string;
  source: AuditSource;
  deliveryId?: string | null;
}

export interface ScopeRef {
  account: string;
  /** null: the whole account */
  repo: string | null;
}

export type StateEvent =
  | { type: 'incident.opened' | 'incident.resolved' | 'incident.closed'; incident: StoredIncident; actor: Actor; note: string }
  | { type: 'freeze.started' | 'freeze.ended'; freeze: StoredFreeze; actor: Actor };

export const incidentId = (id: number): string => `INC-${id}`;
export const scopeName = (s: { account: string; repo: string | null }): string => (s.repo ? `${s.account}/${s.repo}` : s.account);

export class PhaseError extends Error {}
export class NoInstallationError extends Error {}

export class Actions {
  /** events of the last committed changes, for notifications (drained by the caller after commit) */
  readonly events: StateEvent[] = [];

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  private installationFor(account: string, installationId?: number): number {
    const id = installationId ?? this.store.installationOfAccount(account);
    if (id === null || id === undefined) throw new NoInstallationError(`the app is not installed on account ${account}`);
    return id;
  }

  /** Queues the re-evaluation of every open PR in the scope. */
  fanOut(scope: ScopeRef, reason: string, installationId?: number): void {
    const payload: FanOutPayload = {
      installationId: this.installationFor(scope.account, installationId),
      account: key(scope.account),
      repo: scope.repo ? key(scope.repo) : null,
      reason,
    };
    const now = this.clock.now();
    this.store.enqueueJob('fanout', payload, now, now);
  }

  openIncident(scope: ScopeRef, severity: Severity, title: string, actor: Actor, installationId?: number): StoredIncident {
    const inst = this.installationFor(scope.account, installationId);
    const now = this.clock.now();
    const incident = this.store.createIncident({ account: scope.account, repo: scope.repo, severity, title, by: actor.login, source: actor.source, now });
    this.store.audit({ at: now, account: scope.account, repo: scope.repo, actor: actor.login, source: actor.source, action: 'incident.open', target: incidentId(incident.id), reason: title, deliveryId: actor.deliveryId ?? null, incidentId: incident.id, details: { severity } });
    this.fanOut(scope, `${incidentId(incident.id)} opened`, inst);
    this.events.push({ type: 'incident.opened', incident, actor, note: title });
    return incident;
  }

  resolveIncident(id: number, note: string, actor: Actor): StoredIncident {
    const before = this.store.getIncident(id);
    if (!before) throw new PhaseError(`${incidentId(id)} does not exist`);
    const now = this.clock.now();
    if (!this.store.resolveIncident(id, now)) throw new PhaseError(`${incidentId(id)} is ${before.phase}: only an open incident can be resolved`);
    const incident = this.store.getIncident(id)!;
    this.store.audit({ at: now, account: incident.scope.account, repo: incident.scope.repo, actor: actor.login, source: actor.source, action: 'incident.resolve', target: incidentId(id), reason: note, deliveryId: actor.deliveryId ?? null, incidentId: id });
    this.fanOut(incident.scope, `${incidentId(id)} resolved`);
    this.events.push({ type: 'incident.resolved', incident, actor, note });
    return incident;
  }

  closeIncident(id: number, note: string, actor: Actor): StoredIncident {
    const before = this.store.getIncident(id);
    if (!before) throw new PhaseError(`${incidentId(id)} does not exist`);
    const now = this.clock.now();
    if (!this.store.closeIncident(id, now)) throw new PhaseError(`${incidentId(id)} is already closed`);
    const incident = this.store.getIncident(id)!;
    this.store.audit({ at: now, account: incident.scope.account, repo: incident.scope.repo, actor: actor.login, source: actor.source, action: 'incident.close', target: incidentId(id), reason: note, deliveryId: actor.deliveryId ?? null, incidentId: id });
    this.fanOut(incident.scope, `${incidentId(id)} closed`);
    this.events.push({ type: 'incident.closed', incident, actor, note });
    return incident;
  }

  freeze(scope: ScopeRef, mode: Mode, until: number | null, reason: string, actor: Actor, installationId?: number): StoredFreeze {
    const inst = this.installationFor(scope.account, installationId);
    const now = this.clock.now();
    const freeze = this.store.createFreeze({ account: scope.account, repo: scope.repo, mode, reason, by: actor.login, until, source: actor.source, now });
    this.store.audit({ at: now, account: scope.account, repo: scope.repo, actor: actor.login, source: actor.source, action: 'freeze.start', target: `freeze ${freeze.id}`, reason, deliveryId: actor.deliveryId ?? null, details: { mode, until } });
    this.fanOut(scope, `freeze ${freeze.id}`, inst);
    this.events.push({ type: 'freeze.started', freeze, actor });
    return freeze;
  }

  /** Ends one freeze; null when it had already ended. */
  endFreeze(id: number, reason: string, actor: Actor): StoredFreeze | null {
    const now = this.clock.now();
    if (!this.store.endFreeze(id, actor.login, now)) return null;
    const freeze = this.store.getFreeze(id)!;
    this.store.audit({ at: now, account: freeze.scope.account, repo: freeze.scope.repo, actor: actor.login, source: actor.source, action: 'freeze.end', target: `freeze ${id}`, reason, deliveryId: actor.deliveryId ?? null });
    this.fanOut(freeze.scope, `freeze ${id} ended`);
    this.events.push({ type: 'freeze.ended', freeze, actor });
    return freeze;
  }

  /**
   * /unfreeze: ends the scope's manual freezes and the current occurrence of its active windows
   * (passed in by the caller, who knows the config), never an incident.
   */
  unfreeze(scope: ScopeRef, activeWindows: { name: string; start: number; end: number }[], reason: string, actor: Actor, installationId?: number): { freezes: StoredFreeze[]; windows: string[] } {
    const inst = this.installationFor(scope.account, installationId);
    const now = this.clock.now();
    const ended: StoredFreeze[] = [];
    for (const f of this.store.activeFreezesOfScope(scope.account, scope.repo, now)) {
      if (this.store.endFreeze(f.id, actor.login, now)) ended.push(this.store.getFreeze(f.id)!);
    }
    const windows: string[] = [];
    for (const w of activeWindows) {
      if (this.store.suppressWindow({ account: scope.account, repo: scope.repo, window: w.name, start: w.start, end: w.end, by: actor.login, now })) windows.push(w.name);
    }
    this.store.audit({ at: now, account: scope.account, repo: scope.repo, actor: actor.login, source: actor.source, action: 'unfreeze', target: scopeName(scope), reason, deliveryId: actor.deliveryId ?? null, details: { freezes: ended.map((f) => f.id), windows } });
    if (ended.length || windows.length) this.fanOut(scope, 'unfreeze', inst);
    for (const freeze of ended) this.events.push({ type: 'freeze.ended', freeze, actor });
    return { freezes: ended, windows };
  }

  override(account: string, repo: string, number: number, sha: string, reason: string, actor: Actor, installationId?: number): void {
    const now = this.clock.now();
    this.store.createOverride({ account, repo, number, sha, by: actor.login, reason, now });
    this.store.audit({ at: now, account, repo, actor: actor.login, source: actor.source, action: 'override', target: `#${number}@${sha.slice(0, 7)}`, reason, deliveryId: actor.deliveryId ?? null });
    this.gatePullJob(account, repo, number, installationId);
  }

  cancelOverride(account: string, repo: string, number: number, actor: Actor, installationId?: number): boolean {
    const now = this.clock.now();
    if (!this.store.cancelOverride(account, repo, number, now)) return false;
    this.store.audit({ at: now, account, repo, actor: actor.login, source: actor.source, action: 'override.cancel', target: `#${number}`, deliveryId: actor.deliveryId ?? null });
    this.gatePullJob(account, repo, number, installationId);
    return true;
  }

  /** Marks timed freezes whose time is up as ended (the gate already ignores them) and audits it. */
  expireFreezes(): StoredFreeze[] {
    const now = this.clock.now();
    const expired: StoredFreeze[] = [];
    for (const f of this.store.expiredFreezes(now)) {
      if (!this.store.endFreeze(f.id, 'moratorium', f.until ?? now)) continue;
      const freeze = this.store.getFreeze(f.id)!;
      expired.push(freeze);
      this.store.audit({ at: now, account: f.scope.account, repo: f.scope.repo, actor: 'moratorium', source: 'schedule', action: 'freeze.expire', target: `freeze ${f.id}`, reason: 'its time was up' });
      this.events.push({ type: 'freeze.ended', freeze, actor: { login: 'moratorium', source: 'schedule' } });
    }
    return expired;
  }

  private gatePullJob(account: string, repo: string, number: number, installationId?: number): void {
    const now = this.clock.now();
    this.store.enqueueJob('gate-pull', { installationId: this.installationFor(account, installationId), account: key(account), repo: key(repo), number, force: false }, now, now);
  }

  drainEvents(): StateEvent[] {
    return this.events.splice(0, this.events.length);
  }
}
