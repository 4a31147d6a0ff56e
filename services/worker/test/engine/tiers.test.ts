// The engine over a cache with host and disk tiers, on the real stories260K
// model: a returning conversation whose prefix was pushed down to disk is read
// back and generates exactly what a full recompute generates; a damaged disk
// record is a miss that is recomputed, never served; and the look-ahead
// restores the prefix of a request while it waits in the queue (with the
// look-ahead off, the same request recomputes it); explicit spills and
// restores report their moves at once, and a draining engine restores nothing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Unavailable } from '@chunkmesh/common';
import type { KvEvent, TierCounts } from '@chunkmesh/native';
import type { EngineObserver } from '../../src/engine/engine-types.ts';
import { createWorkerRuntime } from '../../src/worker-runtime.ts';
import {
  CHUNK,
  corrupt,
  input,
  other,
  pushDown,
  story,
  tieredRuntimeOptions,
  tokens,
} from './tiered-requests.ts';

const dirs: string[] = [];

after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Admission {
  cached: number;
  byTier?: TierCounts;
}

/** A runtime whose device pool holds 12 chunks, with a 4-chunk host tier and a disk tier (or none). */
async function runtime(opts: { tiers: boolean; lookAhead?: number; maxBatch?: number }) {
  const admissions: Admission[] = [];
  const observer: EngineObserver = {
    onAdmit: (_p, cached, byTier) => admissions.push({ cached, ...(byTier ? { byTier } : {}) }),
  };
  const dir = mkdtempSync(join(tmpdir(), 'chunkmesh-engine-tiers-'));
  dirs.push(dir);
  const rt = await createWorkerRuntime({
    ...tieredRuntimeOptions(opts.tiers ? dir : null, opts),
    observer: () => observer,
  });
  return { rt, admissions, diskFile: join(dir, 'chunks.kv') };
}

describe('engine with host and disk tiers (stories260K)', () => {
  it('restores a returning conversation from disk and generates what a full recompute generates', async () => {
    const { rt, admissions } = await runtime({ tiers: true });
    const conversation = await story(rt, 6 * CHUNK); // the first turn, cached as the engine ran it
    await pushDown(rt, 4);
    assert.ok(rt.cache.stats().diskNodes > 0, 'the conversation went down to disk');
    const turn = [...conversation, 13, 29, 7];
    admissions.length = 0;
    const restored = await tokens(rt.engine.generate(input(turn, 24)));
    const a = admissions[0];
    assert.ok(a?.byTier && a.byTier.disk > 0, `found on disk: ${JSON.stringify(a)}`);
    assert.ok(a.cached >= 6 * CHUNK, `the whole conversation came from the tiers: ${a.cached} tokens`);

    const plain = await runtime({ tiers: false });
    const recomputed = await tokens(plain.rt.engine.generate(input(turn, 24)));
    assert.equal(plain.admissions[0]?.cached, 0);
    assert.deepEqual(restored, recomputed);
    await rt.dispose();
    await plain.rt.dispose();
  });

  it('recomputes a prefix whose disk records are damaged, and generates the same', async () => {
    const { rt, admissions, diskFile } = await runtime({ tiers: true });
    const conversation = await story(rt, 6 * CHUNK);
    await pushDown(rt, 4);
    assert.ok(rt.cache.stats().diskNodes > 0);
    corrupt(diskFile);
    const turn = [...conversation, 13, 29, 7];
    admissions.length = 0;
    const out = await tokens(rt.engine.generate(input(turn, 24)));
    assert.ok(rt.cache.stats().checksumFailures > 0, 'the damage was detected');
    assert.equal(admissions[0]?.byTier?.disk ?? 0, 0, 'nothing damaged was served');
    const plain = await runtime({ tiers: false });
    assert.deepEqual(out, await tokens(plain.rt.engine.generate(input(turn, 24))));
    await rt.dispose();
    await plain.rt.dispose();
  });

  for (const lookAhead of [16, 0]) {
    it(`with look-ahead ${lookAhead}, a request waiting behind a long one ${lookAhead ? 'finds its prefix restored' : 'recomputes its prefix'}`, async () => {
      const { rt, admissions } = await runtime({ tiers: true, lookAhead, maxBatch: 1 });
      const conversation = await story(rt, 6 * CHUNK);
      await pushDown(rt, 4);
      assert.ok(rt.cache.stats().diskNodes > 0);
      admissions.length = 0;
      // one sequence at a time: the returning turn waits in the queue while a long request runs
      const long = tokens(rt.engine.generate(input(other(99), 60)));
      const turn = tokens(rt.engine.generate(input([...conversation, 13, 29, 7], 8)));
      await Promise.all([long, turn]);
      const returning = admissions[1];
      const s = rt.cache.stats();
      if (lookAhead > 0) {
        assert.ok(
          returning?.byTier && returning.byTier.disk > 0,
          `restored while it waited: ${JSON.stringify(returning)}`,
        );
        assert.ok(s.prefetchedTokens > 0, 'moved to the device before its admission');
      } else {
        assert.equal(returning?.byTier?.disk ?? 0, 0);
        assert.equal(s.prefetchedTokens, 0);
        assert.equal(s.diskPromotions, 0);
      }
      await rt.dispose();
    });
  }

  it('spills and restores a prompt between steps, reporting the moves at once; a draining engine restores nothing', async () => {
    const events: KvEvent[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'chunkmesh-engine-moves-'));
    dirs.push(dir);
    const rt = await createWorkerRuntime({
      ...tieredRuntimeOptions(dir),
      observer: () => ({ onKvEvents: (e) => events.push(...e) }),
    });
    const conversation = await story(rt, 4 * CHUNK);
    events.length = 0;
    const spilled = await rt.engine.spill(conversation, '', false);
    assert.equal(spilled.movedTokens, 4 * CHUNK, JSON.stringify(spilled));
    const moved = (op: string, tier: string) =>
      events.filter((e) => e.op === op && e.tier === tier).reduce((n, e) => n + e.keys.length, 0);
    assert.equal(moved('demoted', 'host'), 4, 'the demotions reported without waiting for a step');
    events.length = 0;
    const restored = await rt.engine.restore(conversation, '');
    assert.deepEqual(restored, { matchedTokens: 4 * CHUNK, movedTokens: 4 * CHUNK });
    assert.equal(moved('promoted', 'device'), 4, 'the promotions reported without waiting for a step');
    assert.equal(rt.cache.stats().tickets, 0, 'the restore let go of its hold');
    await rt.engine.shutdown(0);
    await assert.rejects(rt.engine.restore(conversation, ''), Unavailable);
    await rt.dispose();
  });
});
