// The router's Prometheus metrics: decisions by policy and reason, prompt
// tokens and predicted versus realised cached tokens by (bounded) tenant,
// retries and rejections, per-worker load as the router sees it, live and
// incompatible workers, index size and event lag (read at scrape time), and
// how long a request spends in the router before it is forwarded.
import { KV_TIERS } from '@chunkmesh/common';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ClusterIndex } from '../index/cluster-index.ts';
import { MISMATCH_REASONS } from '../index/compatibility.ts';
import { TenantLabel } from './tenant-label.ts';

/** The router's two ways in: OpenAI-compatible HTTP and gRPC. */
export type FrontDoor = 'http' | 'grpc';

/** Tenants with their own label per replica; the rest are counted as one (see tenant-label.ts). */
export const TENANT_LABEL_LIMIT = 50;

export class RouterMetrics {
  private readonly decisions: Counter<'policy' | 'reason'>;
  private readonly promptTokens: Counter<'tenant'>;
  private readonly predicted: Counter<'tenant'>;
  private readonly realisedTokens: Counter<'tenant'>;
  private readonly tenants = new TenantLabel(TENANT_LABEL_LIMIT);
  private readonly retries: Counter<'code'>;
  private readonly rejections: Counter<'reason'>;
  private readonly toForward: Histogram<'door'>;
  // Children bound once per label set: a request's path observes these before it is forwarded,
  // and prom-client hashes a label object on every call otherwise.
  private readonly forwardByDoor: Record<FrontDoor, Histogram.Internal<'door'>>;
  private readonly decisionsBy = new Map<string, Counter.Internal>();

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
    this.promptTokens = new Counter({
      name: 'chunkmesh_router_prompt_tokens_total',
      help: `Prompt tokens of completed requests, by tenant (the first ${TENANT_LABEL_LIMIT} seen; later ones are "(other)")`,
      labelNames: ['tenant'],
      registers,
    });
    this.predicted = new Counter({
      name: 'chunkmesh_router_predicted_cached_tokens_total',
      help: 'Prompt tokens the index said the chosen worker held, by tenant',
      labelNames: ['tenant'],
      registers,
    });
    this.realisedTokens = new Counter({
      name: 'chunkmesh_router_realised_cached_tokens_total',
      help: 'Prompt tokens the worker reported it found cached (usage.cached_prompt_tokens), by tenant',
      labelNames: ['tenant'],
      registers,
    });
    this.retries = new Counter({
      name: 'chunkmesh_router_retries_total',
      help: 'Requests retried on another worker after a failure before the first token, by gRPC code',
      labelNames: ['code'],
      registers,
    });
    this.toForward = new Histogram({
      name: 'chunkmesh_router_forward_seconds',
      help:
        "From a request's arrival at a front door (http, grpc) to its forwarding to the first worker tried: " +
        'reading and parsing it, the chat template, tokenising, checks and placement, what the router adds before a worker starts',
      labelNames: ['door'],
      buckets: [0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.01, 0.025, 0.1],
      registers,
    });
    this.forwardByDoor = {
      http: this.toForward.labels({ door: 'http' }),
      grpc: this.toForward.labels({ door: 'grpc' }),
    };
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
      help: "Live workers not placed on because their chunk size, model id or chunk-key format differs from the router's, by what differs",
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
      name: 'chunkmesh_router_index_tier_entries',
      help: '(chunk, worker) entries in the cluster index by the tier the chunk is in on that worker',
      labelNames: ['tier'],
      registers,
      collect() {
        const byTier = index.stats().entriesByTier;
        for (const tier of KV_TIERS) this.set({ tier }, byTier[tier]);
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
    // (policies and reasons are a few fixed names each: the map stays small)
    const key = `${policy} ${reason}`;
    let child = this.decisionsBy.get(key);
    if (!child) {
      child = this.decisions.labels({ policy, reason });
      this.decisionsBy.set(key, child);
    }
    child.inc();
  }
  /** A completed request: its prompt size and the cached tokens predicted at placement and realised. */
  completed(tenant: string, promptTokens: number, predictedTokens: number, realisedTokens: number): void {
    const labels = { tenant: this.tenants.of(tenant) };
    this.promptTokens.inc(labels, promptTokens);
    this.predicted.inc(labels, predictedTokens);
    this.realisedTokens.inc(labels, realisedTokens);
  }
  /** A request forwarded to its first worker, `seconds` after it arrived at `door`. */
  forwarded(door: FrontDoor, seconds: number): void {
    this.forwardByDoor[door].observe(seconds);
  }
  retry(code: string): void {
    this.retries.inc({ code });
  }
  rejected(reason: string): void {
    this.rejections.inc({ reason });
  }
}
