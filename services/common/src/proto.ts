// The chunkmesh.v1 wire contract loaded at run time, with TypeScript shapes
// for what crosses it (generated from the .proto). Loader options, chosen once for both services:
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
import { generateRequestSerializer } from './generate-request-codec.ts';
import type { ChatMessage__Output } from './generated/chunkmesh/v1/ChatMessage.ts';
import type { ChoiceEnd__Output } from './generated/chunkmesh/v1/ChoiceEnd.ts';
import type { Constraint__Output } from './generated/chunkmesh/v1/Constraint.ts';
import type { Final__Output } from './generated/chunkmesh/v1/Final.ts';
import type { FinishReason__Output } from './generated/chunkmesh/v1/FinishReason.ts';
import type { GenerateRequest__Output } from './generated/chunkmesh/v1/GenerateRequest.ts';
import type { InfoRequest__Output } from './generated/chunkmesh/v1/InfoRequest.ts';
import type { InfoResponse__Output } from './generated/chunkmesh/v1/InfoResponse.ts';
import type { SamplingParams__Output } from './generated/chunkmesh/v1/SamplingParams.ts';
import type { TokenChunk__Output } from './generated/chunkmesh/v1/TokenChunk.ts';
import type { TokenIds__Output } from './generated/chunkmesh/v1/TokenIds.ts';
import type { TokenLogprob__Output } from './generated/chunkmesh/v1/TokenLogprob.ts';
import type { Tool__Output } from './generated/chunkmesh/v1/Tool.ts';
import type { ToolCall__Output } from './generated/chunkmesh/v1/ToolCall.ts';
import type { Usage__Output } from './generated/chunkmesh/v1/Usage.ts';

export const PROTO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'proto');
export const GENERATION_SERVICE = 'chunkmesh.v1.Generation';
/** The contract's path under PROTO_ROOT (and its name in reflection). */
export const GENERATION_PROTO = 'chunkmesh/v1/generation.proto';

/** The loader options above: every file of the contract is loaded with them. */
export const LOADER_OPTIONS = {
  includeDirs: [PROTO_ROOT],
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

export const packageDefinition = loadSync(GENERATION_PROTO, LOADER_OPTIONS);

const generationService = packageDefinition[GENERATION_SERVICE] as grpc.ServiceDefinition;

// Messages as a receiver sees them (see the loader options above): the types
// proto-loader's generator writes from the .proto (generated/, `npm run
// proto:gen`), each oneof narrowed to what `oneofs: true` guarantees (the named
// member is set).

export type TokenIds = TokenIds__Output;
export type ChatMessage = ChatMessage__Output;
export type SamplingParams = SamplingParams__Output;
export type TokenChunk = TokenChunk__Output;
export type Usage = Usage__Output;
export type Final = Final__Output;
export type FinishReason = FinishReason__Output;
export type InfoRequest = InfoRequest__Output;
export type InfoResponse = InfoResponse__Output;
export type Constraint = Constraint__Output;
export type TokenLogprob = TokenLogprob__Output;
export type ChoiceEnd = ChoiceEnd__Output;
export type Tool = Tool__Output;
export type ToolCall = ToolCall__Output;

/**
 * A generated request message with the `prompt` oneof (text | token_ids) as a union the compiler
 * can narrow on `prompt` (proto-loader's `oneofs: true` names the set field there).
 */
export type WithPromptOneof<T> = Omit<T, 'prompt' | 'text' | 'tokenIds'> &
  ({ prompt: 'text'; text: string } | { prompt: 'tokenIds'; tokenIds: TokenIds } | { prompt?: undefined });

export type GenerateRequest = WithPromptOneof<GenerateRequest__Output>;

export type GenerateResponse = { kind: 'delta'; delta: TokenChunk } | { kind: 'final'; final: Final };

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

// Clients send Generate requests through the direct token-id writer (generate-request-codec.ts).
const generate = generationService.Generate as grpc.MethodDefinition<object, unknown>;
const GenerationClientConstructor = grpc.makeClientConstructor(
  {
    ...generationService,
    Generate: {
      ...generate,
      requestSerialize: generateRequestSerializer(packageDefinition, generate.requestSerialize),
    },
  },
  GENERATION_SERVICE,
);

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
