// Lua scripts on the Redis layout of redis-keys.ts. Each lists its KEYS and
// ARGV; all keys of one cluster share a hash slot, so scripts run on Redis
// Cluster too.
import type { Redis } from 'ioredis';
import type { ClusterKeys } from './redis-keys.ts';

/**
 * Forgets a worker whose registry entry has expired: removes it from the
 * workers set and deletes its snapshot, but only while its hash is still
 * absent, so a worker that re-registers concurrently is never forgotten.
 *   KEYS[1] cm:{c}:workers   KEYS[2] cm:{c}:worker:{w}   KEYS[3] cm:{c}:snap:{w}
 *   ARGV[1] w
 * Returns 1 when pruned, 0 when the worker is registered.
 */
const PRUNE_WORKER = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[3])
return 1
`;

export async function pruneWorker(redis: Redis, keys: ClusterKeys, workerId: string): Promise<boolean> {
  const pruned = await redis.eval(
    PRUNE_WORKER,
    3,
    keys.workers,
    keys.worker(workerId),
    keys.snapshot(workerId),
    workerId,
  );
  return pruned === 1;
}
