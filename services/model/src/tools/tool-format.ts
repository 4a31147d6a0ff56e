// How a model writes a tool call, decided by its chat template: Hermes-style
// `<tool_call>{"name": ..., "arguments": ...}</tool_call>` (Qwen 2.5/3,
// Hermes, and the fallback for templates that know no tools), or Llama 3.1's
// bare JSON object `{"name": ..., "parameters": ...}`. The same format gives
// the constraint that `tool_choice: "required"` or a named function decodes
// under: the call's markup around a JSON schema of its name and arguments.
import type { ChatTemplate, ToolSpec } from '../chat-template.ts';

export type ToolCallFormat = 'hermes' | 'llama3-json';

export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

export const HERMES_OPEN = '<tool_call>\n';
export const HERMES_CLOSE = '\n</tool_call>';

/** Each template's format, decided once (both front doors and the worker ask on every request). */
const formats = new WeakMap<ChatTemplate, ToolCallFormat>();

export function toolCallFormat(template: ChatTemplate): ToolCallFormat {
  let format = formats.get(template);
  if (format === undefined) {
    format = !template.supportsTools || template.source?.includes('<tool_call>') ? 'hermes' : 'llama3-json';
    formats.set(template, format);
  }
  return format;
}

/** The JSON key a format puts the arguments under. */
export function argumentsKey(format: ToolCallFormat): 'arguments' | 'parameters' {
  return format === 'hermes' ? 'arguments' : 'parameters';
}

/** One call as the model writes it (used to render calls in history for templates without tools). */
export function writeToolCall(format: ToolCallFormat, name: string, args: string): string {
  const body = `{"name": ${JSON.stringify(name)}, "${argumentsKey(format)}": ${args}}`;
  return format === 'hermes' ? `${HERMES_OPEN}${body}${HERMES_CLOSE}` : body;
}

/** What decoding is held to: markup around a JSON schema (the Constraint message's fields). */
export interface ToolConstraint {
  jsonSchema: string;
  prefix: string;
  suffix: string;
}

/** The constraint of `required` (any one of the tools) or a named function; none for auto and none. */
export function toolConstraint(
  format: ToolCallFormat,
  tools: readonly ToolSpec[],
  choice: ToolChoice,
): ToolConstraint | undefined {
  if (choice === 'auto' || choice === 'none') return undefined;
  const chosen = choice === 'required' ? tools : tools.filter((t) => t.name === choice.name);
  const key = argumentsKey(format);
  const callSchemas = chosen.map((t) => ({
    type: 'object',
    properties: { name: { const: t.name }, [key]: t.parameters ?? { type: 'object' } },
    required: ['name', key],
    additionalProperties: false,
  }));
  const schema = callSchemas.length === 1 ? callSchemas[0] : { anyOf: callSchemas };
  return format === 'hermes'
    ? { jsonSchema: JSON.stringify(schema), prefix: HERMES_OPEN, suffix: HERMES_CLOSE }
    : { jsonSchema: JSON.stringify(schema), prefix: '', suffix: '' };
}
