// The control plane's job runner as a child process for tests (its sources,
// through the ServiceProcess of `chunkmesh up`), with its ops port.
import { JOBS_MAIN, ServiceProcess } from '@chunkmesh/cli';

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
