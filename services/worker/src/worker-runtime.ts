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
  engine: EngineOptions;
  observer?: (cache: KvCache) => EngineObserver;
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
  });
  const model = Model.create(bundle.model, cache);
  const engine = new Engine(model, cache, bundle.tokenizer, o.engine, o.observer?.(cache));
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
