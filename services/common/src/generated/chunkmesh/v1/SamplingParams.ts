// Original file: proto/chunkmesh/v1/generation.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Zero values mean "the server's default" wherever 0 is not a useful value.
 */
export interface SamplingParams {
  /**
   * 0 is greedy decoding.
   */
  'temperature'?: (number | string);
  /**
   * 0 disables top-k.
   */
  'topK'?: (number);
  /**
   * 0 (or 1) disables nucleus sampling.
   */
  'topP'?: (number | string);
  'seed'?: (number | string | Long);
  /**
   * Completion length limit; 0 is the server's default limit.
   */
  'maxTokens'?: (number);
  /**
   * Generation stops before any of these strings; it is not emitted.
   */
  'stop'?: (string)[];
  /**
   * Generation stops after any of these tokens; it is emitted.
   */
  'stopTokenIds'?: (number)[];
  /**
   * Keep going past the model's end-of-sequence tokens (benchmarks).
   */
  'ignoreEos'?: (boolean);
  /**
   * Fixes the sampler's random stream; unset draws a fresh seed per request.
   * A oneof rather than proto3 `optional` (the same wire format and presence),
   * so that protoc releases before 3.15 (Debian's grpc_tools 1.14) compile it.
   */
  'seedOption'?: "seed";
}

/**
 * Zero values mean "the server's default" wherever 0 is not a useful value.
 */
export interface SamplingParams__Output {
  /**
   * 0 is greedy decoding.
   */
  'temperature': (number);
  /**
   * 0 disables top-k.
   */
  'topK': (number);
  /**
   * 0 (or 1) disables nucleus sampling.
   */
  'topP': (number);
  'seed'?: (string);
  /**
   * Completion length limit; 0 is the server's default limit.
   */
  'maxTokens': (number);
  /**
   * Generation stops before any of these strings; it is not emitted.
   */
  'stop': (string)[];
  /**
   * Generation stops after any of these tokens; it is emitted.
   */
  'stopTokenIds': (number)[];
  /**
   * Keep going past the model's end-of-sequence tokens (benchmarks).
   */
  'ignoreEos': (boolean);
  /**
   * Fixes the sampler's random stream; unset draws a fresh seed per request.
   * A oneof rather than proto3 `optional` (the same wire format and presence),
   * so that protoc releases before 3.15 (Debian's grpc_tools 1.14) compile it.
   */
  'seedOption'?: "seed";
}
