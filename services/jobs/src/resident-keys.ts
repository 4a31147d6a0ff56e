// A worker's chunk keys as it has reported them to Redis (redis-keys.ts): its
// snapshot, then its events of the same epoch after the snapshot's seq, in
// stream order. The control plane checks a job's effect here, where routers
// see it, rather than trusting the worker's answer alone.
import {
  applyEventTo,
  clusterKeys,
  KV_TIERS,
  parseEventFields,
  parseSnapshot,
  type ResidentKeys,
} from '@chunkmesh/common';
import type { Redis } from 'ioredis';

export type Tier = (typeof KV_TIERS)[number];

/** Stream entries read per XRANGE: bounds the memory of one read. */
const PAGE = 2000;

/** Each key the worker's epoch `epoch` has reported resident, with its tier; null without a snapshot of that epoch. */
export async function reportedTiers(
  redis: Redis,
  cluster: string,
  workerId: string,
  epoch: string,
): Promise<Map<bigint, Tier> | null> {
  const keys = clusterKeys(cluster);
  const snap = parseSnapshot(workerId, await redis.hgetallBuffer(keys.snapshot(workerId)));
  if (!snap || snap.epoch !== epoch) return null;
  // key -> the one tier it is resident in, under the layout's event semantics (applyEventTo)
  const tierOf = new Map<bigint, Tier>();
  for (const t of KV_TIERS) for (const k of snap.tiers[t]) tierOf.set(k, t);
  const target: ResidentKeys = {
    place: (k, t) => tierOf.set(k, t),
    remove: (k, t) => {
      if (tierOf.get(k) === t) tierOf.delete(k);
    },
    clear: (t) => {
      for (const [k, at] of tierOf) if (at === t) tierOf.delete(k);
    },
  };
  let from = snap.seq > 0 ? `(${snap.id}` : '-';
  for (;;) {
    const page = await redis.xrangeBuffer(keys.events, from, '+', 'COUNT', PAGE);
    for (const [, fields] of page) {
      const e = parseEventFields(fields);
      if (e.worker !== workerId || e.epoch !== epoch || e.seq <= snap.seq) continue;
      applyEventTo(target, e);
    }
    if (page.length < PAGE) break;
    from = `(${(page[page.length - 1] as [Buffer, Buffer[]])[0].toString()}`;
  }
  return tierOf;
}
