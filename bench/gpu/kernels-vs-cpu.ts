// The CUDA device's kernels against the CPU device on real shapes: the same
// prefix trees and K/V written into a CUDA cache and a CPU cache, then decode
// attention (TPP and per-sequence), prefill attention and a whole forward pass
// compared. Needs a GPU (npm run gpu:check runs it); prints one table, --json
// writes it.
//   node --conditions=chunkmesh-source --import tsx bench/gpu/kernels-vs-cpu.ts [--json FILE]
import { writeFileSync } from 'node:fs';
import { printTable } from '@chunkmesh/cli';
import { defineOptions, loadConfig } from '@chunkmesh/common';
import { loadModel } from '@chunkmesh/model';
import { type DecodeMode, KvCache, type KvDType, Model, probeDevice } from '@chunkmesh/native';
import { STORIES_DIR } from '@chunkmesh/test-support';

const cfg = loadConfig(
  defineOptions({
    json: { type: 'string', help: 'also write the results to this JSON file' },
    small: { type: 'boolean', default: false, help: 'small shapes only (for compute-sanitizer runs)' },
  }),
  {
    program: 'bench/gpu/kernels-vs-cpu.ts',
    summary: 'CUDA device kernels vs the CPU device on real shapes.',
  },
);

const gpu = probeDevice('cuda');
process.stderr.write(`device: ${gpu.name} (${gpu.detail})\n`);

interface Shape {
  label: string;
  kvHeads: number;
  group: number;
  headDim: number;
  c: number;
  batch: number;
  shared: number;
  own: number;
  dtype: KvDType;
}

const SHAPES: Shape[] = cfg.small
  ? [{ label: 'small', kvHeads: 2, group: 4, headDim: 64, c: 16, batch: 5, shared: 40, own: 9, dtype: 'f16' }]
  : [
      {
        label: 'llama-7b 2K',
        kvHeads: 32,
        group: 1,
        headDim: 128,
        c: 64,
        batch: 32,
        shared: 2048,
        own: 128,
        dtype: 'f16',
      },
      {
        label: 'gqa 8x4 1K',
        kvHeads: 8,
        group: 4,
        headDim: 128,
        c: 64,
        batch: 32,
        shared: 1024,
        own: 100,
        dtype: 'bf16',
      },
      {
        label: 'd64 c32',
        kvHeads: 4,
        group: 2,
        headDim: 64,
        c: 32,
        batch: 17,
        shared: 300,
        own: 45,
        dtype: 'f16',
      },
    ];

function fill(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    a[i] = ((s >>> 0) / 4294967296 - 0.5) * 2;
  }
  return a;
}

function relError(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs((a[i] as number) - (b[i] as number)));
    den = Math.max(den, Math.abs(b[i] as number));
  }
  return num / Math.max(den, 1e-30);
}

const rows: (string | number)[][] = [];
const results: Record<string, unknown>[] = [];
for (const s of SHAPES) {
  const caches = (['cuda', 'cpu'] as const).map(
    (device) =>
      new KvCache({
        layers: 2,
        kvHeads: s.kvHeads,
        headDim: s.headDim,
        chunkTokens: s.c,
        capacityChunks: Math.ceil((s.shared + s.batch * (s.own + s.c)) / s.c) + 2 * s.batch + 8,
        dtype: s.dtype,
        modelId: 'gpu-check',
        device,
      }),
  );
  const ids: number[][] = [[], []];
  for (let b = 0; b < s.batch; b++) {
    const prompt = [
      ...Array.from({ length: s.shared }, (_, i) => i),
      ...Array.from({ length: s.own + b }, (_, i) => 100_000 + b * 1000 + i),
    ];
    caches.forEach((cache, d) => {
      const { seqId, cachedTokens } = cache.addSequence(prompt);
      cache.append(seqId, prompt.slice(cachedTokens));
      for (let layer = 0; layer < 2; layer++) {
        const n = prompt.length - cachedTokens;
        const per = s.kvHeads * s.headDim;
        cache.writeKV(
          seqId,
          layer,
          cachedTokens,
          fill(n * per, 1 + b * 7 + layer),
          fill(n * per, 99 + b * 7 + layer),
        );
      }
      cache.commit(seqId);
      ids[d]?.push(seqId);
    });
  }
  const nHeads = s.kvHeads * s.group;
  const q = fill(s.batch * nHeads * s.headDim, 5);
  for (const mode of ['tpp', 'baseline'] as DecodeMode[]) {
    const [g, c] = caches.map((cache, d) => cache.decode(ids[d] as number[], 1, nHeads, q, mode));
    const err = relError(g as Float32Array, c as Float32Array);
    rows.push([s.label, `decode ${mode}`, s.dtype, err.toExponential(2), err <= 2e-2 ? 'ok' : 'FAIL']);
    results.push({ shape: s, check: `decode ${mode}`, relError: err });
  }
  const nNew = Math.min(s.own, 100);
  const qp = fill(nNew * nHeads * s.headDim, 11);
  const [pg, pc] = caches.map((cache, d) => cache.prefill((ids[d] as number[])[0] as number, 0, nHeads, qp));
  const perr = relError(pg as Float32Array, pc as Float32Array);
  rows.push([s.label, 'prefill', s.dtype, perr.toExponential(2), perr <= 2e-2 ? 'ok' : 'FAIL']);
  results.push({ shape: s, check: 'prefill', relError: perr });
  for (const cache of caches) cache.dispose();
}

// A whole forward pass: stories260K greedy from BOS on both devices.
{
  const bundle = await loadModel(STORIES_DIR);
  const c = bundle.model.config;
  const outs = (['cuda', 'cpu'] as const).map((device) => {
    const cache = new KvCache({
      layers: c.layers,
      kvHeads: c.kvHeads,
      headDim: c.headDim,
      chunkTokens: 16,
      capacityChunks: 64,
      dtype: 'f16',
      modelId: c.modelId,
      vocabSize: c.vocabSize,
      device,
    });
    const model = Model.create(bundle.model, cache);
    const tokens: number[] = [];
    let r = model.stepSync({ entries: [{ kind: 'admit', tokens: [1] }] });
    const seqId = r.entries[0]?.seqId as number;
    for (let t = 0; t < (cfg.small ? 8 : 64); t++) {
      const row = r.entries[0]?.logitsRow as Float32Array;
      let best = 0;
      for (let i = 1; i < row.length; i++) if ((row[i] as number) > (row[best] as number)) best = i;
      tokens.push(best);
      r = model.stepSync({ entries: [{ kind: 'decode', seqId, token: best }] });
    }
    model.dispose();
    cache.dispose();
    return tokens;
  });
  const same = outs[0]?.every((t, i) => t === outs[1]?.[i]) ?? false;
  rows.push([
    'stories260K',
    `greedy ${outs[0]?.length} tokens`,
    'f16',
    same ? 'equal' : 'differ',
    same ? 'ok' : 'FAIL',
  ]);
  results.push({ check: 'stories260K greedy', equal: same, cuda: outs[0], cpu: outs[1] });
}

printTable(['shape', 'check', 'KV', 'max rel error', 'result'], rows);
if (cfg.json) writeFileSync(cfg.json, JSON.stringify({ device: gpu, results }, null, 2));
process.exitCode = rows.some((r) => r[4] === 'FAIL') ? 1 : 0;
