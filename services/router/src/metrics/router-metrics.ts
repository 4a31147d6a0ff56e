// The router's Prometheus metrics: decisions by policy and reason, predicted
// versus realised cached tokens, retries and rejections, per-worker load as
// the router sees it, live and incompatible workers, index size and event lag
// (read at scrape time).
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ClusterIndex } from '../index/cluster-index.ts';
import { MISMATCH_REASONS } from '../index/compatibility.ts';

export class RouterMetrics {
  private readonly decisions: Counter<'policy' | 'reason'>;
  private readonly predicted: Counter;
  private readonly realisedTokens: Counter;
  private readonly retries: Counter<'code'>;
  private readonly rejections: Counter<'reason'>;

  constructor(
    registry: Registry,
    index: Pick<ClusterIndex, 'workers' | 'incompatibleWorkers' | 'stats' | 'eventLagMs'>,
  ) {
    const registers = [registry];
    this.decisions = new Counter({
      name: 'chunkmesh_router_decisions_total',
      help: 'Placements, by policy and reason (prefix, load, guard, session, round-robin, least-loaded, hash)',
      labelNames: ['policy', 'reason'],
      registers,
    });
    this.predicted = new Counter({
      name: 'chunkmesh_router_predicted_cached_tokens_total',
      help: 'Prompt tokens the index said the chosen worker held',
      registers,
    });
    this.realisedTokens = new Counter({
      name: 'chunkmesh_router_realised_cached_tokens_total',
      help: 'Prompt tokens the worker reported it found cached (usage.cached_prompt_tokens)',
      registers,
    });
    this.retries = new Counter({
      name: 'chunkmesh_router_retries_total',
      help: 'Requests retried on another worker after a failure before the first token, by gRPC code',
      labelNames: ['code'],
      registers,
    });
    this.rejections = new Counter({
      name: 'chunkmesh_router_rejections_total',
      help: 'Requests refused: router_inflight, workers_full, no_worker',
      labelNames: ['reason'],
      registers,
    });
    new Gauge({
      name: 'chunkmesh_router_worker_pending_tokens',
      help: 'Queued plus running tokens of each live worker, as its last heartbeat reported',
      labelNames: ['worker'],
      registers,
      collect() {
        this.reset();
        for (const w of index.workers())
          this.set({ worker: w.workerId }, w.load.queuedTokens + w.load.runningTokens);
      },
    });
    new Gauge({
      name: 'chunkmesh_router_live_workers',
      help: "Workers with a live registry entry whose chunk size and model id equal the router's: the placement pool",
      registers,
      collect() {
        this.set(index.workers().length);
      },
    });
    new Gauge({
      name: 'chunkmesh_router_incompatible_workers',
      help: "Live workers not placed on because their chunk size or model id differs from the router's, by what differs",
      labelNames: ['reason'],
      registers,
      collect() {
        const incompatible = index.incompatibleWorkers();
        for (const reason of MISMATCH_REASONS)
          this.set(
            { reason },
            incompatible.filter((w) => w.mismatches.some((m) => m.reason === reason)).length,
          );
      },
    });
    new Gauge({
      name: 'chunkmesh_router_index_entries',
      help: '(chunk, worker) entries in the cluster index',
      registers,
      collect() {
        this.set(index.stats().entries);
      },
    });
    new Gauge({
      name: 'chunkmesh_router_event_lag_seconds',
      help: 'Age of the last stream event applied to the index when it was applied',
      registers,
      collect() {
        this.set(index.eventLagMs / 1000);
      },
    });
  }

  decision(policy: string, reason: string): void {
    this.decisions.inc({ policy, reason });
  }
  realised(predictedTokens: number, realisedTokens: number): void {
    this.predicted.inc(predictedTokens);
    this.realisedTokens.inc(realisedTokens);
  }
  retry(code: string): void {
    this.retries.inc({ code });
  }
  rejected(reason: string): void {
    this.rejections.inc({ reason });
  }
}
