// Cluster constants through real processes: a router (stories260K, c = 16)
// with live workers of another chunk size (32) and of another model id (a
// copy of stories260K under another name). It never places on them, and
// says why where an operator looks: /readyz, the metric, Info, the error a
// request gets, one log line per worker. Once compatible workers join, it
// places on those alone, with prefix affinity as usual.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CHECKPOINT,
  generate,
  info,
  type RouterProcess,
  scrapeMetrics,
  startWorker,
  TOKENIZER,
  type WorkerProcess,
  waitFor,
} from '@chunkmesh/test-support';
import { CHUNK, complete, Family, MODEL, post, TestCluster } from './cluster.ts';

const OTHER_MODEL = 'other260K';
const PREFIX = 5 * CHUNK;

describe('a router with workers of other cluster constants', { timeout: 90_000 }, () => {
  let c: TestCluster;
  let router: RouterProcess;
  let wrongChunk: WorkerProcess;
  let wrongModel: WorkerProcess;
  /** What the router says of each, sorted by worker id. */
  let reasons: string[];
  const modelDir = mkdtempSync(join(tmpdir(), 'cm-other-model-'));

  before(async () => {
    // The same weights under another model id (a llama2.c model's id is its checkpoint's name).
    copyFileSync(CHECKPOINT, join(modelDir, `${OTHER_MODEL}.bin`));
    copyFileSync(TOKENIZER, join(modelDir, 'tok512.bin'));
    c = await TestCluster.start({ workers: 0, name: 'constants' });
    const worker = (o: { chunkTokens?: number; model?: string }) =>
      startWorker({ redisUrl: c.redis.url, cluster: c.cluster, ...o });
    [wrongChunk, wrongModel] = await Promise.all([
      worker({ chunkTokens: 2 * CHUNK }).then((w) => c.track(w)),
      worker({ model: modelDir }).then((w) => c.track(w)),
    ]);
    router = await c.startRouter([], 0);
    reasons = [
      [wrongChunk.workerId, `chunk size ${2 * CHUNK} differs from the router's ${CHUNK}`],
      [wrongModel.workerId, `model id "${OTHER_MODEL}" differs from the router's "${MODEL}"`],
    ]
      .sort(([a], [b]) => ((a as string) < (b as string) ? -1 : 1))
      .map(([id, why]) => `${id}: ${why}`);
  });
  after(async () => {
    await c?.stop();
    rmSync(modelDir, { recursive: true, force: true });
  });

  const incompatibleGauge = async () => {
    const m = await scrapeMetrics(router.metricsUrl);
    return ['chunk_tokens', 'model_id'].map((reason) =>
      m.value('chunkmesh_router_incompatible_workers', { reason }),
    );
  };

  test('with only incompatible workers live it is not ready, and says why everywhere', async () => {
    await waitFor('the router to see both workers as incompatible', async () => {
      const [chunk, model] = await incompatibleGauge();
      return chunk === 1 && model === 1;
    });
    assert.equal((await scrapeMetrics(router.metricsUrl)).value('chunkmesh_router_live_workers'), 0);

    const ready = await post(`${router.opsUrl}/readyz`, null, 'GET');
    assert.equal(ready.status, 503);
    assert.equal(ready.body.error.code, 'unavailable');
    const { reason, ...rest } = ready.body.readiness;
    assert.deepEqual(
      { ...rest, incompatibleWorkers: rest.incompatibleWorkers.sort() },
      { ready: false, liveWorkers: 0, incompatibleWorkers: reasons },
    );
    assert.match(reason, /^no live worker in the cluster is compatible with this router \(/);
    for (const why of reasons) assert.ok(reason.includes(why), reason);

    const i = await info(c.client(router.address));
    assert.deepEqual([...i.incompatibleWorkers].sort(), reasons);
    assert.equal(i.capacityChunks, 0, 'no capacity the router can use');
    const mine = await info(c.client(wrongChunk.address));
    assert.deepEqual([mine.chunkTokens, mine.kvDtype, mine.incompatibleWorkers], [2 * CHUNK, 'f32', []]);

    const r = await post(`${router.baseUrl}/v1/completions`, {
      model: MODEL,
      prompt: [5, 6, 7],
      max_tokens: 2,
    });
    assert.equal(r.status, 503, r.text);
    for (const why of reasons) assert.ok(r.body.error.message.includes(why), r.body.error.message);
  });

  test('compatible workers join: it places on them alone, with prefix affinity, and still lists the others', async () => {
    const joined = await Promise.all(
      [0, 1].map(() => startWorker({ redisUrl: c.redis.url, cluster: c.cluster })),
    );
    for (const w of joined) c.track(w);
    const compatible = new Set(joined.map((w) => w.workerId));
    await waitFor(
      'the router to see the compatible workers',
      async () => (await scrapeMetrics(router.metricsUrl)).value('chunkmesh_router_live_workers') === 2,
    );
    const ready = await post(`${router.opsUrl}/readyz`, null, 'GET');
    assert.equal(ready.status, 200);
    assert.deepEqual(
      { ...ready.body, incompatibleWorkers: ready.body.incompatibleWorkers.sort() },
      { ready: true, liveWorkers: 2, incompatibleWorkers: reasons },
    );

    // A family seeded straight on the other-model worker: its tree holds the prefix, under its own keys.
    const seeded = new Family(707);
    const seed = await generate(c.client(wrongModel.address), {
      tokenIds: { ids: seeded.next() },
      sampling: { maxTokens: 2 },
    });
    assert.equal(seed.final.workerId, wrongModel.workerId);
    const fam = new Family(808);
    for (const [i, family] of [fam, seeded, fam, seeded, fam, seeded].entries()) {
      const r = await complete(router, family.next());
      assert.ok(compatible.has(r.workerId), `request ${i} placed on a compatible worker, not ${r.workerId}`);
      if (i < 2) assert.equal(r.cached, 0, `request ${i}: the first of its family the router places`);
      else assert.equal(r.cached, PREFIX, `request ${i}: its family's prefix, cached where placed`);
    }

    const served = async (w: WorkerProcess) =>
      (await scrapeMetrics(w.metricsUrl)).value('chunkmesh_requests_finished_total');
    assert.deepEqual(
      [await served(wrongChunk), await served(wrongModel)],
      [0, 1],
      'nothing routed to the incompatible workers (the other-model one served only its direct seed)',
    );
    assert.deepEqual(await incompatibleGauge(), [1, 1]);
    const i = await info(c.client(router.address));
    assert.deepEqual([...i.incompatibleWorkers].sort(), reasons);
  });

  test('logs each incompatible worker once, with both values', () => {
    const lines = router.stderr
      .split('\n')
      .filter((l) => l.includes('cluster constants differ'))
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((l) => [l.workerId, l.chunk_tokens ?? l.model_id]).sort(),
      [
        [wrongChunk.workerId, { worker: 2 * CHUNK, router: CHUNK }],
        [wrongModel.workerId, { worker: OTHER_MODEL, router: MODEL }],
      ].sort(),
      router.stderr,
    );
  });
});
