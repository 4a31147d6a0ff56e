import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { STORIES_DIR } from '@chunkmesh/test-support';
import { hfTensorLayout } from '../src/hf-weights.ts';
import { loadModel } from '../src/load-model.ts';
import { SINGLE_FILE, writeSafetensors } from '../src/safetensors.ts';
import { type TinyModelOptions, tinyTensor, writeTinyModel } from '../src/tiny-model.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'load-model-test-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const SHAPE: TinyModelOptions = {
  dim: 48,
  hiddenDim: 96,
  layers: 2,
  heads: 6,
  kvHeads: 2,
  vocabSize: 600,
  maxSeqLen: 128,
  dtype: 'f16',
  shards: 2,
  seed: 11,
};

describe('loadModel: Hugging Face directory', () => {
  it('loads a generated tiny model: config, tensor shapes, tokenizer and chat template', async () => {
    const dir = join(root, 'tiny-llama');
    await writeTinyModel(dir, SHAPE);
    const { model, tokenizer, chatTemplate } = await loadModel(dir);

    const { config, tensors } = model;
    assert.equal(config.modelId, 'tiny-llama');
    assert.deepEqual(
      {
        family: config.family,
        dim: config.dim,
        hiddenDim: config.hiddenDim,
        layers: config.layers,
        heads: config.heads,
        kvHeads: config.kvHeads,
        headDim: config.headDim,
        vocabSize: config.vocabSize,
        maxSeqLen: config.maxSeqLen,
        ropeLayout: config.ropeLayout,
        tiedEmbeddings: config.tiedEmbeddings,
        qkvBias: config.qkvBias,
        bosTokenId: config.bosTokenId,
        eosTokenIds: config.eosTokenIds,
      },
      {
        family: 'llama',
        dim: 48,
        hiddenDim: 96,
        layers: 2,
        heads: 6,
        kvHeads: 2,
        headDim: 8,
        vocabSize: 600,
        maxSeqLen: 128,
        ropeLayout: 'halves',
        tiedEmbeddings: false,
        qkvBias: false,
        bosTokenId: 1,
        eosTokenIds: [2],
      },
    );
    const layout = hfTensorLayout(config);
    assert.equal(tensors.size, layout.length);
    for (const slot of layout) {
      const n = slot.shape.reduce((a, b) => a * b, 1);
      assert.equal(tensors.get(slot.canonical)?.length, n, slot.canonical);
    }
    assert.equal(tensors.get('layers.1.wk')?.length, 16 * 48);
    assert.ok(
      [...tensors.values()].every((t) => t.every(Number.isFinite)),
      'all weights finite',
    );

    assert.equal(tokenizer.vocabSize, 600);
    const text = 'Once upon a time, a tiny model said: "héllo"!';
    assert.equal(tokenizer.decode(tokenizer.encode(text, { addSpecialTokens: true })), text);

    const prompt = chatTemplate.applyChatTemplate([{ role: 'user', content: 'Hi there' }], {
      addGenerationPrompt: true,
    });
    assert.equal(prompt, '<s><|user|>\nHi there</s>\n<|assistant|>\n');
    const ids = tokenizer.encode(prompt);
    assert.deepEqual(ids.slice(0, 2), [config.bosTokenId, 4]);
    assert.ok(ids.every((id) => id < config.vocabSize));
  });

  it('qwen2, tied, single bf16 file', async () => {
    const dir = join(root, 'tiny-qwen');
    await writeTinyModel(dir, { ...SHAPE, family: 'qwen2', tiedEmbeddings: true, dtype: 'bf16', shards: 1 });
    const { model } = await loadModel(dir);
    assert.equal(model.config.qkvBias, true);
    assert.equal(model.tensors.get('layers.0.bq')?.length, 48);
    assert.equal(model.tensors.has('output'), false);
  });

  it('names a missing tensor', async () => {
    const dir = join(root, 'missing-tensor');
    await writeTinyModel(dir, { ...SHAPE, shards: 1 });
    const { config } = (await loadModel(dir)).model;
    const kept = hfTensorLayout(config).filter((s) => s.hf !== 'model.layers.1.self_attn.o_proj.weight');
    await writeSafetensors(
      join(dir, SINGLE_FILE),
      kept.map((s) => ({
        name: s.hf,
        dtype: 'F16',
        shape: s.shape,
        data: () => tinyTensor(11, s.hf, s.shape),
      })),
    );
    await assert.rejects(
      loadModel(dir),
      /missing tensor model\.layers\.1\.self_attn\.o_proj\.weight \(layers\.1\.wo\)/,
    );
  });

  it('rejects a tokenizer larger than the model vocabulary', async () => {
    const dir = join(root, 'vocab-mismatch');
    await writeTinyModel(dir, SHAPE);
    const small = join(root, 'small-vocab');
    await writeTinyModel(small, { ...SHAPE, vocabSize: 300, shards: 1 });
    await copyFile(join(small, 'config.json'), join(dir, 'config.json'));
    await assert.rejects(loadModel(dir), /tokenizer has 600 tokens but the model embeds only vocab_size 300/);
  });
});

describe('loadModel: llama2.c directory', () => {
  it('loads stories260K with its tok512 tokenizer', async () => {
    const { model, tokenizer, chatTemplate } = await loadModel(STORIES_DIR);
    assert.equal(model.config.modelId, 'stories260K');
    assert.equal(model.config.ropeLayout, 'pairs');
    assert.equal(model.config.vocabSize, 512);
    assert.equal(tokenizer.vocabSize, 512);
    assert.equal(
      tokenizer.decode(tokenizer.encode('Once upon a time', { addSpecialTokens: true })),
      'Once upon a time',
    );
    assert.equal(chatTemplate.source, undefined);
  });

  it('picks the tokenizer that fits among several', async () => {
    const dir = join(root, 'stories-two-tokenizers');
    await mkdir(dir);
    await copyFile(join(STORIES_DIR, 'stories260K.bin'), join(dir, 'stories260K.bin'));
    await copyFile(join(STORIES_DIR, 'tok512.bin'), join(dir, 'tok512.bin'));
    // A tokenizer file for another vocabulary: the 512-token one padded with one more entry.
    const bigger = Buffer.concat([
      await readFile(join(STORIES_DIR, 'tok512.bin')),
      Buffer.from([0, 0, 0, 0, 1, 0, 0, 0, 0x41]),
    ]);
    await writeFile(join(dir, 'tokenizer.bin'), bigger);
    const { tokenizer } = await loadModel(dir);
    assert.equal(tokenizer.id, 'tok512');
  });
});

describe('loadModel: unknown layouts', () => {
  it('says what it found and what it expects', async () => {
    const dir = join(root, 'stray');
    await mkdir(dir);
    await writeFile(join(dir, SINGLE_FILE), '');
    await writeFile(join(dir, 'notes.txt'), '');
    await assert.rejects(
      loadModel(dir),
      /unrecognised model directory: found model\.safetensors, notes\.txt; expected a Hugging Face model \(config\.json.*or a llama2\.c model/,
    );
  });

  it('an empty directory, a missing one, several checkpoints', async () => {
    const empty = join(root, 'empty');
    await mkdir(empty);
    await assert.rejects(loadModel(empty), /found nothing; expected/);
    await assert.rejects(loadModel(join(root, 'nope')), /nope: not a directory; expected/);
    const several = join(root, 'several');
    await mkdir(several);
    for (const f of ['a.bin', 'b.bin', 'tok512.bin']) await writeFile(join(several, f), '');
    await assert.rejects(loadModel(several), /several llama2\.c checkpoints \(a\.bin, b\.bin\)/);
  });
});
