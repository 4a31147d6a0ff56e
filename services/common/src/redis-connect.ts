// One way to connect to Redis for both services. Redis is never on the
// request path: when it goes away workers keep serving and routers keep their
// last index, so the connection retries forever with capped backoff and
// commands fail fast instead of queueing without bound.
import { once } from 'node:events';
import { Redis } from 'ioredis';
import type { Logger } from './log.ts';
import { redisRefusal } from './redis-refusal.ts';
import type { CertificateFiles } from './tls/certificate-files.ts';

export interface RedisConnectOptions {
  url: string;
  /** Shown by CLIENT LIST, e.g. "worker-3/reporter". */
  name?: string;
  log?: Logger;
  /** Longest wait between reconnection attempts; default 2000 ms. */
  maxBackoffMs?: number;
  /** rediss:// CA and client certificate; each reconnection uses the files' current content. */
  tls?: CertificateFiles;
  /**
   * A command without a reply after this long fails (default 5000 ms). Blocking reads on the
   * connection (XREAD BLOCK) must block for less.
   */
  commandTimeoutMs?: number;
}

export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 5000;

/**
 * The wait before reconnection attempt `times` (ioredis retryStrategy): doubling from 100 ms to
 * maxBackoffMs, with jitter so that a fleet of workers does not reconnect in lockstep after an
 * outage. Every Redis connection of chunkmesh (BullMQ's included) waits this way.
 */
export function redisRetryDelay(times: number, maxBackoffMs = 2000): number {
  return Math.min(50 * 2 ** Math.min(times, 10), maxBackoffMs) + Math.random() * 50;
}

export function connectRedis(options: RedisConnectOptions): Redis {
  const maxBackoff = options.maxBackoffMs ?? 2000;
  const redis = new Redis(options.url, {
    connectionName: options.name,
    connectTimeout: 2000,
    commandTimeout: options.commandTimeoutMs ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
    retryStrategy: (times) => redisRetryDelay(times, maxBackoff),
    // 0 rejects the commands in flight as soon as the connection drops (one may or may not
    // have run: callers see the failure and decide; resending blindly could apply it twice),
    // and bounds the offline queue: a command issued while disconnected fails when the next
    // reconnection attempt fails instead of piling up for the length of the outage.
    // (With autoResendUnfulfilledCommands: false instead, ioredis 5 silently drops in-flight
    // commands on a quick reconnect and their promises never settle.)
    maxRetriesPerRequest: 0,
    // After a failover the old primary answers READONLY: reconnect (DNS/sentinel) and retry.
    reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
    // read at each connection attempt, so a reconnection presents rotated certificates
    ...(options.tls ? { tls: options.tls.liveSecureContextOptions() } : {}),
  });
  let up = false;
  // Refusals already reported during this outage: one error line each, not one per retry.
  const reported = new Set<string>();
  redis.on('ready', () => {
    up = true;
    reported.clear();
    options.log?.info('redis up', { name: options.name });
  });
  redis.on('close', () => {
    if (up) options.log?.warn('redis down', { name: options.name });
    up = false;
  });
  // Without a listener ioredis prints every failed reconnection attempt. Unreachable is routine
  // (retried quietly); refused credentials or certificates are not, and retrying will not fix them.
  const tls = options.url.startsWith('rediss://');
  redis.on('error', (err: Error) => {
    const refusal = redisRefusal(err, { tls, ready: redis.status === 'ready' });
    if (refusal && !reported.has(err.message)) {
      reported.add(err.message);
      options.log?.error(refusal, { name: options.name, err: err.message });
    } else options.log?.debug('redis error', { name: options.name, err: err.message });
  });
  return redis;
}

/** True while commands can be sent (connected and past the ready check). */
export function isRedisUp(redis: Redis): boolean {
  return redis.status === 'ready';
}

/** Resolves when the connection is ready; rejects after timeoutMs. */
export async function waitForRedis(redis: Redis, timeoutMs: number): Promise<void> {
  if (isRedisUp(redis)) return;
  await once(redis, 'ready', { signal: AbortSignal.timeout(timeoutMs) });
}
