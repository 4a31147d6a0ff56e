// chunkmesh.v1.WorkerControl (proto/chunkmesh/v1/worker_control.proto): the control plane's calls on one worker's cache
// (prefill without answering, drain, KV migration, the live tree's keys for reconcile, spill/restore), served by workers next to Generation
// under the same credentials, called by the job runner (services/jobs). Types
// are the generated ones (generated/, `npm run proto:gen`), loaded with the
// options of proto.ts.
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { DrainRequest__Output } from './generated/chunkmesh/v1/DrainRequest.ts';
import type { DrainResponse__Output } from './generated/chunkmesh/v1/DrainResponse.ts';
import type { ExportPrefixRequest__Output } from './generated/chunkmesh/v1/ExportPrefixRequest.ts';
import type { KvChunk__Output } from './generated/chunkmesh/v1/KvChunk.ts';
import type { PrefillRequest__Output } from './generated/chunkmesh/v1/PrefillRequest.ts';
import type { PrefillResponse__Output } from './generated/chunkmesh/v1/PrefillResponse.ts';
import type { PullPrefixRequest__Output } from './generated/chunkmesh/v1/PullPrefixRequest.ts';
import type { PullPrefixResponse__Output } from './generated/chunkmesh/v1/PullPrefixResponse.ts';
import type { ResidentKeysRequest__Output } from './generated/chunkmesh/v1/ResidentKeysRequest.ts';
import type { ResidentKeysResponse__Output } from './generated/chunkmesh/v1/ResidentKeysResponse.ts';
import type { TierMoveRequest__Output } from './generated/chunkmesh/v1/TierMoveRequest.ts';
import type { TierMoveResponse__Output } from './generated/chunkmesh/v1/TierMoveResponse.ts';
import { type Init, LOADER_OPTIONS, type WithPromptOneof } from './proto.ts';

export const WORKER_CONTROL_SERVICE = 'chunkmesh.v1.WorkerControl';
/** Its file under PROTO_ROOT (it imports generation.proto's messages). */
export const WORKER_CONTROL_PROTO = 'chunkmesh/v1/worker_control.proto';

const workerControlService = loadSync(WORKER_CONTROL_PROTO, LOADER_OPTIONS)[
  WORKER_CONTROL_SERVICE
] as grpc.ServiceDefinition;

export type PrefillRequest = WithPromptOneof<PrefillRequest__Output>;
export type PrefillResponse = PrefillResponse__Output;
export type DrainRequest = DrainRequest__Output;
export type DrainResponse = DrainResponse__Output;
export type ExportPrefixRequest = ExportPrefixRequest__Output;
export type KvChunk = KvChunk__Output;
export type PullPrefixRequest = WithPromptOneof<PullPrefixRequest__Output>;
export type PullPrefixResponse = PullPrefixResponse__Output;
export type ResidentKeysRequest = ResidentKeysRequest__Output;
export type ResidentKeysResponse = ResidentKeysResponse__Output;
export type TierMoveRequest = WithPromptOneof<TierMoveRequest__Output>;
export type TierMoveResponse = TierMoveResponse__Output;

export interface WorkerControlHandlers extends grpc.UntypedServiceImplementation {
  prefill: grpc.handleUnaryCall<PrefillRequest, Init<PrefillResponse>>;
  drain: grpc.handleUnaryCall<DrainRequest, Init<DrainResponse>>;
  exportPrefix: grpc.handleServerStreamingCall<ExportPrefixRequest, Init<KvChunk>>;
  pullPrefix: grpc.handleUnaryCall<PullPrefixRequest, Init<PullPrefixResponse>>;
  residentKeys: grpc.handleUnaryCall<ResidentKeysRequest, Init<ResidentKeysResponse>>;
  spill: grpc.handleUnaryCall<TierMoveRequest, Init<TierMoveResponse>>;
  restore: grpc.handleUnaryCall<TierMoveRequest, Init<TierMoveResponse>>;
}

export interface WorkerControlClient extends grpc.Client {
  prefill(
    request: Init<PrefillRequest>,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<PrefillResponse>,
  ): grpc.ClientUnaryCall;
  drain(
    request: Init<DrainRequest>,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<DrainResponse>,
  ): grpc.ClientUnaryCall;
  exportPrefix(
    request: Init<ExportPrefixRequest>,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
  ): grpc.ClientReadableStream<KvChunk>;
  pullPrefix(
    request: Init<PullPrefixRequest>,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<PullPrefixResponse>,
  ): grpc.ClientUnaryCall;
  residentKeys(
    request: Init<ResidentKeysRequest>,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<ResidentKeysResponse>,
  ): grpc.ClientUnaryCall;
  spill(
    request: Init<TierMoveRequest>,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<TierMoveResponse>,
  ): grpc.ClientUnaryCall;
  restore(
    request: Init<TierMoveRequest>,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<TierMoveResponse>,
  ): grpc.ClientUnaryCall;
}

const WorkerControlClientConstructor = grpc.makeClientConstructor(
  workerControlService,
  WORKER_CONTROL_SERVICE,
);

export function addWorkerControlService(server: grpc.Server, handlers: WorkerControlHandlers): void {
  server.addService(workerControlService, handlers);
}

export function createWorkerControlClient(
  address: string,
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  options?: Partial<grpc.ChannelOptions>,
): WorkerControlClient {
  return new WorkerControlClientConstructor(address, credentials, options) as unknown as WorkerControlClient;
}
