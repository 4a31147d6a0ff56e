// The router as a child process for integration tests, on free ports (gRPC,
// HTTP and ops), from its sources, built on ServiceProcess (as startWorker is):
// same ready-line wait, stderr tail and kill-on-exit
// safety net. Also: Prometheus text parsing and a polling helper.
//
//   const router = await startRouter({ redisUrl: redis.url, cluster });
//   after(() => router.kill());
//   await fetch(`${router.baseUrl}/v1/completions`, ...);
//   const m = await scrapeMetrics(router.metricsUrl);
import { ROUTER_MAIN, ServiceProcess } from '@chunkmesh/cli';
import { STORIES_DIR } from './stories260k.ts';

export interface RouterProcessOptions {
  redisUrl: string;
  cluster: string;
  /** Model directory; default the vendored stories260K. */
  model?: string;
  /** Default 16, like startWorker's. */
  chunkTokens?: number;
  /** More flags, appended after the defaults (--policy, --guard-factor, --max-inflight, ...). */
  args?: readonly string[];
  env?: Record<string, string | undefined>;
  readyTimeoutMs?: number;
}

export type RouterProcess = ServiceProcess & {
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly opsPort: number;
  /** host:port for createGenerationClient. */
  readonly address: string;
  /** http://127.0.0.1:<httpPort> (https:// when the router serves TLS), for /v1/... */
  readonly baseUrl: string;
  /** http://127.0.0.1:<opsPort>, for /healthz, /readyz */
  readonly opsUrl: string;
  readonly metricsUrl: string;
};

/** Starts the router (ROUTER_MAIN: its sources, in tests) on 127.0.0.1 with free ports and waits until it serves. */
export async function startRouter(o: RouterProcessOptions): Promise<RouterProcess> {
  const args = [
    '--model',
    o.model ?? STORIES_DIR,
    '--host',
    '127.0.0.1',
    '--grpc-port',
    '0',
    '--http-port',
    '0',
    '--ops-port',
    '0',
    '--redis-url',
    o.redisUrl,
    '--cluster',
    o.cluster,
    '--chunk-tokens',
    String(o.chunkTokens ?? 16),
    ...(o.args ?? []),
  ];
  const { proc, ready } = await ServiceProcess.start({
    entry: ROUTER_MAIN,
    args,
    ...(o.env ? { env: o.env } : {}),
    name: 'router',
    ...(o.readyTimeoutMs !== undefined ? { readyTimeoutMs: o.readyTimeoutMs } : {}),
  });
  const { grpcPort, httpPort, opsPort, tls } = ready;
  if (typeof grpcPort !== 'number' || typeof httpPort !== 'number' || typeof opsPort !== 'number') {
    await proc.kill();
    throw new Error(`router's ready line lacks grpcPort/httpPort/opsPort: ${JSON.stringify(ready)}`);
  }
  const opsUrl = `http://127.0.0.1:${opsPort}`;
  return Object.assign(proc, {
    grpcPort,
    httpPort,
    opsPort,
    address: `127.0.0.1:${grpcPort}`,
    baseUrl: `${tls ? 'https' : 'http'}://127.0.0.1:${httpPort}`,
    opsUrl,
    metricsUrl: `${opsUrl}/metrics`,
  });
}

/** One sample of a Prometheus text exposition. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format (comments skipped). */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    out.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return out;
}

export class Metrics {
  constructor(readonly samples: Sample[]) {}

  /** Sum of the samples named `name` whose labels include `labels` (0 when none). */
  value(name: string, labels: Record<string, string> = {}): number {
    let sum = 0;
    for (const s of this.samples) {
      if (s.name !== name) continue;
      if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
    }
    return sum;
  }

  /** The samples named `name`. */
  all(name: string): Sample[] {
    return this.samples.filter((s) => s.name === name);
  }
}

/** GETs a /metrics endpoint and parses it. */
export async function scrapeMetrics(url: string): Promise<Metrics> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return new Metrics(parseMetrics(await res.text()));
}

/** Polls `probe` until it returns a truthy value (returned), or throws naming `what` after timeoutMs. */
export async function waitFor<T>(
  what: string,
  probe: () => T | Promise<T>,
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
