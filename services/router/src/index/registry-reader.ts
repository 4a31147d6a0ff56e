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
  /** Remaining TTL of each record's entry, in ms (absent: the entry has none). */
  ttlMs: Map<string, number>;
  /** Members of the workers set whose entry has expired. */
  expired: string[];
  /** Present when asked for: live workers' snapshots. */
  snapshots: Map<string, Snapshot>;
  /** Id of the newest stream entry ('0-0' for none): the view is consistent with the stream up to here. */
  lastId: string;
}

export class RegistryReader {
  /** Keys whose value did not decode, with the error logged for it: logged once until it decodes again. */
  private readonly unreadable = new Map<string, string>();
  private malformedCount = 0;

  constructor(
    private readonly redis: Redis,
    private readonly keys: ClusterKeys,
    private readonly log: Logger | undefined,
  ) {}

  /** Values found malformed (registry entries, snapshots): each counted once per spell of being unreadable. */
  get malformed(): number {
    return this.malformedCount;
  }

  async read(withSnapshots: boolean): Promise<RegistryView> {
    const ids = await this.redis.smembers(this.keys.workers);
    const multi = this.redis.multi();
    for (const id of ids) multi.hgetall(this.keys.worker(id));
    for (const id of ids) multi.pttl(this.keys.worker(id));
    if (withSnapshots) for (const id of ids) multi.hgetallBuffer(this.keys.snapshot(id));
    multi.xrevrange(this.keys.events, '+', '-', 'COUNT', 1);
    const replies: Reply[] = (await multi.exec()) ?? [];
    const reply = (i: number): Reply => replies[i] ?? [new Error('transaction aborted'), null];
    const view: RegistryView = {
      records: [],
      ttlMs: new Map(),
      expired: [],
      snapshots: new Map(),
      lastId: '0-0',
    };
    ids.forEach((id, i) => {
      const key = this.keys.worker(id);
      const record = this.decode(key, () => parseWorkerRecord(id, asHash(key, reply(i))));
      if (record === null) view.expired.push(id);
      else if (record) view.records.push(record);
      const [, ttl] = reply(ids.length + i);
      if (record && typeof ttl === 'number' && ttl >= 0) view.ttlMs.set(id, ttl);
      if (!withSnapshots) return;
      const snapKey = this.keys.snapshot(id);
      const snap = this.decode(snapKey, () => parseSnapshot(id, asHash(snapKey, reply(2 * ids.length + i))));
      if (snap) view.snapshots.set(id, snap);
    });
    this.forgetUnlisted(ids);
    const [err, last] = reply(replies.length - 1);
    if (err) throw err;
    const newest = (last as [string, string[]][])[0];
    if (newest) view.lastId = newest[0];
    return view;
  }

  async snapshot(workerId: string): Promise<Snapshot | null | undefined> {
    const key = this.keys.snapshot(workerId);
    const reply = await this.redis.hgetallBuffer(key).then(
      (hash): Reply => [null, hash],
      (err: Error): Reply => [err, null],
    );
    return this.decode(key, () => parseSnapshot(workerId, asHash(key, reply)));
  }

  /** A worker no longer in the set is read no more: what was logged of its values goes with it. */
  private forgetUnlisted(ids: readonly string[]): void {
    if (this.unreadable.size === 0) return;
    const listed = new Set(ids.flatMap((id) => [this.keys.worker(id), this.keys.snapshot(id)]));
    for (const key of this.unreadable.keys()) if (!listed.has(key)) this.unreadable.delete(key);
  }

  /**
   * A value this version cannot read is skipped (undefined), never fatal: one bad entry must not
   * stop the reader from seeing every other worker.
   */
  private decode<T>(key: string, fn: () => T): T | undefined {
    try {
      const value = fn();
      this.unreadable.delete(key);
      return value;
    } catch (err) {
      if (!(err instanceof RedisFormatError)) throw err;
      if (this.unreadable.get(key) !== err.message) {
        this.unreadable.set(key, err.message);
        this.malformedCount++;
        this.log?.warn('skipping a malformed registry value', { key, err: err.message });
      }
      return undefined;
    }
  }
}

/** One command's reply, as MULTI returns them. */
type Reply = [error: Error | null, value: unknown];

/** A hash reply; a key holding another type is a malformed value, not a failed read. */
function asHash<T>(key: string, [err, value]: Reply): Record<string, T> {
  if (err?.message.startsWith('WRONGTYPE')) throw new RedisFormatError(`${key}: ${err.message}`);
  if (err) throw err;
  return value as Record<string, T>;
}
