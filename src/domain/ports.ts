/**
 * What the domain needs from its surroundings, each as a small interface the domain owns: the
 * composition root (src/main.ts, through src/compose.ts) passes in whatever implements it, so no
 * use case reaches back into a container.
 */
import type { Permission } from '../config/schema.js';
import type { GitHubPort, RepoRef } from '../github/port.js';

/** The GitHub port of one installation. */
export type PortFactory = (installationId: number) => Promise<GitHubPort>;

/** The boundary timer: make sure it fires no later than `at` (a decision can change by itself then). */
export interface Wakeups {
  wakeBy(at: number): void;
}

/** Queues the re-evaluation of every open PR of an account, or of one repository (outside a command). */
export interface FanOutQueue {
  queueFanOut(installationId: number, account: string, repo: string | null, reason: string): Promise<void>;
}

/** Queues a check of held deployment requests, which may be free to go now. */
export interface HeldChecks {
  queueHeldCheck(installationId: number, account: string, repo: string | null): Promise<void>;
  queueAllHeldChecks(): Promise<void>;
}

/**
 * Whether `login` holds `permission` in `ref` (src/commands/authorize.ts's `holds`): an answer
 * with `error` set when GitHub could not tell, which never counts as allowed.
 */
export type Authority = (port: GitHubPort, ref: RepoRef, login: string, permission: Permission, org: string) => Promise<{ allowed: boolean; error: unknown }>;

/** whether an error says the database did not answer (a webhook is then answered 5xx: SPEC 9) */
export { isStoreUnavailable } from '../store/contract.js';
