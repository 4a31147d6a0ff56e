// The llama2.c checkpoint loader on stories260K and on malformed files.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { CHECKPOINT } from '@chunkmesh/test-support';
import { loadLlama2cCheckpoint, parseLlama2cCheckpoint } from '../src/llama2c-checkpoint.ts';

/** A checkpoint of the given header with every float equal to its index, RoPE tables included. */
function synthetic(header: number[], floats: number): Uint8Array {
  const bytes = new Uint8Array(28 + floats * 4);
  const view = new DataView(bytes.buffer);
  header.forEach((v, i) => {
    view.setInt32(i * 4, v, true);
  });
  for (let i = 0; i < floats; i++) view.setFloat32(28 + i * 4, i, true);
  return bytes;
}

// dim 8, hidden 12, 2 layers, 2 heads, 1 KV head (head dim 4), vocab 10, seq_len 6
const HEADER = [8, 12, 2, 2, 1, 10, 6];
const FLOATS = 10 * 8 + 2 * (8 + 64 + 32 + 32 + 64 + 8 + 96 * 3) + 8 + 6 * 4;

describe('llama2.c checkpoint', () => {
  it('loads stories260K with the shape its README gives', async () => {
    const { config, tensors } = await loadLlama2cCheckpoint(CHECKPOINT);
    assert.deepEqual(config, {
      modelId: 'stories260K',
      family: 'llama',
      dim: 64,
      hiddenDim: 172,
      layers: 5,
      heads: 8,
      kvHeads: 4,
      headDim: 8,
      vocabSize: 512,
      maxSeqLen: 512,
      normEps: 1e-5,
      ropeTheta: 10000,
      ropeLayout: 'pairs',
      tiedEmbeddings: true,
      qkvBias: false,
      bosTokenId: 1,
      eosTokenIds: [2],
    });
    assert.equal(tensors.size, 2 + 5 * 9);
    assert.equal(tensors.get('layers.4.wk')?.length, 32 * 64);
    assert.equal(tensors.get('layers.0.w2')?.length, 64 * 172);
    assert.equal(tensors.has('output'), false);
  });

  it('places every tensor where the format puts it', () => {
    const { tensors } = parseLlama2cCheckpoint(synthetic(HEADER, FLOATS), 'tiny');
    const first = (name: string) => tensors.get(name)?.[0];
    assert.equal(first('tok_embeddings'), 0);
    assert.equal(first('layers.0.attention_norm'), 80);
    assert.equal(first('layers.1.attention_norm'), 88);
    assert.equal(first('layers.0.wq'), 96);
    assert.equal(first('layers.1.wq'), 160);
    assert.equal(first('layers.0.wk'), 224);
    assert.equal(first('layers.1.w3'), FLOATS - 8 - 24 - 96);
    assert.equal(first('norm'), FLOATS - 8 - 24);
    assert.equal(tensors.has('output'), false);
  });

  it('reads a separate classifier after the RoPE tables when vocab_size is negative', () => {
    const header = [...HEADER];
    header[5] = -10;
    const { config, tensors } = parseLlama2cCheckpoint(synthetic(header, FLOATS + 80), 'untied');
    assert.equal(config.tiedEmbeddings, false);
    assert.equal(config.vocabSize, 10);
    assert.equal(tensors.get('output')?.[0], FLOATS);
    assert.equal(tensors.get('output')?.length, 80);
  });

  it('reads from a Buffer that is not 4-byte aligned', () => {
    const bytes = synthetic(HEADER, FLOATS);
    const shifted = new Uint8Array(bytes.length + 1).subarray(1);
    shifted.set(bytes);
    assert.equal(parseLlama2cCheckpoint(shifted, 'tiny').tensors.get('norm')?.[0], FLOATS - 8 - 24);
  });

  it('rejects malformed files, naming what is wrong', async () => {
    const real = await readFile(CHECKPOINT);
    assert.throws(() => parseLlama2cCheckpoint(real.subarray(0, 20), 'x'), /too short/);
    assert.throws(() => parseLlama2cCheckpoint(real.subarray(0, real.length - 4), 'x'), /size mismatch/);
    assert.throws(() => parseLlama2cCheckpoint(synthetic(HEADER, FLOATS + 1), 'x'), /size mismatch/);
    const absurd = [...HEADER];
    absurd[2] = 1 << 20;
    assert.throws(() => parseLlama2cCheckpoint(synthetic(absurd, FLOATS), 'x'), /n_layers = 1048576/);
    const zero = [...HEADER];
    zero[0] = 0;
    assert.throws(() => parseLlama2cCheckpoint(synthetic(zero, FLOATS), 'x'), /dim = 0/);
    const gqa = [...HEADER];
    gqa[4] = 3;
    assert.throws(() => parseLlama2cCheckpoint(synthetic(gqa, FLOATS), 'x'), /n_kv_heads/);
    assert.throws(() =>
      parseLlama2cCheckpoint(new TextEncoder().encode('not a checkpoint at all, just text'), 'x'),
    );
  });
});
