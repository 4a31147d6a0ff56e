import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readHfConfig } from '../src/hf-config.ts';
import { hfTensorLayout, loadHfWeights, type TensorSlot } from '../src/hf-weights.ts';
import type { ModelConfig } from '../src/model-spec.ts';
import { SafetensorsReader, SINGLE_FILE, writeSafetensors } from '../src/safetensors.ts';
import { type TinyModelOptions, tinyTensor, writeTinyModel } from '../src/tiny-model.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'hf-weights-test-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const SHAPE: TinyModelOptions = {
  dim: 24,
  hiddenDim: 40,
  layers: 2,
  heads: 3,
  kvHeads: 1,
  headDim: 16,
  vocabSize: 64,
  maxSeqLen: 32,
  seed: 3,
};

async function load(dir: string): Promise<{ config: ModelConfig; tensors: Map<string, Float32Array> }> {
  const config = await readHfConfig(dir);
  const reader = await SafetensorsReader.open(dir);
  try {
    return { config, tensors: await loadHfWeights(reader, config) };
  } finally {
    await reader.close();
  }
}

describe('HF tensor names -> canonical names', () => {
  it('maps every tensor of an untied llama with GQA and head_dim != dim/heads', async () => {
    const dir = join(root, 'llama');
    await writeTinyModel(dir, SHAPE);
    const { config, tensors } = await load(dir);
    const expected: [string, string, number[]][] = [
      ['tok_embeddings', 'model.embed_tokens.weight', [64, 24]],
      ['layers.1.attention_norm', 'model.layers.1.input_layernorm.weight', [24]],
      ['layers.1.wq', 'model.layers.1.self_attn.q_proj.weight', [48, 24]],
      ['layers.1.wk', 'model.layers.1.self_attn.k_proj.weight', [16, 24]],
      ['layers.1.wv', 'model.layers.1.self_attn.v_proj.weight', [16, 24]],
      ['layers.1.wo', 'model.layers.1.self_attn.o_proj.weight', [24, 48]],
      ['layers.1.ffn_norm', 'model.layers.1.post_attention_layernorm.weight', [24]],
      ['layers.1.w1', 'model.layers.1.mlp.gate_proj.weight', [40, 24]],
      ['layers.1.w3', 'model.layers.1.mlp.up_proj.weight', [40, 24]],
      ['layers.1.w2', 'model.layers.1.mlp.down_proj.weight', [24, 40]],
      ['norm', 'model.norm.weight', [24]],
      ['output', 'lm_head.weight', [64, 24]],
    ];
    for (const [canonical, hf, shape] of expected) {
      assert.deepEqual(tensors.get(canonical), tinyTensor(3, hf, shape), canonical);
    }
    assert.equal(tensors.size, 2 + 9 * config.layers + 1);
    assert.ok(![...tensors.keys()].some((k) => k.startsWith('layers.0.b')), 'no biases for llama');
  });

  it('qwen2 adds q/k/v biases; tied embeddings have no output', async () => {
    const dir = join(root, 'qwen2');
    await writeTinyModel(dir, { ...SHAPE, family: 'qwen2', tiedEmbeddings: true });
    const { tensors } = await load(dir);
    assert.equal(tensors.get('layers.0.bq')?.length, 48);
    assert.equal(tensors.get('layers.0.bk')?.length, 16);
    assert.deepEqual(tensors.get('layers.0.bv'), tinyTensor(3, 'model.layers.0.self_attn.v_proj.bias', [16]));
    assert.equal(tensors.has('output'), false);
  });
});

describe('weights that do not match the config', () => {
  // Rewrites the tiny model's single file from its layout after `edit`.
  async function modelWith(name: string, edit: (slots: TensorSlot[]) => TensorSlot[]): Promise<string> {
    const dir = join(root, name);
    await writeTinyModel(dir, SHAPE);
    const slots = edit(hfTensorLayout(await readHfConfig(dir)));
    await writeSafetensors(
      join(dir, SINGLE_FILE),
      slots.map((s) => ({
        name: s.hf,
        dtype: 'F32',
        shape: s.shape,
        data: () => tinyTensor(1, s.hf, s.shape),
      })),
    );
    return dir;
  }

  it('a missing tensor is named', async () => {
    const dir = await modelWith('missing', (slots) =>
      slots.filter((s) => s.hf !== 'model.layers.1.mlp.up_proj.weight'),
    );
    await assert.rejects(
      load(dir),
      /missing tensor model\.layers\.1\.mlp\.up_proj\.weight \(layers\.1\.w3\)/,
    );
  });

  it('a mis-shaped tensor is named with both shapes', async () => {
    const dir = await modelWith('shape', (slots) =>
      slots.map((s) => (s.hf === 'model.layers.0.self_attn.k_proj.weight' ? { ...s, shape: [24, 24] } : s)),
    );
    await assert.rejects(
      load(dir),
      /tensor model\.layers\.0\.self_attn\.k_proj\.weight \(layers\.0\.wk\) has shape \[24, 24\], expected \[16, 24\]/,
    );
  });

  it('an untied model without lm_head, and every problem reported at once', async () => {
    const dir = await modelWith('no-head', (slots) =>
      slots.filter((s) => s.hf !== 'lm_head.weight' && s.hf !== 'model.norm.weight'),
    );
    await assert.rejects(
      load(dir),
      /missing tensor model\.norm\.weight \(norm\); missing tensor lm_head\.weight \(output\)/,
    );
  });

  it('a checkpoint for another config (more layers expected than present)', async () => {
    const dir = join(root, 'fewer-layers');
    await mkdir(dir);
    await writeTinyModel(dir, { ...SHAPE, layers: 1 });
    const config = { ...(await readHfConfig(dir)), layers: 2 };
    const reader = await SafetensorsReader.open(dir);
    try {
      await assert.rejects(
        loadHfWeights(reader, config),
        /missing tensor model\.layers\.1\.input_layernorm\.weight/,
      );
    } finally {
      await reader.close();
    }
  });
});
