// The prompt as both front doors hand it to placement: token ids, checked
// against the model (within its context with room for the completion, ids
// inside its vocabulary) before a chunk key is hashed or a byte forwarded, so
// an oversized prompt costs the router one tokenisation and no worker
// anything. Text is bounded before it is tokenised (promptTokens).
import { checkAgainstModel, InvalidArgument, type Sampling } from '@chunkmesh/common';
import { type ModelBundle, type PromptInput, promptTokens } from '@chunkmesh/model';

/** A prompt as the router forwards it (tokens, as the proto carries them) and hashes it (ids). */
export interface CheckedPrompt {
  tokens: number[];
  /** The same ids, checked, as chunk keys are computed from them. */
  ids: Int32Array;
}

/**
 * defaultMaxTokens: the completion limit an unset max_tokens means (HTTP: the router's own);
 * undefined leaves it to the worker, and the prompt must leave room for one token.
 */
export function checkedPrompt(
  prompt: PromptInput,
  sampling: Sampling,
  bundle: ModelBundle,
  defaultMaxTokens: number | undefined,
): CheckedPrompt {
  const tokens = promptTokens(prompt, bundle);
  if (tokens.length === 0)
    throw new InvalidArgument('prompt is empty', { param: prompt.kind === 'chat' ? 'messages' : 'prompt' });
  const ids = new Int32Array(tokens.length);
  checkAgainstModel(sampling, tokens, bundle.model.config, defaultMaxTokens, ids);
  return { tokens, ids };
}
