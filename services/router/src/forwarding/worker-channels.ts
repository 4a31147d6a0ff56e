// One gRPC client (one HTTP/2 connection, multiplexed) per worker endpoint,
// reused across requests and closed when the worker leaves the cluster. With
// cluster TLS each channel is mutual TLS and accepts only a certificate that
// names its worker id (@chunkmesh/common grpc-credentials.ts); each new
// connection uses the certificates' current files.
// Keepalive is patient: a worker that pauses for seconds (a long GC, a VM
// migration, SIGSTOP) keeps its running streams, since cutting the connection
// would fail every one of them mid-stream. A hung worker's requests that have
// no token yet are retried elsewhere by the first-token limit (router-core.ts)
// long before keepalive would notice.
import {
  type CertificateFiles,
  clusterChannelCredentials,
  clusterChannelOptions,
  createGenerationClient,
  type GenerationClient,
} from '@chunkmesh/common';
import type { ChannelCredentials } from '@grpc/grpc-js';

export class WorkerChannels {
  private readonly clients = new Map<string, { endpoint: string; client: GenerationClient }>();
  private readonly credentials: ChannelCredentials | undefined;

  constructor(clusterTls?: CertificateFiles) {
    this.credentials = clusterTls ? clusterChannelCredentials(clusterTls) : undefined;
  }

  get(workerId: string, endpoint: string): GenerationClient {
    const entry = this.clients.get(workerId);
    if (entry && entry.endpoint === endpoint) return entry.client;
    entry?.client.close();
    const client = createGenerationClient(endpoint, this.credentials, {
      ...(this.credentials ? clusterChannelOptions(workerId) : {}),
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 20_000,
      // fail fast on a dead worker so the router can retry elsewhere
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 2_000,
    });
    this.clients.set(workerId, { endpoint, client });
    return client;
  }

  /** Closes clients of workers no longer live. */
  retain(live: ReadonlySet<string>): void {
    for (const [id, entry] of this.clients) {
      if (!live.has(id)) {
        entry.client.close();
        this.clients.delete(id);
      }
    }
  }

  closeAll(): void {
    for (const entry of this.clients.values()) entry.client.close();
    this.clients.clear();
  }
}
