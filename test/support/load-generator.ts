// Steady, seeded load on routers' OpenAI HTTP door, as a fleet of clients
// behind a load balancer sends it, recording what became of every request.
// The fault suite judges a cluster by these records and the soak run reports
// their drift.
//
// Workload: `families` prompt families (token ids), each a shared prefix of
// prefixTokens plus a suffix no other request has, so a router that places
// by prefix sees prefix hits; every request streams exactly maxTokens tokens
// (EOS ignored) with usage, so its realised cached tokens are known.
//
// Clients: `concurrency` loops, each sending its next request once the last
// one has ended and it has thought for thinkMs, to the routers in turn, on a new connection each time (no
// keep-alive, so a router's drain never races a reused socket here; drain
// test covers that). A connection refused (a router restarting) means
// nothing was sent: the request goes to the next router, as a load balancer
// would send it, and counts as re-sent, not failed. So does a connection
// reset before any response, which a stopping router's kernel does to
// connections it had queued and the router never accepted; but a router
// that accepted a request and dropped it looks the same from here, so each
// reset is recorded (when, which router) for the test to check it against
// the restarts it made. Everything else is the request's outcome:
//   ok          the stream ended with a finish reason and [DONE];
//   http_error  a status other than 200 (503, 429, ...);
//   lost        sent, but failed before its first token (reset, an error event);
//   mid_stream  failed after streaming tokens (the router's error event names the worker).
import { request } from 'node:http';
import { SseReader } from './sse.ts';

export interface LoadOptions {
  /** The routers' base URLs, asked before every request (a restarted router comes back on other ports). */
  routers: () => readonly string[];
  model: string;
  concurrency: number;
  seed: number;
  families: number;
  prefixTokens: number;
  suffixTokens: number;
  maxTokens: number;
  /** Largest token id + 1 of the prompts (ids are drawn from [3, vocab)). */
  vocab: number;
  /** Each client's pause between one request's end and its next (0: none). */
  thinkMs?: number;
}

export type Outcome = 'ok' | 'http_error' | 'lost' | 'mid_stream';

export interface RequestRecord {
  router: string;
  /** ms since the epoch */
  startedAt: number;
  firstTokenAt: number | null;
  endedAt: number;
  outcome: Outcome;
  status: number;
  tokens: number;
  promptTokens: number;
  cachedTokens: number;
  /** Failures: what the client was told (a mid-stream error names the worker). */
  error: string | null;
}

/** Deterministic PRNG (mulberry32): the same seed, the same workload. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class LoadGenerator {
  readonly records: RequestRecord[] = [];
  /** Requests re-sent to another router: a connection refused (nothing had been sent) or reset before any response. */
  resent = 0;
  /** The resets before any response, each re-sent: when (ms since the epoch) and by which router. */
  readonly resets: { at: number; router: string }[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly random: () => number;
  private readonly prefixes: number[][];
  private turn = 0;

  constructor(private readonly o: LoadOptions) {
    this.random = seeded(o.seed);
    this.prefixes = Array.from({ length: o.families }, () => this.tokens(o.prefixTokens));
  }

  start(): void {
    this.running = true;
    this.loops = Array.from({ length: this.o.concurrency }, () => this.loop());
  }

  /** Stops sending; resolves with every record once the requests in flight have ended. */
  async stop(): Promise<RequestRecord[]> {
    this.running = false;
    await Promise.all(this.loops);
    return this.records;
  }

  private tokens(n: number): number[] {
    return Array.from({ length: n }, () => 3 + Math.floor(this.random() * (this.o.vocab - 3)));
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const family = this.prefixes[Math.floor(this.random() * this.prefixes.length)] as number[];
      const prompt = [...family, ...this.tokens(this.o.suffixTokens)];
      this.records.push(await this.send(prompt));
      if (this.o.thinkMs) await new Promise((r) => setTimeout(r, this.o.thinkMs));
    }
  }

  private async send(prompt: number[]): Promise<RequestRecord> {
    const body = JSON.stringify({
      model: this.o.model,
      prompt,
      max_tokens: this.o.maxTokens,
      ignore_eos: true,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    for (let tries = 0; ; tries++) {
      const routers = this.o.routers();
      const router = routers[this.turn++ % routers.length] as string;
      const record = await this.once(router, body, prompt.length);
      if (record) return record;
      this.resent++;
      // Every router refusing at once: wait for one to come up rather than spin.
      if (tries % routers.length === routers.length - 1) await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** One attempt; null when the connection was refused or reset before any response (sent again). */
  private once(router: string, body: string, promptTokens: number): Promise<RequestRecord | null> {
    const r: RequestRecord = {
      router,
      startedAt: Date.now(),
      firstTokenAt: null,
      endedAt: 0,
      outcome: 'lost',
      status: 0,
      tokens: 0,
      promptTokens,
      cachedTokens: 0,
      error: null,
    };
    const end = (outcome: Outcome, error: string | null = null): RequestRecord => {
      r.endedAt = Date.now();
      r.outcome = outcome;
      r.error = error;
      return r;
    };
    return new Promise((resolve) => {
      const req = request(
        `${router}/v1/completions`,
        { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } },
        (res) => {
          r.status = res.statusCode ?? 0;
          if (r.status !== 200) {
            let text = '';
            res.on('data', (d: Buffer) => {
              text += d.toString();
            });
            res.on('end', () => resolve(end('http_error', text)));
            res.on('error', () => resolve(end('http_error', text)));
            return;
          }
          void this.read(new SseReader(res), r).then(
            () => resolve(end('ok')),
            (err: Error) => resolve(end(r.tokens > 0 ? 'mid_stream' : 'lost', err.message)),
          );
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        // Refused: nothing was sent. Reset before any response: a connection a stopping router's
        // kernel had queued but the router never accepted (its listener closed first) is reset
        // with the request unread; clients send it again, as the OpenAI SDK does on a reset.
        if (err.code === 'ECONNRESET' && r.status === 0) this.resets.push({ at: Date.now(), router });
        if (err.code === 'ECONNREFUSED' || (err.code === 'ECONNRESET' && r.status === 0)) resolve(null);
        else resolve(end(r.tokens > 0 ? 'mid_stream' : 'lost', err.message));
      });
      req.end(body);
    });
  }

  /** Reads a stream to [DONE]; throws with what went wrong if it ends any other way. */
  private async read(sse: SseReader, r: RequestRecord): Promise<void> {
    let finished = false;
    for (let e = await sse.next(); e !== undefined; e = await sse.next()) {
      if (e === '[DONE]') {
        if (!finished) throw new Error('[DONE] without a finish reason');
        return;
      }
      if (e.error) throw new Error(e.error.message);
      const choice = e.choices?.[0];
      if (choice && choice.finish_reason === null) {
        // a delta: the router sends one per batch of tokens, the first with the first token
        r.firstTokenAt ??= Date.now();
        r.tokens++;
      }
      if (choice?.finish_reason) finished = true;
      if (e.usage) {
        r.tokens = e.usage.completion_tokens;
        r.cachedTokens = e.usage.prompt_tokens_details?.cached_tokens ?? 0;
      }
    }
    throw new Error('the stream ended without [DONE]');
  }
}

export interface LoadSummary {
  requests: number;
  ok: number;
  httpErrors: number;
  lost: number;
  midStream: number;
  /** Realised cached prompt tokens / prompt tokens of the requests that finished. */
  hitRate: number;
  ttftP50Ms: number;
  ttftP99Ms: number;
  e2eP50Ms: number;
  e2eP99Ms: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

/** Figures over the records that started in [from, to) (ms since the epoch). */
export function summarize(records: readonly RequestRecord[], from = 0, to = Infinity): LoadSummary {
  const rs = records.filter((r) => r.startedAt >= from && r.startedAt < to);
  const ok = rs.filter((r) => r.outcome === 'ok');
  const prompt = ok.reduce((n, r) => n + r.promptTokens, 0);
  const cached = ok.reduce((n, r) => n + r.cachedTokens, 0);
  const ttft = ok.map((r) => (r.firstTokenAt ?? r.endedAt) - r.startedAt).sort((a, b) => a - b);
  const e2e = ok.map((r) => r.endedAt - r.startedAt).sort((a, b) => a - b);
  return {
    requests: rs.length,
    ok: ok.length,
    httpErrors: rs.filter((r) => r.outcome === 'http_error').length,
    lost: rs.filter((r) => r.outcome === 'lost').length,
    midStream: rs.filter((r) => r.outcome === 'mid_stream').length,
    hitRate: prompt > 0 ? cached / prompt : 0,
    ttftP50Ms: percentile(ttft, 0.5),
    ttftP99Ms: percentile(ttft, 0.99),
    e2eP50Ms: percentile(e2e, 0.5),
    e2eP99Ms: percentile(e2e, 0.99),
  };
}
