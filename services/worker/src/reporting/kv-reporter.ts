// Reports this worker's prefix tree to Redis (layout: @chunkmesh/common
// redis-keys.ts): registry entry and heartbeat, tree events on the shared
// stream, periodic snapshots.
//
// Redis is never on the serving path. While it is unreachable, events wait in
// a bounded backlog; the mirror of resident keys is always current, so when
// the backlog overflows, a write fails, the connection comes back, or the
// registry entry turns out to have expired, the reporter resynchronises:
// it appends 'cleared' for every tier followed by the full stored set, and a
// snapshot of the same state. Readers applying the stream then hold exactly
// the mirror again, whatever they missed, without counting anything twice.
// A new reporter (a new process) is a new epoch and starts with a resync of
// an empty mirror.
//
// One worker id, one live process: the registry entry is a lease on the id
// (redis-scripts.ts heartbeat). A reporter that finds the entry held by
// another epoch writes nothing at all (no entry, no events, no snapshot: its
// events under that id would make routers drop the holder's), says so, and
// keeps asking each heartbeat; it takes the id once the holder's entry lapses
// (the holder died) and resyncs then. `registered` says whether it holds it.
import {
  type ClusterKeys,
  checkName,
  clusterKeys,
  IDLE_LOAD,
  isRedisUp,
  KV_TIERS,
  type Logger,
  newEpoch,
  redisRefusal,
  type StreamEvent,
  type WorkerLoad,
} from '@chunkmesh/common';
import { CHUNK_KEY_FORMAT, type KvDType, type KvEvent, type KvTier } from '@chunkmesh/native';
import type { Redis } from 'ioredis';
import { EventBacklog } from './event-backlog.ts';
import { ReportWriter } from './report-writer.ts';
import { ResidentMirror } from './resident-mirror.ts';

export interface KvReporterOptions {
  redis: Redis;
  cluster: string;
  workerId: string;
  /** host:port routers dial for this worker's Generation service. */
  endpoint: string;
  /** The cluster constants (a router places on this worker only if they equal its own) and the KV dtype. */
  modelId: string;
  chunkTokens: number;
  kvDtype: KvDType;
  capacityChunks: number;
  /** Defaults to a fresh random epoch; pass one to show the same value in Info. */
  epoch?: string;
  heartbeatIntervalMs?: number;
  /** Registry entry lifetime without a heartbeat: how long routers keep a dead worker. */
  heartbeatTtlMs?: number;
  /** How long published events wait to be batched into one write. */
  flushDelayMs?: number;
  snapshotIntervalMs?: number;
  /** Approximate stream length (XADD MAXLEN ~); the whole cluster shares the stream. */
  streamMaxLen?: number;
  /** Keys held in the backlog while Redis is unreachable before falling back to a resync. */
  maxBacklogKeys?: number;
  /** Large events are split into stream entries of at most this many keys. */
  maxKeysPerEntry?: number;
  /** Called when `registered` changes (routers can find the worker while it holds its entry). */
  onRegistered?: (registered: boolean) => void;
  log?: Logger;
}

export interface KvReporterStats {
  /** Seq of the last event appended (or attempted); per epoch, from 1. */
  seq: number;
  backlogKeys: number;
  resyncs: number;
  backlogOverflows: number;
  writeFailures: number;
}

export class KvReporter {
  readonly epoch: string;
  private readonly redis: Redis;
  private readonly keys: ClusterKeys;
  private readonly writer: ReportWriter;
  private readonly mirror = new ResidentMirror();
  private readonly backlog: EventBacklog;
  private readonly o: Required<Omit<KvReporterOptions, 'redis' | 'epoch' | 'log' | 'onRegistered'>>;
  private readonly onRegistered: ((registered: boolean) => void) | undefined;
  private holds = false;
  /** The epoch of another process found holding this worker id, while it does. */
  private holder: string | null = null;
  private readonly log: Logger | undefined;
  /** The last heartbeat refusal logged as an error (repeats go to debug until a heartbeat succeeds). */
  private refusal: string | undefined;
  private load: WorkerLoad = IDLE_LOAD;
  private needsResync = true;
  private seq = 0;
  /** The last event known to be in Redis, and its stream id: what a snapshot taken now is consistent with. */
  private acked = { seq: 0, id: '0-0' };
  private snapshotSeq = -1;
  private lastSnapshotAt = 0;
  private pumping: Promise<void> | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  /** Set by markDraining, for the rest of the epoch. */
  private draining = false;
  private running = false;
  private readonly counters = { resyncs: 0, backlogOverflows: 0, writeFailures: 0 };

  constructor(options: KvReporterOptions) {
    this.redis = options.redis;
    this.epoch = options.epoch ?? newEpoch();
    this.log = options.log;
    this.onRegistered = options.onRegistered;
    this.o = {
      cluster: options.cluster,
      workerId: checkName('worker', options.workerId),
      endpoint: options.endpoint,
      modelId: options.modelId,
      chunkTokens: options.chunkTokens,
      kvDtype: options.kvDtype,
      capacityChunks: options.capacityChunks,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 1000,
      heartbeatTtlMs: options.heartbeatTtlMs ?? 3000,
      flushDelayMs: options.flushDelayMs ?? 20,
      snapshotIntervalMs: options.snapshotIntervalMs ?? 5000,
      streamMaxLen: options.streamMaxLen ?? 100_000,
      maxBacklogKeys: options.maxBacklogKeys ?? 1_000_000,
      maxKeysPerEntry: options.maxKeysPerEntry ?? 8192,
    };
    this.keys = clusterKeys(options.cluster);
    this.writer = new ReportWriter(this.redis, this.keys, this.o.workerId, this.o.streamMaxLen);
    this.backlog = new EventBacklog(this.o.maxBacklogKeys);
  }

  /** Registers and resynchronises if Redis is up (otherwise as soon as it is); never fails for Redis's sake. */
  async start(): Promise<void> {
    this.running = true;
    this.redis.on('ready', this.onReady);
    this.heartbeatTimer = setInterval(() => void this.tick(), this.o.heartbeatIntervalMs);
    await this.tick();
  }

  /** Hands over drained tree events, in the order the tree emitted them. */
  publish(events: readonly KvEvent[]): void {
    for (const e of events) this.mirror.apply(e);
    // During a pending resync the mirror says it all.
    if (this.needsResync) return;
    if (!this.backlog.push(events)) {
      this.counters.backlogOverflows++;
      this.needsResync = true;
      this.log?.warn('event backlog overflow; will resync', { maxBacklogKeys: this.o.maxBacklogKeys });
    }
    if (this.running && !this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        void this.pump();
      }, this.o.flushDelayMs);
    }
  }

  /**
   * Marks the registry entry draining (routers stop placing here) with a heartbeat now; resolves
   * once a heartbeat has written it, or at once when Redis is not up (the heartbeats that follow
   * carry it).
   */
  async markDraining(): Promise<void> {
    this.draining = true;
    await this.heartbeat();
  }

  /** Sent with the next heartbeat. */
  setLoad(load: WorkerLoad): void {
    this.load = load;
  }

  /**
   * Rewrites the report from the mirror, as after an outage (the index reconcile's repair), and
   * resolves once it is in Redis; rejects when it could not be written (Redis down, the id held
   * by another process, a failed write).
   */
  async forceResync(): Promise<void> {
    this.needsResync = true;
    await this.pump();
    // a pump already past its last check of the flag when it was set ends without it: once more
    if (this.needsResync) await this.pump();
    if (this.needsResync)
      throw new Error(
        this.holds
          ? 'the report could not be written to Redis'
          : 'this worker does not hold its registry entry',
      );
  }

  /** The resident keys as reported, per tier. */
  resident(tier: KvTier): ReadonlySet<bigint> {
    return this.mirror.keys(tier);
  }

  /** Whether this process holds its worker id in the registry (its last heartbeat that reached Redis wrote the entry). */
  get registered(): boolean {
    return this.holds;
  }

  stats(): KvReporterStats {
    return { seq: this.seq, backlogKeys: this.backlog.keys, ...this.counters };
  }

  /** Flushes what is pending and removes the worker from the registry (when Redis is up). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.redis.off('ready', this.onReady);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.flushTimer = this.heartbeatTimer = null;
    await this.pump();
    if (!isRedisUp(this.redis) || !this.holds) return;
    try {
      await this.writer.deregister(this.epoch);
    } catch (err) {
      this.log?.warn('deregistration failed; the registry entry will expire', { err });
    }
  }

  private readonly onReady = (): void => {
    // Redis may have restarted empty or failed over to a replica that missed writes.
    this.needsResync = true;
    void this.tick();
  };

  private async tick(): Promise<void> {
    await this.heartbeat();
    await this.pump();
  }

  private async heartbeat(): Promise<void> {
    if (!isRedisUp(this.redis)) return;
    const { endpoint, modelId, chunkTokens, kvDtype, capacityChunks, heartbeatTtlMs } = this.o;
    try {
      const result = await this.writer.heartbeat(
        {
          endpoint,
          modelId,
          chunkTokens,
          keyFormat: CHUNK_KEY_FORMAT,
          kvDtype,
          capacityChunks,
          epoch: this.epoch,
          seq: this.acked.seq,
          load: this.load,
          draining: this.draining,
        },
        heartbeatTtlMs,
      );
      if (!result.held) {
        if (this.holder !== result.holder) {
          this.log?.error(
            'another live process holds this worker id; not registering until its entry lapses',
            {
              workerId: this.o.workerId,
              epoch: this.epoch,
              holder: result.holder,
            },
          );
        }
        this.holder = result.holder;
        // Whatever was reported under this id is the holder's now: start over once it is ours.
        this.needsResync = true;
        this.setHolds(false);
        return;
      }
      if (this.holder !== null)
        this.log?.info('worker id free again; registering', { workerId: this.o.workerId });
      this.holder = null;
      // Expired (a stall longer than the TTL, or Redis lost it): routers may have forgotten us and our snapshot.
      if (!result.existed) this.needsResync = true;
      this.refusal = undefined;
      this.setHolds(true);
    } catch (err) {
      // An ACL that lets us connect but not write leaves us unregistered: no router will find us.
      const refusal = redisRefusal(err as Error);
      if (refusal && refusal !== this.refusal) this.log?.error(`heartbeat failed: ${refusal}`, { err });
      else this.log?.debug('heartbeat failed', { err });
      this.refusal = refusal;
    }
  }

  private setHolds(holds: boolean): void {
    if (holds === this.holds) return;
    this.holds = holds;
    this.onRegistered?.(holds);
  }

  /** One writer at a time, so stream order is publication order. */
  private pump(): Promise<void> {
    this.pumping ??= this.drain().finally(() => {
      this.pumping = null;
    });
    return this.pumping;
  }

  private async drain(): Promise<void> {
    while (isRedisUp(this.redis) && this.holds) {
      try {
        if (this.needsResync) await this.resync();
        else if (this.backlog.length > 0) await this.flush();
        else if (this.acked.seq !== this.snapshotSeq && this.snapshotDue())
          await this.writeSnapshot(this.mirror.arrays());
        else return;
      } catch (err) {
        this.counters.writeFailures++;
        // A failed MULTI may or may not have been applied: only a resync is sure to be right.
        this.needsResync = true;
        this.log?.warn('redis write failed; will resync', { err });
        return;
      }
    }
  }

  private async resync(): Promise<void> {
    this.needsResync = false;
    this.backlog.take();
    const tiers = this.mirror.arrays();
    const events: KvEvent[] = KV_TIERS.map((tier) => ({ op: 'cleared', tier, keys: new BigUint64Array(0) }));
    for (const tier of KV_TIERS) events.push({ op: 'stored', tier, keys: tiers[tier] });
    await this.appendAndSnapshot(events, tiers);
    this.counters.resyncs++;
    this.log?.info('resynchronised', { epoch: this.epoch, seq: this.seq });
  }

  private async flush(): Promise<void> {
    const events = this.backlog.take();
    // The backlog is now empty, so the mirror is exactly the state after these events. Under
    // steady load the backlog is never empty between writes, so snapshots ride along here.
    await this.appendAndSnapshot(events, this.snapshotDue() ? this.mirror.arrays() : null);
  }

  private async appendAndSnapshot(events: readonly KvEvent[], tiers: Record<KvTier, BigUint64Array> | null) {
    const entries = this.toEntries(events);
    if (entries.length > 0) {
      const ids = await this.writer.append(entries);
      this.acked = { seq: this.seq, id: ids[ids.length - 1] as string };
    }
    if (tiers) await this.writeSnapshot(tiers);
  }

  private async writeSnapshot(tiers: Record<KvTier, BigUint64Array>): Promise<void> {
    const { seq, id } = this.acked;
    await this.writer.writeSnapshot({ epoch: this.epoch, seq, id, tiers });
    this.snapshotSeq = seq;
    this.lastSnapshotAt = Date.now();
  }

  private snapshotDue(): boolean {
    return Date.now() - this.lastSnapshotAt >= this.o.snapshotIntervalMs;
  }

  /** Stream entries with fresh seqs; seqs of a failed write are never reused. */
  private toEntries(events: readonly KvEvent[]): StreamEvent[] {
    const out: StreamEvent[] = [];
    const base = { worker: this.o.workerId, epoch: this.epoch };
    for (const e of events) {
      if (e.op === 'cleared') {
        out.push({ ...base, seq: ++this.seq, op: e.op, tier: e.tier, keys: e.keys });
        continue;
      }
      const from = e.from !== undefined ? { from: e.from } : {};
      for (let i = 0; i < e.keys.length; i += this.o.maxKeysPerEntry) {
        const keys = e.keys.subarray(i, i + this.o.maxKeysPerEntry);
        out.push({ ...base, seq: ++this.seq, op: e.op, tier: e.tier, ...from, keys });
      }
    }
    return out;
  }
}
