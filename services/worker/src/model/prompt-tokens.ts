// A request's prompt as token ids, from whichever form it came in: text
// (tokenised, BOS added when the tokenizer has one), a chat (rendered with the
// model's template first) or ids as given. Router and worker both call this,
// so they tokenise identically and derive the same chunk keys.
import { InvalidArgument } from '@chunkmesh/common';
import type { ModelBundle } from './load-model.ts';

export type PromptInput =
  | { kind: 'text'; text: string }
  | { kind: 'tokens'; ids: readonly number[] }
  | { kind: 'chat'; messages: readonly { role: string; content: string }[] };

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
  bundle: Pick<ModelBundle, 'tokenizer' | 'chatTemplate' | 'model'>,
): number[] {
  const addBos = bundle.tokenizer.bosTokenId !== undefined;
  const maxSeqLen = bundle.model.config.maxSeqLen;
  switch (prompt.kind) {
    case 'text':
      checkLength(prompt.text, maxSeqLen, 'prompt');
      return prompt.text === '' ? [] : bundle.tokenizer.encode(prompt.text, { addBos });
    case 'tokens':
      return [...prompt.ids];
    case 'chat': {
      for (const m of prompt.messages) {
        if (!m.role) throw new InvalidArgument('every message needs a role', { param: 'messages' });
      }
      for (const m of prompt.messages) checkLength(m.content, maxSeqLen, 'messages');
      const text = bundle.chatTemplate.applyChatTemplate([...prompt.messages], { addGenerationPrompt: true });
      checkLength(text, maxSeqLen, 'messages');
      return bundle.tokenizer.encode(text, { addBos });
    }
  }
}
