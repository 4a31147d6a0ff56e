// One pass of the workload through the router: conversations run their turns
// in order (each turn resends the whole conversation), everything else runs
// concurrently up to a limit. Tenant names carry a phase tag so two phases on
// one cluster never share cache with each other.
import { type ChatResult, streamChat } from './chat-client.ts';
import type { ChatMessage, Conversation } from './workload.ts';

export interface PhaseResult {
  policy: string;
  requests: number;
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
  wallMs: number;
  ttftMs: number[];
}

export async function runPhase(options: {
  baseUrl: string;
  model: string;
  policy: string;
  tag: string;
  conversations: Conversation[];
  maxTokens: number;
  concurrency: number;
  onProgress: (done: number, total: number) => void;
}): Promise<PhaseResult> {
  const total = options.conversations.reduce((n, c) => n + c.userTurns.length, 0);
  const results: ChatResult[] = [];
  const t0 = performance.now();
  const queue = [...options.conversations];
  const worker = async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      const messages: ChatMessage[] = [{ role: 'system', content: c.system }];
      for (const turn of c.userTurns) {
        messages.push({ role: 'user', content: turn });
        const r = await streamChat(options.baseUrl, {
          model: options.model,
          messages,
          max_tokens: options.maxTokens,
          temperature: 0,
          ignore_eos: true,
          tenant: `${options.tag}/${c.tenant}`,
          ...(c.sessionId ? { session_id: `${options.tag}/${c.sessionId}` } : {}),
        });
        messages.push({ role: 'assistant', content: r.text });
        results.push(r);
        options.onProgress(results.length, total);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return {
    policy: options.policy,
    requests: results.length,
    promptTokens: results.reduce((n, r) => n + r.promptTokens, 0),
    cachedTokens: results.reduce((n, r) => n + r.cachedTokens, 0),
    completionTokens: results.reduce((n, r) => n + r.completionTokens, 0),
    wallMs: performance.now() - t0,
    ttftMs: results.map((r) => r.ttftMs),
  };
}
