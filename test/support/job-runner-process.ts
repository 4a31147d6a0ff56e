// The control plane's job runner as a child process for tests (its sources,
// through the ServiceProcess of `chunkmesh up`), with its ops port, and the
// `chunkmesh jobs` command line.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { JOBS_MAIN, REPO_ROOT, ServiceProcess, SOURCE_NODE_ARGS } from '@chunkmesh/cli';

export type JobRunnerProcess = ServiceProcess & { readonly metricsUrl: string };

export async function startJobRunner(o: {
  redisUrl: string;
  cluster: string;
  args?: readonly string[];
  env?: Record<string, string | undefined>;
}): Promise<JobRunnerProcess> {
  const { proc, ready } = await ServiceProcess.start({
    entry: JOBS_MAIN,
    name: 'jobs',
    args: [
      '--redis-url',
      o.redisUrl,
      '--cluster',
      o.cluster,
      '--ops-port',
      '0',
      '--host',
      '127.0.0.1',
      ...(o.args ?? []),
    ],
    ...(o.env ? { env: o.env } : {}),
  });
  return Object.assign(proc, { metricsUrl: `http://127.0.0.1:${Number(ready.opsPort)}/metrics` });
}

const CLI = join(REPO_ROOT, 'services', 'cli', 'src', 'chunkmesh.ts');

/** `chunkmesh jobs ...` from its sources: exit code, stdout, stderr. */
export async function jobsCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, [...SOURCE_NODE_ARGS, CLI, 'jobs', ...args]);
    return { code: 0, ...r };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
