/**
 * Installation events: record the installation and its repositories, and gate at once what a
 * freeze may already cover (a new or unsuspended installation, a repository added to one).
 */
import type { Clock } from '../clock.js';
import type { AsyncStore } from '../store/contract.js';
import type { FanOutQueue } from './ports.js';

export interface InstallationDeps {
  store: Pick<AsyncStore, 'deleteInstallation' | 'upsertInstallation' | 'deleteRepo'>;
  clock: Clock;
  fanOuts: FanOutQueue;
}

export class Installations {
  constructor(private readonly deps: InstallationDeps) {}

  async onInstallation(i: { id: number; account: string; accountType: string; action: string }): Promise<void> {
    const { store, clock, fanOuts } = this.deps;
    if (i.action === 'deleted') {
      await store.deleteInstallation(i.id);
      return;
    }
    await store.upsertInstallation(i.id, i.account, i.accountType, i.action === 'suspend', clock.now());
    if (i.action === 'created' || i.action === 'unsuspend' || i.action === 'new_permissions_accepted') await fanOuts.queueFanOut(i.id, i.account, null, `installation ${i.action}`);
  }

  /** Repositories added while a freeze is on are gated at once. */
  async onRepositories(i: { id: number; account: string; accountType: string; added: string[]; removed: string[] }): Promise<void> {
    const { store, clock, fanOuts } = this.deps;
    await store.upsertInstallation(i.id, i.account, i.accountType, false, clock.now());
    for (const repo of i.removed) await store.deleteRepo(i.account, repo);
    for (const repo of i.added) await fanOuts.queueFanOut(i.id, i.account, repo, 'repository added');
  }
}
