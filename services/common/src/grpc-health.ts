// grpc.health.v1 on a server: one switch for the whole process, because a
// worker or router is either able to take requests or not (model loading,
// draining); per-service statuses would only be copies of it.
import type * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { HealthImplementation, protoPath } from 'grpc-health-check';

/** The health proto, for reflection (see grpc-reflection.ts) and health clients. */
export const healthPackageDefinition = loadSync(protoPath, { keepCase: true, enums: String });

export interface HealthSwitch {
  setServing(serving: boolean): void;
}

/**
 * Adds grpc.health.v1.Health answering for the server as a whole ("") and for
 * each named service. Starts NOT_SERVING: call setServing(true) once ready.
 */
export function addHealthService(server: grpc.Server, services: readonly string[]): HealthSwitch {
  const names = ['', ...services];
  const health = new HealthImplementation(Object.fromEntries(names.map((n) => [n, 'NOT_SERVING'])));
  health.addToServer(server);
  return {
    setServing(serving) {
      for (const name of names) health.setStatus(name, serving ? 'SERVING' : 'NOT_SERVING');
    },
  };
}
