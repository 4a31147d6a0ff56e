import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT, SOURCE_NODE_ARGS } from '@chunkmesh/test-support';
import { readHfConfig } from '../src/hf-config.ts';
import { INDEX_FILE, SafetensorsReader, SINGLE_FILE } from '../src/safetensors.ts';
import { type TinyModelOptions, tinyTensor, writeTinyModel } from '../src/tiny-model.ts';

const run = promisify(execFile);
const CLI = new URL('../src/make-tiny-model.ts', import.meta.url).pathname;

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tiny-model-test-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const SHAPE: TinyModelOptions = {
  dim: 32,
  hiddenDim: 64,
  layers: 2,
  heads: 4,
  vocabSize: 128,
  maxSeqLen: 64,
};

function stats(values: Float32Array): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance) };
}

describe('tiny model generator', () => {
  it('is deterministic in the seed', async () => {
    const a = join(root, 'a');
    const b = join(root, 'b');
    await writeTinyModel(a, { ...SHAPE, seed: 5 });
    await writeTinyModel(b, { ...SHAPE, seed: 5 });
    for (const file of await readdir(a)) {
      assert.deepEqual(await readFile(join(a, file)), await readFile(join(b, file)), file);
    }
    const name = 'model.layers.0.self_attn.q_proj.weight';
    assert.notDeepEqual(tinyTensor(5, name, [4, 4]), tinyTensor(6, name, [4, 4]));
  });

  it('scales weights so activations stay near unit size', () => {
    const linear = stats(tinyTensor(1, 'model.layers.0.mlp.down_proj.weight', [64, 256]));
    assert.ok(Math.abs(linear.mean) < 0.01 && Math.abs(linear.std - 1 / 16) < 0.005, JSON.stringify(linear));
    const norm = stats(tinyTensor(1, 'model.norm.weight', [4096]));
    assert.ok(Math.abs(norm.mean - 1) < 0.01 && Math.abs(norm.std - 0.1) < 0.01, JSON.stringify(norm));
    const bias = stats(tinyTensor(1, 'model.layers.0.self_attn.q_proj.bias', [4096]));
    assert.ok(Math.abs(bias.std - 0.02) < 0.002, JSON.stringify(bias));
  });

  it('writes any shape: GQA, head_dim != dim/heads, bf16, tied, sharded', async () => {
    const dir = join(root, 'odd');
    const opts: TinyModelOptions = {
      dim: 20,
      hiddenDim: 36,
      layers: 3,
      heads: 6,
      kvHeads: 2,
      headDim: 8,
      vocabSize: 77,
      maxSeqLen: 40,
      dtype: 'bf16',
      tiedEmbeddings: true,
      shards: 4,
      ropeTheta: 5e5,
    };
    const messages: string[] = [];
    await writeTinyModel(dir, { ...opts, onProgress: (m) => messages.push(m) });
    assert.ok(messages.some((m) => m.startsWith('writing model-00001-of-00004.safetensors')));
    const config = await readHfConfig(dir);
    assert.deepEqual(
      [config.dim, config.hiddenDim, config.layers, config.heads, config.kvHeads, config.headDim],
      [20, 36, 3, 6, 2, 8],
    );
    assert.deepEqual(
      [config.vocabSize, config.maxSeqLen, config.ropeTheta, config.tiedEmbeddings],
      [77, 40, 5e5, true],
    );
    const reader = await SafetensorsReader.open(dir);
    try {
      assert.deepEqual(reader.tensors.get('model.layers.2.self_attn.q_proj.weight')?.shape, [48, 20]);
      assert.deepEqual(reader.tensors.get('model.layers.2.self_attn.k_proj.weight')?.shape, [16, 20]);
      assert.equal(reader.tensors.get('model.layers.0.mlp.up_proj.weight')?.dtype, 'BF16');
      assert.equal(reader.tensors.has('lm_head.weight'), false);
    } finally {
      await reader.close();
    }
  });

  it('rewriting a directory as a single file drops the stale shard index', async () => {
    const dir = join(root, 'rewrite');
    await writeTinyModel(dir, { ...SHAPE, shards: 2 });
    await writeTinyModel(dir, SHAPE);
    const files = await readdir(dir);
    assert.ok(files.includes(SINGLE_FILE) && !files.includes(INDEX_FILE));
  });

  it('rejects impossible shapes', async () => {
    await assert.rejects(
      writeTinyModel(join(root, 'x1'), { ...SHAPE, dim: 30 }),
      /dim 30 is not divisible by heads 4/,
    );
    await assert.rejects(
      writeTinyModel(join(root, 'x2'), { ...SHAPE, kvHeads: 3 }),
      /num_attention_heads 4 is not a multiple of num_key_value_heads 3/,
    );
    await assert.rejects(
      writeTinyModel(join(root, 'x3'), { ...SHAPE, vocabSize: 5 }),
      /vocabSize 5 is too small/,
    );
    await assert.rejects(
      writeTinyModel(join(root, 'x4'), { ...SHAPE, shards: 0 }),
      /shards must be a positive integer/,
    );
  });
});

describe('make-tiny-model CLI', () => {
  // `--import tsx` resolves from the working directory: the repository root.
  const cli = (args: string[]) =>
    run(process.execPath, [...SOURCE_NODE_ARGS, CLI, ...args], { cwd: REPO_ROOT });

  it('prints help', async () => {
    const { stdout } = await cli(['--help']);
    assert.match(stdout, /Usage: make-tiny-model --out DIR/);
    assert.match(stdout, /--kv-heads N/);
  });

  it('writes a model from flags, with progress on stderr', async () => {
    const out = join(root, 'cli-model');
    const { stderr } = await cli([
      '--out',
      out,
      '--family',
      'qwen2',
      '--dim',
      '16',
      '--hidden',
      '24',
      '--layers',
      '1',
      '--heads',
      '2',
      '--kv-heads',
      '1',
      '--vocab',
      '200',
      '--dtype',
      'f16',
      '--shards',
      '2',
      '--seed',
      '0',
    ]);
    assert.match(stderr, /wrote .*cli-model: \d+ bytes of F16 weights in 2 file\(s\)/);
    const config = await readHfConfig(out);
    assert.deepEqual([config.family, config.dim, config.kvHeads, config.vocabSize], ['qwen2', 16, 1, 200]);
    assert.equal(config.qkvBias, true);
  });

  it('fails with a message and exit code 1 on bad flags', async () => {
    await assert.rejects(
      cli(['--out', join(root, 'bad'), '--dtype', 'f8']),
      (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 1);
        assert.match(err.stderr, /--dtype must be one of f32, f16, bf16, got "f8"/);
        return true;
      },
    );
    await assert.rejects(cli([]), /--out is required/);
  });
});
