// grpc.health.v1 on a server: one switch for the whole process, because a
// worker or router is either able to take requests or not (model loading,
// draining); per-service statuses would only be copies of it.
//
// Watch streams never end by themselves, and a server's graceful shutdown
// waits for every open call: close() ends them (after they have been told
// NOT_SERVING), so a health watcher never holds a stopping process.
import type * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { HealthImplementation, protoPath } from 'grpc-health-check';

/** The health proto, for reflection (see grpc-reflection.ts) and health clients. */
export const healthPackageDefinition = loadSync(protoPath, { keepCase: true, enums: String });

export interface HealthSwitch {
  setServing(serving: boolean): void;
  /** NOT_SERVING, then ends every open Watch stream with OK; later setServing calls do nothing. */
  close(): void;
}

type Handlers = Record<string, (...args: never[]) => void>;

/**
 * Adds grpc.health.v1.Health answering for the server as a whole ("") and for
 * each named service. Starts NOT_SERVING: call setServing(true) once ready.
 */
export function addHealthService(server: grpc.Server, services: readonly string[]): HealthSwitch {
  const names = ['', ...services];
  const health = new HealthImplementation(Object.fromEntries(names.map((n) => [n, 'NOT_SERVING'])));
  const watches = new Set<grpc.ServerWritableStream<unknown, unknown>>();
  let closed = false;
  // The library's handlers, with each Watch call kept until it ends so close() can end it.
  health.addToServer({
    addService(service: grpc.ServiceDefinition, handlers: Handlers) {
      const watch = handlers.watch as (call: grpc.ServerWritableStream<unknown, unknown>) => void;
      server.addService(service, {
        ...handlers,
        watch(call: grpc.ServerWritableStream<unknown, unknown>) {
          watches.add(call);
          call.on('cancelled', () => watches.delete(call));
          watch(call);
        },
      } as grpc.UntypedServiceImplementation);
    },
  } as unknown as grpc.Server);
  const set = (serving: boolean) => {
    for (const name of names) health.setStatus(name, serving ? 'SERVING' : 'NOT_SERVING');
  };
  return {
    setServing(serving) {
      if (!closed) set(serving);
    },
    close() {
      if (closed) return;
      set(false);
      closed = true;
      for (const call of watches) call.end();
      watches.clear();
    },
  };
}
