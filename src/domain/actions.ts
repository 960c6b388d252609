/**
 * State changes shared by comment commands, the HTTP API, incident-tool webhooks and the scheduler.
 * Each method takes the transaction it runs in (`store.transaction(async (tx) => ...)`): the change,
 * its audit entry and the fan-out it owes are committed together. No GitHub I/O in here.
 */
import type { Mode, Severity } from '../config/schema.js';
import type { Clock } from '../clock.js';
import type { Repositories, Transaction } from '../store/contract.js';
import { key, type AuditSource, type StoredFreeze, type StoredIncident } from '../store/records.js';
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

  /**
   * An event of a change made in `tx`: kept once `tx` commits (its afterCommit), never for a
   * transaction that rolled back, and once for one run again after a serialization failure.
   */
  private emit(tx: Repositories, event: StateEvent): void {
    const after = (tx as Partial<Pick<Transaction, 'afterCommit'>>).afterCommit;
    if (typeof after === 'function') after(() => this.events.push(event));
    else this.events.push(event);
  }

  constructor(private readonly clock: Clock) {}

  private async installationFor(tx: Repositories, account: string, installationId?: number): Promise<number> {
    const id = installationId ?? (await tx.installationOfAccount(account));
    if (id === null || id === undefined) throw new NoInstallationError(`the app is not installed on account ${account}`);
    return id;
  }

  /** Queues the re-evaluation of every open PR in the scope. */
  async fanOut(tx: Repositories, scope: ScopeRef, reason: string, installationId?: number): Promise<void> {
    const payload: FanOutPayload = {
      installationId: await this.installationFor(tx, scope.account, installationId),
      account: key(scope.account),
      repo: scope.repo ? key(scope.repo) : null,
      reason,
    };
    const now = this.clock.now();
    await tx.enqueueJob('fanout', payload, now, now);
  }

  async openIncident(tx: Repositories, scope: ScopeRef, severity: Severity, title: string, actor: Actor, installationId?: number): Promise<StoredIncident> {
    const inst = await this.installationFor(tx, scope.account, installationId);
    const now = this.clock.now();
    const incident = await tx.createIncident({ account: scope.account, repo: scope.repo, severity, title, by: actor.login, source: actor.source, now });
    await tx.audit({ at: now, account: scope.account, repo: scope.repo, actor: actor.login, source: actor.source, action: 'incident.open', target: incidentId(incident.id), reason: title, deliveryId: actor.deliveryId ?? null, incidentId: incident.id, details: { severity } });
    await this.fanOut(tx, scope, `${incidentId(incident.id)} opened`, inst);
    this.emit(tx, { type: 'incident.opened', incident, actor, note: title });
    return incident;
  }

  async resolveIncident(tx: Repositories, id: number, note: string, actor: Actor): Promise<StoredIncident> {
    const before = await tx.getIncident(id);
    if (!before) throw new PhaseError(`${incidentId(id)} does not exist`);
    const now = this.clock.now();
    if (!(await tx.resolveIncident(id, now))) throw new PhaseError(`${incidentId(id)} is ${before.phase}: only an open incident can be resolved`);
    const incident = (await tx.getIncident(id))!;
    await tx.audit({ at: now, account: incident.scope.account, repo: incident.scope.repo, actor: actor.login, source: actor.source, action: 'incident.resolve', target: incidentId(id), reason: note, deliveryId: actor.deliveryId ?? null, incidentId: id });
    await this.fanOut(tx, incident.scope, `${incidentId(id)} resolved`);
    this.emit(tx, { type: 'incident.resolved', incident, actor, note });
    return incident;
  }

  async closeIncident(tx: Repositories, id: number, note: string, actor: Actor): Promise<StoredIncident> {
    const before = await tx.getIncident(id);
    if (!before) throw new PhaseError(`${incidentId(id)} does not exist`);
    const now = this.clock.now();
    if (!(await tx.closeIncident(id, now))) throw new PhaseError(`${incidentId(id)} is already closed`);
    const incident = (await tx.getIncident(id))!;
    await tx.audit({ at: now, account: incident.scope.account, repo: incident.scope.repo, actor: actor.login, source: actor.source, action: 'incident.close', target: incidentId(id), reason: note, deliveryId: actor.deliveryId ?? null, incidentId: id });
    await this.fanOut(tx, incident.scope, `${incidentId(id)} closed`);
    this.emit(tx, { type: 'incident.closed', incident, actor, note });
    return incident;
  }

  async freeze(tx: Repositories, scope: ScopeRef, mode: Mode, until: number | null, reason: string, actor: Actor, installationId?: number): Promise<StoredFreeze> {
    const inst = await this.installationFor(tx, scope.account, installationId);
    const now = this.clock.now();
    const freeze = await tx.createFreeze({ account: scope.account, repo: scope.repo, mode, reason, by: actor.login, until, source: actor.source, now });
    await tx.audit({ at: now, account: scope.account, repo: scope.repo, actor: actor.login, source: actor.source, action: 'freeze.start', target: `freeze ${freeze.id}`, reason, deliveryId: actor.deliveryId ?? null, details: { mode, until } });
    await this.fanOut(tx, scope, `freeze ${freeze.id}`, inst);
    this.emit(tx, { type: 'freeze.started', freeze, actor });
    return freeze;
  }

  /** Ends one freeze; null when it had already ended. */
  async endFreeze(tx: Repositories, id: number, reason: string, actor: Actor): Promise<StoredFreeze | null> {
    const now = this.clock.now();
    if (!(await tx.endFreeze(id, actor.login, now))) return null;
    const freeze = (await tx.getFreeze(id))!;
    await tx.audit({ at: now, account: freeze.scope.account, repo: freeze.scope.repo, actor: actor.login, source: actor.source, action: 'freeze.end', target: `freeze ${id}`, reason, deliveryId: actor.deliveryId ?? null });
    await this.fanOut(tx, freeze.scope, `freeze ${id} ended`);
    this.emit(tx, { type: 'freeze.ended', freeze, actor });
    return freeze;
  }

  /**
   * /unfreeze: ends the scope's manual freezes and the current occurrence of its active windows
   * (passed in by the caller, who knows the config), never an incident.
   */
  async unfreeze(tx: Repositories, scope: ScopeRef, activeWindows: { name: string; start: number; end: number }[], reason: string, actor: Actor, installationId?: number): Promise<{ freezes: StoredFreeze[]; windows: string[] }> {
    const inst = await this.installationFor(tx, scope.account, installationId);
    const now = this.clock.now();
    const ended: StoredFreeze[] = [];
    for (const f of await tx.activeFreezesOfScope(scope.account, scope.repo, now)) {
      if (await tx.endFreeze(f.id, actor.login, now)) ended.push((await tx.getFreeze(f.id))!);
    }
    const windows: string[] = [];
    for (const w of activeWindows) {
      if (await tx.suppressWindow({ account: scope.account, repo: scope.repo, window: w.name, start: w.start, end: w.end, by: actor.login, now })) windows.push(w.name);
    }
    await tx.audit({ at: now, account: scope.account, repo: scope.repo, actor: actor.login, source: actor.source, action: 'unfreeze', target: scopeName(scope), reason, deliveryId: actor.deliveryId ?? null, details: { freezes: ended.map((f) => f.id), windows } });
    if (ended.length || windows.length) await this.fanOut(tx, scope, 'unfreeze', inst);
    for (const freeze of ended) this.emit(tx, { type: 'freeze.ended', freeze, actor });
    return { freezes: ended, windows };
  }

  /**
   * Records an override of the PR's head commit `sha`: in force at once when it needs one person
   * (`approvalsNeeded` 1, the default), else pending until enough others approve it.
   */
  async override(tx: Repositories, account: string, repo: string, number: number, sha: string, reason: string, actor: Actor, installationId?: number, approvalsNeeded = 1): Promise<void> {
    const now = this.clock.now();
    await tx.createOverride({ account, repo, number, sha, by: actor.login, reason, now, approvalsNeeded });
    const details = approvalsNeeded > 1 ? { approvalsNeeded } : undefined;
    await tx.audit({ at: now, account, repo, actor: actor.login, source: actor.source, action: approvalsNeeded > 1 ? 'override.request' : 'override', target: `#${number}@${sha.slice(0, 7)}`, reason, deliveryId: actor.deliveryId ?? null, ...(details ? { details } : {}) });
    await this.gatePullJob(tx, account, repo, number, installationId);
  }

  /** Records `actor`'s approval of the PR's pending override of `sha`; false when there was none to approve. */
  async approveOverride(tx: Repositories, account: string, repo: string, number: number, sha: string, inForce: boolean, actor: Actor, installationId?: number): Promise<boolean> {
    const now = this.clock.now();
    if (!(await tx.approveOverride({ account, repo, number, sha, login: actor.login, now }))) return false;
    await tx.audit({ at: now, account, repo, actor: actor.login, source: actor.source, action: 'override.approve', target: `#${number}@${sha.slice(0, 7)}`, deliveryId: actor.deliveryId ?? null, details: { inForce } });
    await this.gatePullJob(tx, account, repo, number, installationId);
    return true;
  }

  async cancelOverride(tx: Repositories, account: string, repo: string, number: number, actor: Actor, installationId?: number): Promise<boolean> {
    const now = this.clock.now();
    if (!(await tx.cancelOverride(account, repo, number, now))) return false;
    await tx.audit({ at: now, account, repo, actor: actor.login, source: actor.source, action: 'override.cancel', target: `#${number}`, deliveryId: actor.deliveryId ?? null });
    await this.gatePullJob(tx, account, repo, number, installationId);
    return true;
  }

  /** Marks timed freezes whose time is up as ended (the gate already ignores them) and audits it. */
  async expireFreezes(tx: Repositories): Promise<StoredFreeze[]> {
    const now = this.clock.now();
    const expired: StoredFreeze[] = [];
    for (const f of await tx.expiredFreezes(now)) {
      if (!(await tx.endFreeze(f.id, 'moratorium', f.until ?? now))) continue;
      const freeze = (await tx.getFreeze(f.id))!;
      expired.push(freeze);
      await tx.audit({ at: now, account: f.scope.account, repo: f.scope.repo, actor: 'moratorium', source: 'schedule', action: 'freeze.expire', target: `freeze ${f.id}`, reason: 'its time was up' });
      this.emit(tx, { type: 'freeze.ended', freeze, actor: { login: 'moratorium', source: 'schedule' } });
    }
    return expired;
  }

  private async gatePullJob(tx: Repositories, account: string, repo: string, number: number, installationId?: number): Promise<void> {
    const now = this.clock.now();
    await tx.enqueueJob('gate-pull', { installationId: await this.installationFor(tx, account, installationId), account: key(account), repo: key(repo), number, force: false }, now, now);
  }

  drainEvents(): StateEvent[] {
    return this.events.splice(0, this.events.length);
  }
}
