// One choice of an OpenAI reply as it is built from the worker's deltas:
// its content (tool-call markup taken out and parsed into tool_calls when the
// request has tools), its log-probabilities in the endpoint's shape, and its
// finish reason ("tool_calls" when it made calls). The stream form hands out
// each delta's part as it comes; the JSON form reads the whole at the end.
import type { TokenLogprob } from '@chunkmesh/common';
import { type ParsedToolCall, type ToolCallFormat, ToolCallParser, toolCallId } from '@chunkmesh/model';
import type { ChatLogprob, CompletionLogprobs, LogprobRenderer } from './openai-logprobs.ts';

export interface OpenAiToolCall {
  index: number;
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ChoicePart {
  content: string;
  toolCalls: OpenAiToolCall[];
  logprobs?: ChatLogprob[] | CompletionLogprobs;
}

export interface ChoiceOptions {
  kind: 'completion' | 'chat';
  renderer: LogprobRenderer;
  /** Parse tool calls in this format; undefined: the text is all content. */
  toolFormat?: ToolCallFormat;
  /** parallel_tool_calls false: calls after the first stay out. */
  singleToolCall: boolean;
  /** Text before the choice's own (echo). */
  prefix: string;
}

export class OpenAiChoice {
  content = '';
  readonly toolCalls: OpenAiToolCall[] = [];
  private readonly chatLogprobs: ChatLogprob[] = [];
  private readonly completionLogprobs: CompletionLogprobs = {
    tokens: [],
    token_logprobs: [],
    top_logprobs: [],
    text_offset: [],
  };
  private hasLogprobs = false;
  private readonly parser: ToolCallParser | undefined;
  /** Characters of text so far (completions' text_offset). */
  private offset: number;

  constructor(private readonly o: ChoiceOptions) {
    this.parser = o.toolFormat ? new ToolCallParser(o.toolFormat) : undefined;
    this.offset = o.prefix.length;
    this.content = o.prefix;
  }

  /** Takes a delta; returns what of it can be shown now. */
  push(text: string, logprobs: readonly TokenLogprob[]): ChoicePart {
    const parsed = this.parser ? this.parser.push(text) : { content: text, calls: [] };
    const part: ChoicePart = { content: parsed.content, toolCalls: this.calls(parsed.calls) };
    if (logprobs.length > 0) {
      this.hasLogprobs = true;
      if (this.o.kind === 'chat') {
        const lp = this.o.renderer.chat(logprobs);
        this.chatLogprobs.push(...lp);
        part.logprobs = lp;
      } else {
        const lp = this.o.renderer.completion(logprobs, this.offset);
        for (const key of Object.keys(lp) as (keyof CompletionLogprobs)[])
          (this.completionLogprobs[key] as unknown[]).push(...lp[key]);
        part.logprobs = lp;
      }
    }
    this.offset += text.length;
    this.content += part.content;
    return part;
  }

  /** The end of the choice's text: what the parser held back. */
  end(): ChoicePart {
    const parsed = this.parser ? this.parser.end() : { content: '', calls: [] };
    this.content += parsed.content;
    return { content: parsed.content, toolCalls: this.calls(parsed.calls) };
  }

  finishReason(worker: string): string {
    return this.toolCalls.length > 0 ? 'tool_calls' : worker;
  }

  logprobs(): { content: ChatLogprob[] } | CompletionLogprobs | null {
    if (!this.hasLogprobs) return null;
    return this.o.kind === 'chat' ? { content: this.chatLogprobs } : this.completionLogprobs;
  }

  private calls(parsed: ParsedToolCall[]): OpenAiToolCall[] {
    const out: OpenAiToolCall[] = [];
    for (const c of parsed) {
      if (this.o.singleToolCall && this.toolCalls.length > 0) break;
      const call: OpenAiToolCall = {
        index: this.toolCalls.length,
        id: toolCallId(),
        type: 'function',
        function: { name: c.name, arguments: c.arguments },
      };
      this.toolCalls.push(call);
      out.push(call);
    }
    return out;
  }
}
