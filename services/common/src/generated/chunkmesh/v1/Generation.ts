// Original file: proto/chunkmesh/v1/generation.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { GenerateRequest as _chunkmesh_v1_GenerateRequest, GenerateRequest__Output as _chunkmesh_v1_GenerateRequest__Output } from '../../chunkmesh/v1/GenerateRequest.ts';
import type { GenerateResponse as _chunkmesh_v1_GenerateResponse, GenerateResponse__Output as _chunkmesh_v1_GenerateResponse__Output } from '../../chunkmesh/v1/GenerateResponse.ts';
import type { InfoRequest as _chunkmesh_v1_InfoRequest, InfoRequest__Output as _chunkmesh_v1_InfoRequest__Output } from '../../chunkmesh/v1/InfoRequest.ts';
import type { InfoResponse as _chunkmesh_v1_InfoResponse, InfoResponse__Output as _chunkmesh_v1_InfoResponse__Output } from '../../chunkmesh/v1/InfoResponse.ts';

export interface GenerationClient extends grpc.Client {
  /**
   * Streams the completion as it is decoded: zero or more deltas, then
   * exactly one final message, then the stream closes with OK. Failures
   * before the first delta are gRPC statuses (so the router can retry
   * elsewhere); failures after it end the stream with a final whose
   * finish_reason is ERROR.
   */
  Generate(argument: _chunkmesh_v1_GenerateRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_chunkmesh_v1_GenerateResponse__Output>;
  Generate(argument: _chunkmesh_v1_GenerateRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_chunkmesh_v1_GenerateResponse__Output>;
  /**
   * Streams the completion as it is decoded: zero or more deltas, then
   * exactly one final message, then the stream closes with OK. Failures
   * before the first delta are gRPC statuses (so the router can retry
   * elsewhere); failures after it end the stream with a final whose
   * finish_reason is ERROR.
   */
  generate(argument: _chunkmesh_v1_GenerateRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_chunkmesh_v1_GenerateResponse__Output>;
  generate(argument: _chunkmesh_v1_GenerateRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_chunkmesh_v1_GenerateResponse__Output>;
  
  /**
   * What this server serves; the router answers for the cluster it fronts.
   */
  Info(argument: _chunkmesh_v1_InfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_chunkmesh_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  Info(argument: _chunkmesh_v1_InfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_chunkmesh_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  Info(argument: _chunkmesh_v1_InfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_chunkmesh_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  Info(argument: _chunkmesh_v1_InfoRequest, callback: grpc.requestCallback<_chunkmesh_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  /**
   * What this server serves; the router answers for the cluster it fronts.
   */
  info(argument: _chunkmesh_v1_InfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_chunkmesh_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  info(argument: _chunkmesh_v1_InfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_chunkmesh_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  info(argument: _chunkmesh_v1_InfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_chunkmesh_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  info(argument: _chunkmesh_v1_InfoRequest, callback: grpc.requestCallback<_chunkmesh_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface GenerationHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Streams the completion as it is decoded: zero or more deltas, then
   * exactly one final message, then the stream closes with OK. Failures
   * before the first delta are gRPC statuses (so the router can retry
   * elsewhere); failures after it end the stream with a final whose
   * finish_reason is ERROR.
   */
  Generate: grpc.handleServerStreamingCall<_chunkmesh_v1_GenerateRequest__Output, _chunkmesh_v1_GenerateResponse>;
  
  /**
   * What this server serves; the router answers for the cluster it fronts.
   */
  Info: grpc.handleUnaryCall<_chunkmesh_v1_InfoRequest__Output, _chunkmesh_v1_InfoResponse>;
  
}

export interface GenerationDefinition extends grpc.ServiceDefinition {
  Generate: MethodDefinition<_chunkmesh_v1_GenerateRequest, _chunkmesh_v1_GenerateResponse, _chunkmesh_v1_GenerateRequest__Output, _chunkmesh_v1_GenerateResponse__Output>
  Info: MethodDefinition<_chunkmesh_v1_InfoRequest, _chunkmesh_v1_InfoResponse, _chunkmesh_v1_InfoRequest__Output, _chunkmesh_v1_InfoResponse__Output>
}
