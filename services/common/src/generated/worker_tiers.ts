import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { ChatMessage as _chunkmesh_v1_ChatMessage, ChatMessage__Output as _chunkmesh_v1_ChatMessage__Output } from './chunkmesh/v1/ChatMessage.ts';
import type { ChoiceEnd as _chunkmesh_v1_ChoiceEnd, ChoiceEnd__Output as _chunkmesh_v1_ChoiceEnd__Output } from './chunkmesh/v1/ChoiceEnd.ts';
import type { Choices as _chunkmesh_v1_Choices, Choices__Output as _chunkmesh_v1_Choices__Output } from './chunkmesh/v1/Choices.ts';
import type { Constraint as _chunkmesh_v1_Constraint, Constraint__Output as _chunkmesh_v1_Constraint__Output } from './chunkmesh/v1/Constraint.ts';
import type { Final as _chunkmesh_v1_Final, Final__Output as _chunkmesh_v1_Final__Output } from './chunkmesh/v1/Final.ts';
import type { GenerateRequest as _chunkmesh_v1_GenerateRequest, GenerateRequest__Output as _chunkmesh_v1_GenerateRequest__Output } from './chunkmesh/v1/GenerateRequest.ts';
import type { GenerateResponse as _chunkmesh_v1_GenerateResponse, GenerateResponse__Output as _chunkmesh_v1_GenerateResponse__Output } from './chunkmesh/v1/GenerateResponse.ts';
import type { GenerationClient as _chunkmesh_v1_GenerationClient, GenerationDefinition as _chunkmesh_v1_GenerationDefinition } from './chunkmesh/v1/Generation.ts';
import type { InfoRequest as _chunkmesh_v1_InfoRequest, InfoRequest__Output as _chunkmesh_v1_InfoRequest__Output } from './chunkmesh/v1/InfoRequest.ts';
import type { InfoResponse as _chunkmesh_v1_InfoResponse, InfoResponse__Output as _chunkmesh_v1_InfoResponse__Output } from './chunkmesh/v1/InfoResponse.ts';
import type { SamplingParams as _chunkmesh_v1_SamplingParams, SamplingParams__Output as _chunkmesh_v1_SamplingParams__Output } from './chunkmesh/v1/SamplingParams.ts';
import type { TierMoveRequest as _chunkmesh_v1_TierMoveRequest, TierMoveRequest__Output as _chunkmesh_v1_TierMoveRequest__Output } from './chunkmesh/v1/TierMoveRequest.ts';
import type { TierMoveResponse as _chunkmesh_v1_TierMoveResponse, TierMoveResponse__Output as _chunkmesh_v1_TierMoveResponse__Output } from './chunkmesh/v1/TierMoveResponse.ts';
import type { TokenChunk as _chunkmesh_v1_TokenChunk, TokenChunk__Output as _chunkmesh_v1_TokenChunk__Output } from './chunkmesh/v1/TokenChunk.ts';
import type { TokenIds as _chunkmesh_v1_TokenIds, TokenIds__Output as _chunkmesh_v1_TokenIds__Output } from './chunkmesh/v1/TokenIds.ts';
import type { TokenLogprob as _chunkmesh_v1_TokenLogprob, TokenLogprob__Output as _chunkmesh_v1_TokenLogprob__Output } from './chunkmesh/v1/TokenLogprob.ts';
import type { Tool as _chunkmesh_v1_Tool, Tool__Output as _chunkmesh_v1_Tool__Output } from './chunkmesh/v1/Tool.ts';
import type { ToolCall as _chunkmesh_v1_ToolCall, ToolCall__Output as _chunkmesh_v1_ToolCall__Output } from './chunkmesh/v1/ToolCall.ts';
import type { TopLogprob as _chunkmesh_v1_TopLogprob, TopLogprob__Output as _chunkmesh_v1_TopLogprob__Output } from './chunkmesh/v1/TopLogprob.ts';
import type { Usage as _chunkmesh_v1_Usage, Usage__Output as _chunkmesh_v1_Usage__Output } from './chunkmesh/v1/Usage.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  chunkmesh: {
    v1: {
      ChatMessage: MessageTypeDefinition<_chunkmesh_v1_ChatMessage, _chunkmesh_v1_ChatMessage__Output>
      ChoiceEnd: MessageTypeDefinition<_chunkmesh_v1_ChoiceEnd, _chunkmesh_v1_ChoiceEnd__Output>
      Choices: MessageTypeDefinition<_chunkmesh_v1_Choices, _chunkmesh_v1_Choices__Output>
      Constraint: MessageTypeDefinition<_chunkmesh_v1_Constraint, _chunkmesh_v1_Constraint__Output>
      Final: MessageTypeDefinition<_chunkmesh_v1_Final, _chunkmesh_v1_Final__Output>
      FinishReason: EnumTypeDefinition
      GenerateRequest: MessageTypeDefinition<_chunkmesh_v1_GenerateRequest, _chunkmesh_v1_GenerateRequest__Output>
      GenerateResponse: MessageTypeDefinition<_chunkmesh_v1_GenerateResponse, _chunkmesh_v1_GenerateResponse__Output>
      Generation: SubtypeConstructor<typeof grpc.Client, _chunkmesh_v1_GenerationClient> & { service: _chunkmesh_v1_GenerationDefinition }
      InfoRequest: MessageTypeDefinition<_chunkmesh_v1_InfoRequest, _chunkmesh_v1_InfoRequest__Output>
      InfoResponse: MessageTypeDefinition<_chunkmesh_v1_InfoResponse, _chunkmesh_v1_InfoResponse__Output>
      SamplingParams: MessageTypeDefinition<_chunkmesh_v1_SamplingParams, _chunkmesh_v1_SamplingParams__Output>
      TierMoveRequest: MessageTypeDefinition<_chunkmesh_v1_TierMoveRequest, _chunkmesh_v1_TierMoveRequest__Output>
      TierMoveResponse: MessageTypeDefinition<_chunkmesh_v1_TierMoveResponse, _chunkmesh_v1_TierMoveResponse__Output>
      TokenChunk: MessageTypeDefinition<_chunkmesh_v1_TokenChunk, _chunkmesh_v1_TokenChunk__Output>
      TokenIds: MessageTypeDefinition<_chunkmesh_v1_TokenIds, _chunkmesh_v1_TokenIds__Output>
      TokenLogprob: MessageTypeDefinition<_chunkmesh_v1_TokenLogprob, _chunkmesh_v1_TokenLogprob__Output>
      Tool: MessageTypeDefinition<_chunkmesh_v1_Tool, _chunkmesh_v1_Tool__Output>
      ToolCall: MessageTypeDefinition<_chunkmesh_v1_ToolCall, _chunkmesh_v1_ToolCall__Output>
      TopLogprob: MessageTypeDefinition<_chunkmesh_v1_TopLogprob, _chunkmesh_v1_TopLogprob__Output>
      Usage: MessageTypeDefinition<_chunkmesh_v1_Usage, _chunkmesh_v1_Usage__Output>
    }
  }
}

