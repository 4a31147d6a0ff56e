// Redis connections for BullMQ. BullMQ needs maxRetriesPerRequest: null on its
// connections (a worker's blocking reads must wait out a Redis outage, not
// fail and lose their place); the services' own connections
// (@chunkmesh/common connectRedis) fail fast instead and are left as they are.
// Each BullMQ component gets its own options object and makes its own
// connections from it.
import type { CertificateFiles } from '@chunkmesh/common';
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
    // capped backoff with jitter, as connectRedis: a fleet does not reconnect in lockstep
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 10), 2000) + Math.random() * 50,
    ...(redis.tls ? { tls: redis.tls.secureContextOptions() } : {}),
  };
}
