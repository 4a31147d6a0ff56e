// exportPrefix / importPrefix against a plain reference: an export's bytes are
// the source's readKV rows laid out chunk by chunk (per layer K then V), its
// keys are chunkKeys of the tokens; importing them into a second cache gives
// bit-identical readKV rows and the same logits for the next token as the
// source, also when the source's chunks had gone down to host and disk. Any
// chunk whose key, size or checksum is wrong, or a pool without room, leaves
// the target with nothing cached for the prefix.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  CapacityExhaustedError,
  ChunkMismatchError,
  chunkKeys,
  type KvCache,
  type KvCacheOptions,
  Model,
  type NativeKvChunk,
} from '../lib/index.ts';
import { Rng } from './support/random.ts';
import { randomModel } from './support/reference-model.ts';
import { runPrompt, smallCache, smallLlama } from './support/small-model.ts';

const CONFIG = smallLlama('transfer');
const C = 4;
const ROW = CONFIG.kvHeads * CONFIG.headDim;
const CHUNK_BYTES = CONFIG.layers * 2 * C * ROW * 4;
const SEEDS = Number(process.env.CHUNKMESH_TEST_SCALE ?? 1) * 6;
const dirs: string[] = [];

after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function cache(capacityChunks: number, tiers: Partial<KvCacheOptions> = {}): KvCache {
  return smallCache(CONFIG, C, capacityChunks, tiers);
}

/** The reference layout: readKV of each chunk's rows, per layer K then V, as bytes. */
function plainChunks(kv: KvCache, tokens: number[], chunks: number, salt: string): Uint8Array[] {
  const { seqId, cachedTokens } = kv.addSequence(tokens, { salt, maxMatchTokens: chunks * C });
  assert.equal(cachedTokens, chunks * C);
  const out = Array.from({ length: chunks }, () => new Uint8Array(CHUNK_BYTES));
  for (let layer = 0; layer < CONFIG.layers; layer++) {
    const { k, v } = kv.readKV(seqId, layer, 0, chunks * C);
    for (let i = 0; i < chunks; i++) {
      const at = layer * 2 * C * ROW * 4;
      out[i]?.set(new Uint8Array(k.buffer, k.byteOffset + i * C * ROW * 4, C * ROW * 4), at);
      out[i]?.set(new Uint8Array(v.buffer, v.byteOffset + i * C * ROW * 4, C * ROW * 4), at + C * ROW * 4);
    }
  }
  kv.release(seqId);
  return out;
}

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'chunkmesh-transfer-'));
  dirs.push(d);
  return d;
}

describe('KV export / import', () => {
  const rng = new Rng(13);
  const weights = randomModel(CONFIG, rng);

  it('export then import gives the source bytes, keys and next-token logits', async () => {
    for (let seed = 0; seed < SEEDS; seed++) {
      const chunks = rng.int(1, 6);
      const prefix = rng.tokens(chunks * C + rng.int(0, C - 1), CONFIG.vocabSize);
      const question = rng.tokens(rng.int(1, 3), CONFIG.vocabSize);
      const salt = seed % 2 === 0 ? '' : `tenant-${seed}`;
      const srcKv = cache(32);
      const src = Model.create(weights, srcKv);
      await src
        .step({ entries: [{ kind: 'admit', tokens: prefix, maxMatch: 0, salt }] })
        .then((r) => src.step({ release: [r.entries[0]?.seqId ?? 0], entries: [] }));
      const exported = await srcKv.exportPrefix([...prefix, ...question], salt, 64);
      assert.equal(exported.length, chunks, `seed ${seed}: every whole chunk of the prefix`);
      assert.deepEqual(
        exported.map((e) => e.key),
        [...chunkKeys({ modelId: CONFIG.modelId, chunkTokens: C, salt }, prefix)].slice(0, chunks),
      );
      const plain = plainChunks(srcKv, prefix, chunks, salt);
      for (let i = 0; i < chunks; i++)
        assert.deepEqual(Buffer.from(exported[i]?.bytes ?? []), Buffer.from(plain[i] ?? []));
      // the record size the cache states (what a worker bounds a pull's messages by)
      assert.ok(exported.every((e) => e.bytes.byteLength === srcKv.transferChunkBytes));

      const dstKv = cache(32);
      dstKv.drainEvents();
      assert.equal(await dstKv.importPrefix(prefix, salt, exported), chunks * C);
      const stored = dstKv.drainEvents().filter((e) => e.op === 'stored');
      assert.deepEqual(
        stored.flatMap((e) => [...e.keys]),
        exported.map((e) => e.key),
        'one stored event per chunk',
      );
      assert.equal(await dstKv.importPrefix(prefix, salt, exported), 0, 'a repeat makes nothing');
      const again = plainChunks(dstKv, prefix, chunks, salt);
      for (let i = 0; i < chunks; i++) assert.deepEqual(again[i], plain[i]);

      const dst = Model.create(weights, dstKv);
      const want = await runPrompt(src, [...prefix, ...question].slice(0, chunks * C + question.length), {
        salt,
      });
      const got = await runPrompt(dst, [...prefix, ...question].slice(0, chunks * C + question.length), {
        salt,
      });
      assert.equal(got.cached, chunks * C, 'the target serves the prefix from cache');
      assert.deepEqual(got.logits, want.logits, 'the same bits as the source');
      for (const m of [src, dst]) m.dispose();
      for (const k of [srcKv, dstKv]) k.dispose();
    }
  });

  it('states its record size: fp32 K and V of every layer, whatever the pool holds', () => {
    for (const dtype of ['f32', 'f16', 'bf16'] as const) {
      const kv = cache(4, { dtype });
      assert.equal(kv.transferChunkBytes, CHUNK_BYTES, dtype);
      assert.equal(kv.chunkBytes, dtype === 'f32' ? CHUNK_BYTES : CHUNK_BYTES / 2, dtype);
      kv.dispose();
    }
  });

  it('exports chunks that went down to host and disk', async () => {
    const prefix = rng.tokens(4 * C, CONFIG.vocabSize);
    const roomy = cache(64);
    const ref = Model.create(weights, roomy);
    await runPrompt(ref, [...prefix, 1]);
    const want = plainChunks(roomy, prefix, 4, '');

    const kv = cache(6, { hostBytes: 2 * CHUNK_BYTES, diskDir: tempDir(), diskBytes: 64 * 8192 });
    const model = Model.create(weights, kv);
    await runPrompt(model, [...prefix, 1]);
    for (let i = 0; i < 6; i++) {
      await runPrompt(model, rng.tokens(4 * C + 1, CONFIG.vocabSize));
      await new Promise((r) => setTimeout(r, 5)); // IO lands between steps
    }
    const held = await kv.hold(prefix);
    assert.ok(held.tokens.disk > 0, `some of the prefix is on disk: ${JSON.stringify(held.tokens)}`);
    await model.step({ dropTickets: [held.ticket], entries: [] });
    const exported = await kv.exportPrefix(prefix, '', 64);
    assert.equal(exported.length, 4);
    for (let i = 0; i < 4; i++)
      assert.deepEqual(Buffer.from(exported[i]?.bytes ?? []), Buffer.from(want[i] ?? []));
    assert.equal(kv.stats().tickets, 0, 'the export let go of its hold');
    for (const x of [model, ref]) x.dispose();
    for (const x of [kv, roomy]) x.dispose();
  });

  it('settles an export left pending when the cache is disposed (never crashes)', async () => {
    // The export settles through one more owner-thread job than other calls; disposing must run it
    // while the cache still exists (it crashed the process here before ~KvCache drained its queue).
    const prefix = rng.tokens(4 * C, CONFIG.vocabSize);
    for (let i = 0; i < 40; i++) {
      const kv = cache(8);
      const model = Model.create(weights, kv);
      await runPrompt(model, [...prefix, 1]);
      model.dispose();
      const pending = kv.exportPrefix(prefix, '', 64).catch((err: Error) => err);
      kv.dispose();
      await pending;
    }
  });

  it('imports nothing when any chunk is wrong or the pool has no room', async () => {
    const prefix = rng.tokens(3 * C, CONFIG.vocabSize);
    const srcKv = cache(16);
    const src = Model.create(weights, srcKv);
    await runPrompt(src, [...prefix, 1]);
    const good = await srcKv.exportPrefix(prefix, 'acme', 64);
    assert.equal(good.length, 0, 'another tenant finds nothing');
    const chunks = await srcKv.exportPrefix(prefix, '', 64);
    assert.equal(chunks.length, 3);
    assert.equal((await srcKv.exportPrefix(prefix, '', 2)).length, 2, 'maxChunks bounds an export');

    const flipped = chunks.map((c) => ({ ...c, bytes: Uint8Array.from(c.bytes) }));
    const last = (flipped[2] as NativeKvChunk).bytes;
    last[7] = (last[7] as number) ^ 1;
    const cases: [string, NativeKvChunk[], string, number[], new (m: string) => Error][] = [
      ['a flipped byte in the last chunk', flipped, '', prefix, ChunkMismatchError],
      ['another tenant', chunks, 'acme', prefix, ChunkMismatchError],
      ['other tokens', chunks, '', [prefix[0] === 1 ? 2 : 1, ...prefix.slice(1)], ChunkMismatchError],
      [
        'a short chunk',
        [{ ...(chunks[0] as NativeKvChunk), bytes: new Uint8Array(8) }],
        '',
        prefix,
        ChunkMismatchError,
      ],
    ];
    for (const [what, sent, salt, tokens, type] of cases) {
      const dst = cache(16);
      dst.drainEvents();
      await assert.rejects(dst.importPrefix(tokens, salt, sent), type, what);
      assert.equal(dst.matchLength(tokens, salt), 0, `${what}: nothing cached`);
      assert.equal(dst.drainEvents().length, 0, `${what}: nothing reported`);
      dst.dispose();
    }
    const small = cache(2);
    await assert.rejects(small.importPrefix(prefix, '', chunks), CapacityExhaustedError);
    assert.equal(small.matchLength(prefix), 0, 'no room: nothing cached');
    small.dispose();
    src.dispose();
    srcKv.dispose();
  });
});
