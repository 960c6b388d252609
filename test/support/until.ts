/**
 * Waits until `ok` holds, asking again every `everyMs`; throws naming `what` after `ms`. For a state
 * a test can only ask about (a health answer, a lock's waiters, a counter), when there is no log
 * line or record to wait on (the harness's waitForLog / waitForJobs, the fake's waitFor).
 */
export async function until(ok: () => boolean | Promise<boolean>, ms = 15_000, what = 'the condition', everyMs = 25): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
