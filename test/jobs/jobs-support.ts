// What the control-plane suites share: prompts in stories260K's vocabulary,
// the wait for a job to finish, and `chunkmesh jobs ...` run from its sources.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { JobClient, JobView } from '@chunkmesh/jobs';
import { REPO_ROOT, SOURCE_NODE_ARGS, waitFor } from '@chunkmesh/test-support';

const CLI = join(REPO_ROOT, 'services', 'cli', 'src', 'chunkmesh.ts');

/** Exit code, stdout and stderr of `chunkmesh jobs <args>`. */
export async function jobsCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, [...SOURCE_NODE_ARGS, CLI, 'jobs', ...args]);
    return { code: 0, ...r };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A prompt of `n` token ids, distinct per seed, in stories260K's vocabulary. */
export function promptIds(seed: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => 3 + ((seed * 131 + i * 7) % 500));
}

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
