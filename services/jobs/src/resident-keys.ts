// A worker's chunk keys as it has reported them to Redis (redis-keys.ts): its
// snapshot, then its events of the same epoch after the snapshot's seq, in
// stream order. The control plane checks a job's effect here, where routers
// see it, rather than trusting the worker's answer alone.
import { clusterKeys, KV_TIERS, parseEventFields, parseSnapshot } from '@chunkmesh/common';
import type { Redis } from 'ioredis';

/** Stream entries read per XRANGE: bounds the memory of one read. */
const PAGE = 2000;

/** Every key the worker's epoch `epoch` has reported resident, on any tier; null without a snapshot of that epoch. */
export async function residentKeys(
  redis: Redis,
  cluster: string,
  workerId: string,
  epoch: string,
): Promise<Set<bigint> | null> {
  const keys = clusterKeys(cluster);
  const snap = parseSnapshot(workerId, await redis.hgetallBuffer(keys.snapshot(workerId)));
  if (!snap || snap.epoch !== epoch) return null;
  const tiers = new Map(KV_TIERS.map((t) => [t, new Set(snap.tiers[t])]));
  let from = snap.seq > 0 ? `(${snap.id}` : '-';
  for (;;) {
    const page = await redis.xrangeBuffer(keys.events, from, '+', 'COUNT', PAGE);
    for (const [, fields] of page) {
      const e = parseEventFields(fields);
      if (e.worker !== workerId || e.epoch !== epoch || e.seq <= snap.seq) continue;
      const set = tiers.get(e.tier) as Set<bigint>;
      if (e.op === 'cleared') set.clear();
      else for (const k of e.keys) e.op === 'stored' ? set.add(k) : set.delete(k);
    }
    if (page.length < PAGE) break;
    from = `(${(page[page.length - 1] as [Buffer, Buffer[]])[0].toString()}`;
  }
  const all = new Set<bigint>();
  for (const set of tiers.values()) for (const k of set) all.add(k);
  return all;
}
