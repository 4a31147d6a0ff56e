// Original file: proto/chunkmesh/v1/generation.proto

import type { TokenChunk as _chunkmesh_v1_TokenChunk, TokenChunk__Output as _chunkmesh_v1_TokenChunk__Output } from '../../chunkmesh/v1/TokenChunk.ts';
import type { Final as _chunkmesh_v1_Final, Final__Output as _chunkmesh_v1_Final__Output } from '../../chunkmesh/v1/Final.ts';

export interface GenerateResponse {
  'delta'?: (_chunkmesh_v1_TokenChunk | null);
  'final'?: (_chunkmesh_v1_Final | null);
  'kind'?: "delta"|"final";
}

export interface GenerateResponse__Output {
  'delta'?: (_chunkmesh_v1_TokenChunk__Output | null);
  'final'?: (_chunkmesh_v1_Final__Output | null);
  'kind'?: "delta"|"final";
}
