// The job runner's WorkerControl clients, one per worker incarnation (id and
// endpoint), with the cluster's mutual TLS when it has it, as the router's
// (WorkerClients, @chunkmesh/common); and unary calls on them as promises.

import {
  type CertificateFiles,
  createWorkerControlClient,
  WorkerClients,
  type WorkerControlClient,
} from '@chunkmesh/common';
import * as grpc from '@grpc/grpc-js';

/** WorkerControl clients, one per worker (WorkerClients). */
export class WorkerControls extends WorkerClients<WorkerControlClient> {
  constructor(clusterTls: CertificateFiles | undefined) {
    super(createWorkerControlClient, clusterTls);
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
