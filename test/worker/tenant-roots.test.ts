// Tenants are cache roots in the worker's prefix tree, and every distinct
// tenant string a client sends makes one: they must not outlive what they
// hold. Through the worker process over gRPC: thousands of requests, each
// under a tenant of its own, and (on a worker without prefix sharing, where
// every request gets a salt of its own) thousands of plain requests, leave as
// many roots as hold cached chunks (bounded by the pool) and none for prompts
// shorter than a chunk; the worker's memory levels off.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  createGenerationClient,
  type GenerateRequest,
  type GenerationClient,
  type Init,
} from '@chunkmesh/common';
import { collect, inPool, scrapeMetrics, startWorker, type WorkerProcess } from '@chunkmesh/test-support';

const BOS = 1;
const CHUNK = 16;
/** A pool of 64 chunks: cached chunks (and the roots holding them) are evicted past it. */
const POOL_TOKENS = 64 * CHUNK;

async function roots(w: WorkerProcess): Promise<{ roots: number; rss: number }> {
  const m = await scrapeMetrics(w.metricsUrl);
  return { roots: m.value('chunkmesh_kv_tenant_roots'), rss: m.value('process_resident_memory_bytes') };
}

/** Runs `n` one-token requests, 8 at a time; request i is make(i). */
async function run(
  client: GenerationClient,
  n: number,
  make: (i: number) => Init<GenerateRequest>,
): Promise<void> {
  await inPool(n, 8, async (i) => {
    const r = await collect(client.generate(make(i)));
    assert.equal(r.final.finishReason, 'FINISH_REASON_LENGTH');
  });
}

/** A prompt of `n` tokens unique to i. */
function prompt(i: number, n: number): number[] {
  return [BOS, ...Array.from({ length: n - 1 }, (_, k) => 3 + ((i * 31 + k * 7) % 500))];
}

describe('worker process: tenant roots are bounded', { timeout: 180_000 }, () => {
  const workers: WorkerProcess[] = [];
  const clients: GenerationClient[] = [];
  after(async () => {
    for (const c of clients) c.close();
    await Promise.all(workers.map((w) => w.kill()));
  });

  async function start(args: string[]): Promise<{ w: WorkerProcess; client: GenerationClient }> {
    const w = await startWorker({ args: ['--kv-capacity-tokens', String(POOL_TOKENS), ...args] });
    workers.push(w);
    const client = createGenerationClient(w.address);
    clients.push(client);
    return { w, client };
  }

  it('thousands of tenants: a root per tenant holding cached chunks (at most the pool), none once empty', async () => {
    const { w, client } = await start([]);
    const sampling = { maxTokens: 1, ignoreEos: true };
    // Warm up (code paths, allocator) before the memory baseline.
    await run(client, 200, (i) => ({ tokenIds: { ids: prompt(i, 8) }, tenant: `warm-${i}`, sampling }));
    const base = await roots(w);
    // Shorter than a chunk: nothing is cached, each tenant's root goes with its request.
    await run(client, 3000, (i) => ({ tokenIds: { ids: prompt(i, 8) }, tenant: `short-${i}`, sampling }));
    const short = await roots(w);
    assert.ok(short.roots <= 1, `${short.roots} roots after 3000 tenants with nothing cached`);
    // Two chunks each: cached until evicted, so roots are bounded by the pool's 64 chunks.
    await run(client, 1500, (i) => ({
      tokenIds: { ids: prompt(i, 2 * CHUNK + 3) },
      tenant: `long-${i}`,
      sampling,
    }));
    const long = await roots(w);
    assert.ok(long.roots >= 1 && long.roots <= 64, `${long.roots} roots with at most 64 chunks cached`);
    const grew = (long.rss - base.rss) / 2 ** 20;
    assert.ok(grew < 64, `RSS grew ${grew.toFixed(1)} MiB over 4500 tenants`);
  });

  it('--no-prefix-sharing: a salt per request, and still no root left behind', async () => {
    const { w, client } = await start(['--no-prefix-sharing']);
    const sampling = { maxTokens: 1, ignoreEos: true };
    await run(client, 200, (i) => ({ tokenIds: { ids: prompt(i, 2 * CHUNK + 3) }, sampling }));
    const base = await roots(w);
    await run(client, 3000, (i) => ({ tokenIds: { ids: prompt(i, 2 * CHUNK + 3) }, sampling }));
    const after = await roots(w);
    assert.ok(after.roots <= 64, `${after.roots} roots after 3000 requests`);
    const grew = (after.rss - base.rss) / 2 ** 20;
    assert.ok(grew < 64, `RSS grew ${grew.toFixed(1)} MiB over 3000 requests`);
  });
});
