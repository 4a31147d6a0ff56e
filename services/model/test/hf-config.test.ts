import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readHfConfig } from '../src/hf-config.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'hf-config-test-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

let count = 0;
/** Writes config.json (and optionally generation_config.json) into a fresh directory named `name`. */
async function fixture(config: unknown, generation?: unknown, name = `model-${count++}`): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir);
  await writeFile(join(dir, 'config.json'), JSON.stringify(config));
  if (generation !== undefined)
    await writeFile(join(dir, 'generation_config.json'), JSON.stringify(generation));
  return dir;
}

// Abridged from meta-llama/Llama-3.1-8B-Instruct.
const LLAMA31 = {
  architectures: ['LlamaForCausalLM'],
  attention_bias: false,
  bos_token_id: 128000,
  eos_token_id: [128001, 128008, 128009],
  hidden_act: 'silu',
  hidden_size: 4096,
  intermediate_size: 14336,
  max_position_embeddings: 131072,
  mlp_bias: false,
  model_type: 'llama',
  num_attention_heads: 32,
  num_hidden_layers: 32,
  num_key_value_heads: 8,
  rms_norm_eps: 1e-5,
  rope_scaling: {
    factor: 8.0,
    low_freq_factor: 1.0,
    high_freq_factor: 4.0,
    original_max_position_embeddings: 8192,
    rope_type: 'llama3',
  },
  rope_theta: 500000.0,
  tie_word_embeddings: false,
  torch_dtype: 'bfloat16',
  vocab_size: 128256,
};

// Abridged from mistralai/Mistral-7B-v0.1.
const MISTRAL = {
  architectures: ['MistralForCausalLM'],
  bos_token_id: 1,
  eos_token_id: 2,
  hidden_act: 'silu',
  hidden_size: 4096,
  intermediate_size: 14336,
  max_position_embeddings: 32768,
  model_type: 'mistral',
  num_attention_heads: 32,
  num_hidden_layers: 32,
  num_key_value_heads: 8,
  rms_norm_eps: 1e-5,
  rope_theta: 10000.0,
  sliding_window: 4096,
  tie_word_embeddings: false,
  vocab_size: 32000,
};

// Abridged from Qwen/Qwen2-0.5B-Instruct.
const QWEN2 = {
  architectures: ['Qwen2ForCausalLM'],
  bos_token_id: 151643,
  eos_token_id: 151645,
  hidden_act: 'silu',
  hidden_size: 896,
  intermediate_size: 4864,
  max_position_embeddings: 32768,
  max_window_layers: 24,
  model_type: 'qwen2',
  num_attention_heads: 14,
  num_hidden_layers: 24,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000.0,
  sliding_window: 32768,
  tie_word_embeddings: true,
  use_sliding_window: false,
  vocab_size: 151936,
};

describe('config.json -> ModelConfig', () => {
  it('llama 3.1 with llama3 rope scaling and a list of eos ids', async () => {
    const config = await readHfConfig(await fixture(LLAMA31, undefined, 'Llama-3.1-8B-Instruct'));
    assert.deepEqual(config, {
      modelId: 'Llama-3.1-8B-Instruct',
      family: 'llama',
      dim: 4096,
      hiddenDim: 14336,
      layers: 32,
      heads: 32,
      kvHeads: 8,
      headDim: 128,
      vocabSize: 128256,
      maxSeqLen: 131072,
      normEps: 1e-5,
      ropeTheta: 500000,
      ropeLayout: 'halves',
      ropeScaling: {
        type: 'llama3',
        factor: 8,
        lowFreqFactor: 1,
        highFreqFactor: 4,
        originalMaxPositionEmbeddings: 8192,
      },
      tiedEmbeddings: false,
      qkvBias: false,
      bosTokenId: 128000,
      eosTokenIds: [128001, 128008, 128009],
    });
  });

  it('mistral: context capped at the sliding window', async () => {
    const config = await readHfConfig(await fixture(MISTRAL));
    assert.equal(config.family, 'mistral');
    assert.equal(config.maxSeqLen, 4096);
    assert.equal(config.headDim, 128);
    assert.deepEqual(config.eosTokenIds, [2]);
    assert.equal(config.ropeScaling, undefined);
    assert.equal(config.qkvBias, false);
  });

  it('qwen2: q/k/v biases, tied embeddings, sliding window off', async () => {
    const config = await readHfConfig(await fixture(QWEN2));
    assert.equal(config.family, 'qwen2');
    assert.equal(config.qkvBias, true);
    assert.equal(config.tiedEmbeddings, true);
    assert.equal(config.headDim, 64);
    assert.equal(config.kvHeads, 2);
    assert.equal(config.maxSeqLen, 32768);
    assert.equal(config.normEps, 1e-6);
    assert.equal(config.ropeTheta, 1e6);
    assert.equal(config.ropeLayout, 'halves');
  });

  it('defaults: kv heads = heads, head_dim = hidden/heads, rope_theta 10000, untied, no bos/eos', async () => {
    const {
      bos_token_id,
      eos_token_id,
      num_key_value_heads,
      rope_theta,
      rope_scaling,
      tie_word_embeddings,
      ...bare
    } = LLAMA31;
    const config = await readHfConfig(await fixture(bare));
    assert.equal(config.kvHeads, 32);
    assert.equal(config.headDim, 128);
    assert.equal(config.ropeTheta, 10000);
    assert.equal(config.ropeScaling, undefined);
    assert.equal(config.tiedEmbeddings, false);
    assert.equal(config.bosTokenId, undefined);
    assert.deepEqual(config.eosTokenIds, []);
  });

  it('explicit head_dim, linear rope scaling, legacy `type` key', async () => {
    const config = await readHfConfig(
      await fixture({ ...MISTRAL, head_dim: 64, rope_scaling: { type: 'linear', factor: 2 } }),
    );
    assert.equal(config.headDim, 64);
    assert.deepEqual(config.ropeScaling, { type: 'linear', factor: 2 });
  });

  it('family from architectures when model_type is missing', async () => {
    const { model_type, ...rest } = QWEN2;
    assert.equal((await readHfConfig(await fixture(rest))).family, 'qwen2');
  });

  it('generation_config.json adds stop tokens', async () => {
    const config = await readHfConfig(
      await fixture({ ...MISTRAL, eos_token_id: 2 }, { eos_token_id: [2, 32000] }),
    );
    assert.deepEqual(config.eosTokenIds, [2, 32000]);
  });
});

describe('config.json rejections', () => {
  const rejects = async (config: unknown, pattern: RegExp) => {
    await assert.rejects(readHfConfig(await fixture(config)), pattern);
  };

  it('unsupported model_type, naming it and the supported ones', async () => {
    await rejects(
      { ...LLAMA31, model_type: 'gemma2' },
      /config\.json: unsupported model_type "gemma2" \(supported: llama, mistral, qwen2\)/,
    );
  });

  it('no model_type and unknown architectures', async () => {
    const { model_type, ...rest } = LLAMA31;
    await rejects(
      { ...rest, architectures: ['GPT2LMHeadModel'] },
      /cannot tell the model family.*GPT2LMHeadModel/,
    );
  });

  it('unsupported rope scaling types', async () => {
    for (const type of ['yarn', 'dynamic', 'longrope']) {
      await rejects(
        { ...LLAMA31, rope_scaling: { rope_type: type, factor: 4 } },
        new RegExp(`unsupported rope_scaling type "${type}" \\(supported: linear, llama3\\)`),
      );
    }
  });

  it('llama3 rope scaling without its parameters', async () => {
    await rejects(
      { ...LLAMA31, rope_scaling: { rope_type: 'llama3', factor: 8 } },
      /rope_scaling: missing required field low_freq_factor/,
    );
  });

  it('missing required fields, by name', async () => {
    for (const field of [
      'hidden_size',
      'intermediate_size',
      'num_hidden_layers',
      'num_attention_heads',
      'vocab_size',
      'max_position_embeddings',
      'rms_norm_eps',
    ]) {
      const config: Record<string, unknown> = { ...LLAMA31 };
      delete config[field];
      await rejects(config, new RegExp(`missing required field ${field}`));
    }
  });

  it('invalid values', async () => {
    await rejects(
      { ...LLAMA31, hidden_size: 'big' },
      /field hidden_size must be a positive integer, got "big"/,
    );
    await rejects(
      { ...LLAMA31, num_key_value_heads: 5 },
      /num_attention_heads 32 is not a multiple of num_key_value_heads 5/,
    );
    await rejects(
      { ...LLAMA31, hidden_size: 4000, num_attention_heads: 48, num_key_value_heads: 8 },
      /not divisible/,
    );
    await rejects({ ...LLAMA31, head_dim: 9 }, /head_dim 9 must be even/);
    await rejects({ ...LLAMA31, eos_token_id: 'x' }, /eos_token_id must be a token id or a list/);
    await rejects({ ...LLAMA31, hidden_act: 'gelu' }, /hidden_act "gelu" is not supported/);
    await rejects({ ...LLAMA31, attention_bias: true }, /attention_bias: true is not supported/);
  });

  it('config.json that is not JSON', async () => {
    const dir = join(root, 'broken');
    await mkdir(dir);
    await writeFile(join(dir, 'config.json'), '{ "model_type": ');
    await assert.rejects(readHfConfig(dir), /broken\/config\.json: not valid JSON/);
  });
});
