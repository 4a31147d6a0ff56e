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
   * the source had none: FAILED_PRECONDITION).
   */
  PullPrefix(argument: _chunkmesh_v1_PullPrefixRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_chunkmesh_v1_PullPrefixResponse__Output>): grpc.ClientUnaryCall;
  PullPrefix(argument: _chunkmesh_v1_PullPrefixRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_chunkmesh_v1_PullPrefixResponse__Output>): grpc.ClientUnaryCall;
  PullPrefix(argument: _chunkmesh_v1_PullPrefixRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_chunkmesh_v1_PullPrefixResponse__Output>): grpc.ClientUnaryCall;
  PullPrefix(argument: _chunkmesh_v1_PullPrefixRequest, callback: grpc.requestCallback<_chunkmesh_v1_PullPrefixResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Calls source's ExportPrefix for the prompt and imports every chunk in one
   * step: all of them cached here, or none (source failed mid-stream:
   * UNAVAILABLE; a key or checksum wrong: DATA_LOSS; no room: RESOURCE_EXHAUSTED;
   * the source had none: FAILED_PRECONDITION).
   */
  pullPrefix(argument: _chunkmesh_v1_PullPrefixRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_chunkmesh_v1_PullPrefixResponse__Output>): grpc.ClientUnaryCall;
  pullPrefix(argument: _chunkmesh_v1_PullPrefixRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_chunkmesh_v1_PullPrefixResponse__Output>): grpc.ClientUnaryCall;
  pullPrefix(argument: _chunkmesh_v1_PullPrefixRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_chunkmesh_v1_PullPrefixResponse__Output>): grpc.ClientUnaryCall;
  pullPrefix(argument: _chunkmesh_v1_PullPrefixRequest, callback: grpc.requestCallback<_chunkmesh_v1_PullPrefixResponse__Output>): grpc.ClientUnaryCall;
  
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
   * the source had none: FAILED_PRECONDITION).
   */
  PullPrefix: grpc.handleUnaryCall<_chunkmesh_v1_PullPrefixRequest__Output, _chunkmesh_v1_PullPrefixResponse>;
  
}

export interface WorkerControlDefinition extends grpc.ServiceDefinition {
  Drain: MethodDefinition<_chunkmesh_v1_DrainRequest, _chunkmesh_v1_DrainResponse, _chunkmesh_v1_DrainRequest__Output, _chunkmesh_v1_DrainResponse__Output>
  ExportPrefix: MethodDefinition<_chunkmesh_v1_ExportPrefixRequest, _chunkmesh_v1_KvChunk, _chunkmesh_v1_ExportPrefixRequest__Output, _chunkmesh_v1_KvChunk__Output>
  Prefill: MethodDefinition<_chunkmesh_v1_PrefillRequest, _chunkmesh_v1_PrefillResponse, _chunkmesh_v1_PrefillRequest__Output, _chunkmesh_v1_PrefillResponse__Output>
  PullPrefix: MethodDefinition<_chunkmesh_v1_PullPrefixRequest, _chunkmesh_v1_PullPrefixResponse, _chunkmesh_v1_PullPrefixRequest__Output, _chunkmesh_v1_PullPrefixResponse__Output>
}
