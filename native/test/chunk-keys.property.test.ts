// Chunk keys against a plain reference written from the spec in
// native/src/kv/chunk_key.h (bigints, one token at a time, no unrolling), over
// random tokens, chunk sizes (odd ones too), model ids and salts; and golden
// values pinned for every router and worker of this key format (the native
// tests pin the same ones in C++).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CHUNK_KEY_FORMAT,
  type ChunkKeySpace,
  chunkKeyRoot,
  chunkKeys,
  InvalidArgumentError,
} from '../lib/index.ts';
import { Rng, seeds } from './support/random.ts';

const M = (1n << 64n) - 1n;
const P1 = 0x9e3779b185ebca87n;
const P2 = 0xc2b2ae3d27d4eb4fn;
const P3 = 0x165667b19e3779f9n;
const LANES = [0x243f6a8885a308d3n, 0x13198a2e03707344n, 0xa4093822299f31d0n, 0x082efa98ec4e6c89n];

const rotl = (x: bigint, r: bigint) => ((x << r) | (x >> (64n - r))) & M;
function mix64(z: bigint): bigint {
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M;
  return z ^ (z >> 31n);
}

function fnv1a64(h: bigint, bytes: Uint8Array): bigint {
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & M;
  return h;
}

function referenceRoot(s: ChunkKeySpace): bigint {
  const text = `chunkmesh/v${CHUNK_KEY_FORMAT}\0${s.modelId}\0${s.chunkTokens}\0${s.salt}`;
  return fnv1a64(0xcbf29ce484222325n, new TextEncoder().encode(text));
}

function referenceDigest(tokens: readonly number[]): bigint {
  const v = [...LANES];
  for (let k = 0; 2 * k < tokens.length; k++) {
    const w = BigInt(tokens[2 * k] as number) | (BigInt(tokens[2 * k + 1] ?? 0) << 32n);
    v[k % 4] = (rotl(((v[k % 4] as bigint) + w * P2) & M, 31n) * P1) & M;
  }
  const [a, b, c, d] = v as [bigint, bigint, bigint, bigint];
  const sum = (rotl(a, 1n) + rotl(b, 7n) + rotl(c, 12n) + rotl(d, 18n)) & M;
  return mix64(sum ^ ((BigInt(tokens.length) * P3) & M));
}

function referenceKeys(s: ChunkKeySpace, tokens: readonly number[]): bigint[] {
  const out: bigint[] = [];
  let key = referenceRoot(s);
  for (let i = 0; (i + 1) * s.chunkTokens <= tokens.length; i++) {
    key = mix64(key ^ referenceDigest(tokens.slice(i * s.chunkTokens, (i + 1) * s.chunkTokens)));
    out.push(key);
  }
  return out;
}

const range = (n: number, from = 1) => Array.from({ length: n }, (_, i) => from + i);

describe('chunk keys', () => {
  it('equal the reference over random tokens, chunk sizes, models and salts', () => {
    for (const seed of seeds(40)) {
      const rng = new Rng(seed);
      const space: ChunkKeySpace = {
        modelId: rng.pick(['stories260K', 'Qwen2.5-0.5B-Instruct', 'm']),
        chunkTokens: rng.pick([1, 2, 3, 7, 8, 9, 16, 63, 64, 65, 128]),
        salt: rng.pick(['', 'tenant-a', 'ü-tenant']),
      };
      // Near the int32 limit too: the words pack tokens as uint32.
      const vocab = rng.pick([512, 32_000, 0x7fffffff]);
      const tokens = rng.tokens(rng.int(0, 6 * space.chunkTokens + 5), vocab);
      assert.equal(chunkKeyRoot(space), referenceRoot(space), `seed ${seed}`);
      assert.deepEqual([...chunkKeys(space, tokens)], referenceKeys(space, tokens), `seed ${seed}`);
      // Written into a buffer with room to spare: the keys at its start, the rest untouched.
      const into = new BigUint64Array(rng.int(referenceKeys(space, tokens).length, 40)).fill(7n);
      const view = chunkKeys(space, tokens, into);
      assert.equal(view.buffer, into.buffer, `seed ${seed}: a view of the buffer given`);
      assert.deepEqual([...view], referenceKeys(space, tokens), `seed ${seed}: into`);
      assert.ok(
        into.subarray(view.length).every((k) => k === 7n),
        `seed ${seed}: past the keys`,
      );
    }
  });

  it('are golden: the same values for every router and worker of key format 2', () => {
    // Changing these silently breaks every deployed index: bump kChunkKeyFormat (chunk_key.h)
    // instead, which also makes routers refuse workers of the other format.
    assert.equal(CHUNK_KEY_FORMAT, 2);
    const space = { modelId: 'stories260K', chunkTokens: 64, salt: '' };
    assert.equal(chunkKeyRoot(space), 0xa49a9f10539d1c36n);
    assert.deepEqual([...chunkKeys(space, range(130, 0))], [0x4d369950e12632bdn, 0xb89752a38a2b1b31n]);
    const odd = { modelId: 'm', chunkTokens: 7, salt: 'tenant-a' };
    assert.equal(chunkKeyRoot(odd), 0x0bab5411ce086ee8n);
    assert.deepEqual(
      [...chunkKeys(odd, [0x7fffffff, ...range(13)])],
      [0x7f5991072d6e77a1n, 0x31a234fcb9f88bcfn],
    );
  });

  it('differ with the salt, model id and chunk size, and with any token of the chunk or before it', () => {
    const space = { modelId: 'stories260K', chunkTokens: 64, salt: '' };
    const tokens = range(130, 0);
    const keys = chunkKeys(space, tokens);
    assert.notEqual(chunkKeys({ ...space, salt: 'tenant-a' }, tokens)[0], keys[0]);
    assert.notEqual(chunkKeys({ ...space, modelId: 'other' }, tokens)[0], keys[0]);
    assert.notEqual(chunkKeys({ ...space, chunkTokens: 65 }, tokens)[0], keys[0]);
    for (const at of [0, 1, 2, 8, 63]) {
      const changed = [...tokens];
      changed[at] = (changed[at] as number) + 1;
      const other = chunkKeys(space, changed);
      assert.notEqual(other[0], keys[0], `token ${at}`);
      assert.notEqual(other[1], keys[1], `token ${at} changes the keys after it`);
    }
    // Two tokens swapped within one lane's word and across lanes.
    for (const [a, b] of [
      [0, 1],
      [0, 8],
    ] as const) {
      const swapped = [...tokens];
      [swapped[a], swapped[b]] = [swapped[b] as number, swapped[a] as number];
      assert.notEqual(chunkKeys(space, swapped)[0], keys[0], `swap ${a} ${b}`);
    }
  });

  it('reject tokens that are not int32 ids, and leave a partial last chunk unkeyed', () => {
    const space = { modelId: 'm', chunkTokens: 4, salt: '' };
    assert.throws(() => chunkKeys(space, [1, 2, -1, 3]), /non-negative integer/);
    assert.throws(() => chunkKeys(space, [1.5, 2, 3, 4]), /non-negative integer/);
    assert.equal(chunkKeys(space, [1, 2, 3]).length, 0);
    assert.deepEqual([...chunkKeys(space, [1, 2, 3, 4, 5])], [...chunkKeys(space, [1, 2, 3, 4])]);
    assert.throws(() => chunkKeys(space, range(8), new BigUint64Array(1)), InvalidArgumentError);
  });
});
