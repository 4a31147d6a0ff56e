// Every worker setting, as flag and environment variable (CHUNKMESH_*), in one table.
import { DEFAULT_REDIS_COMMAND_TIMEOUT_MS, defineOptions, securityOptions } from '@chunkmesh/common';

export const workerOptions = defineOptions({
  model: {
    type: 'string',
    help: 'model directory: Hugging Face (config.json, safetensors, tokenizer.json) or llama2.c (required)',
  },
  host: { type: 'string', default: '0.0.0.0', help: 'address the gRPC and metrics servers listen on' },
  port: { type: 'integer', default: 50061, min: 0, help: 'gRPC port (0 picks a free one)' },
  advertise: { type: 'string', help: 'host:port routers dial for this worker (default 127.0.0.1:<port>)' },
  metricsPort: {
    type: 'integer',
    default: 9461,
    min: 0,
    help: 'port for /metrics and /healthz (0 picks a free one)',
  },
  workerId: { type: 'string', help: 'name in Redis and in responses (default worker-<port>)' },
  redisUrl: { type: 'string', help: 'Redis to report the tree to; unset: serve without reporting' },
  redisTimeoutMs: {
    type: 'integer',
    default: DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
    min: 100,
    help: 'a Redis command without a reply after this long fails (the reporter resyncs)',
  },
  cluster: { type: 'string', default: 'default', help: 'Redis namespace cm:{cluster}:' },
  kvCapacityTokens: { type: 'integer', default: 65_536, min: 1, help: 'KV pool size in tokens' },
  chunkTokens: { type: 'integer', default: 64, min: 1, help: 'tokens per KV chunk (c)' },
  kvHostBytes: {
    type: 'integer',
    default: 0,
    min: 0,
    help: 'host tier below the KV pool, in bytes (page-locked on a GPU): evicted chunks are demoted there (0: none)',
  },
  kvDiskDir: {
    type: 'string',
    help: 'disk tier below the host tier: a directory for its file (emptied at start, locked; needs --kv-host-bytes)',
  },
  kvDiskBytes: { type: 'integer', default: 0, min: 0, help: 'disk tier size in bytes (with --kv-disk-dir)' },
  kvLookahead: {
    type: 'integer',
    default: 16,
    min: 0,
    help: 'waiting requests whose cached prefixes are held, and restored from disk, ahead of admission',
  },
  kvRestore: {
    type: 'string',
    default: 'auto',
    choices: ['auto', 'always', 'never'],
    help: 'a cached prefix on disk is read back (always), recomputed (never), or whichever is faster by the rates measured at start (auto)',
  },
  kvTruncationReuseTokens: {
    type: 'integer',
    default: 0,
    min: 0,
    help: "tokens of recent conversations remembered so a prompt that drops a conversation's oldest turns reuses the saved KV of the rest, keys re-rotated to their new positions; approximate past layer 0, so off by default (0: off)",
  },
  kvIoThreads: {
    type: 'integer',
    default: 2,
    min: 1,
    help: "threads doing the disk tier's reads and writes",
  },
  kvDtype: {
    type: 'string',
    default: 'auto',
    choices: ['auto', 'f32', 'f16', 'bf16'],
    help: 'KV storage type (auto: f32 on the CPU device, bf16 on CUDA, whose kernels read f16/bf16)',
  },
  device: {
    type: 'string',
    default: 'auto',
    choices: ['auto', 'cpu', 'cuda'],
    help: 'where the KV pool lives and the model runs (auto: CUDA when built and a GPU is usable, else CPU)',
  },
  threads: { type: 'integer', default: 0, min: 0, help: 'compute threads of the CPU device (0: all cores)' },
  stepTokens: {
    type: 'integer',
    default: 512,
    min: 1,
    help: 'tokens computed per engine step (decode first, prefill chunks fill the rest)',
  },
  maxBatch: { type: 'integer', default: 64, min: 1, help: 'sequences running together at most' },
  maxQueue: {
    type: 'integer',
    default: 256,
    min: 0,
    help: 'requests waiting at most; more get RESOURCE_EXHAUSTED',
  },
  defaultMaxTokens: {
    type: 'integer',
    default: 256,
    min: 1,
    help: 'completion limit when a request sets none',
  },
  prefixSharing: {
    type: 'boolean',
    default: true,
    help: 'match cached prefixes and use TPP attention (false: the per-sequence baseline)',
  },
  shutdownGraceMs: {
    type: 'integer',
    default: 10_000,
    min: 0,
    help: 'on SIGTERM, how long in-flight requests may finish',
  },
  heartbeatTtlMs: {
    type: 'integer',
    default: 3_000,
    min: 100,
    help: 'registry entry lifetime without a heartbeat',
  },
  ...securityOptions,
});
