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

export interface NativeAddon {
  KvCache: new (options: NativeKvCacheOptions) => NativeKvCache;
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
