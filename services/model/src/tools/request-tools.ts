// The tools of a request, checked the same way whichever door it came in by
// (the router's OpenAI body is read into this shape too): names unique and
// non-empty, parameters a JSON Schema object, tool_choice one of auto, none,
// required or a given tool's name. Errors name `tools` or `tool_choice`.
import { InvalidArgument } from '@chunkmesh/common';
import type { ToolSpec } from '../chat-template.ts';
import type { ToolChoice } from './tool-format.ts';

export interface RequestTools {
  tools: ToolSpec[];
  toolChoice: ToolChoice;
}

/** A gRPC Tool message (parameters as JSON text) as a ToolSpec. */
export function toolOfMessage(
  t: { name: string; description: string; parameters: string },
  i: number,
): ToolSpec {
  let parameters: unknown;
  if (t.parameters !== '') {
    try {
      parameters = JSON.parse(t.parameters);
    } catch {
      throw new InvalidArgument(`tools[${i}].parameters is not valid JSON`, { param: 'tools' });
    }
  }
  return {
    name: t.name,
    ...(t.description ? { description: t.description } : {}),
    ...(parameters !== undefined ? { parameters: parameters as Record<string, unknown> } : {}),
  };
}

export function checkTools(
  tools: readonly ToolSpec[],
  choice: string | { name: string } | undefined,
): RequestTools {
  const names = new Set<string>();
  tools.forEach((t, i) => {
    if (typeof t.name !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(t.name))
      throw new InvalidArgument(`tools[${i}] needs a name of 1-64 letters, digits, _ . or -`, {
        param: 'tools',
      });
    if (names.has(t.name))
      throw new InvalidArgument(`tools has two functions named ${t.name}`, { param: 'tools' });
    names.add(t.name);
    const p = t.parameters;
    if (p !== undefined && (typeof p !== 'object' || p === null || Array.isArray(p)))
      throw new InvalidArgument(`tools[${i}].parameters must be a JSON Schema object`, { param: 'tools' });
  });
  const given = choice === undefined || choice === '' ? undefined : choice;
  if (given !== undefined && tools.length === 0)
    throw new InvalidArgument('tool_choice needs tools', { param: 'tool_choice' });
  if (given === undefined || given === 'auto' || given === 'none' || given === 'required')
    return { tools: [...tools], toolChoice: given ?? 'auto' };
  const name = typeof given === 'string' ? given : given.name;
  if (!names.has(name))
    throw new InvalidArgument(`tool_choice names ${JSON.stringify(name)}, which is not in tools`, {
      param: 'tool_choice',
    });
  return { tools: [...tools], toolChoice: { name } };
}
