import assert from 'node:assert/strict';
import { mkdir, mkdtemp, open, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseHfConfig } from '../src/hf-config.ts';
import { hfTensorLayout } from '../src/hf-weights.ts';
import {
  decodeFloats,
  encodeFloats,
  type FloatDtype,
  INDEX_FILE,
  readSafetensorsHeader,
  roundTo,
  SafetensorsReader,
  SINGLE_FILE,
  writeSafetensors,
} from '../src/safetensors.ts';
import {
  type TinyDtype,
  type TinyModelOptions,
  tinyHfConfig,
  tinyTensor,
  writeTinyModel,
} from '../src/tiny-model.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'safetensors-test-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const SHAPE: TinyModelOptions = {
  dim: 32,
  hiddenDim: 48,
  layers: 2,
  heads: 4,
  kvHeads: 2,
  vocabSize: 300,
  maxSeqLen: 64,
  seed: 7,
};
const DTYPE: Record<TinyDtype, FloatDtype> = { f32: 'F32', f16: 'F16', bf16: 'BF16' };

describe('safetensors round trip through the tiny model generator', () => {
  for (const dtype of ['f32', 'f16', 'bf16'] as const) {
    for (const shards of [1, 3]) {
      it(`${dtype}, ${shards === 1 ? 'single file' : `${shards} shards`}`, async () => {
        const dir = join(root, `rt-${dtype}-${shards}`);
        await writeTinyModel(dir, { ...SHAPE, dtype, shards });
        const files = await readdir(dir);
        if (shards === 1) {
          assert.ok(files.includes(SINGLE_FILE));
          assert.ok(!files.includes(INDEX_FILE));
        } else {
          assert.ok(files.includes(INDEX_FILE));
          assert.equal(files.filter((f) => /^model-\d{5}-of-00003\.safetensors$/.test(f)).length, 3);
        }
        const layout = hfTensorLayout(parseHfConfig(tinyHfConfig(SHAPE), 'tiny', 'test'));
        const reader = await SafetensorsReader.open(dir);
        try {
          assert.equal(reader.tensors.size, layout.length);
          for (const slot of layout) {
            const info = reader.tensors.get(slot.hf);
            assert.ok(info, slot.hf);
            assert.equal(info.dtype, DTYPE[dtype]);
            assert.deepEqual(info.shape, slot.shape);
            const expected = roundTo(tinyTensor(7, slot.hf, slot.shape), DTYPE[dtype]);
            assert.deepEqual(await reader.read(slot.hf), expected, slot.hf);
          }
        } finally {
          await reader.close();
        }
      });
    }
  }

  it('keeps __metadata__ and special values exactly in F32', async () => {
    const dir = join(root, 'special');
    await mkdir(dir);
    const file = join(dir, SINGLE_FILE);
    const values = new Float32Array([0, -0, 1, -2.5, 65504, 1e-8, Number.POSITIVE_INFINITY, Number.NaN]);
    await writeSafetensors(file, [{ name: 'x', dtype: 'F32', shape: [2, 4], data: () => values }], {
      format: 'pt',
    });
    const lengthField = (await readFile(file)).readBigUInt64LE(0);
    assert.equal(Number(lengthField) % 8, 0, 'header padded to 8 bytes');
    const fh = await open(file, 'r');
    try {
      assert.deepEqual((await readSafetensorsHeader(fh, file)).metadata, { format: 'pt' });
    } finally {
      await fh.close();
    }
    const reader = await SafetensorsReader.open(dir);
    try {
      assert.deepEqual(await reader.read('x'), values);
    } finally {
      await reader.close();
    }
  });
});

describe('half-precision conversion', () => {
  const halves = (values: number[], dtype: FloatDtype) =>
    [...new Uint16Array(encodeFloats(new Float32Array(values), dtype).buffer)].map((h) => h.toString(16));

  it('F16 rounds to nearest even, with subnormals, overflow to inf and NaN', () => {
    const values = [1, -2.5, 65504, 70000, 2 ** -24, 2 ** -26, 1 + 2 ** -11, 1 + 3 * 2 ** -11, Number.NaN];
    assert.deepEqual(halves(values, 'F16'), [
      '3c00',
      'c100',
      '7bff',
      '7c00',
      '1',
      '0',
      '3c00',
      '3c02',
      '7e00',
    ]);
    const back = decodeFloats(encodeFloats(new Float32Array([2 ** -24, 65504, -0.5]), 'F16'), 'F16');
    assert.deepEqual(back, new Float32Array([2 ** -24, 65504, -0.5]));
  });

  it('BF16 rounds to nearest even and keeps NaN a NaN', () => {
    const values = [1, 1 / 3, -2.5, 1 + 2 ** -8, 1 + 3 * 2 ** -8, Number.NaN];
    assert.deepEqual(halves(values, 'BF16'), ['3f80', '3eab', 'c020', '3f80', '3f82', '7fc0']);
    assert.deepEqual(
      decodeFloats(encodeFloats(new Float32Array([1 / 3]), 'BF16'), 'BF16'),
      new Float32Array([0.333984375]),
    );
  });
});

/** Writes a safetensors file from a raw header object and data length. */
async function rawFile(name: string, header: unknown, dataBytes: number): Promise<string> {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  const file = join(root, name);
  await writeFile(file, Buffer.concat([length, json, Buffer.alloc(dataBytes)]));
  return file;
}

async function headerError(file: string): Promise<string> {
  const fh = await open(file, 'r');
  try {
    await readSafetensorsHeader(fh, file);
  } catch (err) {
    return (err as Error).message;
  } finally {
    await fh.close();
  }
  assert.fail(`${file} was accepted`);
}

describe('malformed safetensors files are rejected with the file and the problem', () => {
  const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };

  it('shorter than the length field', async () => {
    const file = join(root, 'tiny.safetensors');
    await writeFile(file, Buffer.from([1, 2, 3]));
    assert.match(await headerError(file), /tiny\.safetensors.*truncated: 3 bytes/);
  });

  it('header length past the end of the file', async () => {
    const file = await rawFile('trunc-header.safetensors', ok, 8);
    await truncate(file, 20);
    assert.match(await headerError(file), /trunc-header\.safetensors.*truncated: header length \d+ exceeds/);
  });

  it('data section cut short', async () => {
    const file = await rawFile('trunc-data.safetensors', ok, 8);
    const { size } = await stat(file);
    await truncate(file, size - 3);
    assert.match(
      await headerError(file),
      /tensor a: data_offsets \[0, 8\] out of range of the 5-byte data section/,
    );
  });

  it('absurd header length', async () => {
    const file = join(root, 'huge.safetensors');
    const bytes = Buffer.alloc(16);
    bytes.writeBigUInt64LE(1n << 40n);
    await writeFile(file, bytes);
    assert.match(await headerError(file), /huge\.safetensors.*header length \d+ is out of range/);
  });

  it('header that is not JSON', async () => {
    const file = await rawFile('notjson.safetensors', '{"a": [', 0);
    assert.match(await headerError(file), /notjson\.safetensors.*not valid UTF-8 JSON/);
  });

  it('header that is not an object', async () => {
    const file = await rawFile('array.safetensors', '[1, 2]', 0);
    assert.match(await headerError(file), /not a JSON object/);
  });

  it('unsupported dtype', async () => {
    const file = await rawFile(
      'dtype.safetensors',
      { a: { dtype: 'F99', shape: [2], data_offsets: [0, 8] } },
      8,
    );
    assert.match(await headerError(file), /dtype\.safetensors.*tensor a: unsupported dtype "F99"/);
  });

  it('offsets that do not match dtype and shape', async () => {
    const file = await rawFile(
      'size.safetensors',
      { a: { dtype: 'F16', shape: [3], data_offsets: [0, 8] } },
      8,
    );
    assert.match(await headerError(file), /tensor a: data_offsets span 8 bytes but F16 \[3\] needs 6/);
  });

  it('offsets past the data', async () => {
    const file = await rawFile(
      'range.safetensors',
      { a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } },
      8,
    );
    assert.match(await headerError(file), /tensor a: data_offsets \[0, 16\] out of range/);
  });

  it('reversed offsets', async () => {
    const file = await rawFile(
      'rev.safetensors',
      { a: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } },
      8,
    );
    assert.match(await headerError(file), /tensor a: data_offsets \[8, 0\] out of range/);
  });

  it('overlapping tensors', async () => {
    const header = {
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
    };
    const file = await rawFile('overlap.safetensors', header, 12);
    assert.match(await headerError(file), /tensors a and b overlap/);
  });

  it('bad shape and metadata', async () => {
    const shape = await rawFile(
      'shape.safetensors',
      { a: { dtype: 'F32', shape: [-1], data_offsets: [0, 0] } },
      0,
    );
    assert.match(await headerError(shape), /tensor a: shape \[-1\] is not a list of non-negative integers/);
    const meta = await rawFile('meta-bad.safetensors', { __metadata__: { n: 1 } }, 0);
    assert.match(await headerError(meta), /__metadata__\.n is not a string/);
  });

  it('a non-float tensor parses but cannot be read as fp32', async () => {
    const dir = join(root, 'int-model');
    await mkdir(dir);
    const header = {
      ids: { dtype: 'I64', shape: [2], data_offsets: [0, 16] },
      w: { dtype: 'F32', shape: [1], data_offsets: [16, 20] },
    };
    await rawFile(join('int-model', SINGLE_FILE), header, 20);
    const reader = await SafetensorsReader.open(dir);
    try {
      assert.deepEqual(await reader.read('w'), new Float32Array([0]));
      await assert.rejects(reader.read('ids'), /tensor ids: dtype I64 cannot be read as fp32/);
    } finally {
      await reader.close();
    }
  });

  it('a shard index that names a tensor its shard lacks', async () => {
    const dir = join(root, 'bad-index');
    await writeTinyModel(dir, { ...SHAPE, shards: 2 });
    const indexPath = join(dir, INDEX_FILE);
    const index = JSON.parse(await readFile(indexPath, 'utf8'));
    index.weight_map['model.norm.weight'] = 'model-00001-of-00002.safetensors';
    await writeFile(indexPath, JSON.stringify(index));
    await assert.rejects(
      SafetensorsReader.open(dir),
      /weight_map puts model\.norm\.weight in .*model-00001-of-00002\.safetensors, which does not contain it/,
    );
  });

  it('a missing model file', async () => {
    const dir = join(root, 'empty');
    await mkdir(dir);
    await assert.rejects(
      SafetensorsReader.open(dir),
      /model\.safetensors: cannot open safetensors file \(ENOENT\)/,
    );
  });
});
