// Hugging Face config.json (and generation_config.json) -> ModelConfig for the
// Llama-family architectures the native forward pass implements.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { ModelConfig, RopeScaling } from './model-spec.ts';

type Family = ModelConfig['family'];

const ARCHITECTURES: Record<string, Family> = {
  LlamaForCausalLM: 'llama',
  MistralForCausalLM: 'mistral',
  Qwen2ForCausalLM: 'qwen2',
};
export const SUPPORTED_MODEL_TYPES: readonly Family[] = ['llama', 'mistral', 'qwen2'];

type Json = Record<string, unknown>;

class ConfigReader {
  constructor(
    private readonly json: Json,
    private readonly source: string,
  ) {}

  fail(problem: string): never {
    throw new Error(`${this.source}: ${problem}`);
  }

  has(field: string): boolean {
    return this.json[field] !== undefined && this.json[field] !== null;
  }

  positiveInt(field: string, fallback?: number): number {
    const v = this.json[field] ?? fallback;
    if (v === undefined || v === null) this.fail(`missing required field ${field}`);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
      this.fail(`field ${field} must be a positive integer, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  positiveNumber(field: string, fallback?: number): number {
    const v = this.json[field] ?? fallback;
    if (v === undefined || v === null) this.fail(`missing required field ${field}`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      this.fail(`field ${field} must be a positive number, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  tokenIds(field: string): number[] {
    const v = this.json[field];
    if (v === undefined || v === null) return [];
    const ids = Array.isArray(v) ? v : [v];
    if (!ids.every((id) => typeof id === 'number' && Number.isSafeInteger(id) && id >= 0)) {
      this.fail(`field ${field} must be a token id or a list of token ids, got ${JSON.stringify(v)}`);
    }
    return ids as number[];
  }
}

function detectFamily(json: Json, source: string): Family {
  const modelType = json.model_type;
  if (typeof modelType === 'string') {
    if ((SUPPORTED_MODEL_TYPES as readonly string[]).includes(modelType)) return modelType as Family;
    throw new Error(
      `${source}: unsupported model_type "${modelType}" (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})`,
    );
  }
  // Some older exports omit model_type; the architecture class names the family.
  const architectures = Array.isArray(json.architectures) ? json.architectures : [];
  for (const arch of architectures) {
    const family = typeof arch === 'string' ? ARCHITECTURES[arch] : undefined;
    if (family) return family;
  }
  throw new Error(
    `${source}: cannot tell the model family: model_type is missing and architectures ${JSON.stringify(
      json.architectures ?? null,
    )} names none of ${Object.keys(ARCHITECTURES).join(', ')} (supported model_type: ${SUPPORTED_MODEL_TYPES.join(', ')})`,
  );
}

function ropeScaling(raw: unknown, source: string): RopeScaling | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new Error(`${source}: rope_scaling must be an object`);
  const r = new ConfigReader(raw as Json, `${source}: rope_scaling`);
  // transformers renamed `type` to `rope_type`; both appear in the wild.
  const type = (raw as Json).rope_type ?? (raw as Json).type;
  switch (type) {
    case 'default':
      return undefined;
    case 'linear':
      return { type, factor: r.positiveNumber('factor') };
    case 'llama3':
      return {
        type,
        factor: r.positiveNumber('factor'),
        lowFreqFactor: r.positiveNumber('low_freq_factor'),
        highFreqFactor: r.positiveNumber('high_freq_factor'),
        originalMaxPositionEmbeddings: r.positiveInt('original_max_position_embeddings'),
      };
    default:
      throw new Error(
        `${source}: unsupported rope_scaling type ${JSON.stringify(type ?? null)} (supported: linear, llama3)`,
      );
  }
}

/** Maps a parsed config.json to ModelConfig; `source` names it in errors. */
export function parseHfConfig(json: unknown, modelId: string, source: string): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error(`${source}: not a JSON object`);
  }
  const c = json as Json;
  const family = detectFamily(c, source);
  const r = new ConfigReader(c, source);

  const act = c.hidden_act ?? 'silu';
  if (act !== 'silu')
    r.fail(`hidden_act ${JSON.stringify(act)} is not supported (the forward pass uses silu)`);
  // Llama variants with these flags add biases (o_proj, MLP) that the canonical tensor set has no room for.
  for (const flag of ['attention_bias', 'mlp_bias']) {
    if (family !== 'qwen2' && c[flag] === true) r.fail(`${flag}: true is not supported`);
  }

  const dim = r.positiveInt('hidden_size');
  const heads = r.positiveInt('num_attention_heads');
  const kvHeads = r.positiveInt('num_key_value_heads', heads);
  if (heads % kvHeads !== 0) {
    r.fail(`num_attention_heads ${heads} is not a multiple of num_key_value_heads ${kvHeads}`);
  }
  if (!r.has('head_dim') && dim % heads !== 0) {
    r.fail(`head_dim is missing and hidden_size ${dim} is not divisible by num_attention_heads ${heads}`);
  }
  const headDim = r.positiveInt('head_dim', dim / heads);
  if (headDim % 2 !== 0) r.fail(`head_dim ${headDim} must be even for rotary embeddings`);
  let maxSeqLen = r.positiveInt('max_position_embeddings');
  // Attention here is over the full context; capping the context at the sliding
  // window keeps the result identical to windowed attention.
  const windowed = family === 'mistral' || (family === 'qwen2' && c.use_sliding_window === true);
  if (windowed && r.has('sliding_window')) maxSeqLen = Math.min(maxSeqLen, r.positiveInt('sliding_window'));

  const bosTokenId = r.tokenIds('bos_token_id')[0];
  return {
    modelId,
    family,
    dim,
    hiddenDim: r.positiveInt('intermediate_size'),
    layers: r.positiveInt('num_hidden_layers'),
    heads,
    kvHeads,
    headDim,
    vocabSize: r.positiveInt('vocab_size'),
    maxSeqLen,
    normEps: r.positiveNumber('rms_norm_eps'),
    ropeTheta: r.positiveNumber('rope_theta', 10000),
    ropeLayout: 'halves',
    ropeScaling: ropeScaling(c.rope_scaling, source),
    tiedEmbeddings: c.tie_word_embeddings === true,
    qkvBias: family === 'qwen2',
    ...(bosTokenId === undefined ? {} : { bosTokenId }),
    eosTokenIds: r.tokenIds('eos_token_id'),
  };
}

/** Reads and parses a JSON file; a parse error names the file. */
export async function readJsonFile(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`);
  }
}

/**
 * Reads `dir`/config.json. Instruct models often list extra stop tokens only in
 * generation_config.json, so its eos_token_id ids are added when present.
 * The model id is the directory's name.
 */
export async function readHfConfig(dir: string): Promise<ModelConfig> {
  const configPath = join(dir, 'config.json');
  const config = parseHfConfig(await readJsonFile(configPath), basename(resolve(dir)), configPath);
  const genPath = join(dir, 'generation_config.json');
  if (existsSync(genPath)) {
    const gen = await readJsonFile(genPath);
    const extra = new ConfigReader((gen ?? {}) as Json, genPath).tokenIds('eos_token_id');
    config.eosTokenIds = [...new Set([...config.eosTokenIds, ...extra])];
  }
  return config;
}
