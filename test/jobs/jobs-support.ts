// What the control-plane suites share: the wait for a job to finish
// (`chunkmesh jobs ...` from its sources is jobsCli in @chunkmesh/test-support).
import type { JobClient, JobView } from '@chunkmesh/jobs';
import { waitFor } from '@chunkmesh/test-support';

/** The job once it has completed or failed; throws with its last state past timeoutMs. */
export async function finished(jobs: JobClient, id: string, timeoutMs = 60_000): Promise<JobView> {
  let last: JobView | null = null;
  await waitFor(
    `job ${id} to finish`,
    async () => {
      last = await jobs.get(id);
      return last?.state === 'completed' || last?.state === 'failed';
    },
    timeoutMs,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last seen ${JSON.stringify(last)}`);
  });
  return last as unknown as JobView;
}
