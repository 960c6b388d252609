/**
 * Installation events: record the installation and its repositories, and gate at once what a
 * freeze may already cover (a new or unsuspended installation, a repository added to one).
 */
import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import type { FanOutQueue } from './ports.js';

export interface InstallationDeps {
  store: Pick<Store, 'deleteInstallation' | 'upsertInstallation' | 'deleteRepo'>;
  clock: Clock;
  fanOuts: FanOutQueue;
}

export class Installations {
  constructor(private readonly deps: InstallationDeps) {}

  onInstallation(i: { id: number; account: string; accountType: string; action: string }): void {
    const { store, clock, fanOuts } = this.deps;
    if (i.action === 'deleted') {
      store.deleteInstallation(i.id);
      return;
    }
    store.upsertInstallation(i.id, i.account, i.accountType, i.action === 'suspend', clock.now());
    if (i.action === 'created' || i.action === 'unsuspend' || i.action === 'new_permissions_accepted') fanOuts.queueFanOut(i.id, i.account, null, `installation ${i.action}`);
  }

  /** Repositories added while a freeze is on are gated at once. */
  onRepositories(i: { id: number; account: string; accountType: string; added: string[]; removed: string[] }): void {
    const { store, clock, fanOuts } = this.deps;
    store.upsertInstallation(i.id, i.account, i.accountType, false, clock.now());
    for (const repo of i.removed) store.deleteRepo(i.account, repo);
    for (const repo of i.added) fanOuts.queueFanOut(i.id, i.account, repo, 'repository added');
  }
}
