// WorkerControl.ResidentKeys (proto/chunkmesh/v1/worker_resident.proto): the
// keys the native tree holds now, per tier, read on the cache's owner thread
// without the JavaScript thread waiting (not the reporter's mirror: the index
// reconcile checks the report against the tree itself), and on request a
// resync of the report first.
import {
  FailedPrecondition,
  type Logger,
  toServerError,
  type WorkerControlHandlers,
} from '@chunkmesh/common';
import type { KvCache } from '@chunkmesh/native';
import type { KvReporter } from '../reporting/kv-reporter.ts';

export interface ResidentServiceOptions {
  cache: KvCache;
  /** Undefined when the worker reports to no Redis. */
  reporter: () => KvReporter | undefined;
  workerId: string;
  epoch: string;
  log: Logger;
}

export function residentHandlers(o: ResidentServiceOptions): Pick<WorkerControlHandlers, 'residentKeys'> {
  return {
    residentKeys(call, callback) {
      (async () => {
        if (call.request.resync) {
          const reporter = o.reporter();
          if (!reporter) throw new FailedPrecondition('this worker reports to no Redis: nothing to resync');
          try {
            await reporter.forceResync();
          } catch (err) {
            throw new FailedPrecondition(`resync failed: ${(err as Error).message}`);
          }
          o.log.info('report resynchronised on request (index.reconcile)');
        }
        const keys = await o.cache.residentKeys();
        return {
          workerId: o.workerId,
          epoch: o.epoch,
          device: Array.from(keys.device, String),
          host: Array.from(keys.host, String),
          disk: Array.from(keys.disk, String),
        };
      })().then(
        (r) => callback(null, r),
        (err: unknown) => callback(toServerError(err)),
      );
    },
  };
}
