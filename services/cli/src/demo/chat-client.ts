// Streams one chat completion from the router's OpenAI API and times it.

export interface ChatResult {
  text: string;
  ttftMs: number;
  totalMs: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
}

export async function streamChat(baseUrl: string, body: Record<string, unknown>): Promise<ChatResult> {
  const t0 = performance.now();
  const res = await fetch(`${baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }),
  });
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  let ttftMs = -1;
  let text = '';
  let usage = { prompt_tokens: 0, completion_tokens: 0, prompt_tokens_details: { cached_tokens: 0 } };
  let buffer = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    let nl = buffer.indexOf('\n\n');
    while (nl >= 0) {
      const event = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 2);
      nl = buffer.indexOf('\n\n');
      if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
      const data = JSON.parse(event.slice(6));
      if (data.error) throw new Error(data.error.message);
      if (ttftMs < 0) ttftMs = performance.now() - t0;
      text += data.choices?.[0]?.delta?.content ?? '';
      if (data.usage) usage = data.usage;
    }
  }
  return {
    text,
    ttftMs,
    totalMs: performance.now() - t0,
    promptTokens: usage.prompt_tokens,
    completionTokens: usage.completion_tokens,
    cachedTokens: usage.prompt_tokens_details.cached_tokens,
  };
}
