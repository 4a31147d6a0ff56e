// The load a router has put on each worker that the worker has not reported
// yet. Heartbeats come every second or so, and the registry is read twice a
// second: between them every placement sees the same loads, and a run of
// requests all picks the same worker (one of three workers served 0 of 546
// requests in a 20 s steady run, placement moving in waves). So the router
// counts each request it forwards and has not seen finish, and adds those the
// worker's last heartbeat does not include to that heartbeat's load: a
// forwarded request waits in the worker's queue with its whole prompt, so it
// is one queued request and its prompt's tokens.
//
// Which requests a heartbeat includes: those forwarded before the router
// read it. When a worker's reported load changes (a new heartbeat), every
// request in flight to it is taken as included; until then, every one
// forwarded since. A heartbeat measured before a request arrived but read
// after it was forwarded undercounts it for one heartbeat; nothing is ever
// counted twice. Each router counts only its own requests; the others' reach
// it through the heartbeats.
//
// Invariant: an entry exists only for a worker with requests of this router
// in flight that its heartbeat does not include, so the table is bounded by
// the cluster's size (and each entry by the router's in-flight limit).
import type { WorkerLoad } from '@chunkmesh/common';
import type { WorkerView } from '../placement/placement-policy.ts';

interface Forwarded {
  /** The heartbeat load the worker reported when these were counted. */
  reported: WorkerLoad;
  /** Prompt tokens of each request in flight the heartbeat does not include, by request; never empty. */
  unreported: Map<symbol, number>;
  /** Their sum (every placement reads it). */
  tokens: number;
}

function sameLoad(a: WorkerLoad, b: WorkerLoad): boolean {
  return (
    a.queuedRequests === b.queuedRequests &&
    a.runningSequences === b.runningSequences &&
    a.queuedTokens === b.queuedTokens &&
    a.runningTokens === b.runningTokens &&
    a.freeChunks === b.freeChunks
  );
}

export class ForwardedLoad {
  private readonly byWorker = new Map<string, Forwarded>();

  /**
   * The worker with the requests forwarded to it that its heartbeat does not include yet added to
   * its load; a worker with none is returned as it is (no copy).
   */
  adjusted<W extends WorkerView>(w: W): W {
    if (this.byWorker.size === 0) return w;
    const f = this.byWorker.get(w.workerId);
    if (!f) return w;
    if (!sameLoad(f.reported, w.load)) {
      this.byWorker.delete(w.workerId);
      return w;
    }
    const load: WorkerLoad = {
      ...w.load,
      queuedRequests: w.load.queuedRequests + f.unreported.size,
      queuedTokens: w.load.queuedTokens + f.tokens,
    };
    return { ...w, load };
  }

  /**
   * Counts a request forwarded to `worker` (as its heartbeat stands: the load reported, not an
   * adjusted one) until the returned function is called, once it finishes or fails.
   */
  forward(worker: WorkerView, promptTokens: number): () => void {
    let f = this.byWorker.get(worker.workerId);
    if (!f) {
      f = { reported: worker.load, unreported: new Map(), tokens: 0 };
      this.byWorker.set(worker.workerId, f);
    }
    const entry = f;
    const id = Symbol();
    entry.unreported.set(id, promptTokens);
    entry.tokens += promptTokens;
    return () => {
      if (!entry.unreported.delete(id)) return;
      entry.tokens -= promptTokens;
      if (entry.unreported.size > 0) return;
      if (this.byWorker.get(worker.workerId) === entry) this.byWorker.delete(worker.workerId);
    };
  }
}
