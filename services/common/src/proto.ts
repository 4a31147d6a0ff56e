// The chunkmesh.v1 wire contract loaded at run time, with TypeScript shapes
// for what crosses it. Loader options, chosen once for both services:
//   keepCase: false  fields are camelCase in JS (token_ids -> tokenIds);
//   longs: String    64-bit integers (seed, epoch) arrive as decimal strings,
//                    lossless where Number is not; send them as strings too;
//   enums: String    enum values arrive as their names (FINISH_REASON_STOP);
//   defaults: true   absent scalars and lists arrive as their zero values, so
//                    readers never test for undefined (messages arrive null);
//   oneofs: true     each oneof gets a field naming its set member
//                    (`prompt: 'text' | 'tokenIds'`, `kind: 'delta' | 'final'`).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

export const PROTO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'proto');
export const GENERATION_SERVICE = 'chunkmesh.v1.Generation';
/** The contract's path under PROTO_ROOT (and its name in reflection). */
export const GENERATION_PROTO = 'chunkmesh/v1/generation.proto';

export const packageDefinition = loadSync(GENERATION_PROTO, {
  includeDirs: [PROTO_ROOT],
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});

const generationService = packageDefinition[GENERATION_SERVICE] as grpc.ServiceDefinition;

// Messages as a receiver sees them (see the loader options above).

export interface TokenIds {
  ids: number[];
}

export interface ChatMessage {
  role: string;
  content: string;
}

export interface SamplingParams {
  temperature: number;
  topK: number;
  topP: number;
  /** Decimal uint64; absent when the sender left it unset. */
  seed?: string;
  maxTokens: number;
  stop: string[];
  stopTokenIds: number[];
  ignoreEos: boolean;
}

interface GenerateRequestFields {
  messages: ChatMessage[];
  sampling: SamplingParams | null;
  tenant: string;
  sessionId: string;
  requestId: string;
}

export type GenerateRequest = GenerateRequestFields &
  ({ prompt: 'text'; text: string } | { prompt: 'tokenIds'; tokenIds: TokenIds } | { prompt?: undefined });

export type FinishReason =
  | 'FINISH_REASON_UNSPECIFIED'
  | 'FINISH_REASON_STOP'
  | 'FINISH_REASON_LENGTH'
  | 'FINISH_REASON_CANCELLED'
  | 'FINISH_REASON_ERROR';

export interface TokenChunk {
  tokenIds: number[];
  text: string;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  cachedPromptTokens: number;
}

export interface Final {
  finishReason: FinishReason;
  usage: Usage | null;
  workerId: string;
  error: string;
}

export type GenerateResponse = { kind: 'delta'; delta: TokenChunk } | { kind: 'final'; final: Final };

export type InfoRequest = Record<string, never>;

export interface InfoResponse {
  modelId: string;
  chunkTokens: number;
  capacityChunks: number;
  kvBytesPerToken: number;
  tokenizerId: string;
  vocabSize: number;
  maxSeqLen: number;
  workerId: string;
  /** Decimal uint64. */
  epoch: string;
  /** Where the worker computes, e.g. "cpu (16 threads, avx512)"; empty from a router. */
  device: string;
  kvDtype: string;
}

/**
 * What a sender may pass for a message: any field may be left out (the
 * receiver sees its zero value). Lists must be plain arrays, not typed arrays.
 */
export type Init<T> = T extends readonly (infer U)[]
  ? readonly Init<U>[]
  : T extends object
    ? { [K in keyof T]?: Init<T[K]> | null }
    : T;

export interface GenerationHandlers extends grpc.UntypedServiceImplementation {
  generate: grpc.handleServerStreamingCall<GenerateRequest, Init<GenerateResponse>>;
  info: grpc.handleUnaryCall<InfoRequest, Init<InfoResponse>>;
}

export interface GenerationClient extends grpc.Client {
  generate(
    request: Init<GenerateRequest>,
    metadata?: grpc.Metadata,
    options?: grpc.CallOptions,
  ): grpc.ClientReadableStream<GenerateResponse>;
  info(request: Init<InfoRequest>, callback: grpc.requestCallback<InfoResponse>): grpc.ClientUnaryCall;
  info(
    request: Init<InfoRequest>,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<InfoResponse>,
  ): grpc.ClientUnaryCall;
}

const GenerationClientConstructor = grpc.makeClientConstructor(generationService, GENERATION_SERVICE);

export function addGenerationService(server: grpc.Server, handlers: GenerationHandlers): void {
  server.addService(generationService, handlers);
}

export function createGenerationClient(
  address: string,
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  options?: Partial<grpc.ChannelOptions>,
): GenerationClient {
  return new GenerationClientConstructor(address, credentials, options) as unknown as GenerationClient;
}
