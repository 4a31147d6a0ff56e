// Redis connections for BullMQ. BullMQ needs maxRetriesPerRequest: null on its
// connections (a worker's blocking reads must wait out a Redis outage, not
// fail and lose their place); the services' own connections
// (@chunkmesh/common connectRedis) fail fast instead and are left as they are.
// Each BullMQ component gets its own options object and makes its own
// connections from it.
import { type CertificateFiles, redisRetryDelay } from '@chunkmesh/common';
import type { ConnectionOptions } from 'bullmq';

export interface JobsRedis {
  url: string;
  /** rediss:// CA and client certificate. */
  tls?: CertificateFiles;
}

export function bullConnection(redis: JobsRedis, name: string): ConnectionOptions {
  return {
    url: redis.url,
    connectionName: name,
    maxRetriesPerRequest: null,
    connectTimeout: 2000,
    retryStrategy: (times: number) => redisRetryDelay(times),
    // read at each connection attempt (BullMQ's connections and their duplicates share it), so
    // reconnections present rotated client certificates
    ...(redis.tls ? { tls: redis.tls.liveSecureContextOptions() } : {}),
  };
}
