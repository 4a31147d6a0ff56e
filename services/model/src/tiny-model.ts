// Tiny Llama-family models of any shape, written as real Hugging Face model
// directories (config.json, safetensors, tokenizer.json, tokenizer_config.json),
// so tests and benchmarks exercise the same loading path as downloaded models
// without downloading anything. Weights are deterministic in (seed, tensor name):
// the same model comes out whatever the dtype rounding, sharding or file order.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseHfConfig } from './hf-config.ts';
import { hfTensorLayout, type TensorSlot } from './hf-weights.ts';
import type { ModelConfig } from './model-spec.ts';
import {
  type FloatDtype,
  INDEX_FILE,
  SINGLE_FILE,
  type TensorToWrite,
  writeSafetensors,
} from './safetensors.ts';

export type TinyDtype = 'f32' | 'f16' | 'bf16';

export interface TinyModelOptions {
  family?: ModelConfig['family'];
  dim: number;
  hiddenDim: number;
  layers: number;
  heads: number;
  /** Defaults to heads (no GQA). */
  kvHeads?: number;
  /** Defaults to dim / heads. */
  headDim?: number;
  vocabSize: number;
  maxSeqLen: number;
  dtype?: TinyDtype;
  tiedEmbeddings?: boolean;
  /** 1 writes model.safetensors; more writes that many shards and an index. */
  shards?: number;
  seed?: number;
  ropeTheta?: number;
  normEps?: number;
  onProgress?: (message: string) => void;
}

const SAFETENSORS_DTYPE: Record<TinyDtype, FloatDtype> = { f32: 'F32', f16: 'F16', bf16: 'BF16' };
const TORCH_DTYPE: Record<TinyDtype, string> = { f32: 'float32', f16: 'float16', bf16: 'bfloat16' };
const ARCHITECTURE: Record<ModelConfig['family'], string> = {
  llama: 'LlamaForCausalLM',
  mistral: 'MistralForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
};

/** The special tokens of every tiny tokenizer, ids 0..5; the chat template uses the role markers. */
export const TINY_SPECIAL_TOKENS = [
  '<unk>',
  '<s>',
  '</s>',
  '<|system|>',
  '<|user|>',
  '<|assistant|>',
] as const;
const BOS_ID = 1;
const EOS_ID = 2;

/** Zephyr-style turns, each closed by </s>. */
export const TINY_CHAT_TEMPLATE =
  "{{ bos_token }}{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + eos_token + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}";

/** The config.json of a tiny model. */
export function tinyHfConfig(opts: TinyModelOptions): Record<string, unknown> {
  const family = opts.family ?? 'llama';
  return {
    architectures: [ARCHITECTURE[family]],
    model_type: family,
    hidden_size: opts.dim,
    intermediate_size: opts.hiddenDim,
    num_hidden_layers: opts.layers,
    num_attention_heads: opts.heads,
    num_key_value_heads: opts.kvHeads ?? opts.heads,
    head_dim: opts.headDim ?? opts.dim / opts.heads,
    vocab_size: opts.vocabSize,
    max_position_embeddings: opts.maxSeqLen,
    rms_norm_eps: opts.normEps ?? 1e-5,
    rope_theta: opts.ropeTheta ?? 10000,
    rope_scaling: null,
    tie_word_embeddings: opts.tiedEmbeddings ?? false,
    hidden_act: 'silu',
    bos_token_id: BOS_ID,
    eos_token_id: EOS_ID,
    torch_dtype: TORCH_DTYPE[opts.dtype ?? 'f32'],
    ...(family === 'llama' ? { attention_bias: false, mlp_bias: false } : {}),
    ...(family === 'mistral' ? { sliding_window: null } : {}),
    ...(family === 'qwen2' ? { use_sliding_window: false } : {}),
  };
}

/** splitmix32, uniform in [0, 1): tiny, fast, and good enough that weights look like noise. */
export function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 2 ** 32;
  };
}

function fnv1a(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * The values of one tiny-model tensor (HF name), in fp32 before any dtype rounding.
 * Sums of four uniforms give unit-variance bell-shaped noise; linear weights are
 * scaled by 1/sqrt(fan-in) and embeddings by 1/sqrt(dim) so activations and
 * logits stay around unit scale, norms sit near 1 and biases near 0.
 */
export function tinyTensor(seed: number, name: string, shape: readonly number[]): Float32Array {
  const next = splitmix32(fnv1a(name, seed));
  const n = shape.reduce((a, b) => a * b, 1);
  const fanIn = shape[shape.length - 1] as number;
  const [scale, offset] = name.endsWith('norm.weight')
    ? [0.1, 1]
    : name.endsWith('.bias')
      ? [0.02, 0]
      : [1 / Math.sqrt(fanIn), 0];
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const normal = (next() + next() + next() + next() - 2) * Math.sqrt(3);
    out[i] = offset + scale * normal;
  }
  return out;
}

// ---- tokenizer -------------------------------------------------------------

// GPT-2's byte-to-printable-character table, which the ByteLevel pre-tokenizer
// and decoder of @huggingface/tokenizers share.
function byteToUnicode(): string[] {
  const table: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCharCode(printable ? b : 256 + extra++);
  }
  return table;
}

// Bytes in the order they join a small vocabulary: printable ASCII (space
// first), newline and tab, then the rest, so text round-trips once the
// vocabulary holds ~100 tokens.
function bytesByPriority(): number[] {
  const first = [0x20, ...Array.from({ length: 0x7e - 0x20 }, (_, i) => 0x21 + i), 0x0a, 0x09];
  const rest = Array.from({ length: 256 }, (_, b) => b).filter((b) => !first.includes(b));
  return [...first, ...rest];
}

// Merges fill the vocabulary beyond the bytes: pairs of (space or letter,
// letter), then every merged token extended by one more letter, breadth-first,
// so each merge's parts always exist before it.
function* letterMerges(): Generator<[string, string]> {
  const space = byteToUnicode()[0x20] as string;
  const letters = [...'etaoinshrdlcumwfgypbvkjxqz'];
  let frontier = [space, ...letters];
  for (;;) {
    const next: string[] = [];
    for (const left of frontier) {
      for (const right of letters) {
        yield [left, right];
        next.push(left + right);
      }
    }
    frontier = next;
  }
}

/** tokenizer.json of a byte-level BPE tokenizer with exactly `vocabSize` ids. */
export function tinyTokenizerJson(vocabSize: number): Record<string, unknown> {
  if (vocabSize < TINY_SPECIAL_TOKENS.length + 1) {
    throw new Error(
      `vocabSize ${vocabSize} is too small: the tiny tokenizer needs ${TINY_SPECIAL_TOKENS.length + 1}`,
    );
  }
  const vocab: Record<string, number> = {};
  const tokens: string[] = [...TINY_SPECIAL_TOKENS];
  const bytes = byteToUnicode();
  for (const b of bytesByPriority()) {
    if (tokens.length === vocabSize) break;
    tokens.push(bytes[b] as string);
  }
  const merges: [string, string][] = [];
  if (tokens.length < vocabSize) {
    for (const merge of letterMerges()) {
      merges.push(merge);
      tokens.push(merge.join(''));
      if (tokens.length === vocabSize) break;
    }
  }
  tokens.forEach((token, id) => {
    vocab[token] = id;
  });
  const byteLevel = { add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: TINY_SPECIAL_TOKENS.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', ...byteLevel },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '<s>', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '<s>', type_id: 1 } },
        { Sequence: { id: 'B', type_id: 1 } },
      ],
      special_tokens: { '<s>': { id: '<s>', ids: [BOS_ID], tokens: ['<s>'] } },
    },
    decoder: { type: 'ByteLevel', ...byteLevel },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}

export function tinyTokenizerConfig(maxSeqLen: number): Record<string, unknown> {
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: '<s>',
    eos_token: '</s>',
    unk_token: '<unk>',
    add_bos_token: true,
    add_eos_token: false,
    clean_up_tokenization_spaces: false,
    model_max_length: maxSeqLen,
    chat_template: TINY_CHAT_TEMPLATE,
  };
}

// ---- writing ---------------------------------------------------------------

// Consecutive tensors go to the same shard until it holds its share of the
// bytes; a shard that would be empty (one huge tensor) is dropped.
function assignShards(slots: readonly TensorSlot[], shards: number): TensorSlot[][] {
  const sizes = slots.map((s) => s.shape.reduce((a, b) => a * b, 1));
  const total = sizes.reduce((a, b) => a + b, 0);
  const groups: TensorSlot[][] = Array.from({ length: shards }, () => []);
  let before = 0;
  slots.forEach((slot, i) => {
    groups[Math.min(shards - 1, Math.floor((before * shards) / total))]?.push(slot);
    before += sizes[i] as number;
  });
  return groups.filter((g) => g.length > 0);
}

function assertPositiveInt(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive integer, got ${value}`);
}

/** Writes a tiny model into `dir` (created if needed; existing files of the same names are replaced). */
export async function writeTinyModel(dir: string, opts: TinyModelOptions): Promise<void> {
  const shards = opts.shards ?? 1;
  const seed = opts.seed ?? 1;
  assertPositiveInt('shards', shards);
  if (opts.headDim === undefined && opts.dim % opts.heads !== 0) {
    throw new Error(`dim ${opts.dim} is not divisible by heads ${opts.heads}; give headDim`);
  }
  const hfConfig = tinyHfConfig(opts);
  // Parsing our own config.json validates the shape exactly as loading will.
  const config = parseHfConfig(hfConfig, 'tiny', 'tiny model options');
  const tokenizerJson = tinyTokenizerJson(opts.vocabSize);
  const progress = opts.onProgress ?? (() => {});

  await mkdir(dir, { recursive: true });
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  await writeFile(join(dir, 'config.json'), json(hfConfig));
  await writeFile(join(dir, 'tokenizer.json'), json(tokenizerJson));
  await writeFile(join(dir, 'tokenizer_config.json'), json(tinyTokenizerConfig(opts.maxSeqLen)));

  const dtype = SAFETENSORS_DTYPE[opts.dtype ?? 'f32'];
  const groups = assignShards(hfTensorLayout(config), shards);
  const weightMap: Record<string, string> = {};
  let totalBytes = 0;
  for (const [i, group] of groups.entries()) {
    const file =
      groups.length === 1
        ? SINGLE_FILE
        : `model-${String(i + 1).padStart(5, '0')}-of-${String(groups.length).padStart(5, '0')}.safetensors`;
    const tensors: TensorToWrite[] = group.map((slot) => ({
      name: slot.hf,
      dtype,
      shape: slot.shape,
      data: () => {
        progress(`  ${slot.hf} [${slot.shape.join(', ')}]`);
        return tinyTensor(seed, slot.hf, slot.shape);
      },
    }));
    progress(`writing ${file} (${group.length} tensors)`);
    totalBytes += await writeSafetensors(join(dir, file), tensors, { format: 'pt' });
    for (const slot of group) weightMap[slot.hf] = file;
  }
  // A stale index from an earlier sharded model in `dir` would take precedence over model.safetensors.
  if (groups.length > 1) {
    await writeFile(
      join(dir, INDEX_FILE),
      json({ metadata: { total_size: totalBytes }, weight_map: weightMap }),
    );
  } else {
    await rm(join(dir, INDEX_FILE), { force: true });
  }
  progress(`wrote ${dir}: ${totalBytes} bytes of ${dtype} weights in ${groups.length} file(s)`);
}
