// chunkmesh replay: capacity planning from a Mooncake-format trace. Runs the
// router's placement policies against simulated workers and prints hit rate,
// load imbalance and queueing delay per policy next to the pooled upper bound;
// with host or disk tiers, each policy runs twice, on device-only workers and
// on the same workers with the tiers under them, side by side.
import { writeFileSync } from 'node:fs';
import { defineOptions } from '@chunkmesh/common';
import {
  createPolicy,
  DEFAULT_PREFIX_AWARE,
  POLICY_NAMES,
  pooledUpperBound,
  type ReplayOptions,
  type ReplayResult,
  readTrace,
  replay,
  tierWeightOptions,
  tierWeightsOf,
} from '@chunkmesh/router';
import { parseCommand } from './command-options.ts';
import { MOONCAKE_TRACE } from './paths.ts';
import { Progress } from './progress.ts';
import { printTable } from './table.ts';

const options = defineOptions({
  trace: {
    type: 'string',
    default: MOONCAKE_TRACE,
    help: 'Mooncake-format trace, .jsonl or .jsonl.gz (default: the vendored conversation trace)',
  },
  workers: { type: 'integer', default: 8, min: 1, help: 'simulated workers' },
  capacity: { type: 'integer', default: 500_000, min: 1, help: 'device KV capacity per worker, in tokens' },
  hostCapacity: {
    type: 'number',
    default: 4,
    min: 0,
    help: 'host tier per worker, as a multiple of --capacity (0: none); chunks the device evicts are demoted there',
  },
  diskCapacity: {
    type: 'number',
    default: 0,
    min: 0,
    help: 'disk tier per worker, as a multiple of --capacity (0: none); the host tier (or the device, without one) demotes there',
  },
  hostRestoreRate: {
    type: 'number',
    default: 150_000,
    min: 1,
    help: 'tokens/s a worker restores from its host tier (e.g. 20 GB/s over PCIe at 128 KiB of KV a token)',
  },
  diskRestoreRate: {
    type: 'number',
    default: 25_000,
    min: 1,
    help: 'tokens/s a worker restores from its disk tier (e.g. 3 GB/s of NVMe at 128 KiB a token)',
  },
  diskLatencyMs: {
    type: 'number',
    default: 1,
    min: 0,
    help: 'added once to a request that reads its disk tier',
  },
  policy: {
    type: 'string',
    default: 'all',
    choices: ['all', ...POLICY_NAMES],
    help: 'placement policy to replay (all: every policy)',
  },
  chunkTokens: { type: 'integer', default: 64, min: 1, help: 'chunk size c (must divide 512)' },
  prefillRate: { type: 'number', default: 10_000, min: 1, help: 'worker prefill throughput, tokens/s' },
  decodeRate: {
    type: 'number',
    default: 2_000,
    min: 1,
    help: 'worker aggregate decode throughput, tokens/s',
  },
  speedup: { type: 'number', default: 1, min: 0.001, help: 'divide trace arrival times by this' },
  limit: { type: 'integer', default: 0, min: 0, help: 'replay only the first N requests (0: all)' },
  json: {
    type: 'string',
    help: 'also write the results to this JSON file (results: device-only; tiered: with the tiers, same order)',
  },
  ...tierWeightOptions,
});

export async function replayCommand(argv: string[]): Promise<number> {
  const cfg = parseCommand(
    options,
    {
      program: 'chunkmesh replay',
      summary:
        'Replays a Mooncake-format trace through the router placement code against simulated workers ' +
        '(real prefix tree and LRU eviction; host and disk tiers modelled as LRUs below it; a worker serves FIFO ' +
        'at the given prefill, decode and restore rates).',
    },
    argv,
  );
  if (!cfg) return 0;
  if (512 % cfg.chunkTokens !== 0) throw new Error('--chunk-tokens must divide 512 (the trace block size)');
  const trace = await readTrace(cfg.trace, cfg.limit > 0 ? cfg.limit : Infinity);
  const o: ReplayOptions = {
    workers: cfg.workers,
    capacityTokensPerWorker: cfg.capacity,
    chunkTokens: cfg.chunkTokens,
    rates: { prefillTokensPerSecond: cfg.prefillRate, decodeTokensPerSecond: cfg.decodeRate },
    speedup: cfg.speedup,
  };
  const deviceChunks = Math.floor(cfg.capacity / cfg.chunkTokens);
  const tiered: ReplayOptions | null =
    cfg.hostCapacity > 0 || cfg.diskCapacity > 0
      ? {
          ...o,
          tiers: {
            hostChunks: Math.round(cfg.hostCapacity * deviceChunks),
            diskChunks: Math.round(cfg.diskCapacity * deviceChunks),
            restore: {
              hostTokensPerSecond: cfg.hostRestoreRate,
              diskTokensPerSecond: cfg.diskRestoreRate,
              diskLatencySeconds: cfg.diskLatencyMs / 1000,
            },
          },
        }
      : null;
  const prefixAware = { ...DEFAULT_PREFIX_AWARE, tierWeights: tierWeightsOf(cfg) };
  const policies = cfg.policy === 'all' ? [...POLICY_NAMES] : [cfg.policy];
  const tierText = tiered
    ? `, host tier ${cfg.hostCapacity}x and disk tier ${cfg.diskCapacity}x of that`
    : ', device only';
  process.stderr.write(
    `replaying ${trace.length} requests on ${cfg.workers} workers x ${cfg.capacity} tokens${tierText}\n`,
  );
  const pooled = pooledUpperBound(trace, o);
  const results: ReplayResult[] = [];
  const tieredResults: ReplayResult[] = [];
  for (const name of policies) {
    for (const [runs, options, label] of [
      [results, o, name],
      ...(tiered ? [[tieredResults, tiered, `${name} + tiers`] as const] : []),
    ] as const) {
      const progress = new Progress(label);
      runs.push(
        replay(trace, createPolicy(name, prefixAware), {
          ...options,
          onProgress: (d, t) => progress.update(d, t),
        }),
      );
    }
  }
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const w = prefixAware.tierWeights;
  console.log(
    `\n${trace.length} requests, ${cfg.workers} workers x ${cfg.capacity} KV tokens${tierText}, ` +
      `c = ${cfg.chunkTokens}, prefill ${cfg.prefillRate} tok/s, decode ${cfg.decodeRate} tok/s, ` +
      (tiered
        ? `restore host ${cfg.hostRestoreRate} tok/s, disk ${cfg.diskRestoreRate} tok/s + ${cfg.diskLatencyMs} ms, ` +
          `tier weights ${w.device} / ${w.host} / ${w.disk}, `
        : '') +
      `speed-up ${cfg.speedup}\n`,
  );
  const row = (r: ReplayResult, label: string, base: ReplayResult | undefined) => {
    const byTier = (tokens: number) => pct(tokens / r.promptTokens);
    return [
      label,
      pct(r.hitRate),
      byTier(r.hitTokensByTier.device),
      byTier(r.hitTokensByTier.host),
      byTier(r.hitTokensByTier.disk),
      base ? `${(r.hitRate / base.hitRate).toFixed(2)}x` : '-',
      pct(r.hitRate / pooled.hitRate),
      r.loadImbalance.toFixed(3),
      r.meanQueueSeconds.toFixed(3),
      r.p99QueueSeconds.toFixed(2),
      Object.entries(r.decisionsByReason)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    ];
  };
  printTable(
    [
      'policy',
      'hit rate',
      'device',
      'host',
      'disk',
      'vs device-only',
      'of pooled',
      'max/mean load',
      'mean queue s',
      'p99 queue s',
      'decisions',
    ],
    [
      ...results.flatMap((r, i) => {
        const t = tieredResults[i];
        return [row(r, r.policy, undefined), ...(t ? [row(t, `${t.policy} + tiers`, r)] : [])];
      }),
      [
        'pooled bound',
        pct(pooled.hitRate),
        pct(pooled.hitRate),
        '-',
        '-',
        '-',
        '100.0%',
        '-',
        '-',
        '-',
        'one device cache of all capacity, no load limit',
      ],
    ],
  );
  if (cfg.json) {
    const json = { options: o, tiers: tiered?.tiers ?? null, pooled, results, tiered: tieredResults };
    writeFileSync(cfg.json, JSON.stringify(json, null, 2));
  }
  return 0;
}
