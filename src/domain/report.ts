/** The incident report (SPEC 4 `/incident report`, SPEC 7 `GET .../report`): what happened and what shipped. */
import type { Repositories } from '../store/contract.js';
import type { StoredIncident } from '../store/records.js';
import { escapeMarkdown } from '../util/escape.js';
import { incidentId, scopeName } from './actions.js';

export interface TimelineEntry {
  at: string;
  kind: 'phase' | 'freeze' | 'override' | 'unfreeze' | 'merge' | 'deployment';
  actor: string | null;
  text: string;
  reason: string;
}

export interface IncidentReport {
  id: number;
  key: string;
  severity: string;
  title: string;
  phase: string;
  scope: string;
  openedAt: string;
  openedBy: string;
  resolvedAt: string | null;
  closedAt: string | null;
  timeline: TimelineEntry[];
  merges: number;
  deployments: number;
}

const iso = (t: number): string => new Date(t).toISOString();

const PHASE_TEXT: Record<string, string> = {
  'incident.open': 'opened',
  'incident.resolve': 'resolved (service restored; recovery begins)',
  'incident.close': 'closed (assessment complete)',
};

export async function buildReport(store: Repositories, incident: StoredIncident, now: number): Promise<IncidentReport> {
  const end = incident.closedAt ?? now;
  const timeline: { t: number; e: TimelineEntry }[] = [];
  for (const a of await store.auditOfIncident(incident.id)) {
    const text = PHASE_TEXT[a.action] ?? a.action;
    timeline.push({ t: a.at, e: { at: iso(a.at), kind: 'phase', actor: a.actor, text: `${incidentId(incident.id)} ${text}`, reason: a.reason } });
  }
  const inScope = (repo: string | null) => incident.scope.repo === null || repo === null || repo === incident.scope.repo;
  for (const a of await store.auditBetween(incident.scope.account, incident.openedAt, end)) {
    if (a.incidentId !== null || !inScope(a.repo)) continue;
    const where = a.repo ? ` in ${a.repo}` : ' (organisation)';
    if (a.action === 'freeze.start' || a.action === 'freeze.end' || a.action === 'freeze.expire') {
      const verb = a.action === 'freeze.start' ? 'started' : a.action === 'freeze.end' ? 'ended' : 'expired';
      timeline.push({ t: a.at, e: { at: iso(a.at), kind: 'freeze', actor: a.actor, text: `${a.target} ${verb}${where}`, reason: a.reason } });
    } else if (a.action === 'override' || a.action === 'override.cancel' || a.action === 'override.request' || a.action === 'override.approve') {
      const verb = { override: 'override of', 'override.cancel': 'override cancelled on', 'override.request': 'override requested (awaiting approval) of', 'override.approve': 'override approved of' }[a.action];
      timeline.push({ t: a.at, e: { at: iso(a.at), kind: 'override', actor: a.actor, text: `${verb} ${a.repo ?? ''}${a.target}`, reason: a.reason } });
    } else if (a.action === 'unfreeze') {
      timeline.push({ t: a.at, e: { at: iso(a.at), kind: 'unfreeze', actor: a.actor, text: `unfreeze${where}`, reason: a.reason } });
    }
  }
  let merges = 0;
  let deployments = 0;
  for (const d of await store.deploysOfAccount(incident.scope.account, incident.openedAt, end)) {
    if (!inScope(d.repo)) continue;
    const how = d.exemption ? ` (${d.exemption})` : '';
    if (d.kind === 'merge') {
      merges++;
      timeline.push({ t: d.at, e: { at: iso(d.at), kind: 'merge', actor: d.actor, text: `merged ${d.repo}#${d.prNumber ?? '?'}${d.title ? ` "${d.title}"` : ''}${how}`, reason: '' } });
    } else {
      deployments++;
      timeline.push({ t: d.at, e: { at: iso(d.at), kind: 'deployment', actor: d.actor, text: `deployed ${d.repo} ${(d.sha ?? '').slice(0, 7)} to ${d.environment}${how}`, reason: '' } });
    }
  }
  timeline.sort((a, b) => a.t - b.t);
  return {
    id: incident.id,
    key: incidentId(incident.id),
    severity: incident.severity,
    title: incident.title,
    phase: incident.phase,
    scope: scopeName(incident.scope),
    openedAt: iso(incident.openedAt),
    openedBy: incident.openedBy,
    resolvedAt: incident.resolvedAt === null ? null : iso(incident.resolvedAt),
    closedAt: incident.closedAt === null ? null : iso(incident.closedAt),
    timeline: timeline.map((x) => x.e),
    merges,
    deployments,
  };
}

export function renderReport(r: IncidentReport): string {
  const lines = [
    `### ${r.key}: ${r.severity} "${escapeMarkdown(r.title)}" (${r.phase})`,
    '',
    `Scope: ${escapeMarkdown(r.scope)}. Opened ${r.openedAt} by ${escapeMarkdown(r.openedBy)}` +
      (r.resolvedAt ? `; resolved ${r.resolvedAt}` : '') +
      (r.closedAt ? `; closed ${r.closedAt}` : '') +
      '.',
    `While it was open or in recovery: ${r.merges} PR(s) merged, ${r.deployments} deployment(s).`,
    '',
    '| time (UTC) | what | who | why |',
    '| --- | --- | --- | --- |',
  ];
  for (const e of r.timeline) {
    lines.push(`| ${e.at.replace('T', ' ').slice(0, 19)} | ${escapeMarkdown(e.text)} | ${e.actor ? escapeMarkdown(e.actor) : ''} | ${escapeMarkdown(e.reason)} |`);
  }
  if (r.timeline.length === 0) lines.push('| | nothing recorded | | |');
  return lines.join('\n');
}
