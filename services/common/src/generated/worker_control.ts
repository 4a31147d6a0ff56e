import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { ChatMessage as _chunkmesh_v1_ChatMessage, ChatMessage__Output as _chunkmesh_v1_ChatMessage__Output } from './chunkmesh/v1/ChatMessage.ts';
import type { ChoiceEnd as _chunkmesh_v1_ChoiceEnd, ChoiceEnd__Output as _chunkmesh_v1_ChoiceEnd__Output } from './chunkmesh/v1/ChoiceEnd.ts';
import type { Choices as _chunkmesh_v1_Choices, Choices__Output as _chunkmesh_v1_Choices__Output } from './chunkmesh/v1/Choices.ts';
import type { Constraint as _chunkmesh_v1_Constraint, Constraint__Output as _chunkmesh_v1_Constraint__Output } from './chunkmesh/v1/Constraint.ts';
import type { DrainRequest as _chunkmesh_v1_DrainRequest, DrainRequest__Output as _chunkmesh_v1_DrainRequest__Output } from './chunkmesh/v1/DrainRequest.ts';
import type { DrainResponse as _chunkmesh_v1_DrainResponse, DrainResponse__Output as _chunkmesh_v1_DrainResponse__Output } from './chunkmesh/v1/DrainResponse.ts';
import type { ExportPrefixRequest as _chunkmesh_v1_ExportPrefixRequest, ExportPrefixRequest__Output as _chunkmesh_v1_ExportPrefixRequest__Output } from './chunkmesh/v1/ExportPrefixRequest.ts';
import type { Final as _chunkmesh_v1_Final, Final__Output as _chunkmesh_v1_Final__Output } from './chunkmesh/v1/Final.ts';
import type { GenerateRequest as _chunkmesh_v1_GenerateRequest, GenerateRequest__Output as _chunkmesh_v1_GenerateRequest__Output } from './chunkmesh/v1/GenerateRequest.ts';
import type { GenerateResponse as _chunkmesh_v1_GenerateResponse, GenerateResponse__Output as _chunkmesh_v1_GenerateResponse__Output } from './chunkmesh/v1/GenerateResponse.ts';
import type { GenerationClient as _chunkmesh_v1_GenerationClient, GenerationDefinition as _chunkmesh_v1_GenerationDefinition } from './chunkmesh/v1/Generation.ts';
import type { InfoRequest as _chunkmesh_v1_InfoRequest, InfoRequest__Output as _chunkmesh_v1_InfoRequest__Output } from './chunkmesh/v1/InfoRequest.ts';
import type { InfoResponse as _chunkmesh_v1_InfoResponse, InfoResponse__Output as _chunkmesh_v1_InfoResponse__Output } from './chunkmesh/v1/InfoResponse.ts';
import type { KvChunk as _chunkmesh_v1_KvChunk, KvChunk__Output as _chunkmesh_v1_KvChunk__Output } from './chunkmesh/v1/KvChunk.ts';
import type { PrefillRequest as _chunkmesh_v1_PrefillRequest, PrefillRequest__Output as _chunkmesh_v1_PrefillRequest__Output } from './chunkmesh/v1/PrefillRequest.ts';
import type { PrefillResponse as _chunkmesh_v1_PrefillResponse, PrefillResponse__Output as _chunkmesh_v1_PrefillResponse__Output } from './chunkmesh/v1/PrefillResponse.ts';
import type { PullPrefixRequest as _chunkmesh_v1_PullPrefixRequest, PullPrefixRequest__Output as _chunkmesh_v1_PullPrefixRequest__Output } from './chunkmesh/v1/PullPrefixRequest.ts';
import type { PullPrefixResponse as _chunkmesh_v1_PullPrefixResponse, PullPrefixResponse__Output as _chunkmesh_v1_PullPrefixResponse__Output } from './chunkmesh/v1/PullPrefixResponse.ts';
import type { ResidentKeysRequest as _chunkmesh_v1_ResidentKeysRequest, ResidentKeysRequest__Output as _chunkmesh_v1_ResidentKeysRequest__Output } from './chunkmesh/v1/ResidentKeysRequest.ts';
import type { ResidentKeysResponse as _chunkmesh_v1_ResidentKeysResponse, ResidentKeysResponse__Output as _chunkmesh_v1_ResidentKeysResponse__Output } from './chunkmesh/v1/ResidentKeysResponse.ts';
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
import type { WorkerControlClient as _chunkmesh_v1_WorkerControlClient, WorkerControlDefinition as _chunkmesh_v1_WorkerControlDefinition } from './chunkmesh/v1/WorkerControl.ts';

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
      DrainRequest: MessageTypeDefinition<_chunkmesh_v1_DrainRequest, _chunkmesh_v1_DrainRequest__Output>
      DrainResponse: MessageTypeDefinition<_chunkmesh_v1_DrainResponse, _chunkmesh_v1_DrainResponse__Output>
      ExportPrefixRequest: MessageTypeDefinition<_chunkmesh_v1_ExportPrefixRequest, _chunkmesh_v1_ExportPrefixRequest__Output>
      Final: MessageTypeDefinition<_chunkmesh_v1_Final, _chunkmesh_v1_Final__Output>
      FinishReason: EnumTypeDefinition
      GenerateRequest: MessageTypeDefinition<_chunkmesh_v1_GenerateRequest, _chunkmesh_v1_GenerateRequest__Output>
      GenerateResponse: MessageTypeDefinition<_chunkmesh_v1_GenerateResponse, _chunkmesh_v1_GenerateResponse__Output>
      Generation: SubtypeConstructor<typeof grpc.Client, _chunkmesh_v1_GenerationClient> & { service: _chunkmesh_v1_GenerationDefinition }
      InfoRequest: MessageTypeDefinition<_chunkmesh_v1_InfoRequest, _chunkmesh_v1_InfoRequest__Output>
      InfoResponse: MessageTypeDefinition<_chunkmesh_v1_InfoResponse, _chunkmesh_v1_InfoResponse__Output>
      KvChunk: MessageTypeDefinition<_chunkmesh_v1_KvChunk, _chunkmesh_v1_KvChunk__Output>
      PrefillRequest: MessageTypeDefinition<_chunkmesh_v1_PrefillRequest, _chunkmesh_v1_PrefillRequest__Output>
      PrefillResponse: MessageTypeDefinition<_chunkmesh_v1_PrefillResponse, _chunkmesh_v1_PrefillResponse__Output>
      PullPrefixRequest: MessageTypeDefinition<_chunkmesh_v1_PullPrefixRequest, _chunkmesh_v1_PullPrefixRequest__Output>
      PullPrefixResponse: MessageTypeDefinition<_chunkmesh_v1_PullPrefixResponse, _chunkmesh_v1_PullPrefixResponse__Output>
      ResidentKeysRequest: MessageTypeDefinition<_chunkmesh_v1_ResidentKeysRequest, _chunkmesh_v1_ResidentKeysRequest__Output>
      ResidentKeysResponse: MessageTypeDefinition<_chunkmesh_v1_ResidentKeysResponse, _chunkmesh_v1_ResidentKeysResponse__Output>
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
      WorkerControl: SubtypeConstructor<typeof grpc.Client, _chunkmesh_v1_WorkerControlClient> & { service: _chunkmesh_v1_WorkerControlDefinition }
    }
  }
}

