// The router's view of the cluster's KV caches: chunk key -> workers holding
// it, kept from the Redis layout of @chunkmesh/common redis-keys.ts.
//
// Bootstrap: read the registry and every live worker's snapshot in one MULTI,
// load the snapshots, then tail the events stream from the oldest snapshot's
// id, skipping each worker's events its snapshot already includes.
//
// Keeping up: events are applied per incarnation (worker id + epoch) in seq
// order. Anything that breaks the sequence resynchronises that one worker
// from its snapshot, buffering its newer events meanwhile:
//   - a seq gap (entries trimmed from the stream before this router read
//     them, or lost in a Redis restart), including the router falling behind
//     the trim altogether, which shows as a gap for every active worker;
//   - a worker whose registry entry reports a seq the router has not seen
//     once the router has read the stream past the point of that registry
//     read (the same loss for a worker that has since gone quiet);
//   - the first event of an incarnation other than its seq 1.
// A new epoch (from the stream or the registry) replaces the worker's entries;
// an expired registry entry drops them.
//
// Redis losing the registry is not workers dying: a Redis restarted empty (or
// failed over to a replica that missed writes) reads as a registry without
// them until each heartbeats again. The index's connection to Redis breaks
// and reconnects whenever that happens, so a worker missing from a read
// after a reconnection that the worker was last read before is kept, with
// its chunks, until its own heartbeat would lapse counted from the
// reconnection (its lease: the TTL its entry carried); it is dropped then if
// it has not reappeared. A worker missing from a read on the connection that
// read it last expired or deregistered, and is dropped at once.
//
// Compatibility: a live worker whose cluster constants (chunk size, model id)
// differ from the router's is incompatible (compatibility.ts). It is listed by
// incompatibleWorkers(), never by workers(), longestPrefix() or speculation,
// and its chunks are not held (they are keys of another key space, and would
// only take room from the compatible workers' under maxEntries). The constants
// are fixed for an epoch (redis-keys.ts), so each incarnation is judged once,
// on its first registry record, and logged then.
import {
  type ClusterConstants,
  type ClusterKeys,
  clusterKeys,
  compareStreamIds,
  KV_TIERS,
  type Logger,
  parseEventFields,
  pruneWorker,
  RedisFormatError,
  type Snapshot,
  type StreamEvent,
  streamIdTime,
  type WorkerRecord,
} from '@chunkmesh/common';
import type { KvTier } from '@chunkmesh/native';
import type { Redis } from 'ioredis';
import type { ChunkMatches } from './chunk-matches.ts';
import { ChunkTable } from './chunk-table.ts';
import { describeMismatches, type Mismatch, mismatches } from './compatibility.ts';
import { RegistryReader, type RegistryView } from './registry-reader.ts';
import { Speculation } from './speculation.ts';
import { StreamTail, type TailBatch } from './stream-tail.ts';
import { TrackedWorker } from './tracked-worker.ts';

export interface ClusterIndexOptions {
  redis: Redis;
  cluster: string;
  /** The router's own model id and chunk size: workers with others are incompatible. */
  constants: ClusterConstants;
  /** Bound on (chunk, worker) entries; see ChunkTable for what happens past it. */
  maxEntries?: number;
  /** Bound on speculatively placed chunk keys. */
  maxSpeculativeKeys?: number;
  /** Registry read period: how soon a dead worker or a new epoch is noticed. */
  pollIntervalMs?: number;
  /** XREAD BLOCK timeout; bounds how long stop() waits on the blocked read. */
  blockMs?: number;
  /** Entries per XREAD. */
  readCount?: number;
  /** Wait before asking again for a snapshot that is missing or too old. */
  snapshotRetryMs?: number;
  /** Events held per resynchronising worker before relying on a newer snapshot instead. */
  maxBufferedEvents?: number;
  log?: Logger;
}

/** A compatible worker's registry record (less its event seq) and what the index holds of it. */
export interface LiveWorker extends Omit<WorkerRecord, 'seq'> {
  /** False while the worker's entries are being resynchronised from its snapshot (they may be stale). */
  synced: boolean;
}

/** A live worker the router does not place on, and why. */
export interface IncompatibleWorker extends Omit<WorkerRecord, 'seq'> {
  mismatches: readonly Mismatch[];
  /** "chunk size 32 differs from the router's 16", and so on. */
  reason: string;
}

export interface ClusterIndexStats {
  entries: number;
  /** Entries by the tier their chunk is in on that worker. */
  entriesByTier: Record<KvTier, number>;
  droppedEntries: number;
  speculativeKeys: number;
  resyncs: number;
  malformedEvents: number;
  /** Registry entries and snapshots skipped as unreadable, each counted once while it stays so. */
  malformedValues: number;
}

/** A registry record as the index shows it: its event seq is the index's own business. */
function shown({ seq: _, ...record }: WorkerRecord): Omit<WorkerRecord, 'seq'> {
  return record;
}

/** A registry seq to have reached once the stream has been read past untilId (or to the end after `round`). */
interface SeqCheck {
  epoch: string;
  seq: number;
  untilId: string;
  round: number;
}

export class ClusterIndex {
  private readonly redis: Redis;
  private readonly keys: ClusterKeys;
  private readonly o: Required<Omit<ClusterIndexOptions, 'redis' | 'cluster' | 'log'>>;
  private readonly log: Logger | undefined;
  private readonly table: ChunkTable;
  private readonly speculation: Speculation;
  private readonly reader: RegistryReader;
  private readonly tail: StreamTail;
  private readonly tracked = new Map<string, TrackedWorker>();
  /**
   * Bumped by every change workers() shows (a worker tracked or dropped, its record, constants
   * judged, resync begun or done), so that the list it returns is made again only after one.
   */
  private roster = 0;
  private liveList: { roster: number; workers: readonly LiveWorker[] } | null = null;
  private readonly checks = new Map<string, SeqCheck>();
  private running = false;
  private tailing: Promise<void> | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private polling = false;
  private resyncTimer: NodeJS.Timeout | null = null;
  private lagMs = 0;
  private readonly counters = { resyncs: 0, malformedEvents: 0 };
  /** The index's Redis connection, numbered by reconnection, and when the current one came up. */
  private connection = 0;
  private connectedAt = Date.now();
  private readonly onReconnect = () => {
    this.connection++;
    this.connectedAt = Date.now();
  };

  constructor(options: ClusterIndexOptions) {
    this.redis = options.redis;
    this.keys = clusterKeys(options.cluster);
    this.log = options.log;
    this.o = {
      constants: options.constants,
      maxEntries: options.maxEntries ?? 4_000_000,
      maxSpeculativeKeys: options.maxSpeculativeKeys ?? 100_000,
      pollIntervalMs: options.pollIntervalMs ?? 500,
      blockMs: options.blockMs ?? 1000,
      readCount: options.readCount ?? 1000,
      snapshotRetryMs: options.snapshotRetryMs ?? 500,
      maxBufferedEvents: options.maxBufferedEvents ?? 10_000,
    };
    // Events can name a worker before a registry read has shown it alive (or compatible); placement
    // only knows workers(), so only those are matched.
    this.table = new ChunkTable(
      this.o.maxEntries,
      (h) => !(h as TrackedWorker).dropped && this.placeable(h as TrackedWorker),
    );
    this.speculation = new Speculation(this.o.maxSpeculativeKeys, (h) => !(h as TrackedWorker).dropped);
    this.reader = new RegistryReader(this.redis, this.keys, this.log);
    this.tail = new StreamTail(this.redis, this.keys.events, {
      count: this.o.readCount,
      blockMs: this.o.blockMs,
      retryMs: this.o.snapshotRetryMs,
      log: this.log,
    });
  }

  /**
   * Bootstraps (retrying while Redis is unreachable), then tails in the
   * background. A router can serve before this resolves; it just routes
   * without prefix affinity until then. After stop(), start() resumes from
   * where the index stopped reading.
   */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.redis.on('ready', this.onReconnect);
    if (this.tail.position === '0-0') await this.bootstrap();
    if (!this.running) return;
    this.tailing = this.tail.run((batch) => this.onBatch(batch));
    this.pollTimer = setInterval(() => void this.poll(), this.o.pollIntervalMs);
    if ([...this.tracked.values()].some((w) => w.resync)) this.scheduleResyncs(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.redis.off('ready', this.onReconnect);
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    this.pollTimer = this.resyncTimer = null;
    this.tail.stop();
    await this.tailing;
    this.tailing = null;
  }

  /**
   * For each worker holding keys[0..n) with n >= 1 (confirmed or speculated), workerId -> n and
   * the tiers of those chunks (speculated ones count as on the device). Workers matching nothing
   * are absent. The answer is good until the next call.
   */
  longestPrefix(keys: BigUint64Array): ChunkMatches {
    return this.table.longestPrefix(keys, this.speculation);
  }

  /** Records that keys are about to be on workerId (a placement), until confirmed by its events or ttlMs passes. */
  speculate(workerId: string, keys: BigUint64Array, ttlMs: number): void {
    const w = this.tracked.get(workerId);
    if (this.placeable(w)) this.speculation.add(w, keys, ttlMs);
  }

  /**
   * Compatible workers whose registry entry is alive and not draining, as of the last registry
   * read: the placement pool. The router asks on every decision, so the list is reused until the roster
   * changes, and a worker's entry while its record and sync state stand (neither is changed once
   * returned: a change makes a new one). How many chunks the index holds of a worker is
   * entriesOf(workerId).size.
   */
  workers(): readonly LiveWorker[] {
    if (this.liveList?.roster === this.roster) return this.liveList.workers;
    const out: LiveWorker[] = [];
    for (const w of this.tracked.values()) {
      const record = w.record;
      if (!this.placeable(w) || !record) continue;
      const synced = !w.resync;
      const last = w.live;
      if (last && last.record === record && last.view.synced === synced) {
        out.push(last.view);
        continue;
      }
      const view: LiveWorker = { ...shown(record), synced };
      w.live = { record, view };
      out.push(view);
    }
    this.liveList = { roster: this.roster, workers: out };
    return out;
  }

  /** Live workers whose cluster constants differ from the router's, as of the last registry read. */
  incompatibleWorkers(): IncompatibleWorker[] {
    const out: IncompatibleWorker[] = [];
    for (const w of this.tracked.values()) {
      if (!w.record || w.mismatches.length === 0) continue;
      out.push({ ...shown(w.record), mismatches: w.mismatches, reason: describeMismatches(w.mismatches) });
    }
    return out;
  }

  /** The worker's indexed chunk keys, each with the tier it is in. */
  entriesOf(workerId: string): ReadonlyMap<bigint, KvTier> {
    const w = this.tracked.get(workerId);
    return w ? this.table.entriesOf(w) : new Map();
  }

  /**
   * Age of the newest entry of the last read when it was applied (0 after an empty read): how stale
   * the index is. Measured against the Redis server's clock, so it includes clock skew.
   */
  get eventLagMs(): number {
    return this.lagMs;
  }

  stats(): ClusterIndexStats {
    return {
      entries: this.table.entries,
      entriesByTier: this.table.entriesByTier(),
      droppedEntries: this.table.dropped,
      speculativeKeys: this.speculation.size,
      ...this.counters,
      malformedValues: this.reader.malformed,
    };
  }

  private async bootstrap(): Promise<void> {
    for (;;) {
      const startedAt = Date.now();
      try {
        const view = await this.reader.read(true);
        let from = view.lastId;
        for (const record of view.records) {
          const w = this.replace(record.workerId, record.epoch);
          const snap = view.snapshots.get(record.workerId);
          if (snap?.epoch !== record.epoch) continue;
          this.load(w, snap);
          if (compareStreamIds(snap.id, from) < 0) from = snap.id;
        }
        this.tail.position = from;
        this.applyRegistry(view, startedAt);
        this.log?.info('index bootstrapped', {
          workers: view.records.length,
          entries: this.table.entries,
          from,
        });
        return;
      } catch (err) {
        if (!this.running) return;
        this.log?.warn('index bootstrap failed; retrying', { err });
        await new Promise((resolve) => setTimeout(resolve, this.o.snapshotRetryMs));
      }
    }
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    const startedAt = Date.now();
    try {
      const view = await this.reader.read(false);
      if (this.running) this.applyRegistry(view, startedAt);
      for (const id of view.expired) await pruneWorker(this.redis, this.keys, id);
    } catch (err) {
      this.log?.debug('registry read failed', { err });
    } finally {
      this.polling = false;
    }
  }

  /** Liveness, epochs and loads from a registry read that began at startedAt. */
  private applyRegistry(view: RegistryView, startedAt: number): void {
    const live = new Set<string>();
    for (const record of view.records) {
      live.add(record.workerId);
      let w = this.tracked.get(record.workerId);
      // A worker the stream moved to a new epoch after this read began is newer than the read.
      if (w && w.epoch !== record.epoch && w.since > startedAt) continue;
      if (!w || w.epoch !== record.epoch) w = this.replace(record.workerId, record.epoch);
      if (!w.record) this.judge(w, record);
      if (w.record !== record) this.roster++;
      w.record = record;
      w.seenOn = this.connection;
      w.keptSince = 0;
      w.leaseMs = Math.max(w.leaseMs, view.ttlMs.get(record.workerId) ?? 0);
      if (record.seq > w.seq) {
        this.checks.set(w.id, {
          epoch: w.epoch,
          seq: record.seq,
          untilId: view.lastId,
          round: this.tail.round,
        });
      }
    }
    for (const w of this.tracked.values()) {
      if (!live.has(w.id) && w.since < startedAt && !this.lostWithRedis(w, startedAt)) this.drop(w);
    }
    this.speculation.sweep();
  }

  /**
   * Whether a worker missing from a registry read may be missing only because Redis lost its
   * entry: it was last read on an earlier connection, and its lease, counted from the
   * reconnection, has not run out.
   */
  private lostWithRedis(w: TrackedWorker, now: number): boolean {
    if (!w.record || w.seenOn === this.connection || now >= this.connectedAt + w.leaseMs) return false;
    if (!w.keptSince) {
      w.keptSince = now;
      this.log?.info('keeping a worker missing from the registry after a Redis reconnection', {
        workerId: w.id,
        untilMs: this.connectedAt + w.leaseMs - now,
      });
    }
    return true;
  }

  private onBatch(batch: TailBatch): void {
    for (const [id, fields] of batch.entries) {
      let event: StreamEvent;
      try {
        event = parseEventFields(fields);
      } catch (err) {
        if (!(err instanceof RedisFormatError)) throw err;
        this.counters.malformedEvents++;
        this.log?.warn('skipping unreadable stream entry', { id, err: err.message });
        continue;
      }
      this.apply(event);
    }
    const last = batch.entries[batch.entries.length - 1];
    this.lagMs = last ? Math.max(0, Date.now() - streamIdTime(last[0])) : 0;
    this.runChecks(batch);
  }

  private apply(event: StreamEvent): void {
    let w = this.tracked.get(event.worker);
    if (!w || w.epoch !== event.epoch) {
      w = this.replace(event.worker, event.epoch);
      if (event.seq !== 1) this.beginResync(w, event.seq - 1);
    }
    if (w.resync) {
      w.buffer(event, this.o.maxBufferedEvents);
      return;
    }
    if (event.seq <= w.seq) return;
    if (event.seq !== w.seq + 1) {
      this.beginResync(w, event.seq - 1);
      w.buffer(event, this.o.maxBufferedEvents);
      return;
    }
    if (w.mismatches.length === 0) this.table.apply(w, event);
    w.seq = event.seq;
  }

  private runChecks(batch: TailBatch): void {
    for (const [id, check] of this.checks) {
      const reached =
        (batch.caughtUp && batch.round > check.round) ||
        compareStreamIds(this.tail.position, check.untilId) >= 0;
      if (!reached) continue;
      this.checks.delete(id);
      const w = this.tracked.get(id);
      if (w && w.epoch === check.epoch && !w.resync && w.seq < check.seq) this.beginResync(w, check.seq);
    }
  }

  /** A fresh, empty incarnation in place of whatever was tracked under this id. */
  private replace(workerId: string, epoch: string): TrackedWorker {
    const old = this.tracked.get(workerId);
    if (old) this.drop(old);
    const w = new TrackedWorker(workerId, epoch);
    this.tracked.set(workerId, w);
    this.roster++;
    return w;
  }

  private load(w: TrackedWorker, snap: Snapshot): void {
    this.table.clear(w);
    if (w.mismatches.length === 0)
      for (const tier of KV_TIERS) this.table.apply(w, { op: 'stored', tier, keys: snap.tiers[tier] });
    w.seq = snap.seq;
  }

  /**
   * Only a live, compatible worker is placed on (and may be matched or speculated onto); one whose
   * entry says draining is not, from the registry read that shows it on (worker.drain).
   */
  private placeable(w: TrackedWorker | undefined): w is TrackedWorker {
    return w?.record != null && w.mismatches.length === 0 && !w.record.draining;
  }

  /** Checks an incarnation's constants against the router's, on its first record. */
  private judge(w: TrackedWorker, record: WorkerRecord): void {
    w.mismatches = mismatches(record, this.o.constants);
    this.roster++;
    if (w.mismatches.length === 0) return;
    // Whatever its events stored before the record showed this is another key space.
    this.table.clear(w);
    const values = Object.fromEntries(
      w.mismatches.map((m) => [m.reason, { worker: m.worker, router: m.router }]),
    );
    this.log?.warn("not placing on a worker whose cluster constants differ from the router's", {
      workerId: w.id,
      epoch: w.epoch,
      reason: describeMismatches(w.mismatches),
      ...values,
    });
  }

  private drop(w: TrackedWorker): void {
    this.table.clear(w);
    w.dropped = true;
    this.tracked.delete(w.id);
    this.roster++;
    this.checks.delete(w.id);
  }

  private beginResync(w: TrackedWorker, needSeq: number): void {
    if (!w.resync) this.counters.resyncs++;
    w.beginResync(needSeq);
    this.roster++;
    this.log?.info('resynchronising worker from its snapshot', { workerId: w.id, epoch: w.epoch, needSeq });
    this.scheduleResyncs(0);
  }

  private scheduleResyncs(delayMs: number): void {
    if (this.resyncTimer || !this.running) return;
    this.resyncTimer = setTimeout(() => {
      this.resyncTimer = null;
      void this.runResyncs();
    }, delayMs);
  }

  private async runResyncs(): Promise<void> {
    let waiting = false;
    for (const w of [...this.tracked.values()]) {
      const r = w.resync;
      if (!r) continue;
      const snap = await this.reader.snapshot(w.id).catch(() => undefined);
      // The worker may have been dropped or replaced, or resynced, while we waited.
      if (this.tracked.get(w.id) !== w || w.resync !== r) continue;
      if (!snap || snap.epoch !== w.epoch || snap.seq < r.needSeq) {
        waiting = true;
        continue;
      }
      this.load(w, snap);
      w.resync = null;
      this.roster++;
      for (const event of r.buffered) this.apply(event);
    }
    if (waiting) this.scheduleResyncs(this.o.snapshotRetryMs);
  }
}
