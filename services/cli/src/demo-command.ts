// npm run demo: a local cluster, a realistic mixed workload (tenants with
// their own system prompts, multi-turn sessions, one-off prompts) sent once
// under prefix-aware placement and once under round-robin on the same
// cluster, and a summary of what prefix reuse bought; then a clean shutdown.
import { writeFileSync } from 'node:fs';
import { defineOptions } from '@chunkmesh/common';
import { loadModel } from '@chunkmesh/model';
import { defaultModelDir } from './cluster/default-model.ts';
import { LocalCluster } from './cluster/local-cluster.ts';
import { parseCommand } from './command-options.ts';
import { jobsPhase } from './demo/jobs-phase.ts';
import { type PhaseResult, runPhase } from './demo/run-phase.ts';
import { buildWorkload } from './demo/workload.ts';
import { Progress } from './progress.ts';
import { printTable } from './table.ts';

const options = defineOptions({
  workers: { type: 'integer', default: 2, min: 1, help: 'worker processes' },
  model: { type: 'string', help: 'model directory (default: the built-in tiny model)' },
  tenants: { type: 'integer', default: 3, min: 1, help: 'tenants, each with its own system prompt' },
  sessions: { type: 'integer', default: 3, min: 0, help: 'multi-turn sessions per tenant' },
  turns: { type: 'integer', default: 3, min: 1, help: 'turns per session' },
  oneOffs: { type: 'integer', default: 6, min: 0, help: 'one-off prompts sharing nothing' },
  systemWords: { type: 'integer', default: 120, min: 1, help: 'words in each tenant system prompt' },
  maxTokens: { type: 'integer', default: 24, min: 1, help: 'tokens generated per request' },
  concurrency: { type: 'integer', default: 4, min: 1, help: 'conversations in flight at once' },
  chunkTokens: { type: 'integer', default: 16, min: 1, help: 'tokens per KV chunk' },
  kvCapacityTokens: { type: 'integer', default: 32_768, min: 1, help: 'KV pool per worker, in tokens' },
  json: { type: 'string', help: 'also write the summary to this JSON file' },
  jobs: {
    type: 'boolean',
    default: false,
    help: 'then show the control plane: prewarm a prompt onto a worker, then drain a worker under load',
  },
});

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
}

export async function demoCommand(argv: string[]): Promise<number> {
  const cfg = parseCommand(
    options,
    {
      program: 'chunkmesh demo',
      summary:
        'Brings up a local cluster, runs a mixed multi-tenant chat workload under prefix-aware placement and ' +
        'under round-robin, prints hit rate, KV reused, TTFT and throughput for both, and shuts down.',
    },
    argv,
  );
  if (!cfg) return 0;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const modelDir = cfg.model ?? (await defaultModelDir(log));
  const { model } = await loadModel(modelDir, { weights: false });
  const c = model.config;
  const kvBytesPerToken = c.layers * 2 * c.kvHeads * c.headDim * 4;
  const { conversations, oneOffs } = buildWorkload({
    tenants: cfg.tenants,
    sessionsPerTenant: cfg.sessions,
    turns: cfg.turns,
    oneOffs: cfg.oneOffs,
    systemWords: cfg.systemWords,
    userWords: 12,
    seed: 42,
  });
  // one-offs interleaved with the sessions, as they would arrive
  const work = conversations.flatMap((conv, i) => (oneOffs[i] ? [conv, oneOffs[i]] : [conv]));
  work.push(...oneOffs.slice(conversations.length));

  const clusterName = `demo-${process.pid}`;
  const cluster = await LocalCluster.start({
    workers: cfg.workers,
    modelDir,
    cluster: clusterName,
    chunkTokens: cfg.chunkTokens,
    kvCapacityTokens: cfg.kvCapacityTokens,
    policy: 'prefix-aware',
    routerGrpcPort: 0,
    routerHttpPort: 0,
    routerOpsPort: 0,
    workerThreads: 1,
    log,
  });
  const results: PhaseResult[] = [];
  try {
    // warm every process up (JIT, first allocations) so neither measured phase pays for it
    await runPhase({
      baseUrl: cluster.httpUrl,
      model: c.modelId,
      policy: 'warm-up',
      tag: 'warm-up',
      conversations: oneOffs.slice(0, cfg.workers * 2),
      maxTokens: 4,
      concurrency: cfg.workers,
      onProgress: () => undefined,
    });
    for (const policy of ['prefix-aware', 'round-robin']) {
      if (policy !== 'prefix-aware') await cluster.startRouter(policy);
      const progress = new Progress(`${policy}`);
      results.push(
        await runPhase({
          baseUrl: cluster.httpUrl,
          model: c.modelId,
          policy,
          tag: policy,
          conversations: work,
          maxTokens: cfg.maxTokens,
          concurrency: cfg.concurrency,
          onProgress: (d, t) => progress.update(d, t),
        }),
      );
    }
    if (cfg.jobs) {
      // the request after a prewarm is placed by prefix, where the prewarm put it
      await cluster.startRouter('prefix-aware');
      await jobsPhase({
        baseUrl: cluster.httpUrl,
        model: c.modelId,
        redisUrl: cluster.redis.url,
        cluster: clusterName,
        workerIds: cluster.workers.map((w) => w.workerId),
        conversations: conversations.slice(0, cfg.concurrency * 2),
        maxTokens: cfg.maxTokens,
        concurrency: cfg.concurrency,
        log,
      });
    }
  } finally {
    log('stopping the cluster ...');
    await cluster.stop();
  }

  const turns = conversations.reduce((n, cv) => n + cv.userTurns.length, 0);
  console.log(
    `\n${cfg.workers} workers, model ${c.modelId}; ${cfg.tenants} tenants x ${cfg.sessions} sessions x ${cfg.turns} turns ` +
      `(${turns} requests) + ${oneOffs.length} one-off prompts, ${cfg.maxTokens} tokens each, ${cfg.concurrency} in flight\n`,
  );
  printTable(
    [
      'placement',
      'requests',
      'prompt tokens',
      'prefix hit rate',
      'KV reused MiB',
      'TTFT mean ms',
      'TTFT p90 ms',
      'tokens/s',
    ],
    results.map((r) => [
      r.policy,
      r.requests,
      r.promptTokens,
      pct(r.cachedTokens / r.promptTokens),
      ((r.cachedTokens * kvBytesPerToken) / 2 ** 20).toFixed(1),
      (r.ttftMs.reduce((a, b) => a + b, 0) / r.ttftMs.length).toFixed(1),
      quantile(r.ttftMs, 0.9).toFixed(1),
      (r.completionTokens / (r.wallMs / 1000)).toFixed(1),
    ]),
  );
  console.log(
    '\nprefix hit rate: prompt tokens whose KV a worker already held (usage.prompt_tokens_details.cached_tokens);\n' +
      'KV reused: that KV in bytes, neither recomputed nor stored twice; tokens/s: completion tokens over wall time.',
  );
  if (cfg.json) writeFileSync(cfg.json, JSON.stringify({ kvBytesPerToken, results }, null, 2));
  return 0;
}
