// Everything a worker process computes with, built from a model directory:
// the loaded model and tokenizer, a KV cache of the model's shape, the native
// forward pass bound to it, and the engine driving both.
import { loadModel, type ModelBundle } from '@chunkmesh/model';
import {
  type DeviceChoice,
  type DeviceProbe,
  KvCache,
  type KvDType,
  Model,
  probeDevice,
} from '@chunkmesh/native';
import { Engine } from './engine/engine.ts';
import type { EngineObserver, EngineOptions } from './engine/engine-types.ts';
import type { RestoreMode } from './engine/restore-policy.ts';
import { ConstraintCompiler } from './sampling/grammar/constraint-compiler.ts';

export interface WorkerRuntimeOptions {
  modelDir: string;
  /** KV pool size; exactly one of the two. */
  kvCapacityBytes?: number;
  kvCapacityTokens?: number;
  chunkTokens: number;
  /** KV storage; 'auto': f32 on the CPU, bf16 on a GPU (whose kernels read f16/bf16). */
  dtype: KvDType | 'auto';
  /** Default 'auto': CUDA when built and usable, else the CPU. */
  device?: DeviceChoice;
  threads: number;
  /** Tiers below the device pool: a host tier (bytes), and a disk tier under it (directory, bytes). */
  tiers?: TierSettings;
  engine: Omit<EngineOptions, 'tiers'>;
  observer?: (cache: KvCache) => EngineObserver;
}

export interface TierSettings {
  hostBytes: number;
  diskDir?: string;
  diskBytes?: number;
  ioThreads?: number;
  /** Waiting requests held (and restored) ahead of admission. */
  lookAhead: number;
  /** Read a prefix on disk back, or recompute it (default auto: whichever the measured rates say is faster). */
  restore?: RestoreMode;
}

export interface WorkerRuntime {
  /** The device chosen, and why 'auto' fell back to the CPU if it did. */
  device: DeviceProbe;
  bundle: ModelBundle;
  cache: KvCache;
  model: Model;
  engine: Engine;
  /** The constraint compiler for the model's vocabulary, made on the first constrained request. */
  constraints: () => Promise<ConstraintCompiler>;
  /** Cancels what the engine still runs and frees the weights and the KV pool at once. */
  dispose(): Promise<void>;
}

/** Any tier asked for (a disk tier without a host tier is passed on, for the cache to refuse by name). */
function tiered(t: TierSettings | undefined): t is TierSettings {
  return t !== undefined && (t.hostBytes > 0 || t.diskDir !== undefined);
}

export async function createWorkerRuntime(o: WorkerRuntimeOptions): Promise<WorkerRuntime> {
  const bundle = await loadModel(o.modelDir);
  const c = bundle.model.config;
  // decided once, so the KV type can follow the device
  const device = probeDevice(o.device ?? 'auto');
  const cache = new KvCache({
    layers: c.layers,
    kvHeads: c.kvHeads,
    headDim: c.headDim,
    chunkTokens: o.chunkTokens,
    dtype: o.dtype === 'auto' ? (device.kind === 'cuda' ? 'bf16' : 'f32') : o.dtype,
    modelId: c.modelId,
    vocabSize: c.vocabSize,
    threads: o.threads,
    device: device.kind,
    ...(o.kvCapacityTokens !== undefined
      ? { capacityChunks: Math.ceil(o.kvCapacityTokens / o.chunkTokens) }
      : { capacityBytes: o.kvCapacityBytes }),
    ...(tiered(o.tiers)
      ? {
          hostBytes: o.tiers.hostBytes,
          ...(o.tiers.diskDir !== undefined
            ? { diskDir: o.tiers.diskDir, diskBytes: o.tiers.diskBytes ?? 0 }
            : {}),
          ioThreads: o.tiers.ioThreads ?? 2,
        }
      : {}),
  });
  const model = Model.create(bundle.model, cache);
  let engineOptions: EngineOptions = o.engine;
  if (tiered(o.tiers)) {
    const s = cache.stats();
    engineOptions = {
      ...o.engine,
      tiers: {
        lookAhead: o.tiers.lookAhead,
        restore: o.tiers.restore ?? 'auto',
        rates: {
          diskReadBytesPerSecond: s.diskReadBytesPerSecond,
          // only a disk tier needs it: restore or recompute is a question for disk reads alone
          prefillTokensPerSecond:
            o.tiers.diskDir !== undefined ? await measurePrefill(model, cache, o.engine.stepTokens) : 0,
          chunkTokens: cache.chunkTokens,
          chunkBytes: cache.chunkBytes,
        },
      },
    };
  }
  const engine = new Engine(model, cache, bundle.tokenizer, engineOptions, o.observer?.(cache));
  const dispose = async () => {
    await engine.shutdown(0);
    model.dispose();
    cache.dispose();
  };
  let compiler: Promise<ConstraintCompiler> | undefined;
  const constraints = () => {
    compiler ??= ConstraintCompiler.create(bundle.tokenizer, c.vocabSize, c.eosTokenIds);
    return compiler;
  };
  return { device, bundle, cache, model, engine, constraints, dispose };
}

/**
 * Prompt tokens per second one prefill computes on this device: one step of
 * up to `stepTokens` fresh tokens, after a short warm-up, under a salt no
 * request uses; the cache is cleared afterwards (nothing reported yet).
 */
async function measurePrefill(model: Model, cache: KvCache, stepTokens: number): Promise<number> {
  const n = Math.max(2, Math.min(stepTokens, model.maxSeqLen - 1, 256));
  const tokens = Array.from({ length: n }, (_, i) => (i * 7919 + 1) % model.vocabSize);
  const once = async (count: number) => {
    const r = await model.step({
      entries: [{ kind: 'admit', tokens: tokens.slice(0, count), salt: '\u0000prefill-rate', maxMatch: 0 }],
    });
    await model.step({ release: [r.entries[0]?.seqId ?? 0], entries: [] });
  };
  await once(Math.min(n, 8));
  const t0 = performance.now();
  await once(n);
  const seconds = (performance.now() - t0) / 1e3;
  cache.clear();
  cache.drainEvents();
  return n / Math.max(seconds, 1e-6);
}
