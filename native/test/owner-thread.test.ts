// The cache's state belongs to its owner thread: JavaScript reads only what
// that thread published. Hammered here from JS while steps run on the owner
// thread: every snapshot must be whole (its chunk counts add up), snapshots
// never go back in time, and the events drained piecemeal during the steps
// replay to exactly what the tree holds at the end. The native test binary
// (npm run test:native) repeats this with threads under ThreadSanitizer.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildInfo,
  DeviceUnavailableError,
  KvCache,
  type KvStats,
  Model,
  type ModelConfig,
  type StepEntry,
} from '../lib/index.ts';
import { Rng } from './support/random.ts';
import { randomModel } from './support/reference-model.ts';
import { smallLlama } from './support/small-model.ts';

const CONFIG: ModelConfig = smallLlama('owner-thread');

function cache(capacityChunks: number, device: 'cpu' | 'cuda' | 'auto' = 'cpu'): KvCache {
  return new KvCache({
    layers: CONFIG.layers,
    kvHeads: CONFIG.kvHeads,
    headDim: CONFIG.headDim,
    chunkTokens: 4,
    capacityChunks,
    modelId: CONFIG.modelId,
    vocabSize: CONFIG.vocabSize,
    threads: 2,
    device,
  });
}

function checkWhole(s: KvStats): void {
  assert.equal(
    s.freeChunks + s.pinnedNodes + s.cachedNodes + s.tailChunks,
    s.capacityChunks,
    `a torn snapshot: ${JSON.stringify(s)}`,
  );
}

describe('owner thread', () => {
  it('publishes whole snapshots and every event while JS hammers stats() and drainEvents() during steps', async () => {
    const rng = new Rng(77);
    const kv = cache(48); // small: evictions happen
    const model = Model.create(randomModel({ ...CONFIG }, rng), kv);
    const system = rng.tokens(9, CONFIG.vocabSize);
    const resident = new Set<bigint>();
    const apply = () => {
      for (const e of kv.drainEvents()) {
        assert.equal(e.tier, 'device');
        if (e.op === 'cleared') resident.clear();
        for (const k of e.keys) {
          if (e.op === 'stored') resident.add(k);
          else resident.delete(k);
        }
      }
    };
    // live sequences: decode steps left, and the token to feed next
    const live = new Map<number, { left: number; last: number }>();
    let lastJobs = 0;
    let reads = 0;
    for (let step = 0; step < 60; step++) {
      const done = [...live].filter(([, r]) => r.left === 0).map(([id]) => id);
      for (const id of done) live.delete(id);
      const entries: StepEntry[] = [...live].map(([seqId, r]) => ({ kind: 'decode', seqId, token: r.last }));
      const admits = live.size < 6 ? rng.int(0, 2) : 0;
      for (let a = 0; a < admits; a++) {
        const own = rng.tokens(rng.int(1, 10), CONFIG.vocabSize);
        entries.push({ kind: 'admit', tokens: rng.next() < 0.7 ? [...system, ...own] : own });
      }
      const pending = model.step({ release: done, entries });
      // while the owner thread runs the step
      for (let i = 0; i < 300; i++) {
        const s = kv.stats();
        checkWhole(s);
        assert.ok(s.jobs >= lastJobs, 'snapshots never go back in time');
        lastJobs = s.jobs;
        if (i % 50 === 0) apply();
        reads++;
      }
      const result = await pending;
      result.entries.forEach((o, i) => {
        const last = rng.int(0, CONFIG.vocabSize - 1);
        if (entries[i]?.kind === 'admit') {
          if (o.admitted) live.set(o.seqId, { left: rng.int(1, 8), last });
        } else if (o.computed > 0) {
          const r = live.get(o.seqId) as { left: number; last: number };
          live.set(o.seqId, { left: r.left - 1, last });
        }
      });
    }
    await model.step({ release: [...live.keys()], entries: [] });
    apply();
    const end = kv.stats();
    checkWhole(end);
    assert.equal(end.sequences, 0);
    assert.ok(end.evictions > 0, 'the pool was small enough to evict');
    assert.equal(resident.size, end.cachedNodes, 'the drained events replay to what the tree holds');
    assert.ok(reads >= 60 * 300);
    model.dispose();
    kv.dispose();
  });
});

describe('device selection', () => {
  it('reports the CPU device it computes on', () => {
    const d = cache(4).device();
    assert.equal(d.kind, 'cpu');
    assert.ok(d.threads >= 1);
    assert.equal(d.fallbackReason, '');
  });

  it("refuses 'cuda' with a reason where no CUDA device can be had, and 'auto' falls back to the CPU saying why", () => {
    // No GPU is attached where the tests run; a GPU machine runs the CUDA checks (npm run gpu:check).
    if (buildInfo().cudaDevices > 0) return;
    assert.throws(() => cache(4, 'cuda'), DeviceUnavailableError);
    assert.throws(() => cache(4, 'cuda'), buildInfo().cudaCompiled ? /no usable GPU/ : /no CUDA path/);
    const auto = cache(4, 'auto').device();
    assert.equal(auto.kind, 'cpu');
    assert.match(auto.fallbackReason, buildInfo().cudaCompiled ? /no usable GPU/ : /no CUDA path/);
  });

  it('rejects an unknown device name', () => {
    assert.throws(() => cache(4, 'tpu' as never), /device must be 'auto', 'cpu' or 'cuda'/);
  });
});

describe('device timing for benchmarks', () => {
  it('times decode steps on the device and measures its copy bandwidth', () => {
    const kv = cache(16);
    const ids = [0, 1].map(() => {
      const { seqId } = kv.addSequence([]);
      kv.append(seqId, [1, 2, 3, 4, 5]);
      return seqId;
    });
    const q = new Float32Array(2 * 4 * CONFIG.headDim);
    const perStep = kv.timeDecode(ids, 0, 4, q, 'tpp', 3);
    assert.ok(perStep > 0 && perStep < 1, `${perStep} s per step`);
    assert.throws(() => kv.timeDecode(ids, 0, 4, q, 'tpp', 0), /repeats/);
    assert.throws(() => kv.timeDecode(ids, 0, 4, new Float32Array(3), 'tpp', 1), /q must hold/);
    assert.ok(kv.copyBandwidth(1 << 20, 2) > 1e8, 'a memcpy moves more than 100 MB/s');
    kv.dispose();
  });
});
