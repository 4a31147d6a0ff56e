// OpenAI request fields chunkmesh does not implement, refused with a 400 that
// names them rather than ignored: a client that sends them expects an effect.
import { InvalidArgument } from '@chunkmesh/common';
import type { Body } from './openai-request.ts';

/** field -> why it is refused (checked when the field is present and not null). */
const REFUSED: Record<string, string> = {
  audio: 'audio output is not supported',
  modalities: 'only text output is supported',
  prediction: 'predicted outputs are not supported',
  web_search_options: 'web search is not supported',
  functions: 'the deprecated functions field is not supported; use tools',
  function_call: 'the deprecated function_call field is not supported; use tool_choice',
  reasoning_effort: 'the model has no reasoning effort setting',
};

export function refuseUnsupported(body: Body, kind: 'completion' | 'chat'): void {
  for (const [field, why] of Object.entries(REFUSED)) {
    if (body[field] !== undefined && body[field] !== null) throw new InvalidArgument(why, { param: field });
  }
  if (body.store === true)
    throw new InvalidArgument('stored completions are not supported', { param: 'store' });
  const suffix = body.suffix;
  if (kind === 'completion' && suffix !== undefined && suffix !== null && suffix !== '') {
    throw new InvalidArgument(
      'suffix (fill-in-the-middle) is not supported: the model has no infill tokens',
      {
        param: 'suffix',
      },
    );
  }
}
