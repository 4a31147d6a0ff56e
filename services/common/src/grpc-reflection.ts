// Server reflection (grpc.reflection.v1 and v1alpha) so grpcurl and similar
// tools can call a service without its .proto files.
import type * as grpc from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';

/** Describes every service and message of the given package definitions. */
export function addReflectionService(server: grpc.Server, definitions: readonly PackageDefinition[]): void {
  new ReflectionService(Object.assign({}, ...definitions)).addToServer(server);
}
