// Service errors as types: code throws them, and status.ts turns them (and
// the native core's typed errors) into gRPC and HTTP statuses in one place.
import { status } from '@grpc/grpc-js';

/** An error whose gRPC status is known where it is thrown. */
export abstract class StatusError extends Error {
  abstract readonly code: status;
}

/** The request itself is wrong; retrying it anywhere fails the same way. */
export class InvalidArgument extends StatusError {
  override name = 'InvalidArgument';
  readonly code = status.INVALID_ARGUMENT;
  /** The request field at fault, as the OpenAI error shape reports it. */
  readonly param: string | null;

  constructor(message: string, options: { param?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.param = options.param ?? null;
  }
}

/** Out of KV capacity, queue space or quota; the caller may retry later. */
export class ResourceExhausted extends StatusError {
  override name = 'ResourceExhausted';
  readonly code = status.RESOURCE_EXHAUSTED;
  /** When a retry can succeed, if known (a tenant's rate limit refills at a known pace). */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: { retryAfterMs?: number } = {}) {
    super(message);
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** No valid credentials: the API key is missing, malformed or unknown. */
export class Unauthenticated extends StatusError {
  override name = 'Unauthenticated';
  readonly code = status.UNAUTHENTICATED;
}

/** Valid credentials that do not allow this (another tenant, an admin call without the admin role). */
export class PermissionDenied extends StatusError {
  override name = 'PermissionDenied';
  readonly code = status.PERMISSION_DENIED;
}

/** No worker (or dependency) can take the request right now. */
export class Unavailable extends StatusError {
  override name = 'Unavailable';
  readonly code = status.UNAVAILABLE;
}

export class DeadlineExceeded extends StatusError {
  override name = 'DeadlineExceeded';
  readonly code = status.DEADLINE_EXCEEDED;
}

/** The target is not in a state the call needs (a worker not reporting to Redis, a cache without the tier asked for). */
export class FailedPrecondition extends StatusError {
  override name = 'FailedPrecondition';
  readonly code = status.FAILED_PRECONDITION;
}

/** A model, worker or session the request names does not exist. */
export class NotFound extends StatusError {
  override name = 'NotFound';
  readonly code = status.NOT_FOUND;
}

/**
 * A failure HTTP has a status for and gRPC has none (405 wrong method, 413 body too large):
 * raised by the HTTP endpoints only, answered in the same JSON error shape as the rest.
 */
export class HttpOnlyError extends Error {
  override name = 'HttpOnlyError';

  constructor(
    readonly httpStatus: 405 | 413,
    /** The OpenAI error body's code, e.g. method_not_allowed. */
    readonly code: string,
    message: string,
    /** Reply headers it needs (405: allow; 413: connection close, the body left unread). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
