// The worker's Redis writes, command by command (layout: redis-keys.ts).
// Multi-command writes are MULTI transactions so a reader never sees half.
import {
  type ClusterKeys,
  deregister,
  eventFields,
  type HeartbeatResult,
  heartbeat,
  type Snapshot,
  type StreamEvent,
  snapshotFields,
  type WorkerRecord,
  workerRecordFields,
} from '@chunkmesh/common';
import type { ChainableCommander, Redis } from 'ioredis';

/** A MULTI that Redis refused, or one of whose commands failed. */
export class RedisWriteError extends Error {
  override name = 'RedisWriteError';
}

async function run(multi: ChainableCommander): Promise<unknown[]> {
  const replies = await multi.exec();
  if (!replies) throw new RedisWriteError('transaction aborted');
  return replies.map(([err, value]) => {
    if (err) throw new RedisWriteError(err.message, { cause: err });
    return value;
  });
}

export class ReportWriter {
  constructor(
    private readonly redis: Redis,
    private readonly keys: ClusterKeys,
    private readonly workerId: string,
    private readonly streamMaxLen: number,
  ) {}

  /**
   * Rewrites the registry entry and its TTL, unless another epoch holds this worker id; says
   * whether the entry still existed.
   */
  heartbeat(record: Omit<WorkerRecord, 'workerId'>, ttlMs: number): Promise<HeartbeatResult> {
    return heartbeat(this.redis, this.keys, this.workerId, record.epoch, ttlMs, workerRecordFields(record));
  }

  /** Appends the events in order, trimming the stream; returns their ids. */
  async append(events: readonly StreamEvent[]): Promise<string[]> {
    const multi = this.redis.multi();
    for (const e of events)
      multi.xadd(this.keys.events, 'MAXLEN', '~', this.streamMaxLen, '*', ...eventFields(e));
    return (await run(multi)) as string[];
  }

  async writeSnapshot(snapshot: Snapshot): Promise<void> {
    await this.redis.hset(this.keys.snapshot(this.workerId), snapshotFields(snapshot));
  }

  /** Removes every trace of this epoch of the worker but its stream entries (which age out with the trim). */
  async deregister(epoch: string): Promise<void> {
    await deregister(this.redis, this.keys, this.workerId, epoch);
  }
}
