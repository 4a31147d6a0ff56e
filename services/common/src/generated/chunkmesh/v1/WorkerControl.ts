// Original file: proto/chunkmesh/v1/worker_control.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { DrainRequest as _chunkmesh_v1_DrainRequest, DrainRequest__Output as _chunkmesh_v1_DrainRequest__Output } from '../../chunkmesh/v1/DrainRequest.ts';
import type { DrainResponse as _chunkmesh_v1_DrainResponse, DrainResponse__Output as _chunkmesh_v1_DrainResponse__Output } from '../../chunkmesh/v1/DrainResponse.ts';
import type { PrefillRequest as _chunkmesh_v1_PrefillRequest, PrefillRequest__Output as _chunkmesh_v1_PrefillRequest__Output } from '../../chunkmesh/v1/PrefillRequest.ts';
import type { PrefillResponse as _chunkmesh_v1_PrefillResponse, PrefillResponse__Output as _chunkmesh_v1_PrefillResponse__Output } from '../../chunkmesh/v1/PrefillResponse.ts';
import type { ResidentKeysRequest as _chunkmesh_v1_ResidentKeysRequest, ResidentKeysRequest__Output as _chunkmesh_v1_ResidentKeysRequest__Output } from '../../chunkmesh/v1/ResidentKeysRequest.ts';
import type { ResidentKeysResponse as _chunkmesh_v1_ResidentKeysResponse, ResidentKeysResponse__Output as _chunkmesh_v1_ResidentKeysResponse__Output } from '../../chunkmesh/v1/ResidentKeysResponse.ts';

export interface WorkerControlClient extends grpc.Client {
  /**
   * Takes the worker out of placement: its registry entry says draining at
   * once (routers stop placing there from their next registry read), requests
   * already queued or running finish, then the worker deregisters and exits
   * as on SIGTERM. Answers once the entry says draining; the rest follows.
   */
  Drain(argument: _chunkmesh_v1_DrainRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_chunkmesh_v1_DrainResponse__Output>): grpc.ClientUnaryCall;
  Drain(argument: _chunkmesh_v1_DrainRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_chunkmesh_v1_DrainResponse__Output>): grpc.ClientUnaryCall;
  Drain(argument: _chunkmesh_v1_DrainRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_chunkmesh_v1_DrainResponse__Output>): grpc.ClientUnaryCall;
  Drain(argument: _chunkmesh_v1_DrainRequest, callback: grpc.requestCallback<_chunkmesh_v1_DrainResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Takes the worker out of placement: its registry entry says draining at
   * once (routers stop placing there from their next registry read), requests
   * already queued or running finish, then the worker deregisters and exits
   * as on SIGTERM. Answers once the entry says draining; the rest follows.
   */
  drain(argument: _chunkmesh_v1_DrainRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_chunkmesh_v1_DrainResponse__Output>): grpc.ClientUnaryCall;
  drain(argument: _chunkmesh_v1_DrainRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_chunkmesh_v1_DrainResponse__Output>): grpc.ClientUnaryCall;
  drain(argument: _chunkmesh_v1_DrainRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_chunkmesh_v1_DrainResponse__Output>): grpc.ClientUnaryCall;
  drain(argument: _chunkmesh_v1_DrainRequest, callback: grpc.requestCallback<_chunkmesh_v1_DrainResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Computes a prompt's KV into the prefix tree without answering it: the
   * prompt is admitted and prefilled like a request's, its full chunks stay
   * cached when it is released. Refused like a request (queue full:
   * RESOURCE_EXHAUSTED; draining: UNAVAILABLE).
   */
  Prefill(argument: _chunkmesh_v1_PrefillRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_chunkmesh_v1_PrefillResponse__Output>): grpc.ClientUnaryCall;
  Prefill(argument: _chunkmesh_v1_PrefillRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_chunkmesh_v1_PrefillResponse__Output>): grpc.ClientUnaryCall;
  Prefill(argument: _chunkmesh_v1_PrefillRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_chunkmesh_v1_PrefillResponse__Output>): grpc.ClientUnaryCall;
  Prefill(argument: _chunkmesh_v1_PrefillRequest, callback: grpc.requestCallback<_chunkmesh_v1_PrefillResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Computes a prompt's KV into the prefix tree without answering it: the
   * prompt is admitted and prefilled like a request's, its full chunks stay
   * cached when it is released. Refused like a request (queue full:
   * RESOURCE_EXHAUSTED; draining: UNAVAILABLE).
   */
  prefill(argument: _chunkmesh_v1_PrefillRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_chunkmesh_v1_PrefillResponse__Output>): grpc.ClientUnaryCall;
  prefill(argument: _chunkmesh_v1_PrefillRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_chunkmesh_v1_PrefillResponse__Output>): grpc.ClientUnaryCall;
  prefill(argument: _chunkmesh_v1_PrefillRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_chunkmesh_v1_PrefillResponse__Output>): grpc.ClientUnaryCall;
  prefill(argument: _chunkmesh_v1_PrefillRequest, callback: grpc.requestCallback<_chunkmesh_v1_PrefillResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The keys the worker's prefix tree holds now, per tier, straight from its
   * native cache; with resync, after rewriting its report to Redis
   * (worker_resident.proto). The index.reconcile job's read and repair.
   */
  ResidentKeys(argument: _chunkmesh_v1_ResidentKeysRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_chunkmesh_v1_ResidentKeysResponse__Output>): grpc.ClientUnaryCall;
  ResidentKeys(argument: _chunkmesh_v1_ResidentKeysRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_chunkmesh_v1_ResidentKeysResponse__Output>): grpc.ClientUnaryCall;
  ResidentKeys(argument: _chunkmesh_v1_ResidentKeysRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_chunkmesh_v1_ResidentKeysResponse__Output>): grpc.ClientUnaryCall;
  ResidentKeys(argument: _chunkmesh_v1_ResidentKeysRequest, callback: grpc.requestCallback<_chunkmesh_v1_ResidentKeysResponse__Output>): grpc.ClientUnaryCall;
  /**
   * The keys the worker's prefix tree holds now, per tier, straight from its
   * native cache; with resync, after rewriting its report to Redis
   * (worker_resident.proto). The index.reconcile job's read and repair.
   */
  residentKeys(argument: _chunkmesh_v1_ResidentKeysRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_chunkmesh_v1_ResidentKeysResponse__Output>): grpc.ClientUnaryCall;
  residentKeys(argument: _chunkmesh_v1_ResidentKeysRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_chunkmesh_v1_ResidentKeysResponse__Output>): grpc.ClientUnaryCall;
  residentKeys(argument: _chunkmesh_v1_ResidentKeysRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_chunkmesh_v1_ResidentKeysResponse__Output>): grpc.ClientUnaryCall;
  residentKeys(argument: _chunkmesh_v1_ResidentKeysRequest, callback: grpc.requestCallback<_chunkmesh_v1_ResidentKeysResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface WorkerControlHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Takes the worker out of placement: its registry entry says draining at
   * once (routers stop placing there from their next registry read), requests
   * already queued or running finish, then the worker deregisters and exits
   * as on SIGTERM. Answers once the entry says draining; the rest follows.
   */
  Drain: grpc.handleUnaryCall<_chunkmesh_v1_DrainRequest__Output, _chunkmesh_v1_DrainResponse>;
  
  /**
   * Computes a prompt's KV into the prefix tree without answering it: the
   * prompt is admitted and prefilled like a request's, its full chunks stay
   * cached when it is released. Refused like a request (queue full:
   * RESOURCE_EXHAUSTED; draining: UNAVAILABLE).
   */
  Prefill: grpc.handleUnaryCall<_chunkmesh_v1_PrefillRequest__Output, _chunkmesh_v1_PrefillResponse>;
  
  /**
   * The keys the worker's prefix tree holds now, per tier, straight from its
   * native cache; with resync, after rewriting its report to Redis
   * (worker_resident.proto). The index.reconcile job's read and repair.
   */
  ResidentKeys: grpc.handleUnaryCall<_chunkmesh_v1_ResidentKeysRequest__Output, _chunkmesh_v1_ResidentKeysResponse>;
  
}

export interface WorkerControlDefinition extends grpc.ServiceDefinition {
  Drain: MethodDefinition<_chunkmesh_v1_DrainRequest, _chunkmesh_v1_DrainResponse, _chunkmesh_v1_DrainRequest__Output, _chunkmesh_v1_DrainResponse__Output>
  Prefill: MethodDefinition<_chunkmesh_v1_PrefillRequest, _chunkmesh_v1_PrefillResponse, _chunkmesh_v1_PrefillRequest__Output, _chunkmesh_v1_PrefillResponse__Output>
  ResidentKeys: MethodDefinition<_chunkmesh_v1_ResidentKeysRequest, _chunkmesh_v1_ResidentKeysResponse, _chunkmesh_v1_ResidentKeysRequest__Output, _chunkmesh_v1_ResidentKeysResponse__Output>
}
