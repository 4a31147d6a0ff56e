// Why a job attempt failed, in the bounded set the metrics count, and whether
// retrying can help: a payload that does not fit its schema never will
// (BullMQ's UnrecoverableError ends the job at once); the rest are retried
// with backoff.
import { status } from '@grpc/grpc-js';
import { UnrecoverableError } from 'bullmq';
import { JobPayloadError } from '../payloads.ts';
import type { FailureReason } from './job-metrics.ts';

/** A failure the processor names the reason of. */
export class JobFailure extends Error {
  override name = 'JobFailure';
  constructor(
    readonly reason: FailureReason,
    message: string,
  ) {
    super(message);
  }
}

/** A failure no retry can mend, so BullMQ ends the job at once (an UnrecoverableError), with its reason. */
export class FinalJobFailure extends UnrecoverableError {
  constructor(
    readonly reason: FailureReason,
    message: string,
  ) {
    super(message);
  }
}

/** The error to throw from a processor: payload errors become final. */
export function asProcessorError(err: unknown): Error {
  if (err instanceof JobPayloadError)
    return new FinalJobFailure('invalid_payload', `invalid payload: ${err.message}`);
  return err instanceof Error ? err : new Error(String(err));
}

/** Whether BullMQ will not try the job again whatever attempts are left. */
export function isFinal(err: Error): boolean {
  return err instanceof UnrecoverableError;
}

export function failureReason(err: Error): FailureReason {
  if (err instanceof JobFailure || err instanceof FinalJobFailure) return err.reason;
  const code = (err as { code?: unknown }).code;
  if (code === status.UNAVAILABLE) return 'worker_unavailable';
  if (code === status.DEADLINE_EXCEEDED) return 'timeout';
  return 'error';
}
