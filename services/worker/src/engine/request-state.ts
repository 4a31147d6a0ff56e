// One request inside the engine: where it is in its life and what it has
// produced. The prompt it prefills grows by its own output when it is
// preempted (recompute), while `emitted` keeps what the caller already has.

import type { TextStream } from '@chunkmesh/model';
import type { TokenChooser } from '../sampling/token-chooser.ts';
import type { GenerateInput, SequenceEvent } from './engine-types.ts';
import type { StopMatcher } from './stop-matcher.ts';

export type Phase = 'waiting' | 'prefill' | 'decode';

export class RequestState {
  phase: Phase = 'waiting';
  seqId = -1;
  /** Tokens to hold in the cache before decoding: the prompt, plus output when resumed after preemption. */
  context: number[];
  /** Tokens of `context` already in the cache (matched or prefilled), then + decoded tokens. */
  cached = 0;
  /** Prompt tokens found in the prefix tree at first admission (reported as cached_prompt_tokens). */
  cachedPromptTokens = -1;
  /** Generated token ids, in order. */
  output: number[] = [];
  /** The token sampled last step, to be fed this step. */
  pending = -1;
  readonly arrived = performance.now();
  lastTokenAt = 0;
  /** Set by the consumer side; the engine finishes the request at the next step boundary. */
  cancelled = false;
  /** n > 1: the other choices, forked from this one once its prompt is prefilled (then emptied). */
  followers: RequestState[] = [];
  /** Took its prompt's KV by forking the first choice's sequence. */
  forked = false;
  /** Its token mask could not be computed: raised when its next token is chosen. */
  failure: Error | undefined;

  constructor(
    readonly input: GenerateInput,
    readonly chooser: TokenChooser,
    readonly stops: StopMatcher,
    readonly text: TextStream,
    readonly push: (event: SequenceEvent) => void,
  ) {
    this.context = [...input.promptTokens];
  }

  get remainingPrefill(): number {
    return this.context.length - this.cached;
  }
}
