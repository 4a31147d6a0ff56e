// Errors the native core raises, as types: callers branch with instanceof and
// map them to gRPC / HTTP statuses in one place (services/common).

export class ChunkmeshNativeError extends Error {
  override name = 'ChunkmeshNativeError';
}

/** Wrong shape, bad option, token outside the vocabulary, use after dispose(). */
export class InvalidArgumentError extends ChunkmeshNativeError {
  override name = 'InvalidArgumentError';
}

/** A sequence id that was never created or was already released. */
export class UnknownSequenceError extends ChunkmeshNativeError {
  override name = 'UnknownSequenceError';
}

/** The chunk pool is full and every chunk in it is pinned by a running sequence; or out of device memory. */
export class CapacityExhaustedError extends ChunkmeshNativeError {
  override name = 'CapacityExhaustedError';
}

/** The device asked for cannot be used here: not built with CUDA, no GPU or driver, not implemented. */
export class DeviceUnavailableError extends ChunkmeshNativeError {
  override name = 'DeviceUnavailableError';
}

/** An imported chunk's key is not what its tokens and salt give, or its bytes fail their checksum. */
export class ChunkMismatchError extends ChunkmeshNativeError {
  override name = 'ChunkMismatchError';
}

const byCode: Record<string, new (message: string) => ChunkmeshNativeError> = {
  CM_INVALID_ARGUMENT: InvalidArgumentError,
  CM_UNKNOWN_SEQUENCE: UnknownSequenceError,
  CM_CAPACITY_EXHAUSTED: CapacityExhaustedError,
  CM_DEVICE_UNAVAILABLE: DeviceUnavailableError,
  CM_CHUNK_MISMATCH: ChunkMismatchError,
};

/** The addon's coded error as the typed class above; anything else as it is. */
export function translatedError(err: unknown): unknown {
  const code = (err as { code?: unknown }).code;
  const Type = typeof code === 'string' ? byCode[code] : undefined;
  return Type ? new Type((err as Error).message) : err;
}

/** Runs fn, re-throwing the addon's coded errors as the typed classes above. */
export function translated<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw translatedError(err);
  }
}

/**
 * Starts an addon call that returns a promise and awaits it, re-throwing its coded errors as the
 * typed classes above: a rejection, or a refusal thrown before the promise is made (arguments).
 */
export async function rejectTranslated<T>(start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    throw translatedError(err);
  }
}
