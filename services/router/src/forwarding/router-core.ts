// The routing path of one request: chunk keys from the prompt, a placement
// over the live workers, the forwarded stream back. A worker that fails before
// its first token is retried on the next best one (never after: the caller
// already has tokens, so that surfaces as UNAVAILABLE); a worker that keeps
// failing is circuit-broken; a cluster with every queue full answers
// RESOURCE_EXHAUSTED. Running out of the caller's time is DEADLINE_EXCEEDED
// however it shows (the worker's status, our own call's timer, or a final the
// worker cut short), never a retryable UNAVAILABLE or a cut-short success.
// A worker that gives no first token within firstTokenTimeoutMs (hung,
// stopped, partitioned without a reset) is a failure like any other before
// the first token: cancelled there and retried elsewhere. Messages to the
// client name workers by id, never by address (worker-failure.ts). Placement
// weighs each worker's reported load plus what this router has forwarded
// since (forwarded-load.ts).

import {
  DeadlineExceeded,
  type Final,
  type GenerateResponse,
  type Init,
  type Logger,
  ResourceExhausted,
  type SamplingParams,
  type TokenLogprob,
  Unavailable,
} from '@chunkmesh/common';
import * as grpc from '@grpc/grpc-js';
import type { ClusterIndex } from '../index/cluster-index.ts';
import { readiness } from '../index/readiness.ts';
import type { FrontDoor, RouterMetrics } from '../metrics/router-metrics.ts';
import { type DecideOptions, decide } from '../placement/decide.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';
import type { ForwardedLoad } from './forwarded-load.ts';
import { placementPool } from './placement-pool.ts';
import type { SessionTable } from './session-table.ts';
import type { WorkerChannels } from './worker-channels.ts';
import { clientFacing, describeFailure, noFirstToken } from './worker-failure.ts';

export interface RouteRequest {
  promptTokens: number[];
  /** The same ids, checked (checkedPrompt), for the chunk keys. */
  promptIds: Int32Array;
  /** Where it came in, and when (performance.now()): the forward-time metric's start. */
  door: FrontDoor;
  arrivedAt: number;
  /**
   * Told the forward time (arrival to the first worker's call started), once, as the metric is,
   * and when the first attempt was placed (performance.now(): its decision made, its call not yet).
   */
  onForwarded?: (seconds: number, placedAt: number) => void;
  sampling: Init<SamplingParams>;
  tenant: string;
  sessionId: string;
  requestId: string;
  /** Absolute deadline (ms since epoch), propagated to the worker. */
  deadline?: number;
  signal: AbortSignal;
}

export type RouteEvent =
  | { type: 'delta'; tokenIds: number[]; text: string; index: number; logprobs: TokenLogprob[] }
  | { type: 'final'; final: Final };

/** Placement (the index, policy, the router's cluster constants, speculation) plus forwarding. */
export interface RouterCoreOptions extends DecideOptions {
  index: Pick<ClusterIndex, 'workers' | 'incompatibleWorkers' | 'longestPrefix' | 'speculate'>;
  channels: WorkerChannels;
  breaker: CircuitBreaker;
  sessions: SessionTable;
  forwarded: ForwardedLoad;
  metrics: RouterMetrics;
  /** An attempt without a first token after this long is cancelled and retried elsewhere (0: no limit). */
  firstTokenTimeoutMs: number;
  /** Further workers tried after the first fails before producing a token. */
  maxRetries: number;
  /** Requests in flight at most; more get RESOURCE_EXHAUSTED. */
  maxInflight: number;
  log: Logger;
}

// Failures that say nothing about the request itself: another worker may serve it.
const RETRIABLE = new Set([
  grpc.status.UNAVAILABLE,
  grpc.status.RESOURCE_EXHAUSTED,
  grpc.status.INTERNAL,
  grpc.status.UNKNOWN,
]);
// Of those, the ones that count against the worker's health (a full queue is load, not failure).
const UNHEALTHY = new Set([grpc.status.UNAVAILABLE, grpc.status.INTERNAL, grpc.status.UNKNOWN]);

function pastDeadline(req: RouteRequest): boolean {
  return req.deadline !== undefined && Date.now() >= req.deadline;
}

function deadlineMessage(produced: number): string {
  return `deadline exceeded after ${produced} tokens`;
}

export class RouterCore {
  private inflight = 0;

  constructor(private readonly o: RouterCoreOptions) {}

  async *route(req: RouteRequest): AsyncGenerator<RouteEvent> {
    if (this.inflight >= this.o.maxInflight) {
      this.o.metrics.rejected('router_inflight');
      throw new ResourceExhausted(
        `router has ${this.inflight} requests in flight (limit ${this.o.maxInflight})`,
      );
    }
    this.inflight++;
    try {
      yield* this.routeAdmitted(req);
    } finally {
      this.inflight--;
    }
  }

  private async *routeAdmitted(req: RouteRequest): AsyncGenerator<RouteEvent> {
    const tried = new Set<string>();
    let lastError: grpc.ServiceError | undefined;
    for (let attempt = 0; attempt <= this.o.maxRetries; attempt++) {
      const live = placementPool(this.o.index.workers(), tried, this.o.breaker, this.o.forwarded);
      if (live.length === 0) break;
      const sessionWorker = req.sessionId ? this.o.sessions.get(req.sessionId) : undefined;
      const placement = decide(
        this.o,
        { promptTokens: req.promptIds, tenant: req.tenant, sessionWorker },
        live,
      );
      const { worker } = placement;
      const placedAt = performance.now();
      this.o.metrics.decision(this.o.policy.name, placement.reason);
      if (attempt > 0) this.o.metrics.retry(lastError ? grpc.status[lastError.code] : 'unknown');
      tried.add(worker.workerId);

      const call = this.o.channels.of(worker).generate(
        {
          tokenIds: { ids: req.promptTokens },
          sampling: req.sampling,
          tenant: req.tenant,
          sessionId: req.sessionId,
          requestId: req.requestId,
        },
        new grpc.Metadata(),
        req.deadline !== undefined ? { deadline: req.deadline } : {},
      );
      if (attempt === 0) {
        const seconds = (performance.now() - req.arrivedAt) / 1000;
        this.o.metrics.forwarded(req.door, seconds);
        req.onForwarded?.(seconds, placedAt);
      }
      const cancel = () => call.cancel();
      req.signal.addEventListener('abort', cancel, { once: true });
      const finished = this.o.forwarded.forward(worker, req.promptTokens.length);
      let hung = false;
      const limit = this.o.firstTokenTimeoutMs;
      const firstToken =
        limit > 0
          ? setTimeout(() => {
              hung = true;
              call.cancel();
            }, limit)
          : undefined;
      let produced = 0;
      let ended = false;
      try {
        for await (const msg of call as AsyncIterable<GenerateResponse>) {
          // The final is the last message, and the stream's end follows at once: read to it rather
          // than leave the loop, which would destroy the stream (an AbortError made with its stack
          // trace, on every request). A stream that never ends after its final is still cut by
          // the call's deadline.
          if (ended) continue;
          clearTimeout(firstToken);
          if (msg.kind === 'delta') {
            produced += msg.delta.tokenIds.length;
            yield {
              type: 'delta',
              tokenIds: msg.delta.tokenIds,
              text: msg.delta.text,
              index: msg.delta.index,
              logprobs: msg.delta.logprobs,
            };
          } else {
            if (msg.final.finishReason === 'FINISH_REASON_CANCELLED' && pastDeadline(req)) {
              throw new DeadlineExceeded(deadlineMessage(produced));
            }
            this.o.breaker.success(worker.workerId);
            if (req.sessionId) this.o.sessions.set(req.sessionId, worker.workerId);
            this.o.metrics.completed(
              req.tenant,
              req.promptTokens.length,
              placement.predictedCachedTokens,
              msg.final.usage?.cachedPromptTokens ?? 0,
            );
            yield { type: 'final', final: msg.final };
            ended = true;
          }
        }
        if (ended) return;
        throw new Unavailable(`worker ${worker.workerId} closed the stream without a final message`);
      } catch (err) {
        // the stream failing after its final changes nothing the caller got
        if (req.signal.aborted || ended) return;
        const e = hung ? noFirstToken(this.o.firstTokenTimeoutMs) : (err as grpc.ServiceError);
        if (e.code === grpc.status.DEADLINE_EXCEEDED || pastDeadline(req)) {
          throw new DeadlineExceeded(deadlineMessage(produced));
        }
        if (produced > 0 || typeof e.code !== 'number' || !RETRIABLE.has(e.code)) {
          if (produced > 0) {
            if (UNHEALTHY.has(e.code)) this.o.breaker.failure(worker.workerId);
            this.o.log.warn('worker failed mid-stream', {
              worker: worker.workerId,
              code: grpc.status[e.code],
              details: e.details,
            });
            throw new Unavailable(
              `worker ${worker.workerId} failed after ${produced} tokens (${describeFailure(e)}); ` +
                'the tokens already streamed are what was produced',
            );
          }
          throw typeof e.code === 'number' ? clientFacing(worker.workerId, e) : err;
        }
        if (UNHEALTHY.has(e.code)) this.o.breaker.failure(worker.workerId);
        this.o.log.warn('worker failed before its first token; retrying elsewhere', {
          worker: worker.workerId,
          code: grpc.status[e.code],
          details: e.details,
        });
        lastError = clientFacing(worker.workerId, e);
      } finally {
        clearTimeout(firstToken);
        finished();
        req.signal.removeEventListener('abort', cancel);
      }
    }
    if (lastError?.code === grpc.status.RESOURCE_EXHAUSTED) {
      this.o.metrics.rejected('workers_full');
      throw new ResourceExhausted(`every worker tried is at capacity (${lastError.details})`);
    }
    this.o.metrics.rejected('no_worker');
    if (lastError) throw new Unavailable(`no worker could take the request (last: ${lastError.details})`);
    // No worker to try at all: none the router may place on, or every one circuit-broken.
    throw new Unavailable(
      readiness(this.o.index).reason ?? 'every live worker is circuit-broken after failing',
    );
  }
}
