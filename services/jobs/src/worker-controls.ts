// WorkerControl clients, one per worker incarnation (id and endpoint), made
// with the cluster's mutual TLS when it has it: the channel's TLS server name
// is the worker id, so a forged registry entry fails the handshake as it does
// for a router (tls/grpc-credentials.ts).

import {
  type CertificateFiles,
  clusterChannelCredentials,
  clusterChannelOptions,
  createWorkerControlClient,
  type WorkerControlClient,
  type WorkerRecord,
} from '@chunkmesh/common';
import * as grpc from '@grpc/grpc-js';

export class WorkerControls {
  private readonly clients = new Map<string, { endpoint: string; client: WorkerControlClient }>();
  private readonly credentials: grpc.ChannelCredentials;

  constructor(private readonly clusterTls: CertificateFiles | undefined) {
    this.credentials = clusterTls ? clusterChannelCredentials(clusterTls) : grpc.credentials.createInsecure();
  }

  of(record: Pick<WorkerRecord, 'workerId' | 'endpoint'>): WorkerControlClient {
    const had = this.clients.get(record.workerId);
    if (had?.endpoint === record.endpoint) return had.client;
    had?.client.close();
    const client = createWorkerControlClient(
      record.endpoint,
      this.credentials,
      this.clusterTls ? clusterChannelOptions(record.workerId) : {},
    );
    this.clients.set(record.workerId, { endpoint: record.endpoint, client });
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

/** A unary WorkerControl call as a promise, with a deadline. */
export function unary<Req, Res>(
  call: (
    req: Req,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    cb: grpc.requestCallback<Res>,
  ) => grpc.ClientUnaryCall,
  req: Req,
  timeoutMs: number,
): Promise<Res> {
  return new Promise((resolve, reject) =>
    call(req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) =>
      err || !res ? reject(err ?? new Error('empty reply')) : resolve(res),
    ),
  );
}
