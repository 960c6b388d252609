/** The Probot app function: wires events to named handlers and does nothing else. */
import type { Probot } from 'probot';
import { Handlers, type HandlerDeps } from './handlers.js';

export function wireEvents(app: Probot, deps: HandlerDeps): Handlers {
  const h = new Handlers(deps);
  app.on(
    ['pull_request.opened', 'pull_request.reopened', 'pull_request.synchronize', 'pull_request.ready_for_review', 'pull_request.labeled', 'pull_request.unlabeled', 'pull_request.edited', 'pull_request.closed'],
    h.pullRequest,
  );
  app.on('issue_comment.created', h.issueComment);
  app.on('merge_group.checks_requested', h.mergeGroup);
  app.on(['check_run.rerequested', 'check_suite.rerequested'], h.rerequest);
  app.on('push', h.push);
  app.on('installation', h.installation);
  app.on('installation_repositories', h.installationRepositories);
  app.on('deployment_protection_rule.requested', h.deploymentProtectionRule);
  app.on('deployment_status.created', h.deploymentStatus);
  return h;
}
