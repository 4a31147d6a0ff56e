// The router's Generate clients, one per worker (WorkerClients, @chunkmesh/common).
// Keepalive is patient: a worker that pauses for seconds (a long GC, a VM
// migration, SIGSTOP) keeps its running streams, since cutting the connection
// would fail every one of them mid-stream. A hung worker's requests that have
// no token yet are retried elsewhere by the first-token limit (router-core.ts)
// long before keepalive would notice.
import {
  type CertificateFiles,
  createGenerationClient,
  type GenerationClient,
  WorkerClients,
} from '@chunkmesh/common';

export class WorkerChannels extends WorkerClients<GenerationClient> {
  constructor(clusterTls?: CertificateFiles) {
    super(createGenerationClient, clusterTls, {
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 20_000,
      // fail fast on a dead worker so the router can retry elsewhere
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 2_000,
    });
  }
}
