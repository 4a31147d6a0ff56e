// The worker's Prometheus metrics (ARCHITECTURE.md, Observability): prefix
// cache queries and hits in tokens, KV bytes logical vs physical and saved, chunks by
// state, tenant roots, evictions, latency histograms, batch size, queue depth, step time.
// Engine hooks feed the counters; cache gauges are read at scrape time.
import type { FetchResult, KvCache, TierCounts } from '@chunkmesh/native';
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
  private readonly hitsByTier: Counter<'tier'>;
  private readonly restoreSeconds: Histogram;
  private readonly restoreBytes: Counter;
  private readonly restoreTokens: Counter<'outcome'>;
  private readonly forkedTokens: Counter;
  private readonly truncationReused: Counter;

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
    new Gauge({
      name: 'chunkmesh_kv_tenant_roots',
      help: 'Tenant roots in the prefix tree (one per tenant with cached chunks or running sequences)',
      registers,
      collect() {
        this.set(cache.stats().roots);
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
    this.hitsByTier = new Counter({
      name: 'chunkmesh_prefix_cache_hit_tokens_by_tier_total',
      help: 'Cached prompt tokens by the tier their chunk was found in (disk: read back for the request)',
      labelNames: ['tier'],
      registers,
    });
    this.restoreSeconds = new Histogram({
      name: 'chunkmesh_kv_restore_seconds',
      help: "Reading a waiting request's prefix back from disk and moving it to the device",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.restoreBytes = new Counter({
      name: 'chunkmesh_kv_restore_bytes_total',
      help: 'Bytes read back from the disk tier for waiting requests (rate: restore bytes/s)',
      registers,
    });
    this.restoreTokens = new Counter({
      name: 'chunkmesh_kv_restore_tokens_total',
      help: 'Prefix tokens of waiting requests read back from disk (restored) or lost to a bad read (failed)',
      labelNames: ['outcome'],
      registers,
    });
    this.truncationReused = new Counter({
      name: 'chunkmesh_kv_truncation_reused_tokens_total',
      help: "Tokens of a truncated conversation's saved KV made usable at their new positions (keys re-rotated) instead of recomputed",
      registers,
    });
    tierGauges(registers, cache);
  }

  onFork(promptTokens: number): void {
    this.forkedTokens.inc(promptTokens);
  }
  onAdmit(promptTokens: number, cachedTokens: number, byTier?: TierCounts): void {
    this.prefixQueries.inc(promptTokens);
    this.prefixHits.inc(cachedTokens);
    if (byTier) for (const tier of TIERS) if (byTier[tier] > 0) this.hitsByTier.inc({ tier }, byTier[tier]);
  }
  onRestore(r: FetchResult): void {
    if (r.cancelled) return;
    this.restoreSeconds.observe(r.seconds);
    this.restoreBytes.inc(r.bytes);
    this.restoreTokens.inc({ outcome: 'restored' }, r.restoredTokens);
    this.restoreTokens.inc({ outcome: 'failed' }, r.failedTokens);
  }
  onTruncationReuse(tokens: number): void {
    this.truncationReused.inc(tokens);
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

const TIERS = ['device', 'host', 'disk'] as const;

/** The tiers below the device as the cache reports them, read at scrape time. */
function tierGauges(registers: Registry[], cache: KvCache): void {
  new Gauge({
    name: 'chunkmesh_kv_tier_bytes',
    help: 'KV bytes resident per tier (device: the pool in use; host, disk: chunks kept below it)',
    labelNames: ['tier'],
    registers,
    collect() {
      const s = cache.stats();
      this.set({ tier: 'device' }, s.physicalBytes);
      this.set({ tier: 'host' }, s.hostNodes * s.chunkBytes);
      this.set({ tier: 'disk' }, s.diskNodes * s.chunkBytes);
    },
  });
  new Gauge({
    name: 'chunkmesh_kv_tier_chunks',
    help: 'Prefix-tree chunks resident per tier (device: pinned and cached nodes; host, disk: chunks kept below it)',
    labelNames: ['tier'],
    registers,
    collect() {
      const s = cache.stats();
      this.set({ tier: 'device' }, s.pinnedNodes + s.cachedNodes);
      this.set({ tier: 'host' }, s.hostNodes);
      this.set({ tier: 'disk' }, s.diskNodes);
    },
  });
  new Gauge({
    name: 'chunkmesh_kv_tier_capacity_bytes',
    help: 'KV capacity per tier (0: the tier is not configured)',
    labelNames: ['tier'],
    registers,
    collect() {
      const s = cache.stats();
      this.set({ tier: 'device' }, s.capacityChunks * s.chunkBytes);
      this.set({ tier: 'host' }, s.hostCapacityChunks * s.chunkBytes);
      this.set({ tier: 'disk' }, s.diskCapacityChunks * s.chunkBytes);
    },
  });
  new Counter({
    name: 'chunkmesh_kv_demotions_total',
    help: 'Chunks moved down a tier: evicted from the device to the host, written back from the host to disk',
    labelNames: ['to'],
    registers,
    collect() {
      const s = cache.stats();
      this.reset();
      this.inc({ to: 'host' }, s.demotions);
      this.inc({ to: 'disk' }, s.diskDemotions);
    },
  });
  new Counter({
    name: 'chunkmesh_kv_promotions_total',
    help: 'Chunks moved up a tier: host to device (for a hit or ahead of one), disk to host (read back)',
    labelNames: ['to'],
    registers,
    collect() {
      const s = cache.stats();
      this.reset();
      this.inc({ to: 'device' }, s.promotions);
      this.inc({ to: 'host' }, s.diskPromotions);
    },
  });
  new Counter({
    name: 'chunkmesh_kv_prefetched_tokens_total',
    help: 'Prefix tokens of waiting requests moved to the device ahead of their admission (look-ahead)',
    registers,
    collect() {
      this.reset();
      this.inc(cache.stats().prefetchedTokens);
    },
  });
  new Counter({
    name: 'chunkmesh_kv_disk_errors_total',
    help: 'Disk tier failures: io (the OS failed a read or write), checksum (a record read back short, damaged or stale)',
    labelNames: ['kind'],
    registers,
    collect() {
      const s = cache.stats();
      this.reset();
      this.inc({ kind: 'io' }, s.ioErrors);
      this.inc({ kind: 'checksum' }, s.checksumFailures);
    },
  });
  new Gauge({
    name: 'chunkmesh_kv_disk_failed',
    help: '1 once a disk tier write failed: the tier takes no more chunks (the worker goes on with device and host)',
    registers,
    collect() {
      this.set(cache.stats().diskFailed ? 1 : 0);
    },
  });
  new Gauge({
    name: 'chunkmesh_kv_disk_bandwidth_bytes_per_second',
    help: 'Disk tier bandwidth measured at start, by operation',
    labelNames: ['op'],
    registers,
    collect() {
      const s = cache.stats();
      this.set({ op: 'read' }, s.diskReadBytesPerSecond);
      this.set({ op: 'write' }, s.diskWriteBytesPerSecond);
    },
  });
}
