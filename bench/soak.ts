// The soak run: a local cluster (private Redis, workers and routers as real
// processes, the vendored stories260K model) under steady seeded load for N
// minutes; every interval it samples each process's resident memory and the
// latency of the requests that started in it, then reports the drift between
// the first interval after warm-up and the last: memory that keeps growing,
// latency that keeps rising. Outside CI (it runs for minutes).
//   npm run soak -- --minutes 10 [--workers 2] [--routers 2] [--json FILE]
import { writeFile } from 'node:fs/promises';
import { printTable, RedisServer } from '@chunkmesh/cli';
import { defineOptions, loadConfig } from '@chunkmesh/common';
import {
  LoadGenerator,
  type LoadSummary,
  type RouterProcess,
  type ServiceProcess,
  scrapeMetrics,
  startRouter,
  startWorker,
  summarize,
  uniqueCluster,
  type WorkerProcess,
  waitFor,
} from '@chunkmesh/test-support';

const cfg = loadConfig(
  defineOptions({
    minutes: { type: 'number', default: 10, min: 0.1, help: 'how long the load runs' },
    intervalSeconds: { type: 'integer', default: 30, min: 1, help: 'sampling interval' },
    warmupSeconds: {
      type: 'integer',
      default: 30,
      min: 0,
      help: 'left out of the drift (caches and heaps fill)',
    },
    workers: { type: 'integer', default: 2, min: 1, help: 'worker processes' },
    routers: { type: 'integer', default: 1, min: 1, help: 'router processes (clients use them in turn)' },
    concurrency: { type: 'integer', default: 4, min: 1, help: 'clients sending back to back' },
    thinkMs: { type: 'integer', default: 0, min: 0, help: "each client's pause between requests" },
    families: { type: 'integer', default: 16, min: 1, help: 'prompt families (shared prefixes)' },
    prefixTokens: { type: 'integer', default: 64, min: 0, help: 'shared prefix length in tokens' },
    suffixTokens: { type: 'integer', default: 16, min: 1, help: "each request's own tokens" },
    maxTokens: { type: 'integer', default: 16, min: 1, help: 'tokens generated per request' },
    seed: { type: 'integer', default: 1, min: 0, help: 'workload seed' },
    json: { type: 'string', help: 'also write the samples and the drift to this JSON file' },
  }),
  {
    program: 'npm run soak --',
    summary:
      'Soak run: a local cluster (Redis, workers, routers as processes, stories260K) under steady seeded load; ' +
      'memory and latency per interval, and their drift from the first interval after warm-up to the last. ' +
      'Tables on stdout, progress on stderr.',
  },
);

const log = (line: string) => process.stderr.write(`${line}\n`);
// The services stop by themselves if this process dies without stopping them.

interface Sample {
  atSeconds: number;
  load: LoadSummary;
  /** Resident memory of each process, MiB, by name. */
  rssMiB: Record<string, number>;
}

const redis = await RedisServer.start();
const cluster = uniqueCluster('soak');
const procs: ServiceProcess[] = [];
try {
  log(`starting ${cfg.workers} workers and ${cfg.routers} routers`);
  const workers: WorkerProcess[] = await Promise.all(
    Array.from({ length: cfg.workers }, () => startWorker({ redisUrl: redis.url, cluster })),
  );
  procs.push(...workers);
  const routers: RouterProcess[] = await Promise.all(
    Array.from({ length: cfg.routers }, () => startRouter({ redisUrl: redis.url, cluster })),
  );
  procs.push(...routers);
  for (const r of routers) {
    await waitFor(
      'the routers to see every worker',
      async () => (await scrapeMetrics(r.metricsUrl)).value('chunkmesh_router_live_workers') === cfg.workers,
    );
  }
  const named: [string, string][] = [
    ...routers.map((r, i): [string, string] => [`router-${i}`, r.metricsUrl]),
    ...workers.map((w): [string, string] => [w.workerId, w.metricsUrl]),
  ];
  const rss = async () =>
    Object.fromEntries(
      await Promise.all(
        named.map(async ([name, url]) => [
          name,
          (await scrapeMetrics(url)).value('process_resident_memory_bytes') / 2 ** 20,
        ]),
      ),
    ) as Record<string, number>;

  const load = new LoadGenerator({
    routers: () => routers.map((r) => r.baseUrl),
    model: 'stories260K',
    concurrency: cfg.concurrency,
    seed: cfg.seed,
    families: cfg.families,
    prefixTokens: cfg.prefixTokens,
    suffixTokens: cfg.suffixTokens,
    maxTokens: cfg.maxTokens,
    vocab: 512,
    thinkMs: cfg.thinkMs,
  });
  const samples: Sample[] = [];
  const t0 = Date.now();
  const end = t0 + cfg.minutes * 60_000;
  log(`load for ${cfg.minutes} min, a sample every ${cfg.intervalSeconds} s`);
  load.start();
  for (let from = t0; from < end; ) {
    const to = Math.min(end, from + cfg.intervalSeconds * 1000);
    await new Promise((r) => setTimeout(r, to - Date.now()));
    samples.push({
      atSeconds: Math.round((to - t0) / 1000),
      load: summarize(load.records, from, to),
      rssMiB: await rss(),
    });
    const s = samples[samples.length - 1] as Sample;
    log(`${s.atSeconds} s: ${s.load.requests} requests, p99 ${s.load.e2eP99Ms} ms`);
    from = to;
  }
  await load.stop();

  const names = named.map(([n]) => n);
  printTable(
    [
      't s',
      'requests',
      'failed',
      'hit rate',
      'TTFT p50 ms',
      'TTFT p99 ms',
      'e2e p50 ms',
      'e2e p99 ms',
      ...names.map((n) => `${n} MiB`),
    ],
    samples.map((s) => [
      s.atSeconds,
      s.load.requests,
      s.load.requests - s.load.ok,
      `${(s.load.hitRate * 100).toFixed(1)}%`,
      s.load.ttftP50Ms,
      s.load.ttftP99Ms,
      s.load.e2eP50Ms,
      s.load.e2eP99Ms,
      ...names.map((n) => (s.rssMiB[n] as number).toFixed(1)),
    ]),
  );
  // Drift: the first sample past the warm-up against the last.
  const first = samples.find((s) => s.atSeconds > cfg.warmupSeconds) ?? (samples[0] as Sample);
  const last = samples[samples.length - 1] as Sample;
  const drift = {
    fromSeconds: first.atSeconds,
    toSeconds: last.atSeconds,
    rssMiB: Object.fromEntries(
      names.map((n) => [n, (last.rssMiB[n] as number) - (first.rssMiB[n] as number)]),
    ),
    e2eP50Ratio: last.load.e2eP50Ms / first.load.e2eP50Ms,
    e2eP99Ratio: last.load.e2eP99Ms / first.load.e2eP99Ms,
    ttftP99Ratio: last.load.ttftP99Ms / first.load.ttftP99Ms,
  };
  console.log(`\nDrift from ${first.atSeconds} s to ${last.atSeconds} s`);
  printTable(
    ['measure', 'change'],
    [
      ...names.map((n) => [
        `${n} RSS`,
        `${(drift.rssMiB[n] as number) >= 0 ? '+' : ''}${(drift.rssMiB[n] as number).toFixed(1)} MiB`,
      ]),
      ['e2e p50', `x${drift.e2eP50Ratio.toFixed(2)}`],
      ['e2e p99', `x${drift.e2eP99Ratio.toFixed(2)}`],
      ['TTFT p99', `x${drift.ttftP99Ratio.toFixed(2)}`],
    ],
  );
  const all = summarize(load.records);
  console.log(
    `\n${all.requests} requests, ${all.requests - all.ok} failed, hit rate ${(all.hitRate * 100).toFixed(1)}%`,
  );
  if (cfg.json) {
    await writeFile(cfg.json, `${JSON.stringify({ options: cfg, samples, drift, total: all }, null, 2)}\n`);
    log(`wrote ${cfg.json}`);
  }
} finally {
  await Promise.all(procs.map((p) => p.kill()));
  await redis.stop();
}
