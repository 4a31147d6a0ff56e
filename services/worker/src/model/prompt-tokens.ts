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

export function promptTokens(
  prompt: PromptInput,
  bundle: Pick<ModelBundle, 'tokenizer' | 'chatTemplate'>,
): number[] {
  const addBos = bundle.tokenizer.bosTokenId !== undefined;
  switch (prompt.kind) {
    case 'text':
      return prompt.text === '' ? [] : bundle.tokenizer.encode(prompt.text, { addBos });
    case 'tokens':
      return [...prompt.ids];
    case 'chat': {
      for (const m of prompt.messages) {
        if (!m.role) throw new InvalidArgument('every message needs a role', { param: 'messages' });
      }
      const text = bundle.chatTemplate.applyChatTemplate([...prompt.messages], { addGenerationPrompt: true });
      return bundle.tokenizer.encode(text, { addBos });
    }
  }
}
