// Original file: proto/chunkmesh/v1/generation.proto

import type { Long } from '@grpc/proto-loader';

export interface InfoResponse {
  'modelId'?: (string);
  /**
   * Tokens per KV chunk (c); chunk keys are computed over chunks of this size.
   */
  'chunkTokens'?: (number);
  /**
   * KV pool size in chunks (for the router: summed over live workers).
   */
  'capacityChunks'?: (number);
  'kvBytesPerToken'?: (number);
  /**
   * Names the tokenizer so the router can check it tokenises identically.
   */
  'tokenizerId'?: (string);
  'vocabSize'?: (number);
  'maxSeqLen'?: (number);
  /**
   * Empty when the router answers.
   */
  'workerId'?: (string);
  /**
   * Changes on every worker start; KV reported under an older epoch is gone.
   */
  'epoch'?: (number | string | Long);
  /**
   * Where the worker computes, e.g. "cpu (16 threads, avx512)"; empty when the router answers.
   */
  'device'?: (string);
  /**
   * KV storage type: f32, f16 or bf16.
   */
  'kvDtype'?: (string);
  /**
   * From the router: live workers it does not place on because their chunk
   * size or model id differs from its own, as "worker-id: reason".
   */
  'incompatibleWorkers'?: (string)[];
}

export interface InfoResponse__Output {
  'modelId': (string);
  /**
   * Tokens per KV chunk (c); chunk keys are computed over chunks of this size.
   */
  'chunkTokens': (number);
  /**
   * KV pool size in chunks (for the router: summed over live workers).
   */
  'capacityChunks': (number);
  'kvBytesPerToken': (number);
  /**
   * Names the tokenizer so the router can check it tokenises identically.
   */
  'tokenizerId': (string);
  'vocabSize': (number);
  'maxSeqLen': (number);
  /**
   * Empty when the router answers.
   */
  'workerId': (string);
  /**
   * Changes on every worker start; KV reported under an older epoch is gone.
   */
  'epoch': (string);
  /**
   * Where the worker computes, e.g. "cpu (16 threads, avx512)"; empty when the router answers.
   */
  'device': (string);
  /**
   * KV storage type: f32, f16 or bf16.
   */
  'kvDtype': (string);
  /**
   * From the router: live workers it does not place on because their chunk
   * size or model id differs from its own, as "worker-id: reason".
   */
  'incompatibleWorkers': (string)[];
}
