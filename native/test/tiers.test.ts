// The host and disk tiers through the JavaScript surface: a prefix pushed down
// to disk comes back through hold() and fetch() (promises: the disk IO runs on
// its own threads) and the model's logits over the restored prefix are the
// same bits as over a prefix that never left the device; the events say where
// each chunk went; explicit moves (spill), the key listing and letting go of a
// ticket are promise calls too; a cache disposed with a fetch pending settles
// it; and tier options are checked.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { InvalidArgumentError, type KvCache, type KvCacheOptions, Model } from '../lib/index.ts';
import { Rng } from './support/random.ts';
import { randomModel } from './support/reference-model.ts';
import { runPrompt, smallCache, smallLlama } from './support/small-model.ts';

const CONFIG = smallLlama('tiers');
const C = 4;
const CHUNK_BYTES = CONFIG.layers * 2 * CONFIG.kvHeads * C * CONFIG.headDim * 4;
const dirs: string[] = [];

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'chunkmesh-tiers-'));
  dirs.push(d);
  return d;
}

after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function cache(capacityChunks: number, tiers: Partial<KvCacheOptions> = {}): KvCache {
  return smallCache(CONFIG, C, capacityChunks, tiers);
}

function run(model: Model, tokens: number[], ticket?: number) {
  return runPrompt(model, tokens, { ticket });
}

describe('KV tiers through JavaScript', () => {
  const rng = new Rng(5);
  const weights = randomModel(CONFIG, rng);
  const prefix = rng.tokens(4 * C, CONFIG.vocabSize);
  const question = rng.tokens(3, CONFIG.vocabSize);

  it('restores a prefix from disk through hold and fetch, with logits the same bits as a device hit', async () => {
    // Reference: a roomy device pool; the prefix never leaves it.
    const roomy = cache(64);
    const ref = Model.create(weights, roomy);
    await run(ref, prefix);
    const hit = await run(ref, [...prefix, ...question]);
    assert.equal(hit.cached, prefix.length);

    // Tiered: 6 device slots, 2 host slots, a disk file; other prompts push the prefix down to disk.
    const kv = cache(6, { hostBytes: 2 * CHUNK_BYTES, diskDir: tempDir(), diskBytes: 64 * 8192 });
    const model = Model.create(weights, kv);
    await run(model, prefix);
    for (let i = 0; i < 6; i++) {
      await run(model, rng.tokens(4 * C + 1, CONFIG.vocabSize));
      await new Promise((r) => setTimeout(r, 5)); // IO lands between steps
    }
    const hold = await kv.hold([...prefix, ...question], { maxMatchTokens: prefix.length });
    assert.ok(hold.ticket > 0);
    assert.ok(hold.tokens.disk > 0, `some of the prefix is on disk: ${JSON.stringify(hold.tokens)}`);
    assert.equal(hold.tokens.device + hold.tokens.host + hold.tokens.disk, prefix.length);
    const fetched = await kv.fetch(hold.ticket, prefix.length, true);
    assert.equal(fetched.cancelled, false);
    assert.equal(fetched.failedTokens, 0);
    assert.equal(fetched.restoredTokens, hold.tokens.disk);
    assert.ok(fetched.bytes >= (hold.tokens.disk / C) * CHUNK_BYTES);

    const r = await model.step({
      entries: [
        { kind: 'admit', tokens: [...prefix, ...question], maxMatch: prefix.length, ticket: hold.ticket },
      ],
    });
    const o = r.entries[0];
    assert.equal(o?.cachedTokens, prefix.length);
    assert.equal(o?.cachedByTier?.disk, hold.tokens.disk);
    assert.deepEqual(o?.logitsRow, hit.logits, 'restored KV must be bit for bit what was written');

    const s = kv.stats();
    assert.ok(s.diskDemotions > 0 && s.diskPromotions >= hold.tokens.disk / C);
    assert.ok(s.diskReadBytesPerSecond > 0 && s.diskWriteBytesPerSecond > 0, 'rates measured at start');
    assert.equal(s.checksumFailures, 0);
    assert.equal(s.tickets, 0, 'the admission let go of its ticket');
    assert.equal(s.hitTokens.disk, hold.tokens.disk);
    const ops = new Set(kv.drainEvents().map((e) => `${e.op}:${e.from ?? ''}>${e.tier}`));
    for (const move of [
      'demoted:device>host',
      'demoted:host>disk',
      'promoted:disk>host',
      'promoted:host>device',
    ]) {
      assert.ok(ops.has(move), `an event ${move} (got ${[...ops].join(', ')})`);
    }
    await model.step({ release: [o?.seqId ?? 0], entries: [] });
    model.dispose();
    kv.dispose();
    ref.dispose();
    roomy.dispose();
  });

  it('settles a pending fetch when the cache is disposed (never hangs)', async () => {
    const kv = cache(6, { hostBytes: 2 * CHUNK_BYTES, diskDir: tempDir(), diskBytes: 64 * 8192 });
    const model = Model.create(weights, kv);
    await run(model, prefix);
    for (let i = 0; i < 6; i++) {
      await run(model, rng.tokens(4 * C + 1, CONFIG.vocabSize));
      await new Promise((r) => setTimeout(r, 5));
    }
    const hold = await kv.hold(prefix);
    const pending = kv.fetch(hold.ticket, prefix.length, true);
    model.dispose();
    kv.dispose();
    // settles, done or cancelled as timing has it: a fetch left pending would hang the test
    await pending;
  });

  it('moves a prefix down, lists the keys and lets go of a ticket as promise calls (the JS thread never waits)', async () => {
    const kv = cache(16, { hostBytes: 8 * CHUNK_BYTES, diskDir: tempDir(), diskBytes: 64 * 8192 });
    const model = Model.create(weights, kv);
    await run(model, prefix);
    const spilling = kv.spill(prefix, { toDisk: true });
    assert.ok(spilling instanceof Promise, 'a disk spill writes on the owner thread, not this one');
    const spilled = await spilling;
    assert.equal(spilled.matchedTokens, prefix.length);
    assert.equal(spilled.movedTokens, prefix.length);
    const listing = kv.residentKeys();
    assert.ok(listing instanceof Promise);
    const keys = await listing;
    assert.equal(keys.disk.length, prefix.length / C, 'every chunk of the prefix is on disk');
    assert.equal(keys.device.length + keys.host.length, 0);
    // the prompt's own path says the same, key by key, in order
    const path = await kv.pathTiers([...prefix, ...question]);
    assert.deepEqual(new Set(path.keys), new Set(keys.disk));
    assert.deepEqual(path.tiers, ['disk', 'disk', 'disk', 'disk']);
    // a prompt that leaves the prefix after two chunks: those two, in order
    const diverging = [...prefix.slice(0, 2 * C), ...question, ...prefix.slice(0, 2 * C)];
    const two = await kv.pathTiers(diverging);
    assert.deepEqual([...two.keys], [...path.keys.slice(0, 2)]);
    assert.deepEqual((await kv.pathTiers(diverging, 'another tenant')).keys.length, 0);
    const hold = await kv.hold(prefix);
    assert.equal(hold.tokens.disk, prefix.length);
    assert.equal(kv.stats().tickets, 1);
    await kv.dropTicket(hold.ticket);
    assert.equal(kv.stats().tickets, 0);
    // refusals come back as the typed errors, whether thrown before the call starts or on the owner thread
    await assert.rejects(kv.dropTicket(0), InvalidArgumentError);
    const deviceOnly = cache(16);
    await assert.rejects(deviceOnly.spill(prefix), InvalidArgumentError);
    deviceOnly.dispose();
    model.dispose();
    kv.dispose();
  });

  it('refuses tier options that cannot work', () => {
    assert.throws(() => cache(4, { diskDir: tempDir(), diskBytes: 1 << 20 }), InvalidArgumentError);
    assert.throws(
      () => cache(4, { hostBytes: CHUNK_BYTES, diskDir: '/nonexistent/chunkmesh', diskBytes: 1 << 20 }),
      /does not exist/,
    );
    assert.throws(() => cache(4, { hostBytes: CHUNK_BYTES - 1 }), /less than one chunk/);
    const dir = tempDir();
    const first = cache(4, { hostBytes: CHUNK_BYTES, diskDir: dir, diskBytes: 1 << 20 });
    assert.throws(() => cache(4, { hostBytes: CHUNK_BYTES, diskDir: dir, diskBytes: 1 << 20 }), /in use/);
    first.dispose();
  });
});
