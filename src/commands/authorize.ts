/**
 * Who may do what (SPEC 3 `permissions`, SPEC 4 authority). Always asked of GitHub, never taken
 * from the comment payload's author_association. When the check itself fails, the answer is no.
 */
import { describePermission, LEVELS, type Level, type Permission } from '../config/schema.js';
import type { GitHubPort, RepoRef, Role } from '../github/port.js';

const RANK: Record<Role, number> = { none: -1, read: 0, triage: 1, write: 2, maintain: 3, admin: 4 };

export interface AuthorityAnswer {
  allowed: boolean;
  /** what the rule asks for, for replies: "maintain", or "maintain, @alice or team acme/sre" */
  needed: string;
  /** the actor's repository role, when it was asked (only a rule naming a level asks it) */
  role: Role | null;
  /** what else was checked, for replies that say only what was checked */
  checked: {
    /** logins of the rule the actor is not */
    logins: string[];
    /** teams (`org/slug`) of the installation's organisation the actor is not an active member of */
    teams: string[];
    /** teams of another organisation: never asked, they do not count */
    foreignTeams: string[];
  };
  /** set when GitHub could not be asked: the command is refused */
  error: string | null;
}

const isLevel = (s: string): s is Level => (LEVELS as readonly string[]).includes(s);

/** Human form of a permission rule, for replies: "maintain or higher", "one of: maintain, @acme/sre". */
export function neededFor(permission: Permission): string {
  return typeof permission === 'string' ? `${permission} or higher` : describePermission(permission);
}

/** true when `role` is at least `level` */
export function roleAtLeast(role: Role, level: Level): boolean {
  return RANK[role] >= RANK[level];
}

/**
 * Does `login` hold `permission` on `ref`? Levels are checked against the repository role; team
 * slugs only of the installation's own organisation (`org`), with an active membership.
 */
export async function holds(port: GitHubPort, ref: RepoRef, login: string, permission: Permission, org: string): Promise<AuthorityAnswer> {
  const entries = typeof permission === 'string' ? [permission] : permission;
  const needed = neededFor(permission);
  let role: Role | null = null;
  const checked: AuthorityAnswer['checked'] = { logins: [], teams: [], foreignTeams: [] };
  const answer = (allowed: boolean, error: string | null = null): AuthorityAnswer => ({ allowed, needed, role, checked, error });
  try {
    for (const raw of entries) {
      const entry = raw.replace(/^@/, '');
      if (isLevel(entry)) {
        role ??= await port.getRole(ref, login);
        if (roleAtLeast(role, entry)) return answer(true);
      } else if (entry.includes('/')) {
        const [teamOrg, slug] = entry.split('/') as [string, string];
        if (teamOrg.toLowerCase() !== org.toLowerCase()) {
          checked.foreignTeams.push(entry);
          continue;
        }
        if (await port.isActiveTeamMember(teamOrg, slug, login)) return answer(true);
        checked.teams.push(entry);
      } else if (entry.toLowerCase() === login.toLowerCase()) {
        return answer(true);
      } else {
        checked.logins.push(entry);
      }
    }
    return answer(false);
  } catch (error) {
    return answer(false, error instanceof Error ? error.message : String(error));
  }
}
