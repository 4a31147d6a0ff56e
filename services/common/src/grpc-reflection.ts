// Server reflection (grpc.reflection.v1 and v1alpha) so grpcurl, Postman and
// clients built from reflection can call a service without its .proto files.
// What it serves must read like the .proto itself: the services' own package
// definitions have camelCase field names (keepCase: false, proto.ts) and files
// named after their package, so reflection gets a definition of its own.
import type * as grpc from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
// CommonJS without named exports Node can see.
import descriptor from 'protobufjs/ext/descriptor/index.js';

const { FileDescriptorProto } = descriptor;

/** Describes every service and message of the given package definitions. */
export function addReflectionService(server: grpc.Server, definitions: readonly PackageDefinition[]): void {
  new ReflectionService(Object.assign({}, ...definitions)).addToServer(server);
}

/**
 * `file` (a path under includeDirs, e.g. chunkmesh/v1/generation.proto) as reflection should
 * serve it: the field names its .proto gives (max_tokens, not maxTokens), and the file under
 * that path (proto-loader names it after its package, chunkmesh_v1.proto).
 */
export function reflectionDefinition(file: string, includeDirs: string[]): PackageDefinition {
  const definition = loadSync(file, { keepCase: true, includeDirs });
  const renamed = new Map<Buffer, Buffer>();
  const rename = (bytes: Buffer): Buffer => {
    let out = renamed.get(bytes);
    if (!out) {
      const fd = FileDescriptorProto.decode(bytes) as unknown as { name: string };
      fd.name = file;
      out = Buffer.from(FileDescriptorProto.encode(fd).finish());
      renamed.set(bytes, out);
    }
    return out;
  };
  for (const entry of Object.values(definition)) {
    const withFiles = entry as { fileDescriptorProtos?: Buffer[] };
    if (Array.isArray(withFiles.fileDescriptorProtos))
      withFiles.fileDescriptorProtos = withFiles.fileDescriptorProtos.map(rename);
  }
  return definition;
}
