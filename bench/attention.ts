// One decode step of one layer, TPP versus the per-sequence baseline over the
// same pool, next to this machine's roofline measured in the same run, for
// each KV storage type asked for.
//   npm run bench:attention -- [--shared 1024,2048,4096] [--dtype f32,f16] [--device cpu] [--json FILE]
import { writeFileSync } from 'node:fs';
import { median, printTable } from '@chunkmesh/cli';
import { defineOptions, loadConfig } from '@chunkmesh/common';
import {
  buildInfo,
  type DecodeMode,
  type DeviceChoice,
  KvCache,
  type KvDType,
  measureAttendPeak,
  measureReadBandwidth,
} from '@chunkmesh/native';

const flags = loadConfig(
  defineOptions({
    shared: {
      type: 'string',
      default: '1024,2048,4096',
      help: 'shared prompt lengths in tokens, comma-separated',
    },
    batch: { type: 'integer', default: 32, min: 1, help: 'sequences in the decode batch' },
    own: { type: 'integer', default: 128, min: 1, help: 'tokens of its own per sequence' },
    heads: { type: 'integer', default: 32, min: 1, help: 'query heads' },
    gqaKvHeads: { type: 'integer', default: 8, min: 0, help: 'KV heads of the GQA row (0 skips it)' },
    headDim: { type: 'integer', default: 128, min: 1, help: 'head dimension' },
    chunk: { type: 'integer', default: 64, min: 1, help: 'chunk tokens (c)' },
    iters: {
      type: 'integer',
      default: 7,
      min: 1,
      help: 'timed rounds per mode, alternating (median reported)',
    },
    repeats: {
      type: 'integer',
      default: 0,
      min: 0,
      help: 'decode steps back to back per timed round (0: 1 on the CPU, 50 on a GPU)',
    },
    threads: { type: 'integer', default: 0, min: 0, help: 'attention threads (0: all cores)' },
    dtype: {
      type: 'string',
      default: '',
      help: 'KV storage types, comma-separated (f32, f16, bf16): each case runs once per type (default: f32,f16 on the CPU, f16 on a GPU)',
    },
    device: {
      type: 'string',
      default: 'cpu',
      choices: ['cpu', 'cuda', 'auto'],
      help: 'where the pool lives and the kernels run',
    },
    json: { type: 'string', help: 'also write the results to this JSON file' },
  }),
  {
    program: 'npm run bench:attention --',
    summary: "One decode step of one layer: TPP vs the per-sequence baseline, with this machine's roofline.",
  },
);

const batch = flags.batch;
const own = flags.own;
const nHeads = flags.heads;
const headDim = flags.headDim;
const c = flags.chunk;
const iters = flags.iters;
const threads = flags.threads || buildInfo().defaultThreads;
const gqaKvHeads = flags.gqaKvHeads;
const device = flags.device as DeviceChoice;
const DTYPES: readonly KvDType[] = ['f32', 'f16', 'bf16'];
// Which device the cases run on: a probe cache answers for 'auto' too.
const probe = (() => {
  try {
    return new KvCache({
      layers: 1,
      kvHeads: 1,
      headDim: 8,
      chunkTokens: 16,
      capacityChunks: 1,
      device,
      dtype: 'f16',
    });
  } catch (err) {
    process.stderr.write(`bench:attention: ${(err as Error).message}\n`);
    process.exit(2);
  }
})();
const onGpu = probe.device().kind === 'cuda';
const deviceLabel = `${probe.device().name} (${probe.device().detail})`;
const dtypes = (flags.dtype || (onGpu ? 'f16' : 'f32,f16')).split(',') as KvDType[];
const repeats = flags.repeats || (onGpu ? 50 : 1);
if (dtypes.some((d) => !DTYPES.includes(d)))
  throw new Error(`--dtype takes comma-separated KV types of ${DTYPES.join(', ')}, got ${flags.dtype}`);
const dtypeBytes = (d: KvDType) => (d === 'f32' ? 4 : 2);
const log = (msg: string) => process.stderr.write(`${msg}\n`);

interface Case {
  label: string;
  shared: number;
  kvHeads: number;
  distinctPrompts: boolean;
  dtype: KvDType;
}

function randomFill(a: Float32Array, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  for (let i = 0; i < a.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    a[i] = ((s >>> 0) / 4294967296 - 0.5) * 2;
  }
  return a;
}

function build(cs: Case) {
  const perToken = cs.kvHeads * headDim;
  const prompts = Array.from({ length: batch }, (_, b) => {
    const shared = Array.from({ length: cs.shared }, (_, i) =>
      cs.distinctPrompts ? (b + 1) * 100_000 + i : i,
    );
    const mine = Array.from({ length: own }, (_, i) => 2_000_000 + b * 1000 + i);
    return [...shared, ...mine];
  });
  const distinctTokens = cs.distinctPrompts ? batch * (cs.shared + own) : cs.shared + batch * own;
  const chunks = Math.ceil(distinctTokens / c) + batch;
  const cache = new KvCache({
    layers: 1,
    kvHeads: cs.kvHeads,
    headDim,
    chunkTokens: c,
    capacityChunks: chunks,
    threads,
    modelId: 'bench',
    dtype: cs.dtype,
    device,
  });
  const ids: number[] = [];
  prompts.forEach((p, b) => {
    const { seqId, cachedTokens } = cache.addSequence(p);
    const n = p.length - cachedTokens;
    cache.append(seqId, p.slice(cachedTokens));
    const k = randomFill(new Float32Array(n * perToken), 1 + b);
    const v = randomFill(new Float32Array(n * perToken), 7 + b);
    cache.writeKV(seqId, 0, cachedTokens, k, v);
    cache.commit(seqId);
    ids.push(seqId);
  });
  return { cache, ids, distinctTokens };
}

/** Milliseconds per decode step, on the device, transfers excluded. */
function timeStep(cache: KvCache, ids: number[], q: Float32Array, mode: DecodeMode): number {
  return cache.timeDecode(ids, 0, nHeads, q, mode, repeats) * 1e3;
}

log(
  `chunkmesh attention benchmark: ${threads} threads, ${buildInfo().simd}, batch ${batch}, ${own} own tokens, KV ${dtypes.join('/')}, device ${device}`,
);
// The roofline: on the CPU, read bandwidth with the kernels' thread pool and the
// inner kernel's peak FLOP/s (rows dependent); on a GPU, the device's copy
// bandwidth (HBM), the bound of a memory-bound kernel, tensor cores being far
// from the limit at these shapes.
log(onGpu ? 'measuring device copy bandwidth ...' : 'measuring read bandwidth and kernel peak ...');
const bandwidth = onGpu ? probe.copyBandwidth(1 << 30, 10) : measureReadBandwidth(threads);
probe.dispose();
const peaks = new Map<number, number>();
const peakFor = (rows: number) => {
  if (onGpu) return Number.POSITIVE_INFINITY;
  if (!peaks.has(rows)) peaks.set(rows, measureAttendPeak(threads, rows, headDim, c));
  return peaks.get(rows) as number;
};

const cases: Case[] = [];
const sharedList = flags.shared.split(',').map(Number);
if (sharedList.some((n) => !Number.isInteger(n) || n < 0))
  throw new Error(`--shared takes comma-separated token counts, got ${flags.shared}`);
const mid = sharedList.includes(2048) ? 2048 : (sharedList[0] as number);
for (const dtype of dtypes) {
  for (const shared of sharedList)
    cases.push({ label: 'shared', shared, kvHeads: nHeads, distinctPrompts: false, dtype });
  if (gqaKvHeads > 0)
    cases.push({
      label: `gqa ${nHeads}/${gqaKvHeads}`,
      shared: mid,
      kvHeads: gqaKvHeads,
      distinctPrompts: false,
      dtype,
    });
  cases.push({ label: 'no sharing', shared: mid, kvHeads: nHeads, distinctPrompts: true, dtype });
}

const results = [];
for (const cs of cases) {
  log(`case ${cs.label} shared=${cs.shared} kvHeads=${cs.kvHeads} ${cs.dtype}: building ...`);
  const { cache, ids, distinctTokens } = build(cs);
  const q = randomFill(new Float32Array(batch * nHeads * headDim), 99);
  const times: Record<DecodeMode, number[]> = { tpp: [], baseline: [] };
  for (let i = 0; i < iters + 1; i++) {
    // alternate modes, and which goes first, so both see the same machine noise and
    // cache state; the first round warms up
    const order = i % 2 === 0 ? (['tpp', 'baseline'] as const) : (['baseline', 'tpp'] as const);
    for (const mode of order) {
      const t = timeStep(cache, ids, q, mode);
      if (i > 0) times[mode].push(t);
    }
    log(`  step ${i + 1}/${iters + 1}`);
  }
  const tpp = median(times.tpp);
  const base = median(times.baseline);
  const costT = cache.decodeCost(ids, nHeads, 'tpp');
  const costB = cache.decodeCost(ids, nHeads, 'baseline');
  const peak = peakFor(cs.distinctPrompts ? nHeads / cs.kvHeads : batch * (nHeads / cs.kvHeads));
  const boundMs = Math.max(costT.kvBytes / bandwidth, costT.flops / peak) * 1e3;
  const stats = cache.stats();
  const tokenBytes = 2 * cs.kvHeads * headDim * dtypeBytes(cs.dtype);
  cache.dispose();
  results.push({
    case: cs.label,
    dtype: cs.dtype,
    sharedTokens: cs.shared,
    kvHeads: cs.kvHeads,
    tppMs: tpp,
    baselineMs: base,
    speedup: base / tpp,
    tppKvBytes: costT.kvBytes,
    baselineKvBytes: costB.kvBytes,
    tppGBps: costT.kvBytes / (tpp / 1e3) / 1e9,
    tppGflops: costT.flops / (tpp / 1e3) / 1e9,
    baselineGBps: costB.kvBytes / (base / 1e3) / 1e9,
    rooflineMs: boundMs,
    tppOverRoofline: tpp / boundMs,
    logicalKvBytes: stats.logicalBytes,
    physicalKvBytes: stats.physicalBytes,
    distinctTokenBytes: distinctTokens * tokenBytes,
  });
}

const mb = (b: number) => (b / 2 ** 20).toFixed(0);
console.log(
  `\nDecode attention, one layer: ${nHeads} query heads, head dim ${headDim}, c = ${c}, batch ${batch}, ${own} own tokens per sequence, KV ${dtypes.join('/')}, device ${deviceLabel}`,
);
console.log(
  onGpu
    ? `Roofline from this run: device copy bandwidth ${(bandwidth / 1e9).toFixed(0)} GB/s (bytes read + written); bound = KV bytes / bandwidth\n`
    : `Roofline from this run: read bandwidth ${(bandwidth / 1e9).toFixed(1)} GB/s; kernel peak ${[...peaks]
        .map(([r, p]) => `${(p / 1e9).toFixed(1)} GFLOP/s at ${r} rows`)
        .join(', ')}\n`,
);
printTable(
  [
    'case',
    'KV',
    'shared',
    'kv heads',
    'TPP ms',
    'base ms',
    'speedup',
    'TPP MiB',
    'base MiB',
    'TPP GB/s',
    'TPP GFLOP/s',
    'bound ms',
    'TPP/bound',
  ],
  results.map((r) => [
    r.case,
    r.dtype,
    r.sharedTokens,
    r.kvHeads,
    r.tppMs.toFixed(2),
    r.baselineMs.toFixed(2),
    `${r.speedup.toFixed(2)}x`,
    mb(r.tppKvBytes),
    mb(r.baselineKvBytes),
    r.tppGBps.toFixed(1),
    r.tppGflops.toFixed(1),
    r.rooflineMs.toFixed(2),
    `${r.tppOverRoofline.toFixed(2)}x`,
  ]),
);
console.log('\nKV memory for the batch');
printTable(
  ['case', 'KV', 'shared', 'logical MiB', 'physical MiB', 'distinct-token MiB', 'physical/distinct', 'saved'],
  results.map((r) => [
    r.case,
    r.dtype,
    r.sharedTokens,
    mb(r.logicalKvBytes),
    mb(r.physicalKvBytes),
    mb(r.distinctTokenBytes),
    (r.physicalKvBytes / r.distinctTokenBytes).toFixed(3),
    `${(100 * (1 - r.physicalKvBytes / r.logicalKvBytes)).toFixed(1)}%`,
  ]),
);
if (flags.json) {
  writeFileSync(
    flags.json,
    JSON.stringify(
      {
        machine: {
          device: deviceLabel,
          threads,
          bandwidth,
          peaks: Object.fromEntries(peaks),
          build: buildInfo(),
        },
        results,
      },
      null,
      2,
    ),
  );
  log(`wrote ${flags.json}`);
}
