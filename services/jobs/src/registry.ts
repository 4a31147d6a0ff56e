// The worker registry as the control plane reads it (redis-keys.ts): live
// entries only, malformed ones skipped (they are no worker to act on).
import { clusterKeys, parseWorkerRecord, type WorkerRecord } from '@chunkmesh/common';
import type { Redis } from 'ioredis';

export async function liveWorkers(redis: Redis, cluster: string): Promise<WorkerRecord[]> {
  const keys = clusterKeys(cluster);
  const ids = (await redis.smembers(keys.workers)).sort();
  const hashes = await Promise.all(ids.map((id) => redis.hgetall(keys.worker(id))));
  const out: WorkerRecord[] = [];
  ids.forEach((id, i) => {
    try {
      const r = parseWorkerRecord(id, hashes[i] ?? {});
      if (r) out.push(r);
    } catch {
      // malformed: not a worker the control plane can act on
    }
  });
  return out;
}

export async function workerRecord(
  redis: Redis,
  cluster: string,
  workerId: string,
): Promise<WorkerRecord | null> {
  return parseWorkerRecord(workerId, await redis.hgetall(clusterKeys(cluster).worker(workerId)));
}

/** What the router weighs as load, in one number: queued and running tokens. */
function busyTokens(r: WorkerRecord): number {
  return r.load.queuedTokens + r.load.runningTokens;
}

/** The n least loaded workers that take placements (not draining), ties by id. */
export function leastLoaded(workers: readonly WorkerRecord[], n: number): WorkerRecord[] {
  return workers
    .filter((w) => !w.draining)
    .sort((a, b) => busyTokens(a) - busyTokens(b) || (a.workerId < b.workerId ? -1 : 1))
    .slice(0, n);
}
