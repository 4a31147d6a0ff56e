// A chat with tools as the model's template takes it. A template that renders
// tools gets them, and the history's tool calls and tool results, as it
// expects (transformers' convention). For one that does not, chunkmesh's
// documented fallback writes them into the messages themselves: a system
// message listing the functions (as JSON) and asking for Hermes-style
// `<tool_call>` replies, assistant calls written in that markup after their
// content, and tool results as messages of role `tool`.
import type { ChatMessage, ChatTemplate, ToolSpec } from '../chat-template.ts';
import { HERMES_CLOSE, HERMES_OPEN, writeToolCall } from './tool-format.ts';

export function fallbackToolPreamble(tools: readonly ToolSpec[]): string {
  const list = tools.map((t) => JSON.stringify(t)).join('\n');
  return `Functions:\n${list}\nTo call one, reply ${HERMES_OPEN}{"name": <name>, "arguments": <object>}${HERMES_CLOSE}`;
}

/** Messages (and tools) to render with `template`. */
export function toolChatMessages(
  template: ChatTemplate,
  messages: readonly ChatMessage[],
  tools: readonly ToolSpec[],
): { messages: ChatMessage[]; tools?: readonly ToolSpec[] } {
  if (template.supportsTools) return { messages: [...messages], ...(tools.length ? { tools } : {}) };
  const out = messages.map((m): ChatMessage => {
    if (!m.toolCalls?.length) return { role: m.role, content: m.content };
    const calls = m.toolCalls.map((c) => writeToolCall('hermes', c.name, c.arguments)).join('\n');
    return { role: m.role, content: m.content ? `${m.content}\n${calls}` : calls };
  });
  if (tools.length === 0) return { messages: out };
  const preamble = fallbackToolPreamble(tools);
  const first = out[0];
  if (first?.role === 'system') out[0] = { role: 'system', content: `${first.content}\n\n${preamble}` };
  else out.unshift({ role: 'system', content: preamble });
  return { messages: out };
}
