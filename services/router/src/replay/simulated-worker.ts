// A worker for trace replay: the real prefix tree and eviction policy (the
// native KvCache, with a one-float-per-token geometry since no attention runs)
// in front of a fluid FIFO server. Service-rate model: a request occupies the
// worker for (uncached prompt tokens / prefillRate + output tokens / decodeRate)
// seconds, rates being the worker's aggregate throughput over its batch.
import { IDLE_LOAD, type WorkerLoad } from '@chunkmesh/common';
import { CapacityExhaustedError, KvCache } from '@chunkmesh/native';

/** The model id of every simulated worker's chunk keys. */
export const REPLAY_MODEL_ID = 'replay';

export interface ServiceRates {
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
}

interface Outstanding {
  start: number;
  end: number;
  promptTokens: number;
  tokens: number;
}

export interface Served {
  cachedTokens: number;
  start: number;
  end: number;
}

export class SimulatedWorker {
  readonly cache: KvCache;
  busySeconds = 0;
  private freeAt = 0;
  private outstanding: Outstanding[] = [];

  constructor(
    readonly id: string,
    capacityTokens: number,
    chunkTokens: number,
    private readonly rates: ServiceRates,
  ) {
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

  /** Serves a request arriving at t (seconds): match, prefill the rest into the tree, queue its work. */
  serve(t: number, tokens: Int32Array, outputTokens: number): Served {
    const cachedTokens = this.insert(tokens);
    const start = Math.max(t, this.freeAt);
    const work =
      (tokens.length - cachedTokens) / this.rates.prefillTokensPerSecond +
      outputTokens / this.rates.decodeTokensPerSecond;
    const end = start + work;
    this.freeAt = end;
    this.busySeconds += work;
    this.outstanding.push({ start, end, promptTokens: tokens.length, tokens: tokens.length + outputTokens });
    return { cachedTokens, start, end };
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
