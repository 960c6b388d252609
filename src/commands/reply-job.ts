/** The `reply` job: posts a command's reply and reactions (stored with the command's transaction). */
import type { JobRegistry } from '../domain/jobs.js';
import type { PortFactory } from '../domain/ports.js';
import type { AsyncStore } from '../store/contract.js';
import { sendReply, type ReplyJob } from './execute.js';

export function registerReplyJob(jobs: JobRegistry, ports: PortFactory, store: Pick<AsyncStore, 'updateJobPayload'>): void {
  jobs.register('reply', async (payload: ReplyJob, job) => {
    const port = await ports(payload.installationId);
    await sendReply(port, payload, (p) => store.updateJobPayload(job.id, p));
  });
}
