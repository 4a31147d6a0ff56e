// What Redis says about one worker, read with the codecs of the layout
// (services/common/src/redis-keys.ts) and nothing else: its registry entry,
// its snapshot, and its events on the stream, replayed two ways (the whole
// stream of its epoch; the snapshot plus the events after it). Replays note
// every event that does not fit the tree it claims to describe: a key stored
// twice, a key removed that was not there, a key moved from a tier it was not
// in, a seq out of order.
import {
  clusterKeys,
  KV_TIERS,
  parseEventFields,
  parseSnapshot,
  parseWorkerRecord,
  type Snapshot,
  type StreamEvent,
  type WorkerRecord,
} from '@chunkmesh/common';
import type { KvTier } from '@chunkmesh/native';
import type { Redis } from 'ioredis';

export type TierSets = Record<KvTier, Set<bigint>>;

export interface WorkerView {
  record: WorkerRecord | null;
  inWorkersSet: boolean;
  snapshot: Snapshot | null;
  /** This worker's stream entries, every epoch, in stream order. */
  events: { id: string; event: StreamEvent }[];
}

export async function readWorkerView(redis: Redis, cluster: string, workerId: string): Promise<WorkerView> {
  const keys = clusterKeys(cluster);
  const [hash, member, snap, entries] = await Promise.all([
    redis.hgetall(keys.worker(workerId)),
    redis.sismember(keys.workers, workerId),
    redis.hgetallBuffer(keys.snapshot(workerId)),
    redis.xrangeBuffer(keys.events, '-', '+'),
  ]);
  const events: WorkerView['events'] = [];
  for (const [id, fields] of entries) {
    const event = parseEventFields(fields);
    if (event.worker === workerId) events.push({ id: id.toString(), event });
  }
  return {
    record: parseWorkerRecord(workerId, hash),
    inWorkersSet: member === 1,
    snapshot: parseSnapshot(workerId, snap),
    events,
  };
}

export interface Replay {
  tiers: TierSets;
  /** Everything about the events that a correct writer would never produce. */
  anomalies: string[];
  lastSeq: number;
}

function emptyTiers(): TierSets {
  return { device: new Set(), host: new Set(), disk: new Set() };
}

/**
 * Applies the events of `epoch` with seq > `from.seq` on top of `from.tiers`, requiring consecutive
 * seqs (the first one too when `strictStart`), and noting stored-twice and removed-absent keys.
 */
export function replay(
  events: readonly StreamEvent[],
  epoch: string,
  from: { seq: number; tiers: Record<KvTier, ArrayLike<bigint> & Iterable<bigint>> } | null = null,
  strictStart = from !== null,
): Replay {
  const tiers = emptyTiers();
  if (from) for (const t of KV_TIERS) for (const k of from.tiers[t]) tiers[t].add(k);
  const anomalies: string[] = [];
  let seq = from?.seq ?? 0;
  let first = true;
  for (const e of events) {
    if (e.epoch !== epoch || e.seq <= (from?.seq ?? 0)) continue;
    if (e.seq !== seq + 1 && (strictStart || !first)) anomalies.push(`seq ${e.seq} follows ${seq}`);
    first = false;
    seq = e.seq;
    const set = tiers[e.tier];
    if (e.op === 'cleared') {
      set.clear();
      continue;
    }
    for (const k of e.keys) {
      if (e.op === 'demoted' || e.op === 'promoted') {
        const from = tiers[e.from as KvTier];
        if (!from.has(k)) anomalies.push(`seq ${e.seq}: key ${k} ${e.op} from ${e.from} but absent there`);
        if (set.has(k)) anomalies.push(`seq ${e.seq}: key ${k} ${e.op} to ${e.tier} but already there`);
        from.delete(k);
        set.add(k);
      } else if (e.op === 'stored') {
        if (set.has(k)) anomalies.push(`seq ${e.seq}: ${e.tier} key ${k} stored twice`);
        set.add(k);
      } else {
        if (!set.has(k)) anomalies.push(`seq ${e.seq}: ${e.tier} key ${k} removed but absent`);
        set.delete(k);
      }
    }
  }
  return { tiers, anomalies, lastSeq: seq };
}

/** "" when equal, else what is missing and what is extra (counts and a few keys). */
export function setDiff(actual: ReadonlySet<bigint>, expected: ReadonlySet<bigint>): string {
  const missing = [...expected].filter((k) => !actual.has(k));
  const extra = [...actual].filter((k) => !expected.has(k));
  if (missing.length === 0 && extra.length === 0) return '';
  const few = (ks: bigint[]) => ks.slice(0, 4).join(', ') + (ks.length > 4 ? ', ...' : '');
  return `${missing.length} missing [${few(missing)}], ${extra.length} extra [${few(extra)}] (expected ${expected.size}, got ${actual.size})`;
}

/** Every way Redis can disagree with the tree the worker should hold ("" when none). */
export function disagreement(view: WorkerView, epoch: string, expected: ReadonlySet<bigint>): string {
  const problems: string[] = [];
  if (!view.record) problems.push('no registry entry');
  else if (view.record.epoch !== epoch) problems.push(`registry epoch ${view.record.epoch}, not ${epoch}`);
  if (!view.inWorkersSet) problems.push('not in the workers set');
  const events = view.events.map((e) => e.event);
  const ofEpoch = events.filter((e) => e.epoch === epoch);
  if (ofEpoch.length === 0) problems.push('no events of this epoch');
  const whole = replay(events, epoch);
  const wholeDiff = setDiff(whole.tiers.device, expected);
  if (wholeDiff) problems.push(`stream replay, device: ${wholeDiff}`);
  for (const t of ['host', 'disk'] as const)
    if (whole.tiers[t].size > 0) problems.push(`stream replay: ${whole.tiers[t].size} keys in ${t}`);
  problems.push(...whole.anomalies.slice(0, 5).map((a) => `stream replay: ${a}`));
  const snap = view.snapshot;
  if (!snap) problems.push('no snapshot');
  else if (snap.epoch !== epoch) problems.push(`snapshot epoch ${snap.epoch}, not ${epoch}`);
  else {
    if (snap.seq > 0 && !view.events.some((e) => e.id === snap.id && e.event.seq === snap.seq))
      problems.push(`snapshot id ${snap.id} is not the stream entry of seq ${snap.seq}`);
    const fromSnap = replay(events, epoch, snap);
    const snapDiff = setDiff(fromSnap.tiers.device, expected);
    if (snapDiff) problems.push(`snapshot + later events, device: ${snapDiff}`);
    problems.push(...fromSnap.anomalies.slice(0, 5).map((a) => `snapshot + later events: ${a}`));
  }
  return problems.join('\n');
}

/** Polls until `disagreement` is empty; returns the last disagreement ("" on success). */
export async function waitForAgreement(
  redis: Redis,
  cluster: string,
  workerId: string,
  epoch: string,
  expected: ReadonlySet<bigint>,
  timeoutMs = 8000,
): Promise<{ problems: string; view: WorkerView }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await readWorkerView(redis, cluster, workerId);
    const problems = disagreement(view, epoch, expected);
    if (!problems || Date.now() > deadline) return { problems, view };
    await new Promise((r) => setTimeout(r, 100));
  }
}
