// Continuous batching over the prefix-tree cache. The engine schedules; the
// native cache and model execute one whole step at a time on the cache's
// owner thread (native/src/kv/step_request.h). Each step carries, in priority
// order, the last sampled token of every decoding sequence, the remaining
// prompt of every sequence still prefilling, and the waiting requests to admit;
// the cache admits what fits, fills the token budget with prefill, and the
// model returns logits for each sequence that reached its last given token.
// Sequences finished, cancelled or preempted are released at the start of the
// next step (or by a release-only step when nothing else is due). A failure
// while choosing one request's token (its mask, sampler or constraint) ends
// that request with an error; the batch and the loop go on.

import { ResourceExhausted, Unavailable, type WorkerLoad } from '@chunkmesh/common';
import { TextStream, type Tokenizer } from '@chunkmesh/model';
import {
  CapacityExhaustedError,
  type Graft,
  type KvCache,
  type NativeKvChunk,
  type SpillResult,
  type StepEntry,
  type StepOutcome,
  type StepResult,
} from '@chunkmesh/native';
import type { Chosen } from '../sampling/token-chooser.ts';
import { TokenChooser } from '../sampling/token-chooser.ts';
import { ChoiceGroup } from './choice-group.ts';
import type {
  EngineObserver,
  EngineOptions,
  FinishReason,
  GenerateEvent,
  GenerateInput,
  StepModel,
} from './engine-types.ts';
import { EventQueue } from './event-queue.ts';
import { LookAhead } from './look-ahead.ts';
import { RequestState } from './request-state.ts';
import { StopMatcher } from './stop-matcher.ts';
import { TruncationReuse } from './truncation-reuse.ts';

export class Engine {
  private readonly waiting: RequestState[] = [];
  /** Taken from the front of `waiting` for the step in flight; back there if the cache has no room. */
  private admitting: RequestState[] = [];
  /** In admission order: the newest is preempted first. */
  private readonly running: RequestState[] = [];
  /** Sequences to release with the next step. */
  private toRelease: number[] = [];
  private loop: Promise<void> | undefined;
  private draining = false;
  /** With tiers below the device: holds and restores the prefixes of waiting requests. */
  private readonly lookAhead: LookAhead | undefined;
  /** With --kv-truncation-reuse-tokens: recent conversations, and grafts for prompts that truncated one. */
  private readonly truncation: TruncationReuse | undefined;

  constructor(
    private readonly model: StepModel,
    private readonly cache: KvCache,
    private readonly tokenizer: Tokenizer,
    private readonly options: EngineOptions,
    private readonly observer: EngineObserver = {},
  ) {
    const tiers = options.tiers;
    if (tiers && options.prefixSharing) {
      this.lookAhead = new LookAhead(
        cache,
        {
          window: tiers.lookAhead,
          rates: tiers.rates,
          restore: tiers.restore,
          matchOf: (r) => this.matchOf(r),
        },
        observer,
      );
    }
    const truncationTokens = options.truncationReuseTokens ?? 0;
    if (truncationTokens > 0 && options.prefixSharing) {
      this.truncation = new TruncationReuse(cache, {
        maxTokens: truncationTokens,
        chunkTokens: cache.chunkTokens,
        tiered: this.lookAhead !== undefined,
        wake: () => this.lookAhead?.poke(),
        drop: (ticket) => this.lookAhead?.dropLater([ticket]),
      });
    }
  }

  /** What the heartbeat reports and a router weighs against cached prefix. */
  load(): WorkerLoad {
    const queued = [...this.admitting, ...this.waiting];
    const s = this.cache.stats();
    return {
      queuedRequests: queued.length,
      runningSequences: this.running.length,
      queuedTokens: queued.reduce((n, r) => n + r.context.length, 0),
      runningTokens: this.running.reduce((n, r) => n + r.context.length + r.output.length, 0),
      freeChunks: s.freeChunks + s.cachedNodes,
    };
  }

  /**
   * Streams a request's tokens, then one final event. Throws ResourceExhausted at once
   * when the wait queue is full or the request could never fit in the pool.
   */
  generate(input: GenerateInput): AsyncIterable<GenerateEvent> {
    // a draining worker is going away, not busy: routers retry UNAVAILABLE elsewhere at once
    if (this.draining) throw new Unavailable('worker is shutting down');
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
    const choosers = input.choosers ?? [new TokenChooser({ sampling: input.sampling }, input.promptTokens)];
    const group = new ChoiceGroup(choosers.length, input.returnBest, (e) => queue.push(e));
    group.states = choosers.map(
      (chooser, i) =>
        new RequestState(
          input,
          chooser,
          new StopMatcher(input.stopStrings),
          new TextStream(this.tokenizer, input.promptTokens),
          group.sink(i),
        ),
    );
    // one sequence is admitted; the other choices fork it once its prompt is prefilled
    const [state, ...followers] = group.states as [RequestState, ...RequestState[]];
    state.followers = followers;
    // the loop finishes them at the next step boundary
    const cancel = () => {
      for (const s of group.states) s.cancelled = true;
      this.lookAhead?.poke(); // a loop waiting on restores sees it
    };
    input.signal?.addEventListener('abort', cancel, { once: true });
    queue.onClose(() => {
      input.signal?.removeEventListener('abort', cancel);
      cancel();
    });
    this.truncation?.arrived(state, this.matchOf(state).salt);
    this.waiting.push(state);
    this.lookAhead?.poke();
    this.ensureLoop();
    return queue;
  }

  /**
   * Resolves once the engine has nothing left to do and has released every finished sequence
   * (a request's final event comes a step before its release).
   */
  async idle(): Promise<void> {
    while (this.loop) await this.loop;
  }

  /**
   * KV migration (WorkerControl ExportPrefix / PullPrefix): a prefix's cached chunks out of this
   * cache, or into it. Each is one owner-thread job, so it runs between steps, never inside one;
   * the tree events it causes (promotions, stored chunks) are reported at once, as a step's are.
   */
  async exportPrefix(tokens: number[], salt: string, maxChunks: number): Promise<NativeKvChunk[]> {
    try {
      return await this.cache.exportPrefix(tokens, salt, maxChunks);
    } finally {
      this.publishEvents();
    }
  }

  /** Refused (UNAVAILABLE) while draining: a worker going away takes no new prefixes. */
  async importPrefix(tokens: number[], salt: string, chunks: NativeKvChunk[]): Promise<number> {
    if (this.draining) throw new Unavailable('worker is shutting down');
    try {
      return await this.cache.importPrefix(tokens, salt, chunks);
    } finally {
      this.publishEvents();
    }
  }

  /**
   * Tier moves (WorkerControl Spill / Restore), each between steps like the migration calls, its
   * tree events reported at once. spill: the prompt's cached chunks no running request pins, down
   * to the host (or disk). restore: the prompt's cached prefix held and fetched up to the device
   * (read back from disk first), as the look-ahead does for a waiting request, then let go of;
   * refused (UNAVAILABLE) while draining, like an import: a worker going away takes nothing up.
   */
  async spill(tokens: number[], salt: string, toDisk: boolean): Promise<SpillResult> {
    try {
      return await this.cache.spill(tokens, { salt, toDisk });
    } finally {
      this.publishEvents();
    }
  }

  async restore(tokens: number[], salt: string): Promise<{ matchedTokens: number; movedTokens: number }> {
    if (this.draining) throw new Unavailable('worker is shutting down');
    try {
      const held = await this.cache.hold(tokens, { salt });
      const matchedTokens = held.tokens.device + held.tokens.host + held.tokens.disk;
      if (held.ticket === 0) return { matchedTokens, movedTokens: 0 };
      try {
        const fetched = await this.cache.fetch(held.ticket, tokens.length, true);
        return { matchedTokens, movedTokens: fetched.promotedTokens };
      } finally {
        await this.cache.dropTicket(held.ticket);
      }
    } finally {
      this.publishEvents();
    }
  }

  /**
   * Hands the tree events published so far to the observer (the reporter): after each step, and
   * after each call above, which change the tree outside any step, so that their events do not
   * wait for the next request. Events stay in order: every drain is from the one queue, on this
   * thread.
   */
  private publishEvents(): void {
    const events = this.cache.drainEvents();
    if (events.length > 0) this.observer.onKvEvents?.(events);
  }

  /** Stops admitting; waits up to graceMs for running work, then cancels what is left. */
  async shutdown(graceMs: number): Promise<void> {
    this.draining = true;
    const deadline = Date.now() + graceMs;
    const pending = () => [...this.waiting, ...this.admitting, ...this.running];
    while (pending().length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const r of pending()) r.cancelled = true;
    this.lookAhead?.poke();
    await this.loop;
  }

  private chunksFor(tokens: number): number {
    return Math.ceil(tokens / this.cache.chunkTokens);
  }

  private ensureLoop(): void {
    if (!this.loop) {
      this.loop = this.run().finally(() => {
        this.loop = undefined;
      });
    }
  }

  private async run(): Promise<void> {
    for (;;) {
      this.reap();
      if (this.running.length === 0 && this.waiting.length === 0) {
        // Nothing to compute: hand back what finished, then stop; a request that
        // arrives meanwhile is seen on the next pass, one after that restarts the loop.
        if (this.toRelease.length === 0 && !this.hasDrops()) return;
        await this.step([], []);
        continue;
      }
      const la = this.lookAhead;
      if (la) {
        la.watch(this.waiting);
        // Only requests whose prefixes are still coming up from disk: wait for one (or anything new).
        const idle = this.running.length === 0 && this.toRelease.length === 0 && !this.hasDrops();
        if (idle && !this.waiting.some((r) => this.admissible(r))) {
          await la.changed();
          continue;
        }
      }
      await this.schedule();
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

  /** One step: decode rows, running prefills, then the oldest waiting requests to admit. */
  private async schedule(): Promise<void> {
    const work: RequestState[] = [];
    const entries: StepEntry[] = [];
    for (const r of this.running) {
      if (r.phase !== 'decode') continue;
      work.push(r);
      entries.push({ kind: 'decode', seqId: r.seqId, token: r.pending });
    }
    for (const r of this.running) {
      if (r.phase !== 'prefill') continue;
      work.push(r);
      entries.push({ kind: 'prefill', seqId: r.seqId, tokens: r.context.slice(r.cached) });
    }
    // In queue order, skipping requests whose prefixes are still being read back from disk.
    const room = Math.max(0, this.options.maxBatch - this.running.length);
    const la = this.lookAhead;
    this.admitting = [];
    for (let i = 0; i < this.waiting.length && this.admitting.length < room; ) {
      const r = this.waiting[i] as RequestState;
      if (!this.admissible(r)) {
        i++;
        continue;
      }
      this.admitting.push(r);
      this.waiting.splice(i, 1);
    }
    // grafts run at the start of the step, so these admissions match what they make
    const grafts: Graft[] = [];
    const graftTickets: number[] = [];
    for (const r of this.admitting) {
      work.push(r);
      entries.push({ kind: 'admit', tokens: r.context, ...this.matchOf(r), ticket: la?.ticketOf(r) ?? 0 });
      const g = this.truncation?.take(r);
      if (g) {
        grafts.push(g.graft);
        if (g.ticket > 0) graftTickets.push(g.ticket);
      }
    }
    await this.step(work, entries, grafts, graftTickets);
  }

  private admissible(r: RequestState): boolean {
    return (this.lookAhead?.admissible(r) ?? true) && (this.truncation?.admissible(r) ?? true);
  }

  private hasDrops(): boolean {
    return this.lookAhead?.hasDrops() ?? false;
  }

  /** How r is admitted: its salt, and how many of its leading tokens may be found cached. */
  private matchOf(r: RequestState): { salt: string; maxMatch: number } {
    // without prefix sharing every request gets a salt of its own, so the tree cannot
    // adopt another request's twin chunks at commit either: nothing is shared
    const sharing = this.options.prefixSharing;
    return {
      salt: sharing ? r.input.salt : `${r.input.salt}\u0000${r.input.requestId}`,
      // the last prompt token is always computed: its logits start the completion
      maxMatch: sharing ? Math.max(0, r.context.length - 1) : 0,
    };
  }

  private async step(
    work: RequestState[],
    entries: StepEntry[],
    grafts: Graft[] = [],
    graftTickets: number[] = [],
  ): Promise<void> {
    const t0 = performance.now();
    let result: StepResult;
    // the grafts' holds go after the grafts ran (the step runs grafts before letting go of holds)
    const dropTickets = [...(this.lookAhead?.takeDrops() ?? []), ...graftTickets];
    try {
      const forward = this.model.step({
        grafts,
        release: this.toRelease.splice(0),
        dropTickets,
        entries,
        tokenBudget: this.options.stepTokens,
        mode: this.options.prefixSharing ? 'tpp' : 'baseline',
      });
      // constraint masks for the tokens this step's logits choose, computed while the forward pass runs
      const masks = work.flatMap((r) => [r, ...r.followers]).map((r) => this.prepareMask(r));
      [result] = await Promise.all([forward, ...masks]);
    } catch (err) {
      // only the forward pass rejects here (prepareMask never does): a failed step has
      // released every sequence it named or created; holds it may not have let go of go
      // with the next step (letting go twice is harmless)
      this.lookAhead?.dropLater(dropTickets);
      this.admitting = [];
      for (const r of work) {
        r.seqId = -1;
        this.finish(r, 'error', err as Error);
      }
      return;
    }
    for (const n of result.grafted) if (n > 0) this.observer.onTruncationReuse?.(n);
    const noRoom: RequestState[] = [];
    result.entries.forEach((o, i) => {
      const r = work[i] as RequestState;
      if (entries[i]?.kind === 'admit') {
        if (!o.admitted) return;
        this.admitted(r, o);
      }
      if (o.noRoom) noRoom.push(r);
      else this.advance(r, o);
    });
    // not admitted (no room yet): back to the front, in order; preempted ones go before them
    this.waiting.unshift(...this.admitting.filter((r) => r.phase === 'waiting'));
    this.admitting = [];
    for (const r of noRoom) this.makeRoom(r);
    this.publishEvents();
    if (result.rows > 0) {
      this.observer.onStep?.(
        result.entries.filter((o) => o.computed > 0).length,
        performance.now() - t0,
        this.waiting.length,
        result.rows,
      );
    }
  }

  /**
   * Starts r's constraint mask for its next token. A failure is kept for r alone and raised
   * when that token is chosen: the step's forward pass, and every other request, go on.
   */
  private async prepareMask(r: RequestState): Promise<void> {
    try {
      await r.chooser.prepare();
    } catch (err) {
      r.failure ??= err as Error;
    }
  }

  private admitted(r: RequestState, o: StepOutcome): void {
    this.lookAhead?.admitted(r);
    this.running.push(r);
    r.seqId = o.seqId;
    r.cached = o.cachedTokens;
    r.phase = 'prefill';
    if (r.cachedPromptTokens < 0) {
      r.cachedPromptTokens = o.cachedTokens;
      this.observer.onAdmit?.(r.input.promptTokens.length, o.cachedTokens, o.cachedByTier);
    }
  }

  /** Takes a step's outcome for a running request: tokens now cached, and a sample when it has logits. */
  private advance(r: RequestState, o: StepOutcome): void {
    r.cached += o.computed;
    if (!o.logitsRow) return;
    r.phase = 'decode';
    // the prompt is in the cache: the other choices fork it, and choose from the same logits
    for (const f of r.followers.splice(0)) this.fork(r, f, o.logitsRow);
    this.choose(r, o.logitsRow);
  }

  /**
   * Chooses r's next token from `logits` and takes it. Choosing runs request-specific code
   * (a constraint's matcher may refuse a token, a logit processor may have a bug): its failure
   * finishes r with an error instead of escaping the loop, which would end every request.
   */
  private choose(r: RequestState, logits: Float32Array): void {
    let chosen: Chosen;
    let constraintDone: boolean;
    try {
      if (r.failure) throw r.failure;
      chosen = r.chooser.choose(logits);
      constraintDone = r.chooser.finished;
    } catch (err) {
      this.finish(r, 'error', err as Error);
      return;
    }
    this.accept(r, chosen, constraintDone);
  }

  /**
   * Starts choice f on a fork of r's sequence (shared full chunks, a copy of the partial last
   * one), its first token chosen from r's logits. With no room for the copy, f is admitted like
   * any request instead (matching the prompt's shared chunks in the tree).
   */
  private fork(r: RequestState, f: RequestState, logits: Float32Array): void {
    try {
      f.seqId = this.cache.fork(r.seqId);
    } catch (err) {
      if (err instanceof CapacityExhaustedError) this.waiting.unshift(f);
      else this.finish(f, 'error', err as Error);
      return;
    }
    f.forked = true;
    f.cached = r.cached;
    f.cachedPromptTokens = f.input.promptTokens.length;
    f.phase = 'decode';
    this.running.push(f);
    this.observer.onFork?.(f.input.promptTokens.length);
    this.choose(f, logits);
  }

  /**
   * The pool had no room for r's tokens: preempt the newest other running sequence (recomputed
   * later), or r itself when it is the only one; the release happens with the next step.
   */
  private makeRoom(r: RequestState): void {
    if (r.seqId < 0) return; // already preempted for an earlier entry of this step
    const victim = [...this.running].reverse().find((v) => v !== r && v.seqId >= 0) ?? r;
    this.preempt(victim);
  }

  private preempt(r: RequestState): void {
    this.toRelease.push(r.seqId);
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

  /** Takes a chosen token: emit it, or finish on a stop token, stop string, finished constraint or length. */
  private accept(r: RequestState, chosen: Chosen, constraintDone: boolean): void {
    const { token } = chosen;
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
    r.push({
      type: 'tokens',
      ids: [token],
      text: emit,
      ...(chosen.logprob ? { logprobs: [chosen.logprob] } : {}),
    });
    if (stopped || r.input.stopTokenIds.includes(token) || constraintDone) {
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
    // choices not forked yet end with the one they wait on
    for (const f of r.followers.splice(0)) this.finish(f, reason, error);
    if (r.seqId >= 0) this.toRelease.push(r.seqId);
    r.seqId = -1;
    const i = this.running.indexOf(r);
    if (i >= 0) this.running.splice(i, 1);
    const w = this.waiting.indexOf(r);
    if (w >= 0) this.waiting.splice(w, 1);
    this.lookAhead?.left(r);
    this.truncation?.left(r);
    // a finished conversation is what a later, truncated one may reuse (one record for all its choices)
    if ((reason === 'stop' || reason === 'length') && !r.forked) {
      this.truncation?.remember(this.matchOf(r).salt, [...r.input.promptTokens, ...r.output]);
    }
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
