// Chat prompts: a model's own Jinja chat template (tokenizer_config.json
// `chat_template`) rendered with @huggingface/jinja, or a plain fallback for
// models that ship none (llama2.c checkpoints, base models).
import { Template } from '@huggingface/jinja';

export interface ChatMessage {
  role: string;
  content: string;
}

export interface ChatTemplateOptions {
  /** End with the opening of an assistant turn, so the model answers next. */
  addGenerationPrompt: boolean;
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
  applyChatTemplate(messages: readonly ChatMessage[], opts: ChatTemplateOptions): string;
}

/**
 * The fallback format, for models without a template: each message as
 * `<role>: <content>` followed by a blank line, and `assistant:` (no trailing
 * space) as the generation prompt. Special tokens are left to the tokenizer.
 */
function fallbackFormat(messages: readonly ChatMessage[], opts: ChatTemplateOptions): string {
  const turns = messages.map((m) => `${m.role}: ${m.content}\n\n`).join('');
  return opts.addGenerationPrompt ? `${turns}assistant:` : turns;
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
  if (source === undefined) return { source, writesSpecialTokens: false, applyChatTemplate: fallbackFormat };
  let template: Template;
  try {
    template = new Template(source);
  } catch (err) {
    throw new Error(`chat template does not parse: ${(err as Error).message}`);
  }
  return {
    source,
    writesSpecialTokens: true,
    applyChatTemplate(messages, opts) {
      return template.render({
        messages,
        add_generation_prompt: opts.addGenerationPrompt,
        bos_token: tokens.bosToken ?? '',
        eos_token: tokens.eosToken ?? '',
      });
    },
  };
}
