// The Redis layout workers write and routers read (ARCHITECTURE.md, "Redis
// layout"), with the codecs for every value. All keys of a cluster start with
// `cm:{<cluster>}:`; the braces are a Redis Cluster hash tag, so a cluster's
// keys share one slot and MULTI / scripts may span them.
//
//   cm:{c}:workers        SET of live-or-recently-live worker ids: the index
//                         that lets readers find the per-worker hashes.
//                         Workers SADD themselves on every heartbeat; readers
//                         remove ids whose hash expired (pruneWorker in
//                         redis-scripts.ts).
//   cm:{c}:worker:{w}     HASH, the registry entry of worker w, rewritten in
//                         full on every heartbeat with a short PEXPIRE, so a
//                         dead worker ages out (workerRecordFields). It is
//                         also the lease on the id w: a heartbeat writes it
//                         only while it is absent or carries the writer's
//                         epoch, and a worker deregisters only its own epoch's
//                         (heartbeat, deregister in redis-scripts.ts), so of
//                         two live processes started with one id the second
//                         writes nothing, under any key, until the first's
//                         entry lapses. Its remaining TTL is the worker's
//                         lease as readers see it: a router that reconnects to
//                         a Redis that lost the entry keeps the worker that
//                         long (ARCHITECTURE.md, "Reliability"):
//                           endpoint     host:port routers dial, non-empty;
//                           modelId      non-empty;
//                           chunkTokens  uint >= 1. With modelId, the cluster
//                                        constants (ClusterConstants): chunk
//                                        keys derive from them, so a router
//                                        places only on workers whose values
//                                        equal its own (ARCHITECTURE.md,
//                                        "Cluster constants"). Fixed for an
//                                        epoch;
//                           keyFormat    uint >= 1, the chunk-key function's
//                                        version (CHUNK_KEY_FORMAT,
//                                        native/src/kv/chunk_key.h); absent
//                                        reads as 1, the format before the
//                                        field. Compared like the constants;
//                           kvDtype      f32 | f16 | bf16, the KV storage
//                                        type (reported, not compared);
//                           capacityChunks  uint, KV pool size in chunks;
//                           epoch   decimal uint64, new on every worker start;
//                           seq     last event seq the worker has written:
//                                   a reader that has read the stream past
//                                   this entry's time but not this seq has
//                                   lost entries, even from a quiet worker;
//                           load    JSON WorkerLoad: every field a finite
//                                   number >= 0;
//                           draining  optional, "1" while the worker drains
//                                   (worker.drain, SIGTERM): routers place
//                                   nothing new there from their next read
//                                   of the entry on; absent (or "0") when
//                                   not. Never undone within an epoch.
//                                   Only the worker writes it, with its
//                                   heartbeat (one owner for the entry).
//                         An entry with a field missing or out of its range
//                         (or a key of another type) is malformed: readers
//                         skip it, as if the worker were not live, and say so.
//   cm:{c}:events         STREAM of tree events, trimmed by XADD MAXLEN ~.
//                         One entry per event (eventFields): worker, epoch,
//                           seq   1, 2, 3... per (worker, epoch), no gaps, so
//                                 a reader that misses entries (trimmed, lost
//                                 in a Redis restart) knows it;
//                           op    stored | removed | demoted | promoted |
//                                 cleared;
//                           tier  device | host | disk: where the keys are
//                                 now (stored, demoted, promoted), where they
//                                 were (removed), the tier emptied (cleared);
//                           from  demoted and promoted only, where the keys
//                                 were: a tier above `tier` for demoted, below
//                                 it for promoted. Absent for the other ops
//                                 (an entry that breaks either rule is
//                                 malformed);
//                           keys  chunk keys, packed (packKeys); empty for
//                                 cleared.
//                         A key is resident in at most one tier of a worker,
//                         and the ops act on each key (applyEventTo states
//                         them once for every reader):
//                           stored    the key is resident in `tier` (a new
//                                     chunk; it leaves any tier it was in);
//                           demoted,  the key leaves `from` and is resident
//                           promoted  in `tier` (one move, not a removal and
//                                     a store: a reader that somehow missed
//                                     the key in `from` still ends up with
//                                     it in `tier`);
//                           removed   the key is no longer resident in
//                                     `tier` (dropped; a key in another tier
//                                     stays there);
//                           cleared   no key is resident in `tier` any more.
//                         Every epoch begins with a resync (cleared for each
//                         tier, then the full stored set per tier), as does
//                         every reconnection of the worker to Redis and every
//                         write it is unsure of.
//   cm:{c}:snap:{w}       HASH, worker w's resident keys as of one event
//                         (snapshotFields): epoch, seq and id of that event,
//                         and one packed key list per tier (device, host,
//                         disk). Readers load it, then apply the stream's
//                         events of w with seq above it.
import { randomBytes } from 'node:crypto';
import { endianness } from 'node:os';
import type { KvDType, KvOp, KvTier } from '@chunkmesh/native';

export const KV_TIERS: readonly KvTier[] = ['device', 'host', 'disk'];
const KV_OPS: readonly KvOp[] = ['stored', 'removed', 'cleared', 'demoted', 'promoted'];
const KV_DTYPES: readonly KvDType[] = ['f32', 'f16', 'bf16'];

/** A value in Redis that does not decode: a writer of another version, or corruption. */
export class RedisFormatError extends Error {
  override name = 'RedisFormatError';
}

const NAME = /^[A-Za-z0-9._-]{1,200}$/;

/** Cluster and worker names: they become parts of keys, so no separators or hash-tag braces. */
export function checkName(kind: 'cluster' | 'worker', name: string): string {
  if (!NAME.test(name))
    throw new RedisFormatError(`${kind} name must match ${NAME}, got ${JSON.stringify(name)}`);
  return name;
}

export interface ClusterKeys {
  readonly workers: string;
  readonly events: string;
  worker(workerId: string): string;
  snapshot(workerId: string): string;
}

export function clusterKeys(cluster: string): ClusterKeys {
  const prefix = `cm:{${checkName('cluster', cluster)}}:`;
  return {
    workers: `${prefix}workers`,
    events: `${prefix}events`,
    worker: (id) => `${prefix}worker:${checkName('worker', id)}`,
    snapshot: (id) => `${prefix}snap:${checkName('worker', id)}`,
  };
}

/** A fresh epoch: random, so a restarted worker never reuses one. Decimal uint64, as in InfoResponse.epoch. */
export function newEpoch(): string {
  return randomBytes(8).readBigUInt64LE().toString();
}

// Chunk keys travel as little-endian uint64s, 8 bytes each. Copying the typed
// array's bytes (and swapping on a big-endian host) keeps a snapshot of a
// million keys to a millisecond or so of event-loop time.
const BIG_ENDIAN = endianness() === 'BE';

export function packKeys(keys: BigUint64Array | readonly bigint[]): Buffer {
  const copy = keys instanceof BigUint64Array ? keys.slice() : BigUint64Array.from(keys);
  const buf = Buffer.from(copy.buffer, copy.byteOffset, copy.byteLength);
  return BIG_ENDIAN ? buf.swap64() : buf;
}

export function unpackKeys(buf: Uint8Array): BigUint64Array {
  if (buf.length % 8 !== 0)
    throw new RedisFormatError(`packed keys: ${buf.length} bytes is not a multiple of 8`);
  // A fresh ArrayBuffer: the source may sit at any offset of a pooled buffer, and BigUint64Array needs 8-byte alignment.
  const bytes = new Uint8Array(buf);
  if (BIG_ENDIAN) Buffer.from(bytes.buffer).swap64();
  return new BigUint64Array(bytes.buffer);
}

/** Orders stream ids ("ms-seq"); both parts are uint64. */
export function compareStreamIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const d = BigInt(am) - BigInt(bm) || BigInt(as) - BigInt(bs);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

/** Milliseconds part of a stream id: the Redis server's clock when the entry was added. */
export function streamIdTime(id: string): number {
  return Number(id.split('-')[0]);
}

function field(hash: Record<string, string | Buffer>, name: string, what: string): string {
  const v = hash[name];
  if (v === undefined) throw new RedisFormatError(`${what}: field ${name} is missing`);
  return v.toString();
}

function uint(s: string, what: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n))
    throw new RedisFormatError(`${what}: ${s} is not an unsigned integer`);
  return n;
}

function member<T extends string>(s: string, allowed: readonly T[], name: string, what: string): T {
  if (!(allowed as readonly string[]).includes(s))
    throw new RedisFormatError(`${what}: ${name} ${s} is not one of ${allowed.join(', ')}`);
  return s as T;
}

// ---- events stream ----

export interface StreamEvent {
  worker: string;
  epoch: string;
  seq: number;
  op: KvOp;
  tier: KvTier;
  /** demoted, promoted: the tier the keys left; absent otherwise. */
  from?: KvTier;
  keys: BigUint64Array;
}

/** A tier's depth: device 0, host 1, disk 2. */
function depth(tier: KvTier): number {
  return KV_TIERS.indexOf(tier);
}

/** The rules for `from` (layout above), on both sides of the stream: what is wrong, or null. */
function moveProblem(op: KvOp, tier: KvTier, from: KvTier | undefined): string | null {
  const move = op === 'demoted' || op === 'promoted';
  if (!move) return from === undefined ? null : `${op} has a from tier (${from})`;
  if (from === undefined) return `${op} has no from tier`;
  if (op === 'demoted' ? depth(tier) <= depth(from) : depth(tier) >= depth(from))
    return `${op} from ${from} to ${tier} goes the wrong way`;
  return null;
}

/** XADD field/value arguments, in order. */
export function eventFields(e: StreamEvent): (string | Buffer)[] {
  const problem = moveProblem(e.op, e.tier, e.from);
  if (problem) throw new RedisFormatError(`event: ${problem}`);
  const from = e.from === undefined ? [] : ['from', e.from];
  return [
    'worker',
    e.worker,
    'epoch',
    e.epoch,
    'seq',
    String(e.seq),
    'op',
    e.op,
    'tier',
    e.tier,
    ...from,
    'keys',
    packKeys(e.keys),
  ];
}

/** Decodes an entry's flat [field, value, ...] list as XREAD returns it (buffers, for the binary keys). */
export function parseEventFields(flat: readonly Buffer[]): StreamEvent {
  const hash: Record<string, Buffer> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) hash[(flat[i] as Buffer).toString()] = flat[i + 1] as Buffer;
  const what = 'event';
  const op = member(field(hash, 'op', what), KV_OPS, 'op', what);
  const tier = member(field(hash, 'tier', what), KV_TIERS, 'tier', what);
  const from = hash.from === undefined ? undefined : member(hash.from.toString(), KV_TIERS, 'from', what);
  const problem = moveProblem(op, tier, from);
  if (problem) throw new RedisFormatError(`${what}: ${problem}`);
  const event: StreamEvent = {
    worker: field(hash, 'worker', what),
    epoch: field(hash, 'epoch', what),
    seq: uint(field(hash, 'seq', what), what),
    op,
    tier,
    keys: unpackKeys(hash.keys ?? Buffer.alloc(0)),
  };
  if (from !== undefined) event.from = from;
  return event;
}

/** What every reader of the stream keeps of one worker: the tier each resident key is in. */
export interface ResidentKeys {
  /** The key is resident in `tier`, and in no other tier. */
  place(key: bigint, tier: KvTier): void;
  /** The key is not resident in `tier` (if it was there; a key in another tier stays). */
  remove(key: bigint, tier: KvTier): void;
  /** No key is resident in `tier`. */
  clear(tier: KvTier): void;
}

/** The event semantics of the layout above, stated once for the worker's mirror and the router's index. */
export function applyEventTo(
  target: ResidentKeys,
  e: { readonly op: KvOp; readonly tier: KvTier; readonly from?: KvTier; readonly keys: BigUint64Array },
): void {
  switch (e.op) {
    case 'stored':
    case 'demoted':
    case 'promoted':
      for (const k of e.keys) target.place(k, e.tier);
      return;
    case 'removed':
      for (const k of e.keys) target.remove(k, e.tier);
      return;
    case 'cleared':
      target.clear(e.tier);
  }
}

// ---- worker registry ----

/**
 * What a router and the workers it places on must agree on: chunk keys are computed from them,
 * so under different values no key matches and the hit rate is silently zero.
 */
export interface ClusterConstants {
  modelId: string;
  chunkTokens: number;
}

/**
 * A worker's load as its engine measures it, heartbeat to the registry and weighed by the
 * router's placement against cached prefix depth: one shape from end to end.
 */
export interface WorkerLoad {
  /** Requests waiting for admission. */
  queuedRequests: number;
  runningSequences: number;
  /** Tokens of the requests waiting for admission (their whole context). */
  queuedTokens: number;
  /** Tokens held by running sequences (context + generated so far). */
  runningTokens: number;
  /** Reclaimable KV chunks: free plus cached (unpinned) ones. */
  freeChunks: number;
}

export const IDLE_LOAD: WorkerLoad = {
  queuedRequests: 0,
  runningSequences: 0,
  queuedTokens: 0,
  runningTokens: 0,
  freeChunks: 0,
};

export interface WorkerRecord extends ClusterConstants {
  workerId: string;
  endpoint: string;
  /** The version of the chunk-key function the worker keys its chunks with. */
  keyFormat: number;
  kvDtype: KvDType;
  capacityChunks: number;
  epoch: string;
  seq: number;
  load: WorkerLoad;
  /** Set while the worker drains: no new placements (absent from writers before it). */
  draining?: boolean;
}

export function workerRecordFields(r: Omit<WorkerRecord, 'workerId'>): Record<string, string> {
  return {
    // draining is never undone within an epoch, so it is written only once set
    ...(r.draining ? { draining: '1' } : {}),
    endpoint: r.endpoint,
    modelId: r.modelId,
    chunkTokens: String(r.chunkTokens),
    keyFormat: String(r.keyFormat),
    kvDtype: r.kvDtype,
    capacityChunks: String(r.capacityChunks),
    epoch: r.epoch,
    seq: String(r.seq),
    load: JSON.stringify(r.load),
  };
}

function parseLoad(json: string, what: string): WorkerLoad {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new RedisFormatError(`${what}: load is not JSON`);
  }
  const load = { ...IDLE_LOAD };
  for (const k of Object.keys(load) as (keyof WorkerLoad)[]) {
    const v = (raw as Record<string, unknown> | null)?.[k];
    // A negative load would make a worker look emptier than idle and draw every request.
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw new RedisFormatError(`${what}: load.${k} is not a number >= 0`);
    load[k] = v;
  }
  return load;
}

function nonEmpty(s: string, name: string, what: string): string {
  if (s === '') throw new RedisFormatError(`${what}: ${name} is empty`);
  return s;
}

/**
 * null for an absent (expired) entry, as HGETALL returns {} for it; RedisFormatError for a
 * malformed one.
 */
export function parseWorkerRecord(workerId: string, hash: Record<string, string>): WorkerRecord | null {
  if (Object.keys(hash).length === 0) return null;
  const what = `worker ${workerId}`;
  const chunkTokens = uint(field(hash, 'chunkTokens', what), what);
  if (chunkTokens === 0) throw new RedisFormatError(`${what}: chunkTokens is 0`);
  // Workers from before the field keyed with format 1.
  const keyFormat = hash.keyFormat === undefined ? 1 : uint(hash.keyFormat, what);
  if (keyFormat === 0) throw new RedisFormatError(`${what}: keyFormat is 0`);
  const epoch = field(hash, 'epoch', what);
  if (!/^\d{1,20}$/.test(epoch))
    throw new RedisFormatError(`${what}: epoch ${epoch} is not a decimal uint64`);
  return {
    workerId,
    endpoint: nonEmpty(field(hash, 'endpoint', what), 'endpoint', what),
    modelId: nonEmpty(field(hash, 'modelId', what), 'modelId', what),
    chunkTokens,
    keyFormat,
    kvDtype: member(field(hash, 'kvDtype', what), KV_DTYPES, 'kvDtype', what),
    capacityChunks: uint(field(hash, 'capacityChunks', what), what),
    epoch,
    seq: uint(field(hash, 'seq', what), what),
    load: parseLoad(field(hash, 'load', what), what),
    ...(member(hash.draining ?? '0', ['0', '1'], 'draining', what) === '1' ? { draining: true } : {}),
  };
}

// ---- snapshots ----

export interface Snapshot {
  epoch: string;
  /** The worker's event seq this snapshot includes everything up to; 0 before its first event. */
  seq: number;
  /** Stream id of event `seq`: readers tail from here to catch up. */
  id: string;
  tiers: Record<KvTier, BigUint64Array>;
}

export function snapshotFields(s: Snapshot): Record<string, string | Buffer> {
  return {
    epoch: s.epoch,
    seq: String(s.seq),
    id: s.id,
    device: packKeys(s.tiers.device),
    host: packKeys(s.tiers.host),
    disk: packKeys(s.tiers.disk),
  };
}

/** null for an absent snapshot. */
export function parseSnapshot(workerId: string, hash: Record<string, Buffer>): Snapshot | null {
  if (Object.keys(hash).length === 0) return null;
  const what = `snapshot of ${workerId}`;
  const tier = (t: KvTier) => unpackKeys(hash[t] ?? Buffer.alloc(0));
  return {
    epoch: field(hash, 'epoch', what),
    seq: uint(field(hash, 'seq', what), what),
    id: field(hash, 'id', what),
    tiers: { device: tier('device'), host: tier('host'), disk: tier('disk') },
  };
}
