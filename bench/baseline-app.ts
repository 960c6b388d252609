/**
 * The benchmark's baseline: the smallest useful Probot app, stock Probot 14 in every respect. It
 * posts one completed check run on every `pull_request` event through `context.octokit` (Probot's
 * own client: its default throttle, one write a second shared by every installation in the
 * process), and is started with Probot's own `run()`, which reads APP_ID, PRIVATE_KEY,
 * WEBHOOK_SECRET, PORT, HOST, GHE_HOST, GHE_PROTOCOL and LOG_LEVEL from the environment. Its health
 * path is Probot's `GET /ping`.
 *
 *   node --import tsx bench/baseline-app.ts
 */
import { run, type Probot } from 'probot';

function baseline(app: Probot): void {
  app.on('pull_request', async (context) => {
    const pr = context.payload.pull_request;
    await context.octokit.rest.checks.create(
      context.repo({
        name: 'baseline',
        head_sha: pr.head.sha,
        status: 'completed' as const,
        conclusion: 'success' as const,
        output: { title: 'Open', summary: `Checked on ${context.payload.action}.` },
      }),
    );
  });
}

await run(baseline);
