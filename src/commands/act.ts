/**
 * "Act from the dashboard": a signed-in person opens, resolves or closes an incident, or freezes or
 * unfreezes a repository or the account. Exactly the authority the same comment command needs
 * (`permissions` of the configuration that governs the scope, asked of GitHub through the
 * installation for that login: a repository action on that repository, an account action with the
 * account configuration's permissions on the account's `.github` repository), then the same state
 * changes as the command (src/domain/actions.ts), audited with source `dashboard` and the login, and
 * fanned out like a command. Anything refused or invalid changes nothing.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { ConfigService, LoadedConfig } from '../config/load.js';
import type { Config, Mode, Severity } from '../config/schema.js';
import { Actions, NoInstallationError, PhaseError, incidentId, scopeName, type Actor } from '../domain/actions.js';
import type { PortFactory } from '../domain/ports.js';
import type { GitHubPort, RepoRef } from '../github/port.js';
import type { AsyncStore } from '../store/contract.js';
import { key, type StoredIncident } from '../store/records.js';
import { occurrencesAt } from '../time/windows.js';
import { holds, type AuthorityAnswer } from './authorize.js';

export type DashboardAction =
  | { kind: 'incident-open'; account: string; repo: string | null; severity: Severity; title: string }
  | { kind: 'incident-resolve' | 'incident-close'; id: number; note: string }
  | { kind: 'freeze'; account: string; repo: string | null; mode: Mode; until: number | null; reason: string }
  | { kind: 'unfreeze'; account: string; repo: string | null; reason: string };

export type ActOutcome = { ok: true; message: string } | { ok: false; status: 400 | 403 | 404 | 409 | 503; message: string; permission?: string };

type PermissionKey = 'freeze' | 'lift' | 'incident';

const PERMISSION: Record<DashboardAction['kind'], PermissionKey> = {
  'incident-open': 'incident',
  'incident-resolve': 'incident',
  'incident-close': 'lift',
  freeze: 'freeze',
  unfreeze: 'lift',
};

/** The current occurrences of a scope's windows that `/unfreeze` ends (those not already lifted). */
export async function windowsToLift(store: Pick<AsyncStore, 'liveSuppressions'>, config: Config, account: string, repo: string | null, now: number): Promise<{ name: string; start: number; end: number }[]> {
  const suppressed = await store.liveSuppressions(account, now);
  const scopeRepo = repo === null ? null : key(repo);
  const out: { name: string; start: number; end: number }[] = [];
  for (const w of config.windows) {
    for (const o of occurrencesAt(w.plan, now)) {
      if (suppressed.some((s) => s.window === w.name && s.occurrenceStart === o.start && s.scope.repo === scopeRepo)) continue;
      out.push({ name: w.name, start: o.start, end: o.end });
    }
  }
  return out;
}

/** "a", "a or b", "a, b or c" */
const orList = (items: string[]): string => (items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`);

/** What a refused check found, in plain text (the page escapes it), naming only what was checked. */
export function refusalFacts(answer: AuthorityAnswer, owner: string, where: string): string {
  const facts: string[] = [];
  if (answer.role !== null) facts.push(answer.role === 'none' ? `you have no role on ${where}` : `your role on ${where} is ${answer.role}`);
  const { logins, teams, foreignTeams } = answer.checked;
  if (logins.length) facts.push(`you are not ${orList(logins.map((l) => `@${l}`))}`);
  if (teams.length) facts.push(`you are not an active member of team ${orList(teams.map((t) => `@${t}`))}`);
  if (foreignTeams.length) facts.push(`team ${orList(foreignTeams.map((t) => `@${t}`))} ${foreignTeams.length === 1 ? 'is' : 'are'} not of ${owner}, so ${foreignTeams.length === 1 ? 'it does' : 'they do'} not count`);
  return facts.length ? facts.join('; ') : 'nothing in it matched you';
}

export interface DashboardActsDeps {
  store: AsyncStore;
  configs: ConfigService;
  actions: Actions;
  ports: PortFactory;
  clock: Clock;
  log: Logger;
  /** after a committed change: run owed jobs (the fan-out) now and announce the change */
  committed(): void;
}

export class DashboardActs {
  constructor(private readonly d: DashboardActsDeps) {}

  async run(login: string, action: DashboardAction): Promise<ActOutcome> {
    const { store, clock } = this.d;
    let account: string;
    let repo: string | null;
    let incident: StoredIncident | null = null;
    if (action.kind === 'incident-resolve' || action.kind === 'incident-close') {
      incident = await store.getIncident(action.id);
      if (!incident) return { ok: false, status: 404, message: `${incidentId(action.id)} does not exist.` };
      if (incident.phase === 'closed' || (action.kind === 'incident-resolve' && incident.phase !== 'open')) {
        return { ok: false, status: 409, message: `${incidentId(action.id)} is ${incident.phase}: ${action.kind === 'incident-resolve' ? 'only an open incident can be resolved' : 'it is already closed'}. Nothing was changed.` };
      }
      account = incident.scope.account;
      repo = incident.scope.repo;
    } else {
      const scoped = action as Extract<DashboardAction, { account: string }>;
      account = scoped.account;
      repo = scoped.repo;
    }
    const installationId = await store.installationOfAccount(account);
    if (installationId === null) return { ok: false, status: 404, message: `The app is not installed on account ${account}. Nothing was changed.` };
    if (repo !== null && !(await store.getRepo(account, repo))) {
      return { ok: false, status: 404, message: `Repository ${key(account)}/${key(repo)} is not known to Moratorium (not in the installation, or not listed yet). Nothing was changed.` };
    }
    const scope = { account, repo };
    const ref: RepoRef = { owner: account, repo: repo ?? '.github' };
    const permissionKey = PERMISSION[action.kind];
    const configName = repo ? `${key(account)}/${key(repo)}'s configuration` : `the account's configuration (${key(account)}/.github)`;
    const permission = `the \`${permissionKey}\` permission of ${configName}`;

    let port: GitHubPort;
    let loaded: LoadedConfig;
    try {
      port = await this.d.ports(installationId);
      loaded = repo ? await this.d.configs.get(port, ref) : await this.d.configs.getAccount(port, account);
    } catch (error) {
      this.d.log.warn({ event: 'dashboard-action', err: error }, 'configuration could not be loaded for a dashboard action');
      return { ok: false, status: 503, message: `Refused: ${permission} could not be read from GitHub just now, so nothing was changed. Try again shortly.`, permission };
    }
    const rule = loaded.config.permissions[permissionKey];
    const answer = await holds(port, ref, login, rule, account);
    if (answer.error) {
      this.d.log.warn({ event: 'dashboard-action', login, err: answer.error }, 'authority check failed');
      return { ok: false, status: 503, message: 'Refused: your permission could not be checked with GitHub just now, so nothing was changed. Try again shortly.', permission };
    }
    if (!answer.allowed) {
      const where = repo ? `${key(account)}/${key(repo)}` : `${key(account)}/.github`;
      this.d.log.info({ event: 'dashboard-action', login, action: action.kind, scope: scopeName(scope), allowed: false }, 'dashboard action refused');
      return { ok: false, status: 403, message: `Refused: this needs ${answer.needed} (${permission}); ${refusalFacts(answer, account, where)}. Nothing was changed.`, permission };
    }

    const now = clock.now();
    const windows = action.kind === 'unfreeze' ? await windowsToLift(store, loaded.config, account, repo, now) : [];
    const actor: Actor = { login, source: 'dashboard' };
    const what = repo ? `${key(account)}/${key(repo)}` : `every repository of ${key(account)}`;
    try {
      const message = await store.transaction(async (tx): Promise<string> => {
        switch (action.kind) {
          case 'incident-open': {
            const i = await this.d.actions.openIncident(tx, scope, action.severity, action.title, actor, installationId);
            const freezes = loaded.config.incidents.freeze.includes(action.severity);
            return `Opened ${incidentId(i.id)} (${i.severity}) "${i.title}" for ${what}. ${freezes ? 'Feature PRs are blocked until it is closed; hotfixes still flow.' : 'Its severity does not freeze anything (incidents.freeze).'}`;
          }
          case 'incident-resolve': {
            const i = await this.d.actions.resolveIncident(tx, incident!.id, action.note, actor);
            return `${incidentId(i.id)} resolved: service restored, recovery begins. The moratorium stays until it is closed.`;
          }
          case 'incident-close': {
            const i = await this.d.actions.closeIncident(tx, incident!.id, action.note, actor);
            return `${incidentId(i.id)} closed: its moratorium has ended.`;
          }
          case 'freeze': {
            const f = await this.d.actions.freeze(tx, scope, action.mode, action.until, action.reason, actor, installationId);
            return `Froze ${what} (freeze ${f.id}, ${f.mode === 'all' ? 'all changes' : 'hotfixes still flow'}) ${f.until ? `until ${new Date(f.until).toISOString()}` : 'until lifted'}.`;
          }
          case 'unfreeze': {
            const r = await this.d.actions.unfreeze(tx, scope, windows, action.reason, actor, installationId);
            const ended = [...r.freezes.map((f) => `freeze ${f.id}`), ...r.windows.map((w) => `the current occurrence of window "${w}"`)];
            return ended.length ? `Ended ${ended.join(', ')} for ${what}.` : `There was no manual freeze or active window to end for ${what}.`;
          }
        }
      });
      this.d.committed();
      this.d.log.info({ event: 'dashboard-action', login, action: action.kind, scope: scopeName(scope), allowed: true }, 'dashboard action done');
      return { ok: true, message };
    } catch (error) {
      if (error instanceof PhaseError) return { ok: false, status: 409, message: `${error.message}. Nothing was changed.` };
      if (error instanceof NoInstallationError) return { ok: false, status: 404, message: `${error.message}. Nothing was changed.` };
      throw error;
    }
  }
}
