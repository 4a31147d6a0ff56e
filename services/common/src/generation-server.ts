// A gRPC server serving chunkmesh.v1.Generation (and, on workers,
// chunkmesh.v1.WorkerControl) the way every chunkmesh
// service does: with grpc.health.v1 (NOT_SERVING until the caller says so)
// and reflection. Handlers may depend on the bound port (a worker names
// itself after it), so they are built once it is known. stop() is the one
// way these servers end: no new calls, health watchers let go, calls in
// progress get until a deadline and are cancelled past it.
import * as grpc from '@grpc/grpc-js';
import { addHealthService, type HealthSwitch, healthPackageDefinition } from './grpc-health.ts';
import { addReflectionService, reflectionDefinition } from './grpc-reflection.ts';
import {
  addGenerationService,
  GENERATION_PROTO,
  GENERATION_SERVICE,
  type GenerateRequest,
  type GenerationHandlers,
  PROTO_ROOT,
} from './proto.ts';
import {
  addWorkerControlService,
  WORKER_CONTROL_PROTO,
  WORKER_CONTROL_SERVICE,
  type WorkerControlHandlers,
} from './worker-control.ts';

const reflected = reflectionDefinition(GENERATION_PROTO, [PROTO_ROOT]);
// Workers serve WorkerControl too. Its file imports the contract, so its definition describes both;
// the contract's own comes after it, so Generation's symbols are still served as generation.proto.
const reflectedControl = reflectionDefinition(WORKER_CONTROL_PROTO, [PROTO_ROOT]);

export interface GenerationServer {
  server: grpc.Server;
  port: number;
  health: HealthSwitch;
  /**
   * NOT_SERVING, Watch streams ended, no new calls; resolves once the calls in progress have
   * ended, cancelling those still open after graceMs.
   */
  stop(graceMs: number): Promise<void>;
}

export async function serveGeneration(options: {
  host: string;
  port: number;
  handlers: (port: number) => GenerationHandlers;
  /** Workers: chunkmesh.v1.WorkerControl on the same server, under the same credentials. */
  control?: (port: number) => WorkerControlHandlers;
  /** TLS (tls/grpc-credentials.ts); default plaintext. */
  credentials?: grpc.ServerCredentials;
  /** Largest request message accepted (grpc-js's default is 4 MiB); larger is RESOURCE_EXHAUSTED. */
  maxMessageBytes?: number;
}): Promise<GenerationServer> {
  const server = new grpc.Server(
    options.maxMessageBytes !== undefined
      ? { 'grpc.max_receive_message_length': options.maxMessageBytes }
      : {},
  );
  const credentials = options.credentials ?? grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${options.host}:${options.port}`, credentials, (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  addGenerationService(server, options.handlers(port));
  if (options.control) addWorkerControlService(server, options.control(port));
  const health = addHealthService(server, [
    GENERATION_SERVICE,
    ...(options.control ? [WORKER_CONTROL_SERVICE] : []),
  ]);
  addReflectionService(server, [
    ...(options.control ? [reflectedControl] : []),
    reflected,
    healthPackageDefinition,
  ]);
  const stop = async (graceMs: number) => {
    health.close();
    const force = setTimeout(() => server.forceShutdown(), graceMs);
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    clearTimeout(force);
  };
  return { server, port, health, stop };
}

/** The caller's deadline as ms since the epoch, or undefined when it set none. */
export function callDeadline(call: grpc.ServerWritableStream<GenerateRequest, unknown>): number | undefined {
  const d = call.getDeadline();
  const ms = d instanceof Date ? d.getTime() : d;
  return Number.isFinite(ms) ? ms : undefined;
}
