// The tool calls of each choice of a streamed reply, for the gRPC doors:
// their deltas stream the model's raw text, and the calls parsed from it are
// given per choice at the end (ChoiceEnd.tool_calls, finish reason TOOL_CALLS).
import { randomUUID } from 'node:crypto';
import { type ParsedToolCall, ToolCallParser } from './tool-call-parser.ts';
import type { ToolCallFormat } from './tool-format.ts';

export interface IdentifiedToolCall extends ParsedToolCall {
  id: string;
}

export class ChoiceToolCalls {
  private readonly parsers = new Map<number, ToolCallParser>();
  private readonly calls = new Map<number, IdentifiedToolCall[]>();

  constructor(private readonly format: ToolCallFormat) {}

  push(index: number, text: string): void {
    this.take(index, this.parser(index).push(text).calls);
  }

  /** Choice `index`'s calls, its text having ended. */
  end(index: number): IdentifiedToolCall[] {
    this.take(index, this.parser(index).end().calls);
    return this.calls.get(index) ?? [];
  }

  private parser(index: number): ToolCallParser {
    let p = this.parsers.get(index);
    if (!p) {
      p = new ToolCallParser(this.format);
      this.parsers.set(index, p);
    }
    return p;
  }

  private take(index: number, calls: ParsedToolCall[]): void {
    if (calls.length === 0) return;
    const list = this.calls.get(index) ?? [];
    for (const c of calls) list.push({ id: toolCallId(), ...c });
    this.calls.set(index, list);
  }
}

/** OpenAI-style call ids. */
export function toolCallId(): string {
  return `call_${randomUUID().replaceAll('-', '').slice(0, 24)}`;
}
