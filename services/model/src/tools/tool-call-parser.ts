// Tool calls out of a model's streamed text. Text is passed on as content as
// soon as it cannot be part of a call; a call's text is held until it is
// complete, then given as one parsed call (name, arguments as JSON text).
// Hermes format: `<tool_call>{...}</tool_call>` anywhere in the text. Llama
// 3.1 format: the whole reply is the JSON object (optionally after
// <|python_tag|>, calls separated by ';'), so a reply starting with `{` is
// held to its end. Text that does not parse as a call stays content.
import { HERMES_CLOSE, HERMES_OPEN, type ToolCallFormat } from './tool-format.ts';

export interface ParsedToolCall {
  name: string;
  /** JSON text. */
  arguments: string;
}

export interface ParsedDelta {
  content: string;
  calls: ParsedToolCall[];
}

const OPEN = HERMES_OPEN.trim();
const CLOSE = HERMES_CLOSE.trim();

/** A {name, arguments|parameters} object as a call, or undefined. */
function callOf(value: unknown): ParsedToolCall | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const o = value as Record<string, unknown>;
  const args = o.arguments ?? o.parameters ?? {};
  if (typeof o.name !== 'string' || typeof args !== 'object' || args === null || Array.isArray(args))
    return undefined;
  return { name: o.name, arguments: JSON.stringify(args) };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Length of the longest suffix of `text` that is a proper prefix of `marker`. */
function partialSuffix(text: string, marker: string): number {
  for (let n = Math.min(marker.length - 1, text.length); n > 0; n--)
    if (text.endsWith(marker.slice(0, n))) return n;
  return 0;
}

export class ToolCallParser {
  private buffer = '';
  /** llama3-json: the reply so far starts a JSON call, so it is held to the end. */
  private holdingReply = false;
  private seenText = false;

  constructor(private readonly format: ToolCallFormat) {}

  push(text: string): ParsedDelta {
    this.buffer += text;
    return this.format === 'hermes' ? this.hermes(false) : this.llama(false);
  }

  /** The end of the reply: whatever is held is resolved (an unclosed call that parses still counts). */
  end(): ParsedDelta {
    return this.format === 'hermes' ? this.hermes(true) : this.llama(true);
  }

  private hermes(final: boolean): ParsedDelta {
    const out: ParsedDelta = { content: '', calls: [] };
    for (;;) {
      const open = this.buffer.indexOf(OPEN);
      if (open < 0) {
        const keep = final ? 0 : partialSuffix(this.buffer, OPEN);
        out.content += this.buffer.slice(0, this.buffer.length - keep);
        this.buffer = this.buffer.slice(this.buffer.length - keep);
        return out;
      }
      const close = this.buffer.indexOf(CLOSE, open);
      if (close < 0 && !final) {
        out.content += this.buffer.slice(0, open);
        this.buffer = this.buffer.slice(open);
        return out;
      }
      const body = this.buffer.slice(open + OPEN.length, close < 0 ? undefined : close);
      const call = callOf(parseJson(body.trim()));
      const end = close < 0 ? this.buffer.length : close + CLOSE.length;
      if (call) {
        out.content += this.buffer.slice(0, open);
        out.calls.push(call);
      } else {
        out.content += this.buffer.slice(0, end);
      }
      this.buffer = this.buffer.slice(end);
      if (close < 0) return out;
    }
  }

  private llama(final: boolean): ParsedDelta {
    if (!this.seenText) {
      const start = this.buffer.trimStart();
      if (start === '' && !final) return { content: '', calls: [] };
      this.seenText = true;
      this.holdingReply = start.startsWith('{') || start.startsWith('<|python_tag|>');
    }
    if (!this.holdingReply) {
      const content = this.buffer;
      this.buffer = '';
      return { content, calls: [] };
    }
    if (!final) return { content: '', calls: [] };
    const text = this.buffer;
    this.buffer = '';
    const body = text.trim().replace(/^<\|python_tag\|>/, '');
    const calls = body.split(/;\s*(?=\{)/).map((part) => callOf(parseJson(part.trim())));
    if (calls.length > 0 && calls.every((c) => c !== undefined))
      return { content: '', calls: calls as ParsedToolCall[] };
    return { content: text, calls: [] };
  }
}
