// A worker process with host and disk tiers whose disk fills up mid-run (a
// file size limit set on the running process with prlimit: its writes then
// fail with EFBIG, as on a full disk): no request is lost, every completion is
// whole and equals the same request on a worker without tiers, the worker
// says once that the disk tier failed, and its metrics show it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createGenerationClient, type GenerationClient } from '@chunkmesh/common';
import { generate, scrapeMetrics, startWorker, type WorkerProcess, waitFor } from '@chunkmesh/test-support';

const BOS = 1;
const CHUNK = 16;
// stories260K: 5 layers x K and V x 4 KV heads x 8 dims x f32 a token
const CHUNK_BYTES = 5 * 2 * 4 * 8 * 4 * CHUNK;

/** Distinct prompts of 7 chunks and a bit, sharing nothing, so each evicts the others from a small pool. */
function prompt(i: number): number[] {
  return [BOS, ...Array.from({ length: 7 * CHUNK + 5 }, (_, t) => 3 + ((i * 53 + t * 17) % 500))];
}

describe('worker process: a disk tier that fills up mid-run', () => {
  let tiered: WorkerProcess | undefined;
  let plain: WorkerProcess | undefined;
  let a: GenerationClient;
  let b: GenerationClient;
  const dir = mkdtempSync(join(tmpdir(), 'chunkmesh-worker-tiers-'));

  before(async () => {
    const pool = ['--kv-capacity-tokens', String(16 * CHUNK)];
    tiered = await startWorker({
      args: [
        ...pool,
        '--kv-host-bytes',
        String(4 * CHUNK_BYTES),
        '--kv-disk-dir',
        dir,
        '--kv-disk-bytes',
        String(64 << 20),
      ],
    });
    plain = await startWorker({ args: pool });
    a = createGenerationClient(tiered.address);
    b = createGenerationClient(plain.address);
  });

  after(async () => {
    a?.close();
    b?.close();
    await tiered?.kill();
    await plain?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses no request, answers as a worker without tiers, and reports the failed disk', async () => {
    const worker = tiered as WorkerProcess;
    const ask = (client: GenerationClient, i: number) =>
      generate(client, { tokenIds: { ids: prompt(i) }, sampling: { maxTokens: 6, temperature: 0 } });
    // Fill the host tier and start writing back to disk, then cap the file at what is written now.
    for (let i = 0; i < 4; i++) await ask(a, i);
    const demoted = async () =>
      (await scrapeMetrics(worker.metricsUrl)).value('chunkmesh_kv_demotions_total', { to: 'disk' });
    await waitFor('a write-back to disk', async () => (await demoted()) > 0, 5000);
    execFileSync('prlimit', [`--pid=${worker.pid}`, `--fsize=${8192}`]);
    const rounds = await Promise.all(Array.from({ length: 12 }, (_, i) => ask(a, 4 + (i % 6))));
    for (const [i, r] of rounds.entries()) {
      assert.equal(r.final?.finishReason, 'FINISH_REASON_LENGTH', `request ${i}: ${JSON.stringify(r.final)}`);
      assert.deepEqual(r.ids, (await ask(b, 4 + (i % 6))).ids, `request ${i} answers as without tiers`);
    }
    const metrics = await waitFor(
      'the disk tier reported failed',
      async () => {
        const m = await scrapeMetrics(worker.metricsUrl);
        return m.value('chunkmesh_kv_disk_failed') === 1 ? m : undefined;
      },
      5000,
    );
    assert.ok(metrics.value('chunkmesh_kv_disk_errors_total', { kind: 'io' }) >= 1);
    await waitFor('the failure logged', () => worker.stderr.includes('KV disk tier failed'), 3000);
    assert.ok(worker.running, worker.describe());
    const after = await ask(a, 0);
    assert.equal(after.ids.length, 6, 'still serving');
  });
});
