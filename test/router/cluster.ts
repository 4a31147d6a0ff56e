// A private cluster for a router test file: its own redis-server, workers and
// routers as real processes, all killed by stop() (and by the support
// modules' exit hooks if the file dies first). Plus the client side the tests
// share: OpenAI HTTP calls (JSON and server-sent events), prompts built from
// token ids so prefixes are exact, and metric reads.
import assert from 'node:assert/strict';
import { createGenerationClient, type GenerationClient } from '@chunkmesh/common';
import {
  RedisServer,
  type RouterProcess,
  type ServiceProcess,
  SseReader,
  scrapeMetrics,
  startRouter,
  startWorker,
  tokenRun,
  uniqueCluster,
  type WorkerProcess,
  waitFor,
} from '@chunkmesh/test-support';

export const MODEL = 'stories260K';
export const CHUNK = 16;

export class TestCluster {
  readonly routers: RouterProcess[] = [];
  private readonly others: ServiceProcess[] = [];
  private readonly clients: GenerationClient[] = [];

  private constructor(
    readonly redis: RedisServer,
    readonly cluster: string,
    readonly workers: WorkerProcess[],
  ) {}

  /** Redis and n workers (started together), reporting under a fresh cluster name. */
  static async start(o: {
    workers: number;
    workerArgs?: readonly string[];
    /** Worker i gets --worker-id workerIds[i] (default: named after its port). */
    workerIds?: readonly string[];
    name?: string;
  }): Promise<TestCluster> {
    const redis = await RedisServer.start();
    const cluster = uniqueCluster(o.name ?? 'router');
    const c = new TestCluster(redis, cluster, []);
    try {
      const started = await Promise.allSettled(
        Array.from({ length: o.workers }, (_, i) => c.startWorker(o.workerArgs ?? [], o.workerIds?.[i])),
      );
      for (const s of started) if (s.status === 'fulfilled') c.workers.push(s.value);
      const failed = started.find((s) => s.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      return c;
    } catch (err) {
      await c.stop();
      throw err;
    }
  }

  /** A worker on this cluster (not yet in `workers`). */
  startWorker(args: readonly string[], workerId?: string): Promise<WorkerProcess> {
    return startWorker({
      redisUrl: this.redis.url,
      cluster: this.cluster,
      args: [...args, ...(workerId ? ['--worker-id', workerId] : [])],
    });
  }

  /** A router on this cluster; waits until it sees `expectWorkers` live workers (default: every running one). */
  async startRouter(args: readonly string[] = [], expectWorkers?: number): Promise<RouterProcess> {
    const r = await startRouter({ redisUrl: this.redis.url, cluster: this.cluster, args });
    this.routers.push(r);
    const want = expectWorkers ?? this.workers.filter((w) => w.running).length;
    await waitFor(`router to see ${want} live workers`, async () => {
      const m = await scrapeMetrics(r.metricsUrl);
      return m.value('chunkmesh_router_live_workers') === want;
    }).catch((err: Error) => {
      throw new Error(`${err.message}\n${r.describe()}`);
    });
    return r;
  }

  /** Has stop() kill a process started outside this cluster's lists (another cluster's worker, say). */
  track<P extends ServiceProcess>(proc: P): P {
    this.others.push(proc);
    return proc;
  }

  /** A gRPC Generation client, closed by stop(). */
  client(address: string): GenerationClient {
    const c = createGenerationClient(address);
    this.clients.push(c);
    return c;
  }

  worker(id: string): WorkerProcess {
    const w = this.workers.find((x) => x.workerId === id);
    assert.ok(w, `no worker ${id} (have ${this.workers.map((x) => x.workerId).join(', ')})`);
    return w;
  }

  /** Worker ids in the order a tie-break prefers them (lowest first). */
  sortedIds(): string[] {
    return this.workers
      .filter((w) => w.running)
      .map((w) => w.workerId)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Kills everything it started; safe to call twice and after a failed start. */
  async stop(): Promise<void> {
    for (const c of this.clients.splice(0)) c.close();
    await Promise.all([...this.routers, ...this.workers, ...this.others].map((p) => p.kill()));
    await this.redis.stop();
  }
}

// ---- prompts ----

/** A prompt family: a shared prefix of `chunks` full chunks; member i appends its own 8-token suffix. */
export class Family {
  readonly prefix: number[];
  private n = 0;

  constructor(
    readonly seed: number,
    chunks = 5,
  ) {
    this.prefix = tokenRun(seed, chunks * CHUNK);
  }

  /** The next member: prefix + a suffix no other member of any family shares. */
  next(): number[] {
    this.n++;
    return [...this.prefix, ...tokenRun(this.seed * 1000 + this.n, 8)];
  }
}

// ---- OpenAI HTTP ----

export interface HttpReply {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are checked field by field by the tests
  body: any;
  text: string;
}

/** POSTs a JSON body (or a raw string) and reads the reply, parsed when it is JSON. */
export async function post(
  url: string,
  body: unknown,
  method = 'POST',
  headers: Record<string, string> = {},
): Promise<HttpReply> {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(method === 'GET' || method === 'HEAD'
      ? {}
      : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

export interface CompletionResult {
  workerId: string;
  cached: number;
  promptTokens: number;
  completionTokens: number;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: the raw reply, for assertions on its shape
  body: any;
}

/** A non-streaming /v1/completions call that must succeed. */
export async function complete(
  router: RouterProcess,
  prompt: number[] | string,
  extra: Record<string, unknown> = {},
): Promise<CompletionResult> {
  const r = await post(`${router.baseUrl}/v1/completions`, {
    model: MODEL,
    prompt,
    max_tokens: 4,
    temperature: 0,
    ...extra,
  });
  assert.equal(r.status, 200, `completion failed: ${r.text}`);
  return {
    workerId: r.headers.get('x-chunkmesh-worker') ?? '',
    cached: r.body.usage.prompt_tokens_details.cached_tokens,
    promptTokens: r.body.usage.prompt_tokens,
    completionTokens: r.body.usage.completion_tokens,
    text: r.body.choices[0].text,
    body: r.body,
  };
}

/** A server-sent-events reply: its status and headers, and its frames. */
export class SseStream extends SseReader {
  constructor(
    readonly status: number,
    readonly headers: Headers,
    body: AsyncIterable<Uint8Array> | null,
  ) {
    super(body);
  }
}

export async function openStream(url: string, body: unknown): Promise<SseStream> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return new SseStream(res.status, res.headers, res.body);
}

/** Reads one router's counter, summed over series whose labels include `labels`. */
export async function routerMetric(
  router: RouterProcess,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  return (await scrapeMetrics(router.metricsUrl)).value(name, labels);
}
