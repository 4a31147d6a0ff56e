// Tails the events stream with XREAD BLOCK on a connection of its own (a
// blocked connection can send nothing else), from a position the owner sets.
// Rounds number the reads, so the owner can tell whether a read began after
// some moment: a read that began later and came back short has seen every
// entry that existed at that moment.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@chunkmesh/common';
import type { Redis } from 'ioredis';

export interface TailBatch {
  entries: [id: string, fields: Buffer[]][];
  round: number;
  /** The read returned fewer entries than it asked for: it reached the end of the stream. */
  caughtUp: boolean;
}

export interface StreamTailOptions {
  count: number;
  blockMs: number;
  retryMs: number;
  log?: Logger | undefined;
}

export class StreamTail {
  /** Id of the last entry handed over; reads continue after it. */
  position = '0-0';
  /** Number of the most recently issued read. */
  round = 0;
  private conn: Redis | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly o: StreamTailOptions,
  ) {}

  /** Reads until stop(), handing each batch to onBatch before the next read. */
  async run(onBatch: (batch: TailBatch) => void): Promise<void> {
    const conn = this.redis.duplicate();
    conn.on('error', (err: Error) => this.o.log?.debug('stream tail connection error', { err: err.message }));
    this.conn = conn;
    while (this.conn === conn) {
      const round = ++this.round;
      let reply: [Buffer, [Buffer, Buffer[]][]][] | null;
      try {
        reply = await conn.xreadBuffer(
          'COUNT',
          this.o.count,
          'BLOCK',
          this.o.blockMs,
          'STREAMS',
          this.key,
          this.position,
        );
      } catch (err) {
        if (this.conn !== conn) break;
        this.o.log?.debug('stream read failed', { err });
        await sleep(this.o.retryMs);
        continue;
      }
      const entries = (reply?.[0]?.[1] ?? []).map(([id, fields]): [string, Buffer[]] => [
        id.toString(),
        fields,
      ]);
      const last = entries[entries.length - 1];
      if (last) this.position = last[0];
      onBatch({ entries, round, caughtUp: entries.length < this.o.count });
    }
  }

  stop(): void {
    this.conn?.disconnect();
    this.conn = null;
  }
}
