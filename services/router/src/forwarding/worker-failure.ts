// What a client is told when a call to a worker fails. The gRPC library's
// own messages quote internal addresses and socket errors ("No connection
// established. Last error: connect ECONNREFUSED 10.0.3.7:50061"), so a
// client hears the worker's id and the status code instead, and the log gets
// the details. Refusals a worker writes itself about the request (bad input,
// a full queue, no such thing) carry chunkmesh's own messages and the param
// at fault, and pass through as they are.
import * as grpc from '@grpc/grpc-js';

const OWN_WORDS = new Set([
  grpc.status.INVALID_ARGUMENT,
  grpc.status.OUT_OF_RANGE,
  grpc.status.FAILED_PRECONDITION,
  grpc.status.NOT_FOUND,
  grpc.status.RESOURCE_EXHAUSTED,
]);

/** How a failure is named in a message to the client: its code, and its words when they are safe. */
export function describeFailure(err: grpc.ServiceError): string {
  const code = grpc.status[err.code] ?? 'UNKNOWN';
  return OWN_WORDS.has(err.code) ? `${code}: ${err.details}` : code;
}

/**
 * The error to answer a client with for a worker's failure before any token: the same status,
 * with words that are safe to show (see OWN_WORDS).
 */
export function clientFacing(workerId: string, err: grpc.ServiceError): grpc.ServiceError {
  if (OWN_WORDS.has(err.code)) return err;
  return serviceError(err.code, `worker ${workerId} failed (${describeFailure(err)})`);
}

/** A hung attempt, as the retry logic sees it: unavailable, before any token. */
export function noFirstToken(timeoutMs: number): grpc.ServiceError {
  return serviceError(grpc.status.UNAVAILABLE, `no first token within ${timeoutMs} ms`);
}

function serviceError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}
