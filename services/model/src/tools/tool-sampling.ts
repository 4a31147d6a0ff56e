// A Generate request's sampling as both the router's gRPC door and the worker
// read it: checked (checkSampling), with the constraint its tool choice
// decodes under (`required` or a named function: toolConstraint) in place of
// a constraint of its own. A request cannot ask for both.
import {
  checkSampling,
  type GenerateRequest,
  InvalidArgument,
  type Sampling,
  samplingInputOf,
} from '@chunkmesh/common';
import type { ChatTemplate } from '../chat-template.ts';
import type { PromptInput } from '../prompt-tokens.ts';
import { toolCallFormat, toolConstraint } from './tool-format.ts';

/** prompt: the request's prompt (promptInputOf(req)); template: the model's chat template. */
export function checkedToolSampling(
  req: GenerateRequest,
  prompt: PromptInput,
  template: ChatTemplate,
): Sampling {
  const toolCall =
    prompt.kind === 'chat' && prompt.tools?.length
      ? toolConstraint(toolCallFormat(template), prompt.tools, prompt.toolChoice ?? 'auto')
      : undefined;
  if (toolCall && req.sampling?.constraint?.kind)
    throw new InvalidArgument('a constraint cannot be combined with a required tool choice', {
      param: 'tool_choice',
    });
  return checkSampling({ ...samplingInputOf(req.sampling), ...(toolCall ? { constraint: toolCall } : {}) });
}
