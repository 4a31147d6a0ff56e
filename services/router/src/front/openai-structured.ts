// The structured parts of an OpenAI chat body: messages with tool calls and
// tool results, tools and tool_choice, and response_format, read into the
// shapes the shared rules check (checkTools, checkSampling's constraint).
// Content parts other than text (images, audio, files) are refused by name.
import { type ConstraintInput, InvalidArgument } from '@chunkmesh/common';
import {
  type ChatMessage,
  checkTools,
  type PromptInput,
  type RequestTools,
  type ToolSpec,
} from '@chunkmesh/model';
import type { Body } from './openai-request.ts';

function bad(param: string, message: string): InvalidArgument {
  return new InvalidArgument(message, { param });
}

function contentOf(content: unknown, i: number): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  if (!Array.isArray(content))
    throw bad('messages', `messages[${i}].content must be a string or an array of parts`);
  return content
    .map((part: Body, j) => {
      if (part?.type === 'text' && typeof part.text === 'string') return part.text;
      throw bad(
        'messages',
        `messages[${i}].content[${j}]: only text parts are supported, got ${JSON.stringify(part?.type ?? null)}`,
      );
    })
    .join('');
}

function toolCallsOf(raw: unknown, i: number): ChatMessage['toolCalls'] {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) throw bad('messages', `messages[${i}].tool_calls must be an array`);
  return raw.map((c: Body, j) => {
    const f = c?.function as Body | undefined;
    if (c?.type !== 'function' || typeof f?.name !== 'string' || typeof f.arguments !== 'string')
      throw bad(
        'messages',
        `messages[${i}].tool_calls[${j}] must be a function call with a name and arguments`,
      );
    return { id: typeof c.id === 'string' ? c.id : '', name: f.name, arguments: f.arguments };
  });
}

export function messagesOf(body: Body): PromptInput {
  const m = body.messages;
  if (!Array.isArray(m) || m.length === 0) throw bad('messages', 'messages must be a non-empty array');
  return {
    kind: 'chat',
    messages: m.map((msg: Body, i): ChatMessage => {
      if (typeof msg !== 'object' || msg === null || typeof msg.role !== 'string' || msg.role === '')
        throw bad('messages', `messages[${i}].role must be a non-empty string`);
      const toolCalls = msg.role === 'assistant' ? toolCallsOf(msg.tool_calls, i) : undefined;
      const content = contentOf(msg.content, i);
      if (msg.content == null && !toolCalls?.length && msg.role !== 'assistant')
        throw bad('messages', `messages[${i}].content must be a string`);
      return {
        role: msg.role,
        content,
        ...(toolCalls?.length ? { toolCalls } : {}),
        ...(typeof msg.tool_call_id === 'string' ? { toolCallId: msg.tool_call_id } : {}),
        ...(typeof msg.name === 'string' ? { name: msg.name } : {}),
      };
    }),
  };
}

/** tools and tool_choice; undefined when the body has no tools. */
export function toolsOf(body: Body): RequestTools | undefined {
  const raw = body.tools;
  const choice = body.tool_choice;
  if ((raw === undefined || raw === null) && (choice === undefined || choice === null)) return undefined;
  if (raw !== undefined && raw !== null && !Array.isArray(raw)) throw bad('tools', 'tools must be an array');
  const tools = ((raw ?? []) as Body[]).map((t, i): ToolSpec => {
    const f = t?.function as Body | undefined;
    if (t?.type !== 'function' || typeof f !== 'object' || f === null)
      throw bad('tools', `tools[${i}] must be {"type": "function", "function": {...}}`);
    return {
      name: f.name as string,
      ...(typeof f.description === 'string' ? { description: f.description } : {}),
      ...(f.parameters !== undefined ? { parameters: f.parameters as Record<string, unknown> } : {}),
    };
  });
  let named: string | { name: string } | undefined;
  if (typeof choice === 'string') named = choice;
  else if (choice !== undefined && choice !== null) {
    const f = (choice as Body).function as Body | undefined;
    if ((choice as Body).type !== 'function' || typeof f?.name !== 'string')
      throw bad(
        'tool_choice',
        'tool_choice must be auto, none, required or {"type": "function", "function": {"name"}}',
      );
    named = { name: f.name };
  }
  if (typeof named === 'string' && !['auto', 'none', 'required'].includes(named))
    throw bad(
      'tool_choice',
      `tool_choice must be auto, none, required or a function, got ${JSON.stringify(named)}`,
    );
  return checkTools(tools, named);
}

/** response_format as a constraint: text is none; json_object any object; json_schema its schema. */
export function constraintOf(body: Body): ConstraintInput | undefined {
  const f = body.response_format as Body | undefined | null;
  if (f === undefined || f === null) return undefined;
  if (typeof f !== 'object') throw bad('response_format', 'response_format must be an object');
  switch (f.type) {
    case 'text':
      return undefined;
    case 'json_object':
      return { jsonObject: true };
    case 'json_schema': {
      const s = f.json_schema as Body | undefined;
      if (typeof s !== 'object' || s === null || typeof s.schema !== 'object' || s.schema === null)
        throw bad('response_format', 'response_format.json_schema needs a schema object');
      return { jsonSchema: JSON.stringify(s.schema), strict: s.strict === true };
    }
    default:
      throw bad(
        'response_format',
        `response_format.type must be text, json_object or json_schema, got ${JSON.stringify(f.type)}`,
      );
  }
}
