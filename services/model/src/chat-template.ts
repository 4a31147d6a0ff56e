// Chat prompts: a model's own Jinja chat template (tokenizer_config.json
// `chat_template`) rendered as @huggingface/jinja renders it, or a plain
// fallback for models that ship none (llama2.c checkpoints, base models). The
// template is parsed by @huggingface/jinja and, where it can be, compiled
// (template/compile-jinja.ts: the same text in a few µs instead of about 8 µs
// a message); a request the compiled form does not model renders with the
// interpreter.
import { Template } from '@huggingface/jinja';
import { type CompiledTemplate, compileJinja } from './template/compile-jinja.ts';
import type { ProgramNode } from './template/jinja-nodes.ts';
import { Unmodelled } from './template/jinja-values.ts';

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
  /** Renders of the Jinja template since it was loaded (all zero for the fallback format). */
  renderStats(): Readonly<TemplateRenderStats>;
}

export interface TemplateRenderStats {
  /** Rendered by the compiled form. */
  compiled: number;
  /** Rendered by the interpreter: the template is not compiled, or the request reached a construct the compiled form leaves to it. */
  interpreted: number;
  /**
   * Of `interpreted`: the compiled form failed with an error of its own (not a construct it leaves
   * to the interpreter) where the interpreter rendered. A bug in the compiler; the request still
   * got the interpreter's exact text, only slower, so this count is the one place it shows.
   */
  compilerFaults: number;
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

const NO_RENDERS: Readonly<TemplateRenderStats> = Object.freeze({
  compiled: 0,
  interpreted: 0,
  compilerFaults: 0,
});

/**
 * A chat template from Jinja source (parsed once, here, so a broken template fails at load), or the
 * fallback. `compile` is the compiler (tests give a faulty one to see a fault counted).
 */
export function createChatTemplate(
  source: string | undefined,
  tokens: SpecialTokenStrings = {},
  compile: (program: ProgramNode) => CompiledTemplate | undefined = compileJinja,
): ChatTemplate {
  if (source === undefined)
    return {
      source,
      writesSpecialTokens: false,
      supportsTools: false,
      compiled: false,
      applyChatTemplate: fallbackFormat,
      renderStats: () => NO_RENDERS,
    };
  let template: Template;
  try {
    template = new Template(source);
  } catch (err) {
    throw new Error(`chat template does not parse: ${(err as Error).message}`);
  }
  const compiled = compile(template.parsed as ProgramNode);
  const stats: TemplateRenderStats = { compiled: 0, interpreted: 0, compilerFaults: 0 };
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
      let fault = false;
      if (compiled) {
        try {
          const text = compiled(variables);
          stats.compiled++;
          return text;
        } catch (err) {
          // Unmodelled: not modelled there, or the template raises. Anything else is the compiler's
          // own fault, unless the interpreter fails too (the template's own error). Either way what
          // the request gets is the interpreter's text or error.
          fault = !(err instanceof Unmodelled);
        }
      }
      const text = template.render(variables);
      stats.interpreted++;
      if (fault) stats.compilerFaults++;
      return text;
    },
    renderStats: () => stats,
  };
}
