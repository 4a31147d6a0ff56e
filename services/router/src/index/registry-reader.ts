// Reads the registry (and, for a bootstrap, the snapshots) in one MULTI, so
// records, snapshots and the stream's last id describe the same instant.
import {
  type ClusterKeys,
  type Logger,
  parseSnapshot,
  parseWorkerRecord,
  RedisFormatError,
  type Snapshot,
  type WorkerRecord,
} from '@chunkmesh/common';
import type { Redis } from 'ioredis';

export interface RegistryView {
  records: WorkerRecord[];
  /** Members of the workers set whose entry has expired. */
  expired: string[];
  /** Present when asked for: live workers' snapshots. */
  snapshots: Map<string, Snapshot>;
  /** Id of the newest stream entry ('0-0' for none): the view is consistent with the stream up to here. */
  lastId: string;
}

export class RegistryReader {
  constructor(
    private readonly redis: Redis,
    private readonly keys: ClusterKeys,
    private readonly log: Logger | undefined,
  ) {}

  async read(withSnapshots: boolean): Promise<RegistryView> {
    const ids = await this.redis.smembers(this.keys.workers);
    const multi = this.redis.multi();
    for (const id of ids) multi.hgetall(this.keys.worker(id));
    if (withSnapshots) for (const id of ids) multi.hgetallBuffer(this.keys.snapshot(id));
    multi.xrevrange(this.keys.events, '+', '-', 'COUNT', 1);
    const replies = (await multi.exec()) ?? [];
    const reply = (i: number): unknown => {
      const [err, value] = replies[i] ?? [new Error('transaction aborted'), null];
      if (err) throw err;
      return value;
    };
    const view: RegistryView = { records: [], expired: [], snapshots: new Map(), lastId: '0-0' };
    ids.forEach((id, i) => {
      const record = this.decode(id, () => parseWorkerRecord(id, reply(i) as Record<string, string>));
      if (record === null) view.expired.push(id);
      else if (record) view.records.push(record);
      const snap =
        withSnapshots &&
        this.decode(id, () => parseSnapshot(id, reply(ids.length + i) as Record<string, Buffer>));
      if (snap) view.snapshots.set(id, snap);
    });
    const last = reply(replies.length - 1) as [string, string[]][];
    if (last[0]) view.lastId = last[0][0];
    return view;
  }

  async snapshot(workerId: string): Promise<Snapshot | null | undefined> {
    const hash = await this.redis.hgetallBuffer(this.keys.snapshot(workerId));
    return this.decode(workerId, () => parseSnapshot(workerId, hash));
  }

  /** A value this version cannot read is logged and treated as unusable (undefined), not fatal. */
  private decode<T>(workerId: string, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof RedisFormatError)) throw err;
      this.log?.warn('unreadable registry value', { workerId, err: err.message });
      return undefined;
    }
  }
}
