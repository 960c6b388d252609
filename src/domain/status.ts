/** `/moratorium status`: the gate's state for one repository, as markdown. */
import type { LoadedConfig } from '../config/load.js';
import type { Decision, PullRequestChange } from '../gate/types.js';
import { evaluateGate } from '../gate/evaluate.js';
import { formatLong } from '../time/format.js';
import { nextOccurrences } from '../time/windows.js';
import { formatCountdown, upcomingWithinLead } from '../time/notices.js';
import type { Repositories } from '../store/contract.js';
import { escapeMarkdown } from '../util/escape.js';
import { incidentId } from './actions.js';
import { gateStateFor } from './gate-state.js';

const iso = (t: number): string => new Date(t).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';

/** A feature PR into the default branch: what the gate says for an ordinary change right now. */
export function ordinaryChange(account: string, repo: string, defaultBranch: string): PullRequestChange {
  return { kind: 'pull_request', account, repo, defaultBranch, number: 0, baseRef: defaultBranch, headRef: '', headSha: '', headInRepo: true, labels: [] };
}

export async function ordinaryDecision(store: Repositories, loaded: LoadedConfig, account: string, repo: string, defaultBranch: string, now: number): Promise<Decision> {
  const change = ordinaryChange(account, repo, defaultBranch);
  return evaluateGate({ config: loaded.config, state: await gateStateFor(store, loaded, change, now), change, now });
}

/** The blocking reasons of an ordinary change, one line each ('' when open). */
export function stillBlocking(decision: Decision): string {
  const blocking = decision.reasons.filter((r) => r.blocks);
  if (blocking.length === 0) return 'Nothing else blocks: the gate is open.';
  return `Still blocking: ${blocking.map((r) => `${escapeMarkdown(r.label)} (${escapeMarkdown(r.ends)})`).join('; ')}.`;
}

export async function renderStatus(store: Repositories, loaded: LoadedConfig, account: string, repo: string, defaultBranch: string, now: number): Promise<string> {
  const decision = await ordinaryDecision(store, loaded, account, repo, defaultBranch, now);
  const lines: string[] = [`**Moratorium status for ${escapeMarkdown(`${account}/${repo}`)}**`, ''];
  if (loaded.problems.length) {
    lines.push('Configuration problems (the gate uses the last valid configuration or the defaults):');
    for (const p of loaded.problems) lines.push(`- \`${p.path}\`: ${escapeMarkdown(p.message)}`);
    lines.push('');
  }
  lines.push(`Gate for a feature PR into \`${defaultBranch}\`: **${escapeMarkdown(decision.title)}**`, '');

  const incidents = (await store.activeIncidents(account)).filter((i) => i.scope.repo === null || i.scope.repo === repo.toLowerCase());
  lines.push('Incidents:');
  if (!incidents.length) lines.push('- none');
  for (const i of incidents) {
    const freezes = loaded.config.incidents.freeze.includes(i.severity);
    const phase = i.phase === 'open' ? 'open' : 'resolved, in recovery until closed';
    lines.push(`- ${incidentId(i.id)} ${i.severity} "${escapeMarkdown(i.title)}": ${phase}${freezes ? '' : ' (recorded, gates nothing)'}; opened ${iso(i.openedAt)} by ${escapeMarkdown(i.openedBy)}`);
  }
  const freezes = (await store.activeFreezes(account, now)).filter((f) => f.scope.repo === null || f.scope.repo === repo.toLowerCase());
  lines.push('', 'Freezes:');
  if (!freezes.length) lines.push('- none');
  for (const f of freezes) {
    const scope = f.scope.repo ? 'repository' : 'organisation';
    lines.push(`- freeze ${f.id} (${scope}, ${f.mode === 'all' ? 'all changes' : 'hotfixes only'}) by ${escapeMarkdown(f.createdBy)}${f.reason ? `: ${escapeMarkdown(f.reason)}` : ''}; ${f.until ? `until ${iso(f.until)}` : 'until lifted'}`);
  }
  const cadence = decision.reasons.filter((r) => r.kind === 'cadence');
  lines.push('', 'Cadence:');
  if (!cadence.length) lines.push('- no limit in force');
  for (const c of cadence) lines.push(`- ${escapeMarkdown(c.label)} (${escapeMarkdown(c.ends)})`);
  lines.push('', 'Windows:');
  if (!loaded.config.windows.length) lines.push('- none configured');
  for (const w of loaded.config.windows) {
    const next = nextOccurrences(w.plan, now, 3).map((o) => `${formatLong(o.start, w.timezone)} to ${formatLong(o.end, w.timezone)}`);
    const active = decision.reasons.some((r) => r.kind === 'window' && r.window === w.name);
    // within its notify_before lead: "Release freeze starts in 2h 30m"
    const soon = upcomingWithinLead(w.plan, w.notifyBeforeMs, now);
    const startsIn = soon ? `, ${escapeMarkdown(w.name)} starts in ${formatCountdown(soon.inMs)}` : '';
    lines.push(`- "${escapeMarkdown(w.name)}" (${w.mode === 'all' ? 'all changes' : 'hotfixes only'})${active ? ', active now' : ''}${startsIn}; next: ${next.length ? next.join('; ') : 'none'}`);
  }
  const required = (await store.getRepo(account, repo))?.requiredState;
  if (required === 'not-required') {
    lines.push('', `Warning: no branch protection or ruleset of \`${defaultBranch}\` requires the \`moratorium\` check, so this gate protects nothing. Require it (with this app as its source).`);
  }
  const audit = await store.auditOfAccount(account, 5);
  lines.push('', 'Recent changes:');
  if (!audit.length) lines.push('- none');
  for (const a of audit) lines.push(`- ${iso(a.at)} ${escapeMarkdown(a.actor)} (${a.source}): ${a.action} ${escapeMarkdown(a.target)}${a.reason ? `: ${escapeMarkdown(a.reason)}` : ''}`);
  return lines.join('\n');
}
