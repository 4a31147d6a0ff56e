// Continuous batching over the prefix-tree cache. Each step feeds every
// decoding sequence its last token and fills the rest of the token budget with
// prompt chunks of sequences still prefilling; the model runs off the JS
// thread; logits come back for the last token of each sequence.

import { ResourceExhausted, Unavailable } from '@chunkmesh/common';
import { TextStream, type Tokenizer } from '@chunkmesh/model';
import { CapacityExhaustedError, type KvCache } from '@chunkmesh/native';
import type {
  EngineObserver,
  EngineOptions,
  FinishReason,
  GenerateEvent,
  GenerateInput,
  StepModel,
} from './engine-types.ts';
import { EventQueue } from './event-queue.ts';
import { RequestState } from './request-state.ts';
import { Sampler } from './sampling.ts';
import { StopMatcher } from './stop-matcher.ts';

export class Engine {
  private readonly waiting: RequestState[] = [];
  private readonly running: RequestState[] = [];
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private draining = false;

  constructor(
    private readonly model: StepModel,
    private readonly cache: KvCache,
    private readonly tokenizer: Tokenizer,
    private readonly options: EngineOptions,
    private readonly observer: EngineObserver = {},
  ) {}

  /** Tokens queued and running, for load reports: what a router weighs against cached prefix. */
  load(): { waitingRequests: number; runningRequests: number; queuedTokens: number; runningTokens: number } {
    return {
      waitingRequests: this.waiting.length,
      runningRequests: this.running.length,
      queuedTokens: this.waiting.reduce((n, r) => n + r.context.length, 0),
      runningTokens: this.running.reduce((n, r) => n + r.context.length + r.output.length, 0),
    };
  }

  /**
   * Streams a request's tokens, then one final event. Throws ResourceExhausted at once
   * when the wait queue is full or the request could never fit in the pool.
   */
  generate(input: GenerateInput): AsyncIterable<GenerateEvent> {
    // a draining worker is going away, not busy: routers retry UNAVAILABLE elsewhere at once
    if (this.stopping || this.draining) throw new Unavailable('worker is shutting down');
    if (this.waiting.length >= this.options.maxQueue) {
      throw new ResourceExhausted(`wait queue full (${this.options.maxQueue} requests)`);
    }
    const need = this.chunksFor(input.promptTokens.length + input.maxTokens);
    if (need > this.cache.capacityChunks) {
      throw new ResourceExhausted(
        `prompt plus max tokens need ${need} KV chunks; the pool holds ${this.cache.capacityChunks}`,
      );
    }
    const queue = new EventQueue<GenerateEvent>();
    const state = new RequestState(
      input,
      new Sampler(input.sampling),
      new StopMatcher(input.stopStrings),
      new TextStream(this.tokenizer, input.promptTokens),
      (e) => queue.push(e),
    );
    const cancel = () => {
      state.cancelled = true;
      this.wake?.();
    };
    input.signal?.addEventListener('abort', cancel, { once: true });
    queue.onClose(() => {
      input.signal?.removeEventListener('abort', cancel);
      cancel();
    });
    this.waiting.push(state);
    this.ensureLoop();
    return queue;
  }

  /** Stops admitting; waits up to graceMs for running work, then cancels what is left. */
  async shutdown(graceMs: number): Promise<void> {
    this.draining = true;
    const deadline = Date.now() + graceMs;
    while ((this.running.length > 0 || this.waiting.length > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const r of [...this.waiting, ...this.running]) r.cancelled = true;
    this.stopping = true;
    this.wake?.();
    await this.loop;
  }

  private chunksFor(tokens: number): number {
    return Math.ceil(tokens / this.cache.chunkTokens);
  }

  private ensureLoop(): void {
    if (this.wake) this.wake();
    if (!this.loop) {
      this.loop = this.run().finally(() => {
        this.loop = undefined;
      });
    }
  }

  private async run(): Promise<void> {
    for (;;) {
      this.reap();
      this.admit();
      if (this.running.length === 0) {
        if (this.stopping || this.waiting.length === 0) return;
        // Nothing admitted though requests wait: capacity is short; wait for a change.
        await new Promise<void>((r) => {
          this.wake = r;
          setTimeout(r, 50);
        });
        this.wake = undefined;
        continue;
      }
      await this.step();
    }
  }

  /** Finishes requests that were cancelled or ran past their deadline. */
  private reap(): void {
    const now = Date.now();
    for (const r of [...this.running, ...this.waiting]) {
      if (r.cancelled) this.finish(r, 'cancelled');
      else if (r.input.deadline !== undefined && now > r.input.deadline) this.finish(r, 'deadline');
    }
  }

  /** Admits waiting requests, oldest first, while their uncached prompt fits in reclaimable chunks. */
  private admit(): void {
    while (this.waiting.length > 0 && this.running.length < this.options.maxBatch) {
      const r = this.waiting[0] as RequestState;
      const match = this.options.prefixSharing ? Math.max(0, r.context.length - 1) : 0;
      const cachedGuess = match > 0 ? Math.min(this.cache.matchLength(r.context, r.input.salt), match) : 0;
      const s = this.cache.stats();
      // keep one chunk per running sequence free for its decode growth
      const spare = s.freeChunks + s.cachedNodes - this.running.length;
      if (this.chunksFor(r.context.length - cachedGuess) + 1 > spare && this.running.length > 0) return;
      this.waiting.shift();
      const { seqId, cachedTokens } = this.cache.addSequence(r.context, {
        // without prefix sharing every request gets a salt of its own, so the tree cannot
        // adopt another request's twin chunks at commit either: nothing is shared
        salt: this.options.prefixSharing ? r.input.salt : `${r.input.salt}\u0000${r.input.requestId}`,
        maxMatchTokens: match,
      });
      r.seqId = seqId;
      r.cached = cachedTokens;
      if (r.cachedPromptTokens < 0) {
        r.cachedPromptTokens = cachedTokens;
        this.observer.onAdmit?.(r.input.promptTokens.length, cachedTokens);
      }
      r.phase = 'prefill';
      this.running.push(r);
    }
  }

  /** Appends, preempting the newest other sequences by recompute when the pool is full. */
  private appendOrPreempt(r: RequestState, tokens: number[]): boolean {
    for (;;) {
      try {
        this.cache.append(r.seqId, tokens);
        return true;
      } catch (err) {
        if (!(err instanceof CapacityExhaustedError)) throw err;
        const victim = [...this.running].reverse().find((v) => v !== r && v.seqId >= 0);
        if (!victim) {
          this.preempt(r);
          return false;
        }
        this.preempt(victim);
      }
    }
  }

  private preempt(r: RequestState): void {
    this.cache.release(r.seqId);
    r.seqId = -1;
    if (r.pending >= 0) {
      r.context = [...r.input.promptTokens, ...r.output];
      r.pending = -1;
    }
    r.cached = 0;
    r.phase = 'waiting';
    this.running.splice(this.running.indexOf(r), 1);
    this.waiting.unshift(r);
    this.observer.onPreempt?.();
  }

  private async step(): Promise<void> {
    const t0 = performance.now();
    const entries: { r: RequestState; tokens: number[] }[] = [];
    let budget = this.options.stepTokens;
    for (const r of [...this.running]) {
      if (r.phase !== 'decode' || r.seqId < 0 || !this.appendOrPreempt(r, [r.pending])) continue;
      entries.push({ r, tokens: [r.pending] });
      budget--;
    }
    for (const r of [...this.running]) {
      if (r.phase !== 'prefill' || r.seqId < 0) continue;
      // always make progress: a step with no decode work takes at least one prompt token
      const n = Math.min(r.remainingPrefill, Math.max(budget, entries.length === 0 ? 1 : 0));
      if (n <= 0) break;
      const chunk = r.context.slice(r.cached, r.cached + n);
      if (!this.appendOrPreempt(r, chunk)) continue;
      entries.push({ r, tokens: chunk });
      budget -= n;
    }
    // preemption may have evicted sequences placed earlier in this step
    const live = entries.filter(({ r }) => r.seqId >= 0);
    if (live.length === 0) return;
    let logits: Float32Array;
    try {
      logits = await this.model.step(
        Uint32Array.from(live.map(({ r }) => r.seqId)),
        Int32Array.from(live.flatMap(({ tokens }) => tokens)),
        Uint32Array.from(live.map(({ tokens }) => tokens.length)),
        this.options.prefixSharing ? 'tpp' : 'baseline',
      );
    } catch (err) {
      for (const { r } of live) this.finish(r, 'error', err as Error);
      return;
    }
    const vocab = this.model.vocabSize;
    live.forEach(({ r, tokens }, i) => {
      if (r.phase === 'prefill') {
        r.cached += tokens.length;
        if (r.remainingPrefill > 0) return;
        r.phase = 'decode';
      } else {
        r.cached += 1;
      }
      this.accept(r, r.sampler.sample(logits.subarray(i * vocab, (i + 1) * vocab)));
    });
    const events = this.cache.drainEvents();
    if (events.length > 0) this.observer.onKvEvents?.(events);
    this.observer.onStep?.(
      live.length,
      performance.now() - t0,
      this.waiting.length,
      live.reduce((n, { tokens }) => n + tokens.length, 0),
    );
  }

  /** Takes a sampled token: emit it, or finish on a stop token, stop string or length. */
  private accept(r: RequestState, token: number): void {
    const now = performance.now();
    if (r.output.length === 0 && r.lastTokenAt === 0) this.observer.onFirstToken?.(now - r.arrived);
    else this.observer.onToken?.(now - r.lastTokenAt);
    r.lastTokenAt = now;
    if (r.input.eosTokenIds.includes(token)) {
      this.finish(r, 'stop');
      return;
    }
    r.output.push(token);
    const { emit, stopped } = r.stops.push(r.text.push(token));
    r.push({ type: 'tokens', ids: [token], text: emit });
    if (stopped || r.input.stopTokenIds.includes(token)) {
      this.finish(r, 'stop');
      return;
    }
    const atLimit =
      r.output.length >= r.input.maxTokens ||
      r.input.promptTokens.length + r.output.length >= this.model.maxSeqLen;
    if (atLimit) {
      this.finish(r, 'length');
      return;
    }
    r.pending = token;
  }

  private finish(r: RequestState, reason: FinishReason, error?: Error): void {
    if (r.seqId >= 0) this.cache.release(r.seqId);
    r.seqId = -1;
    const i = this.running.indexOf(r);
    if (i >= 0) this.running.splice(i, 1);
    const w = this.waiting.indexOf(r);
    if (w >= 0) this.waiting.splice(w, 1);
    if (reason !== 'stop') {
      const held = r.stops.push(r.text.flush()).emit + r.stops.flush();
      if (held) r.push({ type: 'tokens', ids: [], text: held });
    }
    r.push({
      type: 'final',
      finishReason: reason,
      usage: {
        promptTokens: r.input.promptTokens.length,
        completionTokens: r.output.length,
        cachedPromptTokens: Math.max(0, r.cachedPromptTokens),
      },
      ...(error ? { error } : {}),
    });
    this.observer.onFinish?.(performance.now() - r.arrived, reason);
  }
}
