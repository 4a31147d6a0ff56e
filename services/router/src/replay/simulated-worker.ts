// A worker for trace replay: the real prefix tree and eviction policy (the
// native KvCache, with a one-float-per-token geometry since no attention runs)
// over modelled host and disk tiers (lower-tiers.ts), in front of a fluid FIFO
// server. Service-rate model: a request occupies the worker for
//   uncached prompt tokens / prefillRate + output tokens / decodeRate
//   + host-hit tokens / hostRestoreRate
//   + disk-hit tokens / diskRestoreRate + diskLatency (when it reads the disk)
// seconds, rates being the worker's aggregate throughput over its batch.
import { IDLE_LOAD, type WorkerLoad } from '@chunkmesh/common';
import { CapacityExhaustedError, chunkKeys, KvCache, type KvEvent } from '@chunkmesh/native';
import { type Holder, holderSerial } from '../index/chunk-table.ts';
import { type LowerTierCapacity, LowerTiers } from './lower-tiers.ts';

/** The model id of every simulated worker's chunk keys. */
export const REPLAY_MODEL_ID = 'replay';

export interface ServiceRates {
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
}

/** How fast a hit below the device is restored (the worker copies or reads it instead of prefilling). */
export interface RestoreRates {
  hostTokensPerSecond: number;
  diskTokensPerSecond: number;
  /** Added once to a request that reads the disk. */
  diskLatencySeconds: number;
}

/** Host and disk tiers under each worker's device pool. */
export interface TierModel extends LowerTierCapacity {
  restore: RestoreRates;
}

interface Outstanding {
  start: number;
  end: number;
  promptTokens: number;
  tokens: number;
}

export interface Served {
  /** Prompt tokens not prefilled: device hits plus those restored from the host and disk. */
  cachedTokens: number;
  hostTokens: number;
  diskTokens: number;
  start: number;
  end: number;
}

const NO_TIERS: TierModel = {
  hostChunks: 0,
  diskChunks: 0,
  restore: { hostTokensPerSecond: 1, diskTokensPerSecond: 1, diskLatencySeconds: 0 },
};

export class SimulatedWorker implements Holder {
  readonly serial = holderSerial();
  private readonly cache: KvCache;
  busySeconds = 0;
  private freeAt = 0;
  private outstanding: Outstanding[] = [];
  private readonly lower: LowerTiers;
  /** The tree's events since the last drainEvents, evictions turned into the lower tiers' moves. */
  private events: KvEvent[] = [];

  constructor(
    readonly id: string,
    capacityTokens: number,
    private readonly chunkTokens: number,
    private readonly rates: ServiceRates,
    private readonly tiers: TierModel = NO_TIERS,
  ) {
    this.lower = new LowerTiers(tiers);
    this.cache = new KvCache({
      layers: 1,
      kvHeads: 1,
      headDim: 1,
      chunkTokens,
      capacityChunks: Math.max(1, Math.floor(capacityTokens / chunkTokens)),
      modelId: REPLAY_MODEL_ID,
      threads: 1,
    });
  }

  /** Pending work at time t, as a real worker's heartbeat would report it. */
  load(t: number): WorkerLoad {
    this.outstanding = this.outstanding.filter((o) => o.end > t);
    const s = this.cache.stats();
    const load = { ...IDLE_LOAD, freeChunks: s.freeChunks + s.cachedNodes };
    for (const o of this.outstanding) {
      if (o.start > t) {
        load.queuedRequests++;
        load.queuedTokens += o.promptTokens;
      } else {
        load.runningSequences++;
        load.runningTokens += o.tokens;
      }
    }
    return load;
  }

  /** Serves a request arriving at t (seconds): match, restore and prefill the rest into the tree, queue its work. */
  serve(t: number, tokens: Int32Array, outputTokens: number): Served {
    const c = this.chunkTokens;
    const onDevice = this.cache.matchLength(tokens.subarray(0, tokens.length - 1));
    // Past the device, the prefix may go on in the host and disk tiers (the last token is always
    // computed); with both empty (always, on a device-only run) there is nothing to look up.
    const { host, disk } = this.lower.sizes;
    const below =
      host + disk === 0
        ? { host: 0, disk: 0 }
        : this.lower.restore(
            chunkKeys({ modelId: REPLAY_MODEL_ID, chunkTokens: c, salt: '' }, tokens),
            onDevice / c,
            Math.floor((tokens.length - 1) / c),
          );
    const deviceTokens = this.insert(tokens);
    this.takeEvents();
    const hostTokens = below.host * c;
    const diskTokens = below.disk * c;
    const cachedTokens = deviceTokens + hostTokens + diskTokens;
    const { restore } = this.tiers;
    const start = Math.max(t, this.freeAt);
    const work =
      (tokens.length - cachedTokens) / this.rates.prefillTokensPerSecond +
      outputTokens / this.rates.decodeTokensPerSecond +
      hostTokens / restore.hostTokensPerSecond +
      (diskTokens > 0 ? diskTokens / restore.diskTokensPerSecond + restore.diskLatencySeconds : 0);
    const end = start + work;
    this.freeAt = end;
    this.busySeconds += work;
    this.outstanding.push({ start, end, promptTokens: tokens.length, tokens: tokens.length + outputTokens });
    return { cachedTokens, hostTokens, diskTokens, start, end };
  }

  /** The tree events since the last call, as a real worker reports them (stored, moved, removed). */
  drainEvents(): KvEvent[] {
    this.takeEvents();
    const out = this.events;
    this.events = [];
    return out;
  }

  private takeEvents(): void {
    for (const e of this.cache.drainEvents()) {
      if (e.op === 'removed' && e.tier === 'device') this.events.push(...this.lower.evicted(e.keys));
      else this.events.push(e);
    }
  }

  /**
   * The tree operations a real worker performs for the prompt. The sequence is released at
   * once: under FIFO service it would be pinned only while it runs, before the next request
   * on this worker touches the tree.
   */
  insert(tokens: Int32Array): number {
    const { seqId, cachedTokens } = this.cache.addSequence(tokens, { maxMatchTokens: tokens.length - 1 });
    try {
      this.cache.append(seqId, tokens.subarray(cachedTokens));
      this.cache.commit(seqId);
    } catch (err) {
      if (!(err instanceof CapacityExhaustedError)) throw err; // a prompt larger than the whole pool
    } finally {
      this.cache.release(seqId);
    }
    return cachedTokens;
  }
}
