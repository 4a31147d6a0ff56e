// Chat prompts: a model's own Jinja chat template (tokenizer_config.json
// `chat_template`) rendered as @huggingface/jinja renders it, or a plain
// fallback for models that ship none (llama2.c checkpoints, base models). The
// template is parsed by @huggingface/jinja and, where it can be, compiled
// (template/compile-jinja.ts: the same text in a few µs instead of about 8 µs
// a message); a request the compiled form does not model renders with the
// interpreter.
import { Template } from '@huggingface/jinja';
import { compileJinja } from './template/compile-jinja.ts';
import type { ProgramNode } from './template/jinja-nodes.ts';

/** A call an assistant message made (arguments: JSON text). */
export interface ChatToolCall {
  id: string;
  name: string;
  arguments: string;
}

export interface ChatMessage {
  role: string;
  content: string;
  /** assistant: the calls it made. */
  toolCalls?: readonly ChatToolCall[];
  /** tool: the call it answers, and the function's name. */
  toolCallId?: string;
  name?: string;
}

/** A function the model may call: OpenAI's shape, as chat templates expect it. */
export interface ToolSpec {
  name: string;
  description?: string;
  /** JSON Schema of the arguments object. */
  parameters?: Record<string, unknown>;
}

export interface ChatTemplateOptions {
  /** End with the opening of an assistant turn, so the model answers next. */
  addGenerationPrompt: boolean;
  /** Given to a template that renders tools (see `supportsTools`). */
  tools?: readonly ToolSpec[];
}

export interface ChatTemplate {
  /** The template text, or undefined for the fallback format. */
  readonly source: string | undefined;
  /**
   * Whether the rendered text already holds the special tokens the model expects (a model's own
   * template writes bos_token itself), so it is encoded without adding any, as transformers and
   * vLLM encode it; the fallback format is plain text and takes the tokenizer's usual ones.
   */
  readonly writesSpecialTokens: boolean;
  /** The template renders `tools`, and assistant `tool_calls` and `tool` messages in history. */
  readonly supportsTools: boolean;
  /** The template is compiled (every request it models renders without the interpreter). */
  readonly compiled: boolean;
  applyChatTemplate(messages: readonly ChatMessage[], opts: ChatTemplateOptions): string;
}

/**
 * The fallback format, for models without a template: each message as
 * `<role>: <content>` followed by a blank line, and `assistant:` (no trailing
 * space) as the generation prompt. Special tokens are left to the tokenizer.
 */
function fallbackFormat(messages: readonly ChatMessage[], opts: ChatTemplateOptions): string {
  // tools, tool calls and tool results reach here already written into the contents (tool-prompt.ts)
  const turns = messages.map((m) => `${m.role}: ${m.content}\n\n`).join('');
  return opts.addGenerationPrompt ? `${turns}assistant:` : turns;
}

/**
 * A message as Hugging Face templates read it: snake_case fields, and tool calls in OpenAI's
 * shape with the arguments as an object (templates write them with `tojson`), as transformers
 * and vLLM pass them.
 */
function templateMessage(m: ChatMessage): Record<string, unknown> {
  const out: Record<string, unknown> = { role: m.role, content: m.content };
  if (m.toolCalls?.length) {
    out.tool_calls = m.toolCalls.map((c) => ({
      id: c.id,
      type: 'function',
      function: { name: c.name, arguments: JSON.parse(c.arguments) as unknown },
    }));
  }
  if (m.toolCallId) out.tool_call_id = m.toolCallId;
  if (m.name) out.name = m.name;
  return out;
}

export interface SpecialTokenStrings {
  bosToken?: string;
  eosToken?: string;
}

/** A chat template from Jinja source (parsed once, here, so a broken template fails at load), or the fallback. */
export function createChatTemplate(
  source: string | undefined,
  tokens: SpecialTokenStrings = {},
): ChatTemplate {
  if (source === undefined)
    return {
      source,
      writesSpecialTokens: false,
      supportsTools: false,
      compiled: false,
      applyChatTemplate: fallbackFormat,
    };
  let template: Template;
  try {
    template = new Template(source);
  } catch (err) {
    throw new Error(`chat template does not parse: ${(err as Error).message}`);
  }
  const compiled = compileJinja(template.parsed as ProgramNode);
  return {
    source,
    writesSpecialTokens: true,
    // templates that know tools read the `tools` variable (Llama 3.1, Qwen 2.5, Hermes)
    supportsTools: /\btools\b/.test(source),
    compiled: compiled !== undefined,
    applyChatTemplate(messages, opts) {
      const variables = {
        messages: messages.map(templateMessage),
        ...(opts.tools
          ? { tools: opts.tools.map((function_) => ({ type: 'function', function: function_ })) }
          : {}),
        add_generation_prompt: opts.addGenerationPrompt,
        bos_token: tokens.bosToken ?? '',
        eos_token: tokens.eosToken ?? '',
      };
      if (compiled) {
        try {
          return compiled(variables);
        } catch {
          // not modelled there (or the template raises): the interpreter renders it, or gives its
          // own error; either way what the request gets is the interpreter's
        }
      }
      return template.render(variables);
    },
  };
}
