// What a loaded model is, whatever format it came from: the shape the native
// forward pass needs and its weights as fp32 tensors with canonical names.
// Loaders (llama2.c, Hugging Face) produce this; the native Model consumes it.

export type RopeLayout =
  /** Hugging Face Llama/Mistral/Qwen2: rotate the two halves of each head (x[i], x[i + d/2]). */
  | 'halves'
  /** llama2.c checkpoints: rotate adjacent pairs (x[2i], x[2i+1]). */
  | 'pairs';

export interface RopeScaling {
  /** 'linear' divides positions by factor; 'llama3' applies Llama 3.1's frequency-dependent scaling. */
  type: 'linear' | 'llama3';
  factor: number;
  lowFreqFactor?: number;
  highFreqFactor?: number;
  originalMaxPositionEmbeddings?: number;
}

export interface ModelConfig {
  /** Names the model in Info, in chunk keys and in Redis. */
  modelId: string;
  family: 'llama' | 'mistral' | 'qwen2';
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
  /** The classifier reuses the token embedding table (no `output` tensor). */
  tiedEmbeddings: boolean;
  /** q/k/v projections carry biases (Qwen2): tensors layers.{i}.bq/bk/bv exist. */
  qkvBias: boolean;
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

export interface LoadedModel {
  config: ModelConfig;
  tensors: TensorMap;
}
