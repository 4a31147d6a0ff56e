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

/**
 * A worker's heartbeat: rewrites its registry entry with a fresh TTL and lists it in the workers
 * set, unless the entry carries another epoch: then another live process holds this worker id
 * (two processes started with one id, or this one came back while its old entry lives), and
 * nothing is written. The entry is the lease: it lapses with its TTL once its holder stops.
 *   KEYS[1] cm:{c}:worker:{w}   KEYS[2] cm:{c}:workers
 *   ARGV[1] w   ARGV[2] epoch   ARGV[3] TTL in ms   ARGV[4..] the entry's field/value pairs
 * Returns {1} when the entry existed, {0} when it is new, {-1, holder's epoch} when refused.
 */
const HEARTBEAT = `
local held = redis.call('HGET', KEYS[1], 'epoch')
if held and held ~= ARGV[2] then return {-1, held} end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('SADD', KEYS[2], ARGV[1])
if held then return {1} end
return {0}
`;

export type HeartbeatResult =
  | { held: true; existed: boolean }
  /** Another process holds the worker id, under this epoch. */
  | { held: false; holder: string };

export async function heartbeat(
  redis: Redis,
  keys: ClusterKeys,
  workerId: string,
  epoch: string,
  ttlMs: number,
  fields: Record<string, string>,
): Promise<HeartbeatResult> {
  const reply = (await redis.eval(
    HEARTBEAT,
    2,
    keys.worker(workerId),
    keys.workers,
    workerId,
    epoch,
    String(ttlMs),
    ...Object.entries(fields).flat(),
  )) as [number, string?];
  if (reply[0] === -1) return { held: false, holder: String(reply[1]) };
  return { held: true, existed: reply[0] === 1 };
}

/**
 * Removes every trace of a worker but its stream entries (which age out with the trim), if the
 * registry entry is still its own epoch's (a process refused its id must not deregister the
 * holder).
 *   KEYS[1] cm:{c}:worker:{w}   KEYS[2] cm:{c}:snap:{w}   KEYS[3] cm:{c}:workers
 *   ARGV[1] w   ARGV[2] epoch
 * Returns 1 when removed, 0 when the entry is absent or another epoch's.
 */
const DEREGISTER = `
if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
return 1
`;

export async function deregister(
  redis: Redis,
  keys: ClusterKeys,
  workerId: string,
  epoch: string,
): Promise<boolean> {
  const removed = await redis.eval(
    DEREGISTER,
    3,
    keys.worker(workerId),
    keys.snapshot(workerId),
    keys.workers,
    workerId,
    epoch,
  );
  return removed === 1;
}
