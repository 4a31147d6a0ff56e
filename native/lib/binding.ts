// The whole native surface in one place: every function and class the addon
// exports, with the exact argument types the C++ side checks. Nothing else in
// the repository touches the addon directly.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type KvDType = 'f32' | 'f16';
export type DecodeMode = 'tpp' | 'baseline';
export type KvOp = 'stored' | 'removed' | 'cleared';
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
}

export interface NativeKvEvent {
  op: KvOp;
  tier: KvTier;
  /** Chunk keys, in the order the chunks were stored or removed; empty for 'cleared'. */
  keys: BigUint64Array;
}

export interface NativeKvStats {
  logicalBytes: number;
  physicalBytes: number;
  pinnedNodes: number;
  cachedNodes: number;
  tailChunks: number;
  freeChunks: number;
  capacityChunks: number;
  chunkBytes: number;
  sequences: number;
  evictions: number;
}

export interface NativeDecodeCost {
  flops: number;
  kvBytes: number;
  sharedRuns: number;
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
  decodeCost(seqIds: Uint32Array, nHeads: number, mode: DecodeMode): NativeDecodeCost;
  drainEvents(): NativeKvEvent[];
  stats(): NativeKvStats;
  rootKey(salt: string): bigint;
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

/**
 * A model bound to one KvCache. A step takes, for each sequence, the tokens just appended to it
 * (flattened in seqIds order, counts[i] per sequence), writes their KV in every layer, commits each
 * sequence and returns the logits of each sequence's last new token, [batch][vocab].
 * While step() is in flight the cache must not be used from JavaScript (the step runs on a libuv
 * thread and mutates it); a second step meanwhile is rejected with CM_INVALID_ARGUMENT.
 */
export interface NativeModel {
  step(seqIds: Uint32Array, tokens: Int32Array, counts: Uint32Array, mode: DecodeMode): Promise<Float32Array>;
  /** The same step on the calling thread. */
  stepSync(seqIds: Uint32Array, tokens: Int32Array, counts: Uint32Array, mode: DecodeMode): Float32Array;
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
  chunkKeyRoot(modelId: string, chunkTokens: number, salt: string): bigint;
  chunkKeys(root: bigint, tokens: Int32Array, chunkTokens: number): BigUint64Array;
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
