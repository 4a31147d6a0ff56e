// chunkmesh replay: capacity planning from a Mooncake-format trace. Runs the
// router's placement policies against simulated workers and prints hit rate,
// load imbalance and queueing delay per policy next to the pooled upper bound.
import { writeFileSync } from 'node:fs';
import { defineOptions } from '@chunkmesh/common';
import {
  createPolicy,
  POLICY_NAMES,
  pooledUpperBound,
  type ReplayOptions,
  type ReplayResult,
  readTrace,
  replay,
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
  capacity: { type: 'integer', default: 500_000, min: 1, help: 'KV capacity per worker, in tokens' },
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
  json: { type: 'string', help: 'also write the results to this JSON file' },
});

export async function replayCommand(argv: string[]): Promise<number> {
  const cfg = parseCommand(
    options,
    {
      program: 'chunkmesh replay',
      summary:
        'Replays a Mooncake-format trace through the router placement code against simulated workers ' +
        '(real prefix tree and LRU eviction; a worker serves FIFO at the given prefill and decode rates).',
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
  const policies = cfg.policy === 'all' ? [...POLICY_NAMES] : [cfg.policy];
  process.stderr.write(
    `replaying ${trace.length} requests on ${cfg.workers} workers x ${cfg.capacity} tokens\n`,
  );
  const pooled = pooledUpperBound(trace, o);
  const results: ReplayResult[] = [];
  for (const name of policies) {
    const progress = new Progress(name);
    results.push(replay(trace, createPolicy(name), { ...o, onProgress: (d, t) => progress.update(d, t) }));
  }
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  console.log(
    `\n${trace.length} requests, ${cfg.workers} workers x ${cfg.capacity} KV tokens, c = ${cfg.chunkTokens}, ` +
      `prefill ${cfg.prefillRate} tok/s, decode ${cfg.decodeRate} tok/s, speed-up ${cfg.speedup}\n`,
  );
  printTable(
    ['policy', 'hit rate', 'of pooled', 'max/mean load', 'mean queue s', 'p99 queue s', 'decisions'],
    [
      ...results.map((r) => [
        r.policy,
        pct(r.hitRate),
        pct(r.hitRate / pooled.hitRate),
        r.loadImbalance.toFixed(3),
        r.meanQueueSeconds.toFixed(3),
        r.p99QueueSeconds.toFixed(2),
        Object.entries(r.decisionsByReason)
          .map(([k, v]) => `${k} ${v}`)
          .join(', '),
      ]),
      [
        'pooled bound',
        pct(pooled.hitRate),
        '100.0%',
        '-',
        '-',
        '-',
        'one cache of all capacity, no load limit',
      ],
    ],
  );
  if (cfg.json) writeFileSync(cfg.json, JSON.stringify({ options: o, pooled, results }, null, 2));
  return 0;
}
