// The worker's Prometheus metrics (ARCHITECTURE.md, Observability): prefix
// cache queries and hits in tokens, KV bytes logical vs physical and saved, chunks by
// state, evictions, latency histograms, batch size, queue depth, step time.
// Engine hooks feed the counters; cache gauges are read at scrape time.
import type { KvCache } from '@chunkmesh/native';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { EngineObserver, FinishReason } from '../engine/engine-types.ts';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class WorkerMetrics implements EngineObserver {
  private readonly prefixQueries: Counter;
  private readonly prefixHits: Counter;
  private readonly ttft: Histogram;
  private readonly interToken: Histogram;
  private readonly e2e: Histogram;
  private readonly finished: Counter<'reason'>;
  private readonly batch: Histogram;
  private readonly stepTime: Histogram;
  private readonly queueDepth: Gauge;
  private readonly preemptions: Counter;
  private readonly forkedTokens: Counter;

  constructor(registry: Registry, cache: KvCache) {
    const registers = [registry];
    this.prefixQueries = new Counter({
      name: 'chunkmesh_prefix_cache_query_tokens_total',
      help: 'Prompt tokens looked up in the prefix tree at admission',
      registers,
    });
    this.prefixHits = new Counter({
      name: 'chunkmesh_prefix_cache_hit_tokens_total',
      help: 'Prompt tokens found cached (prefill skipped); hit rate = hits / queries',
      registers,
    });
    new Gauge({
      name: 'chunkmesh_kv_logical_bytes',
      help: 'KV bytes the live sequences would use if nothing were shared',
      registers,
      collect() {
        this.set(cache.stats().logicalBytes);
      },
    });
    new Gauge({
      name: 'chunkmesh_kv_physical_bytes',
      help: 'KV bytes of the pool in use (shared nodes, cached nodes, private tails)',
      registers,
      collect() {
        this.set(cache.stats().physicalBytes);
      },
    });
    new Gauge({
      name: 'chunkmesh_kv_saved_bytes',
      help: 'KV bytes sharing saves now: logical minus what live sequences hold (never negative)',
      registers,
      collect() {
        const s = cache.stats();
        // live <= logical always; the clamp keeps a dashboard's "saved" from ever dipping below zero
        this.set(Math.max(0, s.logicalBytes - s.liveBytes));
      },
    });
    new Gauge({
      name: 'chunkmesh_kv_capacity_bytes',
      help: 'KV pool size in bytes',
      registers,
      collect() {
        const s = cache.stats();
        this.set(s.capacityChunks * s.chunkBytes);
      },
    });
    new Gauge({
      name: 'chunkmesh_kv_chunks',
      help: 'Pool chunks by state: pinned (used by a running sequence), cached (reusable), tail (private), free',
      labelNames: ['state'],
      registers,
      collect() {
        const s = cache.stats();
        this.set({ state: 'pinned' }, s.pinnedNodes);
        this.set({ state: 'cached' }, s.cachedNodes);
        this.set({ state: 'tail' }, s.tailChunks);
        this.set({ state: 'free' }, s.freeChunks);
      },
    });
    new Counter({
      name: 'chunkmesh_kv_evictions_total',
      help: 'Cached chunks evicted (least recently used first) to make room',
      registers,
      collect() {
        this.reset();
        this.inc(cache.stats().evictions);
      },
    });
    this.ttft = new Histogram({
      name: 'chunkmesh_time_to_first_token_seconds',
      help: 'Arrival to first generated token',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.interToken = new Histogram({
      name: 'chunkmesh_inter_token_seconds',
      help: 'Time between consecutive generated tokens of a request',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    this.e2e = new Histogram({
      name: 'chunkmesh_request_duration_seconds',
      help: 'Arrival to final message',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.finished = new Counter({
      name: 'chunkmesh_requests_finished_total',
      help: 'Requests finished, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.batch = new Histogram({
      name: 'chunkmesh_step_batch_size',
      help: 'Sequences in one engine step',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    });
    this.stepTime = new Histogram({
      name: 'chunkmesh_step_seconds',
      help: 'Wall time of one engine step (forward pass and sampling)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'chunkmesh_queue_depth',
      help: 'Requests waiting for admission',
      registers,
    });
    this.forkedTokens = new Counter({
      name: 'chunkmesh_forked_prompt_tokens_total',
      help: 'Prompt tokens the later choices of n > 1 requests took by forking the first choice (not computed again)',
      registers,
    });
    this.preemptions = new Counter({
      name: 'chunkmesh_preemptions_total',
      help: 'Sequences preempted (recomputed later) because the KV pool ran out',
      registers,
    });
  }

  onFork(promptTokens: number): void {
    this.forkedTokens.inc(promptTokens);
  }
  onAdmit(promptTokens: number, cachedTokens: number): void {
    this.prefixQueries.inc(promptTokens);
    this.prefixHits.inc(cachedTokens);
  }
  onFirstToken(ttftMs: number): void {
    this.ttft.observe(ttftMs / 1e3);
  }
  onToken(interTokenMs: number): void {
    this.interToken.observe(interTokenMs / 1e3);
  }
  onFinish(e2eMs: number, reason: FinishReason): void {
    this.e2e.observe(e2eMs / 1e3);
    this.finished.inc({ reason });
  }
  onStep(batch: number, stepMs: number, queueDepth: number): void {
    this.batch.observe(batch);
    this.stepTime.observe(stepMs / 1e3);
    this.queueDepth.set(queueDepth);
  }
  onPreempt(): void {
    this.preemptions.inc();
  }
}
