// A request's prompt as token ids, from whichever form it came in: text
// (tokenised with the special tokens the tokenizer's own rules add, as
// transformers does), a chat (rendered with the model's template, which writes
// its own special tokens, then encoded without adding more) or ids as given, and which of those forms a Generate
// request carries. Router and worker both call this, so they tokenise
// identically and derive the same chunk keys.
import { type GenerateRequest, InvalidArgument } from '@chunkmesh/common';
import type { ChatMessage } from './chat-template.ts';
import type { ModelBundle } from './load-model.ts';
import { checkTools, type RequestTools, toolOfMessage } from './tools/request-tools.ts';
import { toolChatMessages } from './tools/tool-prompt.ts';

export type PromptInput =
  | { kind: 'text'; text: string }
  | { kind: 'tokens'; ids: readonly number[] }
  | ({ kind: 'chat'; messages: readonly ChatMessage[] } & Partial<RequestTools>);

/**
 * Prompt text longer than this many bytes per context token is refused before tokenising: no
 * tokenizer packs more into a token, and tokenising megabytes would stall the event loop only to
 * refuse the prompt as too long afterwards.
 */
const MAX_BYTES_PER_TOKEN = 32;

function checkLength(text: string, maxSeqLen: number, param: string): void {
  const bytes = Buffer.byteLength(text);
  if (bytes > maxSeqLen * MAX_BYTES_PER_TOKEN) {
    throw new InvalidArgument(
      `prompt text of ${bytes} bytes cannot fit the model's context of ${maxSeqLen} tokens`,
      {
        param,
      },
    );
  }
}

export function promptTokens(
  prompt: PromptInput,
  bundle: Pick<ModelBundle, 'tokenizer' | 'chatTemplate'> & { model: { config: { maxSeqLen: number } } },
): number[] {
  const maxSeqLen = bundle.model.config.maxSeqLen;
  switch (prompt.kind) {
    case 'text':
      checkLength(prompt.text, maxSeqLen, 'prompt');
      return prompt.text === '' ? [] : bundle.tokenizer.encode(prompt.text, { addSpecialTokens: true });
    case 'tokens':
      return [...prompt.ids];
    case 'chat': {
      for (const m of prompt.messages) {
        if (!m.role) throw new InvalidArgument('every message needs a role', { param: 'messages' });
      }
      for (const m of prompt.messages) {
        checkLength(m.content, maxSeqLen, 'messages');
        for (const c of m.toolCalls ?? []) {
          try {
            JSON.parse(c.arguments);
          } catch {
            throw new InvalidArgument(`the arguments of tool call ${c.id} are not JSON`, {
              param: 'messages',
            });
          }
        }
      }
      // tool_choice none: the model is not told of the tools (as vLLM does by default)
      const tools = prompt.toolChoice === 'none' ? [] : (prompt.tools ?? []);
      const chat = toolChatMessages(bundle.chatTemplate, prompt.messages, tools);
      const text = bundle.chatTemplate.applyChatTemplate(chat.messages, {
        addGenerationPrompt: true,
        ...(chat.tools ? { tools: chat.tools } : {}),
      });
      checkLength(text, maxSeqLen, 'messages');
      return bundle.tokenizer.encode(text, { addSpecialTokens: !bundle.chatTemplate.writesSpecialTokens });
    }
  }
}

/** The prompt form a Generate request carries; messages and a prompt together are an error. */
export function promptInputOf(req: GenerateRequest): PromptInput {
  const hasMessages = req.messages.length > 0;
  if (req.prompt !== undefined && hasMessages) {
    throw new InvalidArgument('give either a prompt (text or token_ids) or messages, not both', {
      param: 'messages',
    });
  }
  if (req.tools.length > 0 && !hasMessages)
    throw new InvalidArgument('tools need a chat (messages)', { param: 'tools' });
  if (hasMessages) {
    return {
      kind: 'chat',
      messages: req.messages.map((m) => ({
        role: m.role,
        content: m.content,
        ...(m.toolCalls.length ? { toolCalls: m.toolCalls } : {}),
        ...(m.toolCallId ? { toolCallId: m.toolCallId } : {}),
        ...(m.name ? { name: m.name } : {}),
      })),
      ...checkTools(req.tools.map(toolOfMessage), req.toolChoice),
    };
  }
  if (req.prompt === 'text') return { kind: 'text', text: req.text };
  if (req.prompt === 'tokenIds') return { kind: 'tokens', ids: req.tokenIds.ids };
  return { kind: 'tokens', ids: [] };
}
