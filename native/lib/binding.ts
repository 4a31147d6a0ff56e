// The whole native surface in one place: every function and class the addon
// exports, with the exact argument types the C++ side checks. Nothing else in
// the repository touches the addon directly.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type KvDType = 'f32' | 'f16' | 'bf16';
export type DecodeMode = 'tpp' | 'baseline';
/** auto: CUDA when the addon was built with it and a GPU is usable, else the CPU. */
export type DeviceChoice = 'auto' | 'cpu' | 'cuda';
/** stored / removed: keys became or stopped being resident in `tier`; demoted / promoted: keys moved there from `from`; cleared: all of `tier`. */
export type KvOp = 'stored' | 'removed' | 'cleared' | 'demoted' | 'promoted';
export type KvTier = 'device' | 'host' | 'disk';

export interface NativeKvCacheOptions {
  layers: number;
  kvHeads: number;
  headDim: number;
  chunkTokens: number;
  capacityChunks: number;
  dtype: KvDType;
  modelId: string;
  /** 0 disables the vocabulary range check (ids must still be >= 0). */
  vocabSize: number;
  /** 0 picks CHUNKMESH_THREADS or the number of cores. */
  threads: number;
  device: DeviceChoice;
  /** Host tier below the device pool, in bytes (whole chunks); 0 or absent: none. */
  hostBytes?: number;
  /** Disk tier below the host tier: a directory for its file (needs hostBytes), and its size in bytes. */
  diskDir?: string;
  diskBytes?: number;
  /** Threads doing the disk tier's IO (2 by default). */
  ioThreads?: number;
}

export interface NativeDeviceInfo {
  kind: 'cpu' | 'cuda';
  name: string;
  /** e.g. "16 threads, avx512" */
  detail: string;
  threads: number;
  /** Device memory in total; 0 when not reported (CPU). */
  memoryBytes: number;
  /** Why 'auto' did not pick CUDA; empty when it did or the device was named explicitly. */
  fallbackReason: string;
}

export interface NativeKvEvent {
  op: KvOp;
  tier: KvTier;
  /** Chunk keys, in the order the chunks were stored or removed; empty for 'cleared'. */
  keys: BigUint64Array;
  /** demoted, promoted: the tier the keys left. */
  from?: KvTier;
}

export interface TierCounts {
  device: number;
  host: number;
  disk: number;
}

/** A copy made by the cache's owner thread after its last job: safe to read at any time. */
export interface NativeKvStats {
  /** Sum over live sequences of their length in KV bytes: what they would hold unshared. */
  logicalBytes: number;
  /** Device pool bytes in use: nodes (pinned and cached) and private tails. */
  physicalBytes: number;
  /** Bytes live sequences actually hold: pinned nodes and private tails. */
  liveBytes: number;
  /** High-water mark of physicalBytes since the cache was created. */
  peakPhysicalBytes: number;
  pinnedNodes: number;
  /** Unpinned nodes on the device: reusable, evictable. */
  cachedNodes: number;
  /** Nodes in the host tier (including those being written to disk) and on disk (including those being read). */
  hostNodes: number;
  diskNodes: number;
  hostCapacityChunks: number;
  diskCapacityChunks: number;
  /** Nodes held for waiting requests (hold), and the tickets holding them. */
  heldNodes: number;
  tickets: number;
  tailChunks: number;
  freeChunks: number;
  capacityChunks: number;
  chunkBytes: number;
  sequences: number;
  /** Tenant roots in the tree (reclaimed once empty). */
  roots: number;
  /** Nodes that left the device, of which demotions were kept on a lower tier. */
  evictions: number;
  demotions: number;
  promotions: number;
  /** Host nodes written back to disk, disk nodes read back to the host. */
  diskDemotions: number;
  diskPromotions: number;
  /** Cached tokens of admitted sequences by the tier their chunk was found in (disk: read back for them). */
  hitTokens: TierCounts;
  /** Tokens fetches moved to the device ahead of their request's admission. */
  prefetchedTokens: number;
  diskWrites: number;
  diskWriteBytes: number;
  diskWriteSeconds: number;
  diskReads: number;
  diskReadBytes: number;
  diskReadSeconds: number;
  /** Disk reads refused: short, damaged, or another write's record. */
  checksumFailures: number;
  /** Disk reads and writes the OS failed. */
  ioErrors: number;
  /** A write failed: the disk tier takes no more writes (the cache goes on with device and host). */
  diskFailed: boolean;
  /** The first failed write's error ('' when none). */
  diskError: string;
  /** Measured when the cache was made (0 without a disk tier). */
  diskReadBytesPerSecond: number;
  diskWriteBytesPerSecond: number;
  /** Owner-thread jobs finished so far. */
  jobs: number;
}

export interface NativeDecodeCost {
  flops: number;
  kvBytes: number;
  sharedRuns: number;
}

/** A waiting request's prefix, held so eviction spares it (NativeKvCache.hold). */
export interface NativeHold {
  /** 0 when nothing matched (nothing is held). */
  ticket: number;
  /** Matched tokens by the tier their chunk is in now. */
  tokens: TierCounts;
  /** Leading matched tokens on the device or host: usable at admission without any read. */
  usableTokens: number;
}

export interface NativeFetch {
  /** Read back from disk; failed: reads refused (damaged, IO error), those chunks are gone. */
  restoredTokens: number;
  failedTokens: number;
  /** Moved to the device ahead of admission. */
  promotedTokens: number;
  bytes: number;
  seconds: number;
  /** The ticket was dropped (or the cache disposed) first. */
  cancelled: boolean;
}

/** An explicit move of a cached prefix down the tiers (NativeKvCache.spill). */
export interface NativeSpill {
  /** The prefix's full chunks in the tree, on any tier. */
  matchedTokens: number;
  /** Moved down by this call. */
  movedTokens: number;
  /** Still above the tier asked for: pinned by a running request, under a longer cached prefix on the device, or no room below. */
  stayedTokens: number;
}

export interface NativeKvCache {
  addSequence(
    tokens: Int32Array,
    salt: string,
    maxMatchTokens: number,
  ): { seqId: number; cachedTokens: number };
  matchLength(tokens: Int32Array, salt: string): number;
  append(seqId: number, tokens: Int32Array): number;
  commit(seqId: number): void;
  fork(seqId: number): number;
  release(seqId: number): void;
  clear(): void;
  sequenceLength(seqId: number): number;
  writeKV(seqId: number, layer: number, pos: number, k: Float32Array, v: Float32Array): void;
  readKV(seqId: number, layer: number, pos: number, count: number): { k: Float32Array; v: Float32Array };
  decode(
    seqIds: Uint32Array,
    layer: number,
    nHeads: number,
    q: Float32Array,
    mode: DecodeMode,
    out?: Float32Array,
  ): Float32Array;
  prefill(seqId: number, layer: number, nHeads: number, q: Float32Array): Float32Array;
  /** Seconds per decode step: plan and q uploaded once, `repeats` steps back to back on the device. */
  timeDecode(
    seqIds: Uint32Array,
    layer: number,
    nHeads: number,
    q: Float32Array,
    mode: DecodeMode,
    repeats: number,
  ): number;
  /** Device-to-device copy bandwidth (bytes read + written per second) over `bytes`, best of `repeats`. */
  copyBandwidth(bytes: number, repeats: number): number;
  decodeCost(seqIds: Uint32Array, nHeads: number, mode: DecodeMode): NativeDecodeCost;
  drainEvents(): NativeKvEvent[];
  stats(): NativeKvStats;
  rootKey(salt: string): bigint;
  /** Bytes of one chunk's record as exportPrefix writes it and importPrefix takes it. */
  transferChunkBytes(): number;
  device(): NativeDeviceInfo;
  /** Frees the pool and stops the owner thread now; refused while a Model is bound to the cache. */
  dispose(): void;
  hold(tokens: Int32Array, salt: string, maxMatchTokens: number): Promise<NativeHold>;
  fetch(ticket: number, maxTokens: number, toDevice: boolean): Promise<NativeFetch>;
  /** Keys of every node in the tree by the tier it is in now: what its events drained so far replay to. */
  residentKeys(): Promise<Record<KvTier, BigUint64Array>>;
  pathTiers(tokens: Int32Array, salt: string): Promise<{ keys: BigUint64Array; tiers: KvTier[] }>;
  spill(tokens: Int32Array, salt: string, toDisk: boolean): Promise<NativeSpill>;
  /** Lets go of a ticket's holds (a pending fetch completes as cancelled); unknown tickets are ignored. */
  dropTicket(ticket: number): Promise<void>;
  exportPrefix(tokens: Int32Array, salt: string, maxChunks: number): Promise<NativeKvChunk[]>;
  /** Tokens made (0: every chunk was cached already). */
  importPrefix(tokens: Int32Array, salt: string, chunks: NativeKvChunk[]): Promise<number>;
}

/**
 * One whole chunk of a cached prefix as it moves between caches: its chunk key, its K/V
 * (per layer: K then V, [chunkTokens][kvHeads][headDim] fp32) and a checksum of both.
 */
export interface NativeKvChunk {
  key: bigint;
  checksum: bigint;
  bytes: Uint8Array;
}

export interface NativeBuildInfo {
  /** Which compute paths the addon was built with. */
  paths: 'cpu' | 'cpu+cuda';
  cudaCompiled: boolean;
  cudaRuntimeVersion: number;
  cudaDevices: number;
  nativeArch: boolean;
  simd: string;
  compiler: string;
  defaultThreads: number;
}

// ---- Model: the Llama-family forward pass over a KvCache ------------------

export type RopeLayout =
  /** Hugging Face Llama/Mistral/Qwen2: rotate the two halves of each head (x[i], x[i + d/2]). */
  | 'halves'
  /** llama2.c checkpoints: rotate adjacent pairs (x[2i], x[2i+1]). */
  | 'pairs';

export interface RopeScaling {
  /** 'linear' divides positions by factor; 'llama3' applies Llama 3.1's frequency-dependent scaling. */
  type: 'linear' | 'llama3';
  factor: number;
  /** lowFreqFactor, highFreqFactor and originalMaxPositionEmbeddings are required for 'llama3'. */
  lowFreqFactor?: number;
  highFreqFactor?: number;
  originalMaxPositionEmbeddings?: number;
}

/** The part of a model's config the forward pass reads; other fields are ignored. */
export interface NativeModelConfig {
  dim: number;
  hiddenDim: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  vocabSize: number;
  maxSeqLen: number;
  normEps: number;
  ropeTheta: number;
  ropeLayout: RopeLayout;
  ropeScaling?: RopeScaling;
  tiedEmbeddings: boolean;
  qkvBias: boolean;
}

export type NativeStepEntry =
  /** One token (the last sampled) for a running sequence. */
  | { kind: 'decode'; seqId: number; tokens: Int32Array }
  /** Tokens of a running sequence still to compute; as many run as the budget allows. */
  | { kind: 'prefill'; seqId: number; tokens: Int32Array }
  /** A new sequence: its whole context; the cached prefix (up to maxMatch tokens) is matched, the rest prefilled. */
  | { kind: 'admit'; tokens: Int32Array; salt: string; maxMatch: number; ticket?: number };

/**
 * Truncation reuse (native/src/kv/step_request.h, GraftRequest): makes the cached KV of an earlier
 * conversation (source) usable by a prompt that dropped `drop` tokens of it after a common `head`:
 * target[p] is source[p] before head and source[p + drop] after (checked). K is rotated to the new
 * positions; only whole target chunks the source's cached chunks cover are made.
 */
export interface NativeGraft {
  salt: string;
  source: Int32Array;
  target: Int32Array;
  head: number;
  /** At least 1. */
  drop: number;
}

/** One engine step (native/src/kv/step_request.h). */
export interface NativeStepRequest {
  /** Run before anything else, so this step's admissions match what they make. */
  grafts?: NativeGraft[];
  /** Sequences released first: finished, cancelled, preempted. */
  release: Uint32Array;
  /** Tickets (holds) let go of first. */
  dropTickets?: Uint32Array;
  /** In priority order. */
  entries: NativeStepEntry[];
  /** Tokens computed at most; decode entries always run, and at least one token runs. */
  tokenBudget: number;
  mode: DecodeMode;
}

export interface NativeStepOutcome {
  /** The entry's sequence: an admitted one's new id; 0 when not admitted. */
  seqId: number;
  /** admit: the sequence was created (admission stops at the first one that does not fit). */
  admitted: boolean;
  /** admit: prompt tokens found in the tree, whose prefill is skipped. */
  cachedTokens: number;
  /** admitted: cachedTokens by the tier each chunk was found in (disk: read back by a fetch). */
  cachedByTier?: TierCounts;
  /** Tokens appended and computed this step. */
  computed: number;
  /** Its tokens did not fit in the pool; nothing was appended (free room, then retry). */
  noRoom: boolean;
  /** It computed its last given token: its logits are in the result. */
  logits: boolean;
}

export interface NativeStepResult {
  entries: NativeStepOutcome[];
  /** [entries with logits, in order][vocab] */
  logits: Float32Array;
  /** Tokens the forward pass ran. */
  rows: number;
  /** Per graft of the request: tokens it made (0: nothing new, or no room). */
  grafted: number[];
}

/**
 * A model bound to one KvCache, living on the cache's owner thread. A step hands it the engine's
 * whole step; the cache admits and appends, the forward pass runs every layer, the cache commits.
 * A failed step (any error) releases every sequence the request named or created.
 */
export interface NativeModel {
  step(request: NativeStepRequest): Promise<NativeStepResult>;
  /** The same step, waiting on the calling thread. */
  stepSync(request: NativeStepRequest): NativeStepResult;
  /** Frees the weights now; refused while a step is in flight. */
  dispose(): void;
}

export interface NativeModelConstructor {
  /** Copies the tensors (canonical names, fp32); cache must be a NativeKvCache of the model's shape. */
  new (config: NativeModelConfig, tensors: Record<string, Float32Array>, cache: NativeKvCache): NativeModel;
}

// ---- The addon ---------------------------------------------------------------

export interface NativeAddon {
  KvCache: new (options: NativeKvCacheOptions) => NativeKvCache;
  Model: NativeModelConstructor;
  buildInfo(): NativeBuildInfo;
  /** The device a cache asking for `choice` would get here (made and dropped), and why 'auto' fell back. */
  probeDevice(choice: DeviceChoice): Pick<NativeDeviceInfo, 'kind' | 'name' | 'detail' | 'fallbackReason'>;
  chunkKeyRoot(modelId: string, chunkTokens: number, salt: string): bigint;
  chunkKeys(root: bigint, tokens: Int32Array, chunkTokens: number): BigUint64Array;
  /** Writes the keys to the start of `into` instead (it must hold them all); returns how many. */
  chunkKeys(root: bigint, tokens: Int32Array, chunkTokens: number, into: BigUint64Array): number;
  /** kChunkKeyFormat (kv/chunk_key.h). */
  chunkKeyFormat: number;
  measureReadBandwidth(threads: number, bytes: number): number;
  measureAttendPeak(threads: number, rows: number, headDim: number, chunkTokens: number): number;
}

function locate(): string {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const candidates = [join(root, 'build', 'Release', 'chunkmesh_native.node')];
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(
      `chunkmesh native addon is not built (looked in ${candidates.join(', ')}); run: npm run build -w @chunkmesh/native`,
    );
  }
  return found;
}

export const native: NativeAddon = createRequire(import.meta.url)(locate()) as NativeAddon;
