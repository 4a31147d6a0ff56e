// One gRPC client (one HTTP/2 connection, multiplexed) per worker, for the
// router's Generate calls and the job runner's WorkerControl calls: made on
// first use, reused across calls, made again when the worker's endpoint
// changes (a new incarnation), closed when the worker leaves. With cluster
// TLS each client is mutual TLS and its channel accepts only a certificate
// that names its worker id (grpc-credentials.ts), so a forged registry entry
// fails the handshake; each new connection uses the certificates' current
// files.
import * as grpc from '@grpc/grpc-js';
import type { CertificateFiles } from './certificate-files.ts';
import { clusterChannelCredentials, clusterChannelOptions } from './grpc-credentials.ts';

/** How a client of one kind is made (createGenerationClient, createWorkerControlClient). */
export type ClientFactory<C> = (
  endpoint: string,
  credentials: grpc.ChannelCredentials,
  options: Partial<grpc.ChannelOptions>,
) => C;

export class WorkerClients<C extends { close(): void }> {
  private readonly clients = new Map<string, { endpoint: string; client: C }>();
  private readonly credentials: grpc.ChannelCredentials;

  constructor(
    private readonly make: ClientFactory<C>,
    private readonly clusterTls: CertificateFiles | undefined,
    /** Channel options of every client (keepalive, reconnect backoff). */
    private readonly options: Partial<grpc.ChannelOptions> = {},
  ) {
    this.credentials = clusterTls ? clusterChannelCredentials(clusterTls) : grpc.credentials.createInsecure();
  }

  of(worker: { readonly workerId: string; readonly endpoint: string }): C {
    const had = this.clients.get(worker.workerId);
    if (had?.endpoint === worker.endpoint) return had.client;
    had?.client.close();
    const client = this.make(worker.endpoint, this.credentials, {
      ...this.options,
      ...(this.clusterTls ? clusterChannelOptions(worker.workerId) : {}),
    });
    this.clients.set(worker.workerId, { endpoint: worker.endpoint, client });
    return client;
  }

  /** Closes the clients of workers not in `live`. */
  retain(live: ReadonlySet<string>): void {
    for (const [id, { client }] of this.clients)
      if (!live.has(id)) {
        client.close();
        this.clients.delete(id);
      }
  }

  closeAll(): void {
    this.retain(new Set());
  }
}
