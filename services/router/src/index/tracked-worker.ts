// What the index knows about one incarnation (worker id + epoch) of a worker:
// how far into its event sequence it has applied, and, while it is
// resynchronising from the worker's snapshot, the events that arrive meanwhile.
// A new epoch is a new TrackedWorker, so nothing of the old one carries over.
import type { StreamEvent, WorkerRecord } from '@chunkmesh/common';
import { type Holder, holderSerial } from './chunk-table.ts';
import type { LiveWorker } from './cluster-index.ts';
import type { Mismatch } from './compatibility.ts';

export interface Resync {
  /** The snapshot to load must include at least this seq. */
  needSeq: number;
  /** Events past the gap, applied on top of the snapshot. */
  buffered: StreamEvent[];
}

export class TrackedWorker implements Holder {
  /** Registry entry, once a registry read has shown this incarnation alive. */
  record: WorkerRecord | null = null;
  /** How its cluster constants differ from the router's, judged on its first record; empty: compatible. */
  mismatches: readonly Mismatch[] = [];
  /** Every event up to this seq is applied (or in the loaded snapshot). */
  seq = 0;
  resync: Resync | null = null;
  dropped = false;
  readonly serial = holderSerial();
  readonly since = Date.now();
  /** Which of the index's Redis connections (numbered by reconnection) last read the record. */
  seenOn = -1;
  /** The longest remaining TTL a read found on the record: about the worker's heartbeat TTL. */
  leaseMs = 0;
  /** Since when a registry read has not shown it, while kept as lost with Redis (0: shown). */
  keptSince = 0;
  /** What ClusterIndex.workers() last returned for this worker, and from which record. */
  live: { record: WorkerRecord; view: LiveWorker } | null = null;

  constructor(
    readonly id: string,
    readonly epoch: string,
  ) {}

  beginResync(needSeq: number): void {
    if (this.resync) this.resync.needSeq = Math.max(this.resync.needSeq, needSeq);
    else this.resync = { needSeq, buffered: [] };
  }

  /** Holds an event for after the snapshot; past maxBuffered, the snapshot must cover it instead. */
  buffer(event: StreamEvent, maxBuffered: number): void {
    const r = this.resync as Resync;
    if (r.buffered.length < maxBuffered) {
      r.buffered.push(event);
      return;
    }
    r.buffered = [];
    r.needSeq = Math.max(r.needSeq, event.seq);
  }
}
