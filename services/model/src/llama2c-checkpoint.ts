// llama2.c checkpoints (run.c's format): a header of seven int32 (dim,
// hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len), then fp32
// tensors, each kind stored for all layers together. A negative vocab_size
// means the classifier is stored separately at the end instead of being tied
// to the embedding table. Little-endian, as llama2.c writes it.
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { LoadedModel, ModelConfig, TensorMap } from './model-spec.ts';

const HEADER_INTS = 7;
const HEADER_BYTES = HEADER_INTS * 4;

// In header order. Far beyond any llama2.c model: a header outside them is not a checkpoint.
const LIMITS: Record<string, number> = {
  dim: 1 << 16,
  hidden_dim: 1 << 18,
  n_layers: 1024,
  n_heads: 1024,
  n_kv_heads: 1024,
  vocab_size: 1 << 24,
  seq_len: 1 << 24,
};

interface Header {
  dim: number;
  hiddenDim: number;
  layers: number;
  heads: number;
  kvHeads: number;
  vocabSize: number;
  tied: boolean;
  seqLen: number;
}

function readHeader(bytes: Uint8Array, source: string): Header {
  if (bytes.length < HEADER_BYTES) {
    throw new Error(
      `${source}: ${bytes.length} bytes is too short for a llama2.c checkpoint header (${HEADER_BYTES})`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const names = Object.keys(LIMITS);
  const v: Record<string, number> = {};
  names.forEach((name, i) => {
    const raw = view.getInt32(i * 4, true);
    const value = name === 'vocab_size' ? Math.abs(raw) : raw;
    const limit = LIMITS[name] as number;
    if (value < 1 || value > limit) {
      throw new Error(`${source}: header ${name} = ${raw} is not a plausible llama2.c value (1..${limit})`);
    }
    v[name] = value;
  });
  const h: Header = {
    dim: v.dim as number,
    hiddenDim: v.hidden_dim as number,
    layers: v.n_layers as number,
    heads: v.n_heads as number,
    kvHeads: v.n_kv_heads as number,
    vocabSize: v.vocab_size as number,
    tied: view.getInt32(5 * 4, true) > 0,
    seqLen: v.seq_len as number,
  };
  if (h.dim % h.heads !== 0 || (h.dim / h.heads) % 2 !== 0) {
    throw new Error(`${source}: header dim ${h.dim} must split into ${h.heads} heads of an even size`);
  }
  if (h.kvHeads > h.heads || h.heads % h.kvHeads !== 0) {
    throw new Error(`${source}: header n_heads ${h.heads} must be a multiple of n_kv_heads ${h.kvHeads}`);
  }
  return h;
}

interface Section {
  /** Canonical tensor name; null for data that is skipped. */
  name: string | null;
  /** Floats per layer, or in all when layers is 0. */
  elems: number;
  layers: number;
}

/** The model in a llama2.c checkpoint's bytes; modelId names it, source labels errors. */
export function parseLlama2cCheckpoint(bytes: Uint8Array, modelId: string, source = modelId): LoadedModel {
  const h = readHeader(bytes, source);
  const headDim = h.dim / h.heads;
  const qWidth = h.heads * headDim;
  const kvWidth = h.kvHeads * headDim;
  const L = h.layers;
  // In file order. Per-layer sections hold all layers back to back; the RoPE
  // tables (freq_cis_real, freq_cis_imag) are recomputed by the model, not read.
  const sections: Section[] = [
    { name: 'tok_embeddings', elems: h.vocabSize * h.dim, layers: 0 },
    { name: 'attention_norm', elems: h.dim, layers: L },
    { name: 'wq', elems: qWidth * h.dim, layers: L },
    { name: 'wk', elems: kvWidth * h.dim, layers: L },
    { name: 'wv', elems: kvWidth * h.dim, layers: L },
    { name: 'wo', elems: h.dim * qWidth, layers: L },
    { name: 'ffn_norm', elems: h.dim, layers: L },
    { name: 'w1', elems: h.hiddenDim * h.dim, layers: L },
    { name: 'w2', elems: h.dim * h.hiddenDim, layers: L },
    { name: 'w3', elems: h.hiddenDim * h.dim, layers: L },
    { name: 'norm', elems: h.dim, layers: 0 },
    { name: null, elems: h.seqLen * headDim, layers: 0 },
  ];
  if (!h.tied) sections.push({ name: 'output', elems: h.vocabSize * h.dim, layers: 0 });
  const span = (s: Section) => s.elems * Math.max(s.layers, 1);
  const floats = sections.reduce((sum, s) => sum + span(s), 0);
  const expected = HEADER_BYTES + floats * 4;
  if (bytes.length !== expected) {
    throw new Error(
      `${source}: size mismatch: the header (dim ${h.dim}, hidden ${h.hiddenDim}, layers ${L}, heads ${h.heads}/${h.kvHeads}, ` +
        `vocab ${h.vocabSize}${h.tied ? '' : ' untied'}, seq_len ${h.seqLen}) implies ${expected} bytes, the file has ${bytes.length}`,
    );
  }
  // Float32Array views need 4-byte alignment; a pooled Buffer may not give it
  const aligned = (bytes.byteOffset + HEADER_BYTES) % 4 === 0 ? bytes : bytes.slice();
  const data = new Float32Array(aligned.buffer, aligned.byteOffset + HEADER_BYTES, floats);
  const tensors: TensorMap = new Map();
  let offset = 0;
  for (const s of sections) {
    if (s.name !== null && s.layers === 0) tensors.set(s.name, data.subarray(offset, offset + s.elems));
    for (let i = 0; s.name !== null && i < s.layers; i++) {
      tensors.set(`layers.${i}.${s.name}`, data.subarray(offset + i * s.elems, offset + (i + 1) * s.elems));
    }
    offset += span(s);
  }
  const config: ModelConfig = {
    modelId,
    family: 'llama',
    dim: h.dim,
    hiddenDim: h.hiddenDim,
    layers: L,
    heads: h.heads,
    kvHeads: h.kvHeads,
    headDim,
    vocabSize: h.vocabSize,
    maxSeqLen: h.seqLen,
    normEps: 1e-5,
    ropeTheta: 10000,
    ropeLayout: 'pairs',
    tiedEmbeddings: h.tied,
    qkvBias: false,
    bosTokenId: 1,
    eosTokenIds: [2],
  };
  return { config, tensors };
}

/** Loads a llama2.c checkpoint; the model id is the file name without extension (stories260K.bin -> stories260K). */
export async function loadLlama2cCheckpoint(path: string): Promise<LoadedModel> {
  const bytes = await readFile(path);
  return parseLlama2cCheckpoint(bytes, basename(path, extname(path)), path);
}
