// The Llama-family forward pass over a KvCache: a typed, error-translating
// face over the addon's Model, plus the model types every loader produces.
import {
  type DecodeMode,
  type NativeModel,
  type NativeModelConfig,
  native,
  type RopeLayout,
  type RopeScaling,
} from './binding.ts';
import { translated } from './errors.ts';
import { type KvCache, nativeKvCache } from './kv-cache.ts';
import { toInt32Tokens } from './tokens.ts';

export type { RopeLayout, RopeScaling };

export interface ModelConfig extends NativeModelConfig {
  /** Names the model in Info, in chunk keys and in Redis. */
  modelId: string;
  family: 'llama' | 'mistral' | 'qwen2';
  bosTokenId?: number;
  eosTokenIds: number[];
}

/**
 * Canonical tensor names, all fp32, row-major [out, in] (y = W x):
 *   tok_embeddings [vocab, dim]
 *   layers.{i}.attention_norm [dim]
 *   layers.{i}.wq [heads*headDim, dim], wk / wv [kvHeads*headDim, dim], wo [dim, heads*headDim]
 *   layers.{i}.bq [heads*headDim], bk / bv [kvHeads*headDim]          (only when qkvBias)
 *   layers.{i}.ffn_norm [dim]
 *   layers.{i}.w1 (gate) [hidden, dim], w3 (up) [hidden, dim], w2 (down) [dim, hidden]
 *   norm [dim]
 *   output [vocab, dim]                                                (absent when tiedEmbeddings)
 */
export type TensorMap = Map<string, Float32Array>;

/** What a loaded model is, whatever format it came from. */
export interface LoadedModel {
  config: ModelConfig;
  tensors: TensorMap;
}

function uint32s(values: ArrayLike<number>): Uint32Array {
  return values instanceof Uint32Array ? values : Uint32Array.from(values);
}

export class Model {
  readonly config: ModelConfig;
  readonly cache: KvCache;
  readonly vocabSize: number;
  readonly maxSeqLen: number;
  private readonly handle: NativeModel;

  private constructor(config: ModelConfig, cache: KvCache, handle: NativeModel) {
    this.config = config;
    this.cache = cache;
    this.vocabSize = config.vocabSize;
    this.maxSeqLen = config.maxSeqLen;
    this.handle = handle;
  }

  /**
   * Binds the model to a cache of its shape (layers, kvHeads, headDim). The weights are copied into
   * native memory, so the loaded tensors may be dropped afterwards.
   */
  static create(loaded: LoadedModel, cache: KvCache): Model {
    const handle = translated(
      () => new native.Model(loaded.config, Object.fromEntries(loaded.tensors), nativeKvCache(cache)),
    );
    return new Model(loaded.config, cache, handle);
  }

  /**
   * One forward step. tokens holds, in seqIds order, the tokens just appended to each sequence with
   * cache.append (counts[i] of them for seqIds[i]; one for decoding, more for prefill). Writes their KV,
   * commits each sequence and resolves to the logits of each sequence's last new token:
   * [seqIds.length][vocabSize]. Do not use the cache until the promise settles.
   */
  async step(
    seqIds: ArrayLike<number>,
    tokens: ArrayLike<number>,
    counts: ArrayLike<number>,
    mode: DecodeMode = 'tpp',
  ): Promise<Float32Array> {
    try {
      return await this.handle.step(uint32s(seqIds), toInt32Tokens(tokens), uint32s(counts), mode);
    } catch (err) {
      // rethrown as its typed class when it carries an addon error code
      return translated(() => {
        throw err;
      });
    }
  }

  /** step() on the calling thread, blocking it: for tests and tools. */
  stepSync(
    seqIds: ArrayLike<number>,
    tokens: ArrayLike<number>,
    counts: ArrayLike<number>,
    mode: DecodeMode = 'tpp',
  ): Float32Array {
    const t = toInt32Tokens(tokens);
    return translated(() => this.handle.stepSync(uint32s(seqIds), t, uint32s(counts), mode));
  }
}
