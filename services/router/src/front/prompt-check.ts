// The prompt as both front doors hand it to placement: token ids, checked
// against the model (within its context with room for the completion, ids
// inside its vocabulary) before a chunk key is hashed or a byte forwarded, so
// an oversized prompt costs the router one tokenisation and no worker
// anything. Text is bounded before it is tokenised (promptTokens).
import { checkAgainstModel, InvalidArgument, type Sampling } from '@chunkmesh/common';
import { type ModelBundle, type PromptInput, promptTokens } from '@chunkmesh/model';

/**
 * defaultMaxTokens: the completion limit an unset max_tokens means (HTTP: the router's own);
 * undefined leaves it to the worker, and the prompt must leave room for one token.
 */
export function checkedPrompt(
  prompt: PromptInput,
  sampling: Sampling,
  bundle: ModelBundle,
  defaultMaxTokens: number | undefined,
): number[] {
  const tokens = promptTokens(prompt, bundle);
  if (tokens.length === 0)
    throw new InvalidArgument('prompt is empty', { param: prompt.kind === 'chat' ? 'messages' : 'prompt' });
  checkAgainstModel(sampling, tokens, bundle.model.config, defaultMaxTokens);
  return tokens;
}
