import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { ResidentKeysRequest as _chunkmesh_v1_ResidentKeysRequest, ResidentKeysRequest__Output as _chunkmesh_v1_ResidentKeysRequest__Output } from './chunkmesh/v1/ResidentKeysRequest.ts';
import type { ResidentKeysResponse as _chunkmesh_v1_ResidentKeysResponse, ResidentKeysResponse__Output as _chunkmesh_v1_ResidentKeysResponse__Output } from './chunkmesh/v1/ResidentKeysResponse.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  chunkmesh: {
    v1: {
      ResidentKeysRequest: MessageTypeDefinition<_chunkmesh_v1_ResidentKeysRequest, _chunkmesh_v1_ResidentKeysRequest__Output>
      ResidentKeysResponse: MessageTypeDefinition<_chunkmesh_v1_ResidentKeysResponse, _chunkmesh_v1_ResidentKeysResponse__Output>
    }
  }
}

