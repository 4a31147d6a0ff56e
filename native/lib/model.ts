// The Llama-family forward pass over a KvCache: a typed, error-translating
// face over the addon's Model (one engine step at a time, on the cache's
// owner thread), plus the model types every loader produces.
import {
  type DecodeMode,
  type NativeGraft,
  type NativeModel,
  type NativeModelConfig,
  type NativeStepEntry,
  type NativeStepOutcome,
  type NativeStepRequest,
  type NativeStepResult,
  native,
  type RopeLayout,
  type RopeScaling,
} from './binding.ts';
import { InvalidArgumentError, rejectTranslated, translated } from './errors.ts';
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

export type StepEntry =
  /** The token sampled last for a running sequence. */
  | { kind: 'decode'; seqId: number; token: number }
  /** Tokens of a running sequence still to compute (as many as the budget allows run now). */
  | { kind: 'prefill'; seqId: number; tokens: ArrayLike<number> }
  /** A new sequence: its whole context; matched against the tree up to maxMatch tokens (default all). */
  | { kind: 'admit'; tokens: ArrayLike<number>; salt?: string; maxMatch?: number; ticket?: number };

/** Truncation reuse: see NativeGraft (salt defaults to ''). */
export interface Graft {
  salt?: string;
  source: ArrayLike<number>;
  target: ArrayLike<number>;
  head: number;
  drop: number;
}

export interface StepRequest {
  /** Run first: they make cached chunks this step's admissions then match. */
  grafts?: readonly Graft[];
  /** Sequences to release before anything else: finished, cancelled, preempted. */
  release?: ArrayLike<number>;
  /** Holds (KvCache.hold tickets) to let go of first: their requests were cancelled or admitted elsewhere. */
  dropTickets?: ArrayLike<number>;
  /** In priority order: decode rows, then running prefills, then admissions. */
  entries: readonly StepEntry[];
  /** Tokens computed at most (decode entries always run; at least one token runs); default: all. */
  tokenBudget?: number;
  mode?: DecodeMode;
}

export interface StepOutcome extends NativeStepOutcome {
  /** Logits of the entry's last given token, when it computed it ([vocab]). */
  logitsRow?: Float32Array;
}

export interface StepResult {
  /** One per request entry, in order. */
  entries: StepOutcome[];
  /** Tokens the forward pass ran. */
  rows: number;
  /** Per graft of the request, in order: tokens it made (0: nothing new, or no room). */
  grafted: number[];
}

function nativeGraft(g: Graft): NativeGraft {
  return {
    salt: g.salt ?? '',
    source: toInt32Tokens(g.source),
    target: toInt32Tokens(g.target),
    head: g.head,
    drop: g.drop,
  };
}

function nativeRequest(r: StepRequest): NativeStepRequest {
  return {
    ...(r.grafts && r.grafts.length > 0 ? { grafts: r.grafts.map(nativeGraft) } : {}),
    release: r.release instanceof Uint32Array ? r.release : Uint32Array.from(r.release ?? []),
    ...(r.dropTickets ? { dropTickets: Uint32Array.from(r.dropTickets) } : {}),
    entries: r.entries.map((e, i): NativeStepEntry => {
      switch (e.kind) {
        case 'decode':
          return { kind: 'decode', seqId: e.seqId, tokens: toInt32Tokens([e.token]) };
        case 'prefill':
          return { kind: 'prefill', seqId: e.seqId, tokens: toInt32Tokens(e.tokens) };
        case 'admit':
          return {
            kind: 'admit',
            tokens: toInt32Tokens(e.tokens),
            salt: e.salt ?? '',
            maxMatch: Math.min(e.maxMatch ?? e.tokens.length, e.tokens.length),
            ...(e.ticket ? { ticket: e.ticket } : {}),
          };
        default:
          throw new InvalidArgumentError(
            `entries[${i}].kind must be 'decode', 'prefill' or 'admit', got ${JSON.stringify((e as { kind: unknown }).kind)}`,
          );
      }
    }),
    tokenBudget: r.tokenBudget ?? 0x7fffffff,
    mode: r.mode ?? 'tpp',
  };
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
   * Binds the model to a cache of its shape (layers, kvHeads, headDim) and uploads the weights to the
   * cache's device, so the loaded tensors may be dropped afterwards.
   */
  static create(loaded: LoadedModel, cache: KvCache): Model {
    const handle = translated(
      () => new native.Model(loaded.config, Object.fromEntries(loaded.tensors), nativeKvCache(cache)),
    );
    return new Model(loaded.config, cache, handle);
  }

  /**
   * One engine step on the cache's owner thread: releases, admissions, appends, the forward pass of
   * every layer, commit. The whole request is checked before anything changes; a failed step rejects
   * with the typed error and leaves none of the sequences it named or created behind (released).
   * One step at a time per model.
   */
  async step(request: StepRequest): Promise<StepResult> {
    const req = nativeRequest(request);
    return this.unpack(await rejectTranslated(() => this.handle.step(req)));
  }

  /** step() blocking the calling thread: for tests and tools. */
  stepSync(request: StepRequest): StepResult {
    const req = nativeRequest(request);
    return this.unpack(translated(() => this.handle.stepSync(req)));
  }

  /** Frees the weights now; later steps throw. Dispose the model before its cache. */
  dispose(): void {
    translated(() => this.handle.dispose());
  }

  private unpack(r: NativeStepResult): StepResult {
    const vocab = this.vocabSize;
    let k = 0;
    const entries = r.entries.map((e): StepOutcome => {
      if (!e.logits) return e;
      const row = r.logits.subarray(k * vocab, (k + 1) * vocab);
      k++;
      return { ...e, logitsRow: row };
    });
    return { entries, rows: r.rows, grafted: r.grafted };
  }
}
