// The runner's metrics (README, "Control plane"): jobs by queue kind and state
// (read from BullMQ at scrape time), durations and failures by job name and a
// bounded reason, the KV bytes migrations moved, and what index.reconcile fixed. Per-worker
// queues are summed under queue="worker" so the label stays bounded however many workers come
// and go.

import { KV_TIERS } from '@chunkmesh/common';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { JOB_NAMES } from '../job-names.ts';
import type { WorkerReconcile } from './reconcile.ts';

export const FAILURE_REASONS = [
  'invalid_payload',
  'worker_unavailable',
  'not_reported',
  'unsupported',
  'timeout',
  'error',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];
const STATES = [
  'waiting',
  'active',
  'delayed',
  'waiting-children',
  'prioritized',
  'completed',
  'failed',
] as const;

export interface CountedQueue {
  kind: 'control' | 'worker';
  getJobCounts(...states: string[]): Promise<Record<string, number>>;
}

export class JobMetrics {
  private readonly duration: Histogram<'name' | 'outcome'>;
  private readonly failures: Counter<'name' | 'reason'>;
  private readonly migratedBytes: Counter;
  private readonly reconcileFixed: Counter<'tier' | 'kind'>;
  private readonly reconcileResyncs: Counter;

  constructor(registry: Registry, queues: () => readonly CountedQueue[]) {
    new Gauge({
      name: 'chunkmesh_jobs',
      help: 'Control-plane jobs by queue (control, or worker: every per-worker queue summed) and state',
      labelNames: ['queue', 'state'],
      registers: [registry],
      async collect() {
        const sums = { control: new Map<string, number>(), worker: new Map<string, number>() };
        const counts = await Promise.all(
          queues().map(async (q) => ({ kind: q.kind, counts: await q.getJobCounts(...STATES) })),
        );
        for (const { kind, counts: c } of counts)
          for (const s of STATES) sums[kind].set(s, (sums[kind].get(s) ?? 0) + (c[s] ?? 0));
        this.reset();
        for (const kind of ['control', 'worker'] as const)
          for (const s of STATES) this.set({ queue: kind, state: s }, sums[kind].get(s) ?? 0);
      },
    });
    this.duration = new Histogram({
      name: 'chunkmesh_job_duration_seconds',
      help: 'Time a job attempt ran, from its start to its completion or failure',
      labelNames: ['name', 'outcome'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    });
    this.failures = new Counter({
      name: 'chunkmesh_job_failures_total',
      help: 'Failed job attempts by job name and reason (retried ones included)',
      labelNames: ['name', 'reason'],
      registers: [registry],
    });
    this.migratedBytes = new Counter({
      name: 'chunkmesh_job_migrated_bytes_total',
      help: 'KV bytes kv.migrate jobs moved from source to target worker (completed jobs)',
      registers: [registry],
    });
    this.reconcileFixed = new Counter({
      name: 'chunkmesh_reconcile_fixed_keys_total',
      help: 'Keys index.reconcile found wrong in a worker\u2019s report and repaired: missing (in the tree, not reported in that tier) or stale (reported, not in the tree in that tier)',
      labelNames: ['tier', 'kind'],
      registers: [registry],
    });
    this.reconcileResyncs = new Counter({
      name: 'chunkmesh_reconcile_resyncs_total',
      help: 'Workers index.reconcile asked to rewrite their report to Redis',
      registers: [registry],
    });
    // every series present from the start, at 0
    for (const name of JOB_NAMES)
      for (const reason of FAILURE_REASONS) this.failures.inc({ name, reason }, 0);
    for (const tier of KV_TIERS)
      for (const kind of ['missing', 'stale']) this.reconcileFixed.inc({ tier, kind }, 0);
  }

  reconciled(w: WorkerReconcile): void {
    if (!w.resynced) return;
    this.reconcileResyncs.inc();
    for (const tier of KV_TIERS) {
      this.reconcileFixed.inc({ tier, kind: 'missing' }, w.missing[tier]);
      this.reconcileFixed.inc({ tier, kind: 'stale' }, w.stale[tier]);
    }
  }

  migrated(bytes: number): void {
    this.migratedBytes.inc(bytes);
  }

  finished(name: string, seconds: number, failure?: FailureReason): void {
    this.duration.observe({ name, outcome: failure ? 'failed' : 'completed' }, seconds);
    if (failure) this.failures.inc({ name, reason: failure });
  }
}
