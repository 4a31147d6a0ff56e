// chunkmesh's two dashboards. "Prefix cache and KV" answers whether sharing pays: hit rate for the
// cluster, each worker and each tenant, KV memory saved, where prompt tokens come from, how the
// router decides and whether its predictions come true. "Serving" answers whether requests are
// served well: latency quantiles, queues, preemptions, engine steps, and the control plane's jobs. The
// tiers row of the first shows where KV lives below the device and what moving it costs.
import { type DashboardSpec, q, quantile, rate, ratio, S, stat, timeseries } from './panels.ts';

const HIT = 'chunkmesh_prefix_cache_hit_tokens_total';
const QUERY = 'chunkmesh_prefix_cache_query_tokens_total';
const HIT_BY_TIER = 'chunkmesh_prefix_cache_hit_tokens_by_tier_total';
const hitRate = (by = '') => {
  const sum = by ? `sum by (${by})` : 'sum';
  return ratio(`${sum} (${rate(HIT)})`, `${sum} (${rate(QUERY)})`);
};
const savedRatio = ratio(`sum(chunkmesh_kv_saved_bytes{${S}})`, `sum(chunkmesh_kv_logical_bytes{${S}})`);

const latency = (metric: string) => [
  q(quantile(0.5, metric), 'p50'),
  q(quantile(0.95, metric), 'p95'),
  q(quantile(0.99, metric), 'p99'),
  q(ratio(`sum(${rate(`${metric}_sum`)})`, `sum(${rate(`${metric}_count`)})`), 'mean'),
];

export const cacheDashboard: DashboardSpec = {
  uid: 'chunkmesh-prefix-cache',
  title: 'chunkmesh / Prefix cache and KV',
  description: 'Whether prefix sharing pays: hit rates, KV memory saved, token sources, router decisions.',
  rows: [
    {
      title: 'Now',
      panels: [
        stat(
          'Prefix hit rate',
          'Prompt tokens found cached / prompt tokens looked up, all workers.',
          'percentunit',
          q(hitRate()),
        ),
        stat(
          'KV memory saved',
          'Share of the live sequences\u2019 KV that sharing spares (saved / logical).',
          'percentunit',
          q(savedRatio),
        ),
        stat(
          'KV bytes saved',
          'Bytes the live sequences would hold on top if nothing were shared.',
          'bytes',
          q(`sum(chunkmesh_kv_saved_bytes{${S}})`),
        ),
        stat(
          'Prediction accuracy',
          'Cached tokens the workers realised / cached tokens the router predicted: below 1 means a stale index.',
          'percentunit',
          q(
            ratio(
              `sum(${rate('chunkmesh_router_realised_cached_tokens_total')})`,
              `sum(${rate('chunkmesh_router_predicted_cached_tokens_total')})`,
            ),
          ),
        ),
      ],
    },
    {
      title: 'Prefix hit rate',
      panels: [
        timeseries(
          'Hit rate, cluster',
          'Prompt tokens found cached / looked up.',
          'percentunit',
          [q(hitRate(), 'cluster')],
          { width: 8 },
        ),
        timeseries(
          'Hit rate per worker',
          'Each worker\u2019s own hit rate.',
          'percentunit',
          [q(hitRate('pod'), '{{pod}}')],
          { width: 8 },
        ),
        timeseries(
          'Hit rate per tenant',
          'Realised cached tokens / prompt tokens, by tenant as routers count them (the first 50 tenants per router; the rest are "(other)").',
          'percentunit',
          [
            q(
              ratio(
                `sum by (tenant) (${rate('chunkmesh_router_realised_cached_tokens_total')})`,
                `sum by (tenant) (${rate('chunkmesh_router_prompt_tokens_total')})`,
              ),
              '{{tenant}}',
            ),
          ],
          { width: 8 },
        ),
      ],
    },
    {
      title: 'KV memory',
      panels: [
        timeseries(
          'KV memory saved, bytes',
          'Logical minus live KV bytes, per worker (never negative).',
          'bytes',
          [q(`sum by (pod) (chunkmesh_kv_saved_bytes{${S}})`, '{{pod}}')],
          { stacked: true },
        ),
        timeseries(
          'KV memory saved, ratio',
          'Saved / logical KV bytes, cluster and per worker.',
          'percentunit',
          [
            q(savedRatio, 'cluster'),
            q(
              ratio(
                `sum by (pod) (chunkmesh_kv_saved_bytes{${S}})`,
                `sum by (pod) (chunkmesh_kv_logical_bytes{${S}})`,
              ),
              '{{pod}}',
            ),
          ],
        ),
        timeseries(
          'KV bytes: logical, physical, capacity',
          'What sequences would use unshared, the pool in use, the pool.',
          'bytes',
          [
            q(`sum(chunkmesh_kv_logical_bytes{${S}})`, 'logical'),
            q(`sum(chunkmesh_kv_physical_bytes{${S}})`, 'physical'),
            q(`sum(chunkmesh_kv_capacity_bytes{${S}})`, 'capacity'),
          ],
        ),
        timeseries(
          'KV chunks by state',
          'Pinned (running sequences), cached (reusable), tail (private), free.',
          'short',
          [q(`sum by (state) (chunkmesh_kv_chunks{${S}})`, '{{state}}')],
          { stacked: true },
        ),
        timeseries('Evictions', 'Cached chunks evicted per second to make room, per worker.', 'ops', [
          q(`sum by (pod) (${rate('chunkmesh_kv_evictions_total')})`, '{{pod}}'),
        ]),
        timeseries(
          'Prompt tokens by source',
          'Computed (prefilled) versus cached, by the tier the cached chunks were found in.',
          'short',
          [
            q(`sum(${rate(QUERY)}) - sum(${rate(HIT)})`, 'computed'),
            q(`sum by (tier) (${rate(HIT_BY_TIER)})`, 'cached \u00b7 {{tier}}'),
          ],
          { stacked: true },
        ),
      ],
    },
    {
      title: 'Tiers: device, host, disk',
      panels: [
        timeseries(
          'KV bytes per tier',
          'Resident bytes by tier (device: the pool in use; host, disk: chunks kept below it), and each tier\u2019s capacity.',
          'bytes',
          [
            q(`sum by (tier) (chunkmesh_kv_tier_bytes{${S}})`, '{{tier}}'),
            q(`sum by (tier) (chunkmesh_kv_tier_capacity_bytes{${S}})`, '{{tier}} capacity'),
          ],
        ),
        timeseries(
          'KV chunks per tier',
          'Prefix-tree chunks by tier, all workers; and the routers\u2019 index entries by tier (max over routers).',
          'short',
          [
            q(`sum by (tier) (chunkmesh_kv_tier_chunks{${S}})`, '{{tier}}'),
            q(`max by (tier) (chunkmesh_router_index_tier_entries{${S}})`, 'index \u00b7 {{tier}}'),
          ],
        ),
        timeseries(
          'Hit tokens by tier',
          'Cached prompt tokens per second by the tier they were found in (host and disk: restored first).',
          'short',
          [q(`sum by (tier) (${rate(HIT_BY_TIER)})`, '{{tier}}')],
          { stacked: true },
        ),
        timeseries(
          'Demotions and promotions',
          'Chunks per second moved down (to host: evicted from the device; to disk: written back) and up (to device; to host: read back).',
          'ops',
          [
            q(`sum by (to) (${rate('chunkmesh_kv_demotions_total')})`, 'demoted to {{to}}'),
            q(`sum by (to) (${rate('chunkmesh_kv_promotions_total')})`, 'promoted to {{to}}'),
          ],
        ),
        timeseries(
          'Restore latency',
          'Reading a waiting request\u2019s prefix back from disk and moving it to the device.',
          's',
          latency('chunkmesh_kv_restore_seconds'),
        ),
        timeseries('Restore bytes/s', 'Bytes read back from disk for waiting requests, per worker.', 'Bps', [
          q(`sum by (pod) (${rate('chunkmesh_kv_restore_bytes_total')})`, '{{pod}}'),
        ]),
        timeseries(
          'Truncation reuse',
          'Tokens per second of truncated conversations\u2019 saved KV made usable at their new positions (keys re-rotated) instead of recomputed (--kv-truncation-reuse-tokens).',
          'short',
          [q(`sum(${rate('chunkmesh_kv_truncation_reused_tokens_total')})`, 'reused')],
        ),
        timeseries(
          'Disk errors',
          'Per second: io (the OS failed a read or write), checksum (a record read back damaged: a miss, recomputed); workers whose disk tier failed.',
          'short',
          [
            q(`sum by (kind) (${rate('chunkmesh_kv_disk_errors_total')})`, '{{kind}}'),
            q(`sum(chunkmesh_kv_disk_failed{${S}})`, 'disk tiers failed'),
          ],
        ),
      ],
    },
    {
      title: 'Router',
      panels: [
        timeseries(
          'Decisions by reason',
          'Placements per second: prefix, load, guard, session, or the policy\u2019s name.',
          'ops',
          [q(`sum by (reason) (${rate('chunkmesh_router_decisions_total')})`, '{{reason}}')],
          { stacked: true },
        ),
        timeseries(
          'Predicted vs realised cached tokens',
          'What the index promised versus what workers found.',
          'short',
          [
            q(`sum(${rate('chunkmesh_router_predicted_cached_tokens_total')})`, 'predicted'),
            q(`sum(${rate('chunkmesh_router_realised_cached_tokens_total')})`, 'realised'),
          ],
        ),
        timeseries(
          'Pending tokens per worker',
          'Queued plus running tokens, as routers see them (max over routers).',
          'short',
          [q(`max by (worker) (chunkmesh_router_worker_pending_tokens{${S}})`, '{{worker}}')],
        ),
        timeseries(
          'Retries and rejections',
          'Retries on another worker by gRPC code; refusals by reason.',
          'ops',
          [
            q(`sum by (code) (${rate('chunkmesh_router_retries_total')})`, 'retry {{code}}'),
            q(`sum by (reason) (${rate('chunkmesh_router_rejections_total')})`, 'rejected {{reason}}'),
          ],
        ),
        timeseries('Index lag', 'Age of the last worker event a router applied (max over routers).', 's', [
          q(`max(chunkmesh_router_event_lag_seconds{${S}})`, 'lag'),
        ]),
        timeseries('Index entries', '(chunk, worker) entries in the routers\u2019 index.', 'short', [
          q(`max(chunkmesh_router_index_entries{${S}})`, 'entries'),
        ]),
      ],
    },
  ],
};

export const servingDashboard: DashboardSpec = {
  uid: 'chunkmesh-serving',
  title: 'chunkmesh / Serving',
  description: 'Whether requests are served well: latency quantiles, queues, preemptions, engine steps.',
  rows: [
    {
      title: 'Now',
      panels: [
        stat(
          'Requests/s',
          'Requests the workers finished per second.',
          'reqps',
          q(`sum(${rate('chunkmesh_requests_finished_total')})`),
        ),
        stat(
          'TTFT p95',
          'Time to first token, 95th percentile.',
          's',
          q(quantile(0.95, 'chunkmesh_time_to_first_token_seconds')),
        ),
        stat(
          'Live workers',
          'Workers the routers see in Redis.',
          'short',
          q(`max(chunkmesh_router_live_workers{${S}})`),
        ),
        stat(
          'Waiting requests',
          'Requests waiting for admission, all workers.',
          'short',
          q(`sum(chunkmesh_queue_depth{${S}})`),
        ),
      ],
    },
    {
      title: 'Latency',
      panels: [
        timeseries(
          'Time to first token',
          'Arrival to first generated token.',
          's',
          latency('chunkmesh_time_to_first_token_seconds'),
          { width: 6 },
        ),
        timeseries(
          'Inter-token latency',
          'Between consecutive tokens of a request.',
          's',
          latency('chunkmesh_inter_token_seconds'),
          { width: 6 },
        ),
        timeseries(
          'End-to-end latency',
          'Arrival to final message.',
          's',
          latency('chunkmesh_request_duration_seconds'),
          { width: 6 },
        ),
        timeseries(
          'Router, arrival to forward',
          'What a router adds before a worker starts: parsing, chat template, tokenising, checks, placement.',
          's',
          latency('chunkmesh_router_forward_seconds'),
          { width: 6 },
        ),
      ],
    },
    {
      title: 'Load',
      panels: [
        timeseries('Queue depth per worker', 'Requests waiting for admission.', 'short', [
          q(`sum by (pod) (chunkmesh_queue_depth{${S}})`, '{{pod}}'),
        ]),
        timeseries('Preemptions', 'Sequences preempted per second because the KV pool ran out.', 'ops', [
          q(`sum by (pod) (${rate('chunkmesh_preemptions_total')})`, '{{pod}}'),
        ]),
        timeseries(
          'Finished requests by reason',
          'stop, length, cancelled, deadline, error.',
          'reqps',
          [q(`sum by (reason) (${rate('chunkmesh_requests_finished_total')})`, '{{reason}}')],
          { stacked: true },
        ),
        timeseries('Engine steps', 'Sequences per step (p50, p90) and step time (p95).', 'short', [
          q(quantile(0.5, 'chunkmesh_step_batch_size'), 'batch p50'),
          q(quantile(0.9, 'chunkmesh_step_batch_size'), 'batch p90'),
          q(quantile(0.95, 'chunkmesh_step_seconds'), 'step seconds p95'),
        ]),
      ],
    },
    {
      title: 'Control plane jobs',
      panels: [
        timeseries(
          'Jobs by state',
          'Control-plane jobs (BullMQ) waiting, running and failed: the control queue, and every per-worker queue summed.',
          'short',
          [
            q(
              `sum by (queue, state) (chunkmesh_jobs{${S},state=~"waiting|active|delayed|failed"})`,
              '{{queue}} {{state}}',
            ),
          ],
          { width: 8 },
        ),
        timeseries(
          'Job duration p90',
          'Time a job attempt ran, by job name.',
          's',
          [q(quantile(0.9, 'chunkmesh_job_duration_seconds', 'name'), '{{name}}')],
          { width: 8 },
        ),
        timeseries(
          'Job failures',
          'Failed attempts per second by job and reason (retried ones included).',
          'ops',
          [q(`sum by (name, reason) (${rate('chunkmesh_job_failures_total')}) > 0`, '{{name}} {{reason}}')],
          { width: 8 },
        ),
        timeseries(
          'KV migrated',
          'Bytes of KV kv.migrate jobs copied from one worker to another, per second.',
          'Bps',
          [q(`sum(${rate('chunkmesh_job_migrated_bytes_total')})`, 'migrated')],
          { width: 12 },
        ),
        timeseries(
          'Index repairs',
          "Keys index.reconcile found wrong in workers' reports (missing or stale, by tier), per second.",
          'ops',
          [
            q(
              `sum by (tier, kind) (${rate('chunkmesh_reconcile_fixed_keys_total')}) > 0`,
              '{{kind}} {{tier}}',
            ),
          ],
          { width: 12 },
        ),
      ],
    },
  ],
};

export const DASHBOARDS = [cacheDashboard, servingDashboard];
