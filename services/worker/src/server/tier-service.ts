// WorkerControl.Spill / Restore (proto/chunkmesh/v1/worker_tiers.proto):
// explicit tier moves of a cached prompt, for the kv.spill / kv.restore jobs,
// through the engine (Engine.spill / restore: between steps, their tree
// events reported at once, so the router's index shows the move without
// waiting for the next request; a draining worker restores nothing). The
// reply lists which of the prompt's chunk keys are in the tier moved to.
import {
  FailedPrecondition,
  InvalidArgument,
  type Logger,
  type TierMoveRequest,
  type TierMoveResponse,
  toServerError,
  type WorkerControlHandlers,
} from '@chunkmesh/common';
import type { KvTier } from '@chunkmesh/native';
import type * as grpc from '@grpc/grpc-js';
import type { WorkerRuntime } from '../worker-runtime.ts';
import { controlInput } from './control-input.ts';

export interface TierServiceOptions {
  runtime: WorkerRuntime;
  workerId: string;
  epoch: string;
  log: Logger;
}

type Call = grpc.ServerUnaryCall<TierMoveRequest, TierMoveResponse>;

export function tierHandlers(o: TierServiceOptions): Pick<WorkerControlHandlers, 'spill' | 'restore'> {
  const { runtime } = o;

  /** The prompt, once the worker has the tier the call moves chunks through (the host; for a disk spill, a writable disk). */
  async function prompt(call: Call, toDisk = false): Promise<number[]> {
    const stats = runtime.cache.stats();
    if (stats.hostCapacityChunks === 0)
      throw new FailedPrecondition(
        'no host tier: this worker keeps every chunk on the device (--kv-host-bytes)',
      );
    if (toDisk && stats.diskCapacityChunks === 0)
      throw new FailedPrecondition('no disk tier (--kv-disk-dir)');
    if (toDisk && stats.diskFailed)
      throw new FailedPrecondition('the disk tier takes no more writes (a write failed)');
    const abort = new AbortController();
    call.on('cancelled', () => abort.abort());
    const input = await controlInput(call.request, runtime, abort.signal);
    return input.promptTokens;
  }

  /** The prompt's cached chunk keys that are in `tier` now (its path in the tree, not the whole tree). */
  async function keysIn(tier: KvTier, tokens: number[], tenant: string): Promise<string[]> {
    const path = await runtime.cache.pathTiers(tokens, tenant);
    return Array.from(
      path.keys.filter((_, i) => path.tiers[i] === tier),
      String,
    );
  }

  function answer(
    work: () => Promise<Omit<TierMoveResponse, 'workerId' | 'epoch'>>,
    cb: grpc.sendUnaryData<TierMoveResponse>,
  ) {
    work().then(
      (r) => cb(null, { ...r, workerId: o.workerId, epoch: o.epoch }),
      (err: unknown) => {
        o.log.debug('tier move refused', { error: (err as Error).message });
        cb(toServerError(err));
      },
    );
  }

  return {
    spill(call, callback) {
      answer(async () => {
        const tier = call.request.tier || 'host';
        if (tier !== 'host' && tier !== 'disk')
          throw new InvalidArgument(`tier must be host or disk, not ${JSON.stringify(tier)}`);
        const tokens = await prompt(call, tier === 'disk');
        const r = await runtime.engine.spill(tokens, call.request.tenant, tier === 'disk');
        return {
          promptTokens: tokens.length,
          matchedTokens: r.matchedTokens,
          movedTokens: r.movedTokens,
          stayedTokens: r.stayedTokens,
          chunkKeys: await keysIn(tier, tokens, call.request.tenant),
        };
      }, callback);
    },
    restore(call, callback) {
      answer(async () => {
        const tokens = await prompt(call);
        const { matchedTokens: matched, movedTokens: moved } = await runtime.engine.restore(
          tokens,
          call.request.tenant,
        );
        const onDevice = await keysIn('device', tokens, call.request.tenant);
        return {
          promptTokens: tokens.length,
          matchedTokens: matched,
          movedTokens: moved,
          stayedTokens: matched - onDevice.length * runtime.cache.chunkTokens,
          chunkKeys: onDevice,
        };
      }, callback);
    },
  };
}
