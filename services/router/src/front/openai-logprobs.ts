// Log-probabilities in OpenAI's two shapes: chat's `logprobs.content` (one
// entry per token: its text, bytes, logprob and top alternatives) and
// completions' parallel lists (tokens, token_logprobs, top_logprobs as
// {token: logprob} maps, text_offset). A token's text is its bytes decoded
// (a token holding half a UTF-8 character reads as U+FFFD, as OpenAI's does).
import type { TokenLogprob } from '@chunkmesh/common';
import type { Tokenizer } from '@chunkmesh/model';

export interface ChatLogprob {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: { token: string; logprob: number; bytes: number[] }[];
}

export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: number[];
  top_logprobs: Record<string, number>[];
  text_offset: number[];
}

const decoder = new TextDecoder();

export class LogprobRenderer {
  constructor(private readonly tokenizer: Tokenizer) {}

  private entry(id: number, logprob: number) {
    const bytes = this.tokenizer.tokenBytes(id);
    return { token: decoder.decode(bytes), logprob, bytes: [...bytes] };
  }

  chat(lps: readonly TokenLogprob[]): ChatLogprob[] {
    return lps.map((lp) => ({
      ...this.entry(lp.tokenId, lp.logprob),
      top_logprobs: lp.top.map((t) => this.entry(t.tokenId, t.logprob)),
    }));
  }

  /** `offset`: the text length before these tokens (text_offset counts from the choice's start). */
  completion(lps: readonly TokenLogprob[], offset: number): CompletionLogprobs {
    const out: CompletionLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
    let at = offset;
    for (const lp of lps) {
      const { token } = this.entry(lp.tokenId, lp.logprob);
      out.tokens.push(token);
      out.token_logprobs.push(lp.logprob);
      out.top_logprobs.push(
        Object.fromEntries(lp.top.map((t) => [this.entry(t.tokenId, 0).token, t.logprob])),
      );
      out.text_offset.push(at);
      at += token.length;
    }
    return out;
  }
}
