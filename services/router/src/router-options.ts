// Every router setting, as flag and environment variable (CHUNKMESH_*), in one table.
import { DEFAULT_REDIS_COMMAND_TIMEOUT_MS, defineOptions, securityOptions } from '@chunkmesh/common';
import { frontDoorSecurityOptions } from './auth/auth-options.ts';
import { tenantLimitOptions } from './limits/limit-options.ts';
import { POLICY_NAMES } from './placement/policies.ts';
import { DEFAULT_PREFIX_AWARE } from './placement/prefix-aware.ts';
import { tierWeightOptions } from './placement/tier-weight-options.ts';

export const routerOptions = defineOptions({
  model: {
    type: 'string',
    help: 'model directory the workers serve (its tokenizer and chat template are used here; required)',
  },
  redisUrl: { type: 'string', default: 'redis://127.0.0.1:6379', help: 'Redis the workers report to' },
  redisTimeoutMs: {
    type: 'integer',
    default: DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
    min: 100,
    help: 'a Redis command without a reply after this long fails (the index retries)',
  },
  cluster: { type: 'string', default: 'default', help: 'Redis namespace cm:{cluster}:' },
  host: { type: 'string', default: '0.0.0.0', help: 'address both servers listen on' },
  grpcPort: { type: 'integer', default: 50051, min: 0, help: 'gRPC Generation port (0 picks a free one)' },
  httpPort: {
    type: 'integer',
    default: 8080,
    min: 0,
    help: 'OpenAI-compatible HTTP port (0 picks a free one)',
  },
  opsPort: {
    type: 'integer',
    default: 9462,
    min: 0,
    help: 'operations HTTP port: /metrics, /healthz, /readyz, never authenticated: keep it off the public network (0 picks a free one)',
  },
  chunkTokens: {
    type: 'integer',
    default: 64,
    min: 1,
    help: 'tokens per KV chunk (must equal the workers\u2019)',
  },
  policy: { type: 'string', default: 'prefix-aware', choices: POLICY_NAMES, help: 'placement policy' },
  loadWeight: {
    type: 'number',
    default: DEFAULT_PREFIX_AWARE.loadWeight,
    min: 0,
    help: 'prefix-aware: cost of a pending token relative to an uncached prompt token',
  },
  guardFactor: {
    type: 'number',
    default: DEFAULT_PREFIX_AWARE.guardFactor,
    min: 1,
    help: 'prefix-aware: balance guard, multiple of the mean pending tokens',
  },
  guardSlackTokens: {
    type: 'integer',
    default: DEFAULT_PREFIX_AWARE.guardSlackTokens,
    min: 0,
    help: 'prefix-aware: balance guard slack in tokens',
  },
  ...tierWeightOptions,
  maxRetries: {
    type: 'integer',
    default: 2,
    min: 0,
    help: 'other workers tried when one fails before its first token',
  },
  firstTokenTimeoutMs: {
    type: 'integer',
    default: 10_000,
    min: 0,
    help: 'a worker that gives no first token within this is cancelled and the request retried elsewhere (0: no limit)',
  },
  maxInflight: {
    type: 'integer',
    default: 1024,
    min: 1,
    help: 'requests in flight at most; more get RESOURCE_EXHAUSTED / HTTP 429',
  },
  speculationTtlMs: {
    type: 'integer',
    default: 5_000,
    min: 0,
    help: 'how long a placement counts as cached before worker events confirm it',
  },
  requestTimeoutMs: {
    type: 'integer',
    default: 300_000,
    min: 1,
    help: 'HTTP requests: deadline propagated to the worker (gRPC callers set their own)',
  },
  defaultMaxTokens: {
    type: 'integer',
    default: 256,
    min: 1,
    help: 'HTTP requests: max_tokens when a request sets none',
  },
  maxBodyBytes: {
    type: 'integer',
    default: 8 * 1024 * 1024,
    min: 1024,
    help: 'largest HTTP request body and gRPC request message (past it: HTTP 413, gRPC RESOURCE_EXHAUSTED)',
  },
  maxSessionBytes: {
    type: 'integer',
    default: 16 * 1024 * 1024,
    min: 0,
    help: 'memory for session affinity (session id -> worker), least recently used sessions dropped past it',
  },
  tokenizeCacheTokens: {
    type: 'integer',
    default: 1_000_000,
    min: 0,
    help: 'tokens of chat pieces (the text between special tokens: earlier turns) kept tokenised, and as many of words (what new pieces are put together from), least recently used dropped past it; 0 tokenises every prompt whole',
  },
  shutdownGraceMs: {
    type: 'integer',
    default: 10_000,
    min: 0,
    help: 'on SIGTERM, how long in-flight requests may finish (new connections are refused at once)',
  },
  ...tenantLimitOptions,
  ...frontDoorSecurityOptions,
  ...securityOptions,
});
