// The prefix-tree KV cache: a typed, error-translating face over the addon's
// KvCache. Shapes are validated here for clear messages and again in C++.
// Every operation runs on the cache's owner thread (the calling thread waits);
// stats() and drainEvents() read what that thread last published.
import {
  type DecodeMode,
  type DeviceChoice,
  type KvDType,
  type KvTier,
  type NativeDecodeCost,
  type NativeDeviceInfo,
  type NativeFetch,
  type NativeHold,
  type NativeKvCache,
  type NativeKvChunk,
  type NativeKvEvent,
  type NativeKvStats,
  type NativeSpill,
  native,
} from './binding.ts';
import { InvalidArgumentError, rejectTranslated, translated } from './errors.ts';
import { toInt32Tokens } from './tokens.ts';

export interface KvCacheOptions {
  layers: number;
  kvHeads: number;
  headDim: number;
  /** Tokens per chunk (c); 64 by default, as in ChunkAttention. */
  chunkTokens?: number;
  /** Pool size in chunks, or in bytes (rounded down to whole chunks). Exactly one is required. */
  capacityChunks?: number;
  capacityBytes?: number;
  dtype?: KvDType;
  /** Names the key space together with chunkTokens; events and router keys use it. */
  modelId?: string;
  /** Token ids must be below this; 0 skips the check. */
  vocabSize?: number;
  /** Compute threads of the CPU device; defaults to CHUNKMESH_THREADS or the core count. */
  threads?: number;
  /** Where the pool lives and the kernels run; 'cpu' by default. */
  device?: DeviceChoice;
  /** A host tier below the device pool (bytes; page-locked memory on a GPU): evicted chunks are demoted there. */
  hostBytes?: number;
  /** A disk tier below the host tier: a directory for its file (emptied at start, locked) and its size. */
  diskDir?: string;
  diskBytes?: number;
  ioThreads?: number;
}

export interface AddSequenceOptions {
  salt?: string;
  /** Match at most this many leading tokens (the engine passes prompt length - 1, so the last token is computed). */
  maxMatchTokens?: number;
}

export type KvEvent = NativeKvEvent;
export type KvStats = NativeKvStats;
export type DeviceInfo = NativeDeviceInfo;
export type Hold = NativeHold;
export type FetchResult = NativeFetch;
export type SpillResult = NativeSpill;

export class KvCache {
  readonly layers: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly chunkTokens: number;
  readonly dtype: KvDType;
  readonly modelId: string;
  readonly capacityChunks: number;
  readonly chunkBytes: number;
  /** Bytes of one chunk's record between workers (exportPrefix, importPrefix): fp32, whatever the dtype. */
  readonly transferChunkBytes: number;
  private readonly handle: NativeKvCache;

  constructor(options: KvCacheOptions) {
    const chunkTokens = options.chunkTokens ?? 64;
    const dtype = options.dtype ?? 'f32';
    const chunkBytes =
      options.layers * 2 * options.kvHeads * chunkTokens * options.headDim * (dtype === 'f32' ? 4 : 2);
    if ((options.capacityChunks === undefined) === (options.capacityBytes === undefined)) {
      throw new InvalidArgumentError('give exactly one of capacityChunks and capacityBytes');
    }
    const capacityChunks =
      options.capacityChunks ??
      Math.floor((options.capacityBytes as number) / (chunkBytes > 0 ? chunkBytes : 1));
    if (options.capacityBytes !== undefined && capacityChunks < 1) {
      throw new InvalidArgumentError(
        `capacityBytes ${options.capacityBytes} holds no chunk of ${chunkBytes} bytes`,
      );
    }
    this.layers = options.layers;
    this.kvHeads = options.kvHeads;
    this.headDim = options.headDim;
    this.chunkTokens = chunkTokens;
    this.dtype = dtype;
    this.modelId = options.modelId ?? 'default';
    this.capacityChunks = capacityChunks;
    this.chunkBytes = chunkBytes;
    this.handle = translated(
      () =>
        new native.KvCache({
          layers: options.layers,
          kvHeads: options.kvHeads,
          headDim: options.headDim,
          chunkTokens,
          capacityChunks,
          dtype,
          modelId: this.modelId,
          vocabSize: options.vocabSize ?? 0,
          threads: options.threads ?? 0,
          device: options.device ?? 'cpu',
          hostBytes: options.hostBytes ?? 0,
          diskBytes: options.diskBytes ?? 0,
          ioThreads: options.ioThreads ?? 2,
          ...(options.diskDir !== undefined ? { diskDir: options.diskDir } : {}),
        }),
    );
    this.transferChunkBytes = this.handle.transferChunkBytes();
  }

  /** Starts a sequence on its longest cached prefix; returns its id and how many prompt tokens are cached. */
  addSequence(
    tokens: ArrayLike<number>,
    options: AddSequenceOptions = {},
  ): { seqId: number; cachedTokens: number } {
    const t = toInt32Tokens(tokens);
    return translated(() =>
      this.handle.addSequence(t, options.salt ?? '', Math.min(options.maxMatchTokens ?? t.length, t.length)),
    );
  }

  /** Cached prefix length for these tokens, without pinning anything. */
  matchLength(tokens: ArrayLike<number>, salt = ''): number {
    const t = toInt32Tokens(tokens);
    return translated(() => this.handle.matchLength(t, salt));
  }

  /** Appends tokens to the sequence's private tail; returns the position of the first. All or nothing. */
  append(seqId: number, tokens: ArrayLike<number>): number {
    const t = toInt32Tokens(tokens);
    return translated(() => this.handle.append(seqId, t));
  }

  /** Shares the sequence's full chunks with the tree once their KV is written. */
  commit(seqId: number): void {
    translated(() => this.handle.commit(seqId));
  }

  fork(seqId: number): number {
    return translated(() => this.handle.fork(seqId));
  }

  release(seqId: number): void {
    translated(() => this.handle.release(seqId));
  }

  clear(): void {
    translated(() => this.handle.clear());
  }

  sequenceLength(seqId: number): number {
    return translated(() => this.handle.sequenceLength(seqId));
  }

  /** K and V of positions [pos, pos + n), each [n][kvHeads][headDim]. */
  writeKV(seqId: number, layer: number, pos: number, k: Float32Array, v: Float32Array): void {
    translated(() => this.handle.writeKV(seqId, layer, pos, k, v));
  }

  readKV(seqId: number, layer: number, pos: number, count: number): { k: Float32Array; v: Float32Array } {
    return translated(() => this.handle.readKV(seqId, layer, pos, count));
  }

  /**
   * One decode step of attention for a batch: q is [batch][nHeads][headDim], in the order of seqIds;
   * so is the result. 'tpp' reads each shared chunk once for the batch; 'baseline' walks each sequence.
   */
  decode(
    seqIds: ArrayLike<number>,
    layer: number,
    nHeads: number,
    q: Float32Array,
    mode: DecodeMode = 'tpp',
    out?: Float32Array,
  ): Float32Array {
    const ids = seqIds instanceof Uint32Array ? seqIds : Uint32Array.from(seqIds);
    return translated(() => this.handle.decode(ids, layer, nHeads, q, mode, out));
  }

  /** Causal attention of the sequence's last q.length / (nHeads * headDim) tokens over the whole sequence. */
  prefill(seqId: number, layer: number, nHeads: number, q: Float32Array): Float32Array {
    return translated(() => this.handle.prefill(seqId, layer, nHeads, q));
  }

  /**
   * Benchmark form of decode(): the plan is built and q uploaded once, then `repeats` steps run back
   * to back on the device; returns seconds per step, transfers excluded.
   */
  timeDecode(
    seqIds: ArrayLike<number>,
    layer: number,
    nHeads: number,
    q: Float32Array,
    mode: DecodeMode,
    repeats: number,
  ): number {
    const ids = seqIds instanceof Uint32Array ? seqIds : Uint32Array.from(seqIds);
    return translated(() => this.handle.timeDecode(ids, layer, nHeads, q, mode, repeats));
  }

  /** The device's memory roofline: device-to-device copy bandwidth, bytes read + written per second. */
  copyBandwidth(bytes = 1 << 30, repeats = 5): number {
    return translated(() => this.handle.copyBandwidth(bytes, repeats));
  }

  decodeCost(seqIds: ArrayLike<number>, nHeads: number, mode: DecodeMode): NativeDecodeCost {
    const ids = seqIds instanceof Uint32Array ? seqIds : Uint32Array.from(seqIds);
    return translated(() => this.handle.decodeCost(ids, nHeads, mode));
  }

  /** Tree events the owner thread has published since the last call; never waits. */
  drainEvents(): KvEvent[] {
    return translated(() => this.handle.drainEvents());
  }

  /** Statistics as of the owner thread's last job; never waits, safe while a step runs. */
  stats(): KvStats {
    return translated(() => this.handle.stats());
  }

  rootKey(salt = ''): bigint {
    return translated(() => this.handle.rootKey(salt));
  }

  /** The device in use, and why 'auto' fell back to the CPU if it did. */
  device(): DeviceInfo {
    return translated(() => this.handle.device());
  }

  /**
   * Holds the cached prefix of tokens (up to maxMatchTokens) on whatever tier it is, so eviction
   * spares it while its request waits, and says where it is. Give the ticket to the request's admit
   * entry (it is let go of once admitted) or to a step's dropTickets.
   */
  async hold(tokens: ArrayLike<number>, options: AddSequenceOptions = {}): Promise<Hold> {
    const t = toInt32Tokens(tokens);
    return rejectTranslated(() =>
      this.handle.hold(t, options.salt ?? '', Math.min(options.maxMatchTokens ?? t.length, t.length)),
    );
  }

  /**
   * Reads the ticket's chunks among its first maxTokens back from disk to the host on IO threads
   * (the step loop never waits on them), then, with toDevice, moves its host chunks to the device
   * where free or unheld cached slots allow. Resolves when that is over.
   */
  async fetch(ticket: number, maxTokens: number, toDevice: boolean): Promise<FetchResult> {
    return rejectTranslated(() => this.handle.fetch(ticket, maxTokens, toDevice));
  }

  /**
   * The whole cached chunks of tokens' prefix under `salt` (at most maxChunks), with their keys
   * and checksums, from whatever tier they are on: held, fetched up to the device, read out.
   */
  async exportPrefix(tokens: ArrayLike<number>, salt: string, maxChunks: number): Promise<NativeKvChunk[]> {
    return rejectTranslated(() => this.handle.exportPrefix(toInt32Tokens(tokens), salt, maxChunks));
  }

  /**
   * Makes `chunks` (tokens' leading whole chunks, in order) cached nodes in one step, reported as
   * `stored` events. ChunkMismatchError when a key is not what tokens and salt give or a checksum
   * fails, CapacityExhaustedError when the pool has no room: either way nothing is cached.
   * Resolves with the tokens made (0: all were cached).
   */
  async importPrefix(tokens: ArrayLike<number>, salt: string, chunks: NativeKvChunk[]): Promise<number> {
    return rejectTranslated(() => this.handle.importPrefix(toInt32Tokens(tokens), salt, chunks));
  }

  /**
   * Every chunk key in the tree by the tier it is in now (a node being written to disk counts as
   * host, one being read back as disk): exactly what replaying every event drained so far gives.
   * Runs on the owner thread (after a step in flight; the JavaScript thread does not wait).
   */
  async residentKeys(): Promise<Record<KvTier, BigUint64Array>> {
    return rejectTranslated(() => this.handle.residentKeys());
  }

  /**
   * The cached whole chunks of tokens' prefix under `salt`, in order: each one's key and the tier
   * it is in now (as residentKeys counts it), without listing the whole tree.
   */
  async pathTiers(tokens: ArrayLike<number>, salt = ''): Promise<{ keys: BigUint64Array; tiers: KvTier[] }> {
    return rejectTranslated(() => this.handle.pathTiers(toInt32Tokens(tokens), salt));
  }

  /** Lets go of a hold() ticket outside a step (a step's dropTickets does it for the engine's own). */
  async dropTicket(ticket: number): Promise<void> {
    return rejectTranslated(() => this.handle.dropTicket(ticket));
  }

  /**
   * Moves the cached full chunks of tokens that no running sequence pins off the device to the host
   * tier, or with toDisk on to the disk tier (written now), bottom-up. What could not move (pinned,
   * a longer cached prefix below it on the device, no room) is counted in stayedTokens. Needs a host
   * tier (and a writable disk tier for toDisk): InvalidArgumentError otherwise. Runs on the owner
   * thread (a disk spill writes there); the JavaScript thread does not wait.
   */
  async spill(
    tokens: ArrayLike<number>,
    options: { salt?: string; toDisk?: boolean } = {},
  ): Promise<SpillResult> {
    return rejectTranslated(() =>
      this.handle.spill(toInt32Tokens(tokens), options.salt ?? '', options.toDisk ?? false),
    );
  }

  /** Frees the pool and stops the owner thread now (dispose the Model first); later calls throw. */
  dispose(): void {
    translated(() => this.handle.dispose());
  }
}

/** The addon object behind a KvCache, for the other wrappers in this package (Model); not exported from it. */
export function nativeKvCache(cache: KvCache): NativeKvCache {
  // biome-ignore lint/complexity/useLiteralKeys: bracket access is TypeScript's sanctioned way past `private`
  return cache['handle'];
}
