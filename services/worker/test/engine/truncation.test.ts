// Truncation reuse on the real stories260K model: a conversation that drops
// its oldest turns after the common head (BOS and a system prompt) reuses the
// saved KV of the turns it kept (keys re-rotated to their new positions),
// counted in the metric's hook; that KV equals a full recompute's in layer 0
// and only approximates it deeper, and the greedy output follows a full
// recompute of the same truncated prompt for the run pinned below (not to its
// end: see checkOutput); also when the saved chunks were pushed down to the
// host and disk tiers first.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import type { EngineObserver } from '../../src/engine/engine-types.ts';
import { WorkerMetrics } from '../../src/index.ts';
import { createWorkerRuntime, type WorkerRuntime } from '../../src/worker-runtime.ts';
import { BOS, CHUNK, input, pushDown, tieredRuntimeOptions, tokens } from './tiered-requests.ts';

const dirs: string[] = [];

after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function runtime(opts: { tiers?: boolean; reuseTokens?: number } = {}) {
  const reused: number[] = [];
  const registry = new Registry();
  let metrics: WorkerMetrics | undefined;
  const observer: EngineObserver = {
    onTruncationReuse: (n) => {
      reused.push(n);
      metrics?.onTruncationReuse(n);
    },
  };
  const dir = mkdtempSync(join(tmpdir(), 'chunkmesh-truncation-'));
  dirs.push(dir);
  const base = tieredRuntimeOptions(opts.tiers ? dir : null);
  const rt = await createWorkerRuntime({
    ...base,
    // with tiers: room for the conversation's chunks pinned as the source and the graft's new ones
    kvCapacityTokens: (opts.tiers ? 14 : 256) * CHUNK,
    engine: { ...base.engine, truncationReuseTokens: opts.reuseTokens ?? 4096 },
    observer: (cache) => {
      metrics = new WorkerMetrics(registry, cache);
      return observer;
    },
  });
  /** chunkmesh_kv_truncation_reused_tokens_total as a scrape would read it. */
  const metric = async () => {
    const m = registry.getSingleMetric('chunkmesh_kv_truncation_reused_tokens_total');
    assert.ok(m, 'the metric is registered');
    return (await m.get()).values[0]?.value ?? 0;
  };
  return { rt, reused, metric };
}

/** A greedy request that ignores EOS, so every turn is as long as asked. */
const ask = (prompt: number[], maxTokens: number, salt = '') =>
  input(prompt, maxTokens, { eosTokenIds: [], salt });

/** A user turn: text-like tokens that share nothing with the other turns. */
function userTurn(seed: number, n: number): number[] {
  return Array.from({ length: n }, (_, t) => 3 + ((seed * 131 + t * 17) % 480));
}

const SYSTEM = userTurn(1, 11);

/** Two turns of a conversation, the second's prompt carrying the first; returns the kept part and the drop. */
async function twoTurns(rt: WorkerRuntime) {
  const u1 = userTurn(2, 37);
  const p1 = [BOS, ...SYSTEM, ...u1];
  const a1 = await tokens(rt.engine.generate(ask(p1, 30)));
  const u2 = userTurn(3, 29);
  const p2 = [...p1, ...a1, ...u2];
  const a2 = await tokens(rt.engine.generate(ask(p2, 40)));
  return { dropped: [...u1, ...a1], kept: [...u2, ...a2] };
}

/**
 * K and V of the prompt's first n cached positions in every layer, from the tree (under `salt`): the
 * graft's copy under the default salt, a plain prefill's under another.
 */
function cachedKv(rt: WorkerRuntime, prompt: number[], n: number, salt: string) {
  const { seqId, cachedTokens } = rt.cache.addSequence(prompt, { salt, maxMatchTokens: n });
  try {
    assert.equal(cachedTokens, n, `${n} tokens cached under '${salt}'`);
    return Array.from({ length: rt.cache.layers }, (_, layer) => rt.cache.readKV(seqId, layer, 0, n));
  } finally {
    rt.cache.release(seqId);
  }
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
  return d;
}

/**
 * What the grafted KV is, against a full recompute of the same prompt: layer 0 equals it (V bit for
 * bit: a token's V does not depend on its position; K within float rounding of a rotation), while the
 * deeper layers were computed attending to the dropped turns and differ (the approximation).
 */
function checkGraftedKv(rt: WorkerRuntime, prompt: number[], grafted: number) {
  const end = Math.floor((SYSTEM.length + 1) / CHUNK) * CHUNK + grafted;
  const mine = cachedKv(rt, prompt, end, '');
  const full = cachedKv(rt, prompt, end, 'recompute');
  const [l0, f0] = [mine[0], full[0]] as const;
  assert.ok(l0 && f0);
  assert.deepEqual(l0.v, f0.v, 'layer 0 V equals the recompute, bit for bit');
  assert.ok(maxDiff(l0.k, f0.k) < 1e-5, `layer 0 K within rounding of the recompute: ${maxDiff(l0.k, f0.k)}`);
  const deeper = mine.slice(1).map((m, i) => maxDiff(m.k, (full[i + 1] as typeof m).k));
  assert.ok(
    deeper.every((d) => d > 1e-3),
    `deeper layers' K differs from the recompute: ${deeper.map((d) => d.toFixed(4))}`,
  );
}

/**
 * The issue asked for greedy output equal to a full recompute. That cannot hold in general: the
 * deeper layers' KV of the kept turns was computed attending to the dropped ones (checkGraftedKv), so
 * the logits differ slightly and a near tie flips. On this conversation the first 14 of 24 tokens
 * agree; the test pins that run (greedy decoding on the CPU device is deterministic), so a change
 * that makes the reuse worse (or a broken rotation) fails it. docs/ARCHITECTURE.md, Tiers.
 */
const AGREEING_TOKENS = 14;

function checkOutput(out: number[], recomputed: number[]) {
  let n = 0;
  while (n < out.length && out[n] === recomputed[n]) n++;
  assert.ok(n >= AGREEING_TOKENS, `greedy output agrees with a full recompute for ${n} tokens`);
}

/** The third turn after the client dropped the first: head, the second turn and its answer, a new question. */
async function truncatedTurn(rt: WorkerRuntime, kept: number[], salt = '') {
  const prompt = [BOS, ...SYSTEM, ...kept, ...userTurn(4, 9)];
  return { prompt, out: await tokens(rt.engine.generate(ask(prompt, 24, salt))) };
}

describe('truncation reuse (stories260K)', () => {
  it('reuses the kept turns after the oldest are dropped: layer 0 exact, the output close to a full recompute', async () => {
    const { rt, reused, metric } = await runtime();
    try {
      const { kept } = await twoTurns(rt);
      const { prompt, out } = await truncatedTurn(rt, kept);
      const made = reused.reduce((a, b) => a + b, 0);
      assert.equal(await metric(), made);
      // the head's chunk is matched as ever; the kept turns' whole chunks are grafted, the tail recomputes
      assert.ok(made >= 4 * CHUNK, `reused ${made} tokens of a ${prompt.length}-token prompt`);
      // another salt shares nothing: the same prompt computed from scratch
      const { out: recomputed } = await truncatedTurn(rt, kept, 'recompute');
      checkGraftedKv(rt, prompt, made);
      checkOutput(out, recomputed);
    } finally {
      await rt.dispose();
    }
  });

  it('reuses nothing with --kv-truncation-reuse-tokens 0', async () => {
    const { rt, reused } = await runtime({ reuseTokens: 0 });
    try {
      const { kept } = await twoTurns(rt);
      await truncatedTurn(rt, kept);
      assert.deepEqual(reused, []);
    } finally {
      await rt.dispose();
    }
  });

  it('reuses saved chunks that were demoted to the host and disk tiers', async () => {
    const { rt, reused } = await runtime({ tiers: true });
    try {
      const { kept } = await twoTurns(rt);
      await pushDown(rt, 4); // unrelated prompts push the conversation down the tiers
      const s = rt.cache.stats();
      assert.ok(s.diskNodes > 0, 'the conversation went down to disk');
      const reads = s.diskReads;
      const { out } = await truncatedTurn(rt, kept);
      assert.ok(reused.reduce((a, b) => a + b, 0) >= 4 * CHUNK, `reused ${reused.join('+')} tokens`);
      assert.ok(
        rt.cache.stats().diskReads > reads,
        'the saved chunks were read back from disk for the graft',
      );
      const { out: recomputed } = await truncatedTurn(rt, kept, 'recompute');
      checkOutput(out, recomputed);
    } finally {
      await rt.dispose();
    }
  });
});
