// Original file: proto/chunkmesh/v1/worker_control.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { DrainRequest as _chunkmesh_v1_DrainRequest, DrainRequest__Output as _chunkmesh_v1_DrainRequest__Output } from '../../chunkmesh/v1/DrainRequest.ts';
import type { DrainResponse as _chunkmesh_v1_DrainResponse, DrainResponse__Output as _chunkmesh_v1_DrainResponse__Output } from '../../chunkmesh/v1/DrainResponse.ts';
import type { ExportPrefixRequest as _chunkmesh_v1_ExportPrefixRequest, ExportPrefixRequest__Output as _chunkmesh_v1_ExportPrefixRequest__Output } from '../../chunkmesh/v1/ExportPrefixRequest.ts';
import type { KvChunk as _chunkmesh_v1_KvChunk, KvChunk__Output as _chunkmesh_v1_KvChunk__Output } from '../../chunkmesh/v1/KvChunk.ts';
import type { PrefillRequest as _chunkmesh_v1_PrefillRequest, PrefillRequest__Output as _chunkmesh_v1_PrefillRequest__Output } from '../../chunkmesh/v1/PrefillRequest.ts';
import type { PrefillResponse as _chunkmesh_v1_PrefillResponse, PrefillResponse__Output as _chunkmesh_v1_PrefillResponse__Output } from '../../chunkmesh/v1/PrefillResponse.ts';
import type { PullPrefixRequest as _chunkmesh_v1_PullPrefixRequest, PullPrefixRequest__Output as _chunkmesh_v1_PullPrefixRequest__Output } from '../../chunkmesh/v1/PullPrefixRequest.ts';
import type { PullPrefixResponse as _chunkmesh_v1_PullPrefixResponse, PullPrefixResponse__Output as _chunkmesh_v1_PullPrefixResponse__Output } from '../../chunkmesh/v1/PullPrefixResponse.ts';
import type { ResidentKeysRequest as _chunkmesh_v1_ResidentKeysRequest, ResidentKeysRequest__Output as _chunkmesh_v1_ResidentKeysRequest__Output } from '../../chunkmesh/v1/ResidentKeysRequest.ts';
import type { ResidentKeysResponse as _chunkmesh_v1_ResidentKeysResponse, ResidentKeysResponse__Output as _chunkmesh_v1_ResidentKeysResponse__Output } from '../../chunkmesh/v1/ResidentKeysResponse.ts';
import type { TierMoveRequest as _chunkmesh_v1_TierMoveRequest, TierMoveRequest__Output as _chunkmesh_v1_TierMoveRequest__Output } from '../../chunkmesh/v1/TierMoveRequest.ts';
import type { TierMoveResponse as _chunkmesh_v1_TierMoveResponse, TierMoveResponse__Output as _chunkmesh_v1_TierMoveResponse__Output } from '../../chunkmesh/v1/TierMoveResponse.ts';

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
   * Streams the whole cached chunks of a prompt's prefix, from whatever tier
   * they are on, with their keys and checksums (kv_migration.proto). No
   * chunk cached: an empty stream. Over max_bytes: RESOURCE_EXHAUSTED.
   */
  ExportPrefix(argument: _chunkmesh_v1_ExportPrefixRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_chunkmesh_v1_KvChunk__Output>;
  ExportPrefix(argument: _chunkmesh_v1_ExportPrefixRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_chunkmesh_v1_KvChunk__Output>;
  /**
   * Streams the whole cached chunks of a prompt's prefix, from whatever tier
   * they are on, with their keys and checksums (kv_migration.proto). No
   * chunk cached: an empty stream. Over max_bytes: RESOURCE_EXHAUSTED.
   */
  exportPrefix(argument: _chunkmesh_v1_ExportPrefixRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_chunkmesh_v1_KvChunk__Output>;
  exportPrefix(argument: _chunkmesh_v1_ExportPrefixRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_chunkmesh_v1_KvChunk__Output>;
  
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
   * Calls source's ExportPrefix for the prompt and imports every chunk in one
   * step: all of them cached here, or none (source failed mid-stream:
   * UNAVAILABLE; a key or checksum wrong: DATA_LOSS; no room: RESOURCE_EXHAUSTED;
   * the source holds none of it: NOT_FOUND).
   */
  PullPrefix(argument: _chunkmesh_v1_PullPrefixRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_chunkmesh_v1_PullPrefixResponse__Output>): grpc.ClientUnaryCall;
  PullPrefix(argument: _chunkmesh_v1_PullPrefixRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_chunkmesh_v1_PullPrefixResponse__Output>): grpc.ClientUnaryCall;
  PullPrefix(argument: _chunkmesh_v1_PullPrefixRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_chunkmesh_v1_PullPrefixResponse__Output>): grpc.ClientUnaryCall;
  PullPrefix(argument: _chunkmesh_v1_PullPrefixRequest, callback: grpc.requestCallback<_chunkmesh_v1_PullPrefixResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Calls source's ExportPrefix for the prompt and imports every chunk in one
   * step: all of them cached here, or none (source failed mid-stream:
   * UNAVAILABLE; a key or checksum wrong: DATA_LOSS; no room: RESOURCE_EXHAUSTED;
   * the source holds none of it: NOT_FOUND).
   */
  pullPrefix(argument: _chunkmesh_v1_PullPrefixRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_chunkmesh_v1_PullPrefixResponse__Output>): grpc.ClientUnaryCall;
  pullPrefix(argument: _chunkmesh_v1_PullPrefixRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_chunkmesh_v1_PullPrefixResponse__Output>): grpc.ClientUnaryCall;
  pullPrefix(argument: _chunkmesh_v1_PullPrefixRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_chunkmesh_v1_PullPrefixResponse__Output>): grpc.ClientUnaryCall;
  pullPrefix(argument: _chunkmesh_v1_PullPrefixRequest, callback: grpc.requestCallback<_chunkmesh_v1_PullPrefixResponse__Output>): grpc.ClientUnaryCall;
  
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
  
  /**
   * Brings a cached prompt's chunks up to the device (from disk through the
   * host), as far as device room allows.
   */
  Restore(argument: _chunkmesh_v1_TierMoveRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_chunkmesh_v1_TierMoveResponse__Output>): grpc.ClientUnaryCall;
  Restore(argument: _chunkmesh_v1_TierMoveRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_chunkmesh_v1_TierMoveResponse__Output>): grpc.ClientUnaryCall;
  Restore(argument: _chunkmesh_v1_TierMoveRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_chunkmesh_v1_TierMoveResponse__Output>): grpc.ClientUnaryCall;
  Restore(argument: _chunkmesh_v1_TierMoveRequest, callback: grpc.requestCallback<_chunkmesh_v1_TierMoveResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Brings a cached prompt's chunks up to the device (from disk through the
   * host), as far as device room allows.
   */
  restore(argument: _chunkmesh_v1_TierMoveRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_chunkmesh_v1_TierMoveResponse__Output>): grpc.ClientUnaryCall;
  restore(argument: _chunkmesh_v1_TierMoveRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_chunkmesh_v1_TierMoveResponse__Output>): grpc.ClientUnaryCall;
  restore(argument: _chunkmesh_v1_TierMoveRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_chunkmesh_v1_TierMoveResponse__Output>): grpc.ClientUnaryCall;
  restore(argument: _chunkmesh_v1_TierMoveRequest, callback: grpc.requestCallback<_chunkmesh_v1_TierMoveResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Moves a cached prompt's chunks that no running request pins off the
   * device, to the host tier or on to disk (worker_tiers.proto).
   */
  Spill(argument: _chunkmesh_v1_TierMoveRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_chunkmesh_v1_TierMoveResponse__Output>): grpc.ClientUnaryCall;
  Spill(argument: _chunkmesh_v1_TierMoveRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_chunkmesh_v1_TierMoveResponse__Output>): grpc.ClientUnaryCall;
  Spill(argument: _chunkmesh_v1_TierMoveRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_chunkmesh_v1_TierMoveResponse__Output>): grpc.ClientUnaryCall;
  Spill(argument: _chunkmesh_v1_TierMoveRequest, callback: grpc.requestCallback<_chunkmesh_v1_TierMoveResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Moves a cached prompt's chunks that no running request pins off the
   * device, to the host tier or on to disk (worker_tiers.proto).
   */
  spill(argument: _chunkmesh_v1_TierMoveRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_chunkmesh_v1_TierMoveResponse__Output>): grpc.ClientUnaryCall;
  spill(argument: _chunkmesh_v1_TierMoveRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_chunkmesh_v1_TierMoveResponse__Output>): grpc.ClientUnaryCall;
  spill(argument: _chunkmesh_v1_TierMoveRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_chunkmesh_v1_TierMoveResponse__Output>): grpc.ClientUnaryCall;
  spill(argument: _chunkmesh_v1_TierMoveRequest, callback: grpc.requestCallback<_chunkmesh_v1_TierMoveResponse__Output>): grpc.ClientUnaryCall;
  
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
   * Streams the whole cached chunks of a prompt's prefix, from whatever tier
   * they are on, with their keys and checksums (kv_migration.proto). No
   * chunk cached: an empty stream. Over max_bytes: RESOURCE_EXHAUSTED.
   */
  ExportPrefix: grpc.handleServerStreamingCall<_chunkmesh_v1_ExportPrefixRequest__Output, _chunkmesh_v1_KvChunk>;
  
  /**
   * Computes a prompt's KV into the prefix tree without answering it: the
   * prompt is admitted and prefilled like a request's, its full chunks stay
   * cached when it is released. Refused like a request (queue full:
   * RESOURCE_EXHAUSTED; draining: UNAVAILABLE).
   */
  Prefill: grpc.handleUnaryCall<_chunkmesh_v1_PrefillRequest__Output, _chunkmesh_v1_PrefillResponse>;
  
  /**
   * Calls source's ExportPrefix for the prompt and imports every chunk in one
   * step: all of them cached here, or none (source failed mid-stream:
   * UNAVAILABLE; a key or checksum wrong: DATA_LOSS; no room: RESOURCE_EXHAUSTED;
   * the source holds none of it: NOT_FOUND).
   */
  PullPrefix: grpc.handleUnaryCall<_chunkmesh_v1_PullPrefixRequest__Output, _chunkmesh_v1_PullPrefixResponse>;
  
  /**
   * The keys the worker's prefix tree holds now, per tier, straight from its
   * native cache; with resync, after rewriting its report to Redis
   * (worker_resident.proto). The index.reconcile job's read and repair.
   */
  ResidentKeys: grpc.handleUnaryCall<_chunkmesh_v1_ResidentKeysRequest__Output, _chunkmesh_v1_ResidentKeysResponse>;
  
  /**
   * Brings a cached prompt's chunks up to the device (from disk through the
   * host), as far as device room allows.
   */
  Restore: grpc.handleUnaryCall<_chunkmesh_v1_TierMoveRequest__Output, _chunkmesh_v1_TierMoveResponse>;
  
  /**
   * Moves a cached prompt's chunks that no running request pins off the
   * device, to the host tier or on to disk (worker_tiers.proto).
   */
  Spill: grpc.handleUnaryCall<_chunkmesh_v1_TierMoveRequest__Output, _chunkmesh_v1_TierMoveResponse>;
  
}

export interface WorkerControlDefinition extends grpc.ServiceDefinition {
  Drain: MethodDefinition<_chunkmesh_v1_DrainRequest, _chunkmesh_v1_DrainResponse, _chunkmesh_v1_DrainRequest__Output, _chunkmesh_v1_DrainResponse__Output>
  ExportPrefix: MethodDefinition<_chunkmesh_v1_ExportPrefixRequest, _chunkmesh_v1_KvChunk, _chunkmesh_v1_ExportPrefixRequest__Output, _chunkmesh_v1_KvChunk__Output>
  Prefill: MethodDefinition<_chunkmesh_v1_PrefillRequest, _chunkmesh_v1_PrefillResponse, _chunkmesh_v1_PrefillRequest__Output, _chunkmesh_v1_PrefillResponse__Output>
  PullPrefix: MethodDefinition<_chunkmesh_v1_PullPrefixRequest, _chunkmesh_v1_PullPrefixResponse, _chunkmesh_v1_PullPrefixRequest__Output, _chunkmesh_v1_PullPrefixResponse__Output>
  ResidentKeys: MethodDefinition<_chunkmesh_v1_ResidentKeysRequest, _chunkmesh_v1_ResidentKeysResponse, _chunkmesh_v1_ResidentKeysRequest__Output, _chunkmesh_v1_ResidentKeysResponse__Output>
  Restore: MethodDefinition<_chunkmesh_v1_TierMoveRequest, _chunkmesh_v1_TierMoveResponse, _chunkmesh_v1_TierMoveRequest__Output, _chunkmesh_v1_TierMoveResponse__Output>
  Spill: MethodDefinition<_chunkmesh_v1_TierMoveRequest, _chunkmesh_v1_TierMoveResponse, _chunkmesh_v1_TierMoveRequest__Output, _chunkmesh_v1_TierMoveResponse__Output>
}
