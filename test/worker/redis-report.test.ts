// What a real worker process reports to Redis is exactly its prefix tree.
// Expected chunk keys are computed here, independently of the worker, with
// chunkKeys over each request's prompt plus the generated tokens the engine
// fed back (every one but the last, unless it ended on end-of-sequence); the
// registry entry, the events stream (replayed from the start of the epoch) and
// the snapshot (plus the events after it) must each give exactly that set,
// with no key stored twice or removed while absent. Then Redis crashes: the
// worker keeps serving, and once an empty Redis is back it holds the whole
// tree again (registry, events, snapshot), nothing lost or doubled. The
// router's ClusterIndex, tailing the same Redis throughout, agrees.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createGenerationClient,
  GENERATION_SERVICE,
  type GenerateRequest,
  type GenerationClient,
  type Init,
} from '@chunkmesh/common';
import { loadModel, type ModelBundle } from '@chunkmesh/model';
import { CHUNK_KEY_FORMAT, chunkKeys } from '@chunkmesh/native';
import { ClusterIndex } from '@chunkmesh/router';
import {
  type Completion,
  generate,
  healthCheck,
  info,
  REFERENCE_TEXT,
  RedisServer,
  readWorkerView,
  STORIES_DIR,
  setDiff,
  startWorker,
  uniqueCluster,
  type WorkerProcess,
  waitForAgreement,
} from '@chunkmesh/test-support';
import { Redis } from 'ioredis';

const BOS = 1;
const CHUNK = 16;

/** The tokens the sequence held when it finished: the last sampled token is fed only if more were to follow. */
function heldTokens(prompt: readonly number[], r: Completion): number[] {
  // Without stop strings or stop token ids, STOP means end-of-sequence: the EOS token is not
  // emitted and every emitted token was fed. LENGTH: the last emitted token never was.
  const fed = r.final.finishReason === 'FINISH_REASON_STOP' ? r.ids : r.ids.slice(0, -1);
  assert.ok(
    ['FINISH_REASON_STOP', 'FINISH_REASON_LENGTH'].includes(r.final.finishReason),
    r.final.finishReason,
  );
  return [...prompt, ...fed];
}

describe('worker process: Redis holds exactly the prefix tree', () => {
  let redis: RedisServer | undefined;
  let worker: WorkerProcess | undefined;
  let client: GenerationClient;
  let reader: Redis | undefined;
  let index: ClusterIndex | undefined;
  let indexConn: Redis | undefined;
  let bundle: ModelBundle;
  let epoch: string;
  const cluster = uniqueCluster('worker-report');
  /** Every chunk key the worker's tree should hold (the pool is far from full: nothing is evicted). */
  const expected = new Set<bigint>();
  const keysOf = (tokens: readonly number[], tenant: string) =>
    chunkKeys({ modelId: 'stories260K', chunkTokens: CHUNK, salt: tenant }, tokens);

  /** Runs a token-id request and adds what the tree now holds for it to `expected`. */
  async function run(
    prompt: number[],
    maxTokens: number,
    tenant = '',
    ignoreEos = true,
  ): Promise<Completion & { keys: BigUint64Array }> {
    const request: Init<GenerateRequest> = {
      tokenIds: { ids: prompt },
      tenant,
      sampling: { temperature: 0, maxTokens, ignoreEos },
    };
    const r = await generate(client, request);
    const keys = keysOf(heldTokens(prompt, r), tenant);
    for (const k of keys) expected.add(k);
    return { ...r, keys };
  }

  async function assertAgreement(what: string): Promise<void> {
    const { problems, view } = await waitForAgreement(
      reader as Redis,
      cluster,
      (worker as WorkerProcess).workerId,
      epoch,
      expected,
    );
    assert.equal(
      problems,
      '',
      `${what}: Redis disagrees with the tree:\n${problems}\n(${view.events.length} events)\n${worker?.describe()}`,
    );
  }

  /** Cached (unpinned) tree nodes as the worker's /metrics reports them. */
  async function cachedChunks(): Promise<number> {
    const body = await (await fetch((worker as WorkerProcess).metricsUrl)).text();
    const m = body.match(/^chunkmesh_kv_chunks\{[^}]*state="cached"[^}]*\} (\d+)$/m);
    assert.ok(m, 'chunkmesh_kv_chunks{state="cached"} in /metrics');
    return Number(m[1]);
  }

  /** Waits until the router's index shows exactly `expected` for this worker, at its epoch. */
  async function assertIndexAgrees(what: string, timeoutMs = 8000): Promise<void> {
    const id = (worker as WorkerProcess).workerId;
    const deadline = Date.now() + timeoutMs;
    let problem = '';
    for (;;) {
      const live = (index as ClusterIndex).workers().find((w) => w.workerId === id);
      const keys = new Set((index as ClusterIndex).entriesOf(id).keys());
      if (!live) problem = 'worker not listed';
      else if (live.epoch !== epoch) problem = `epoch ${live.epoch}, not ${epoch}`;
      else if (!live.synced) problem = 'not synced';
      else problem = setDiff(keys, expected);
      if (!problem || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(problem, '', `${what}: the router's ClusterIndex disagrees: ${problem}`);
  }

  before(async () => {
    redis = await RedisServer.start();
    [worker, bundle] = await Promise.all([
      startWorker({ redisUrl: redis.url, cluster }),
      loadModel(STORIES_DIR),
    ]);
    client = createGenerationClient(worker.address);
    // Retries quickly and forever: it reads again once the restarted server is up.
    reader = new Redis(redis.url, { retryStrategy: () => 50, maxRetriesPerRequest: 2 });
    reader.on('error', () => undefined);
    epoch = (await info(client)).epoch;
  });

  after(async () => {
    client?.close();
    await index?.stop().catch(() => undefined);
    indexConn?.disconnect();
    reader?.disconnect();
    await worker?.kill();
    await redis?.stop();
  });

  const tok = () => bundle.tokenizer;
  const story = () => tok().encode(REFERENCE_TEXT, { addSpecialTokens: true });
  /** 70 tokens of the story (4 full chunks and 6 more), then an ending of its own. */
  const withEnding = (ending: string) => [...story().slice(0, 70), ...tok().encode(ending)];

  it('registers at start, with an empty tree', async () => {
    const w = worker as WorkerProcess;
    await assertAgreement('at start');
    const { record, snapshot, events } = await readWorkerView(reader as Redis, cluster, w.workerId);
    assert.deepEqual(
      { ...record, load: undefined },
      {
        workerId: w.workerId,
        endpoint: `127.0.0.1:${w.grpcPort}`,
        modelId: 'stories260K',
        chunkTokens: CHUNK,
        keyFormat: CHUNK_KEY_FORMAT,
        kvDtype: 'f32',
        capacityChunks: 65_536 / CHUNK,
        epoch,
        seq: record?.seq,
        load: undefined,
      },
    );
    assert.equal(snapshot?.epoch, epoch);
    // the epoch begins with a resync: each tier cleared (its stored sets are empty, so not written)
    assert.deepEqual(
      events.map((e) => [e.event.seq, e.event.op, e.event.tier]),
      [
        [1, 'cleared', 'device'],
        [2, 'cleared', 'host'],
        [3, 'cleared', 'disk'],
      ],
    );
  });

  it('after requests sharing prefixes, registry, events and snapshot all hold exactly the chunks of the tree', async () => {
    const a = await run(withEnding(' Tom went to the park.'), 24);
    // the same story prefix, other endings, two of them at once
    const [b, c] = await Promise.all([
      run(withEnding(' The dog ran away.'), 24),
      run(withEnding(' One day, a bird sang.'), 30),
    ]);
    // from BOS, where the model may end on its own (it tells the same story: shares the prefix too)
    const d = await run([BOS], 60, '', false);
    // the first request again: its prompt comes from the cache, its tokens are the same
    const again = await run(withEnding(' Tom went to the park.'), 24);
    assert.deepEqual(again.ids, a.ids);
    assert.ok((again.final.usage?.cachedPromptTokens ?? 0) >= 64, JSON.stringify(again.final.usage));
    // b and c ran together: whichever came second may or may not have found the shared chunks yet

    // shared prefixes are one set of nodes: fewer keys than the requests' chunks summed
    const summed = [a, b, c, d].reduce((n, r) => n + r.keys.length, 0);
    assert.ok(expected.size >= 8 && expected.size < summed - 8, `${expected.size} keys of ${summed}`);
    await assertAgreement('after requests');
    // and the worker's own count of cached nodes says the same
    assert.equal(await cachedChunks(), expected.size);
  });

  it('keys of different tenants differ, for the same tokens', async () => {
    const prompt = withEnding(' Tom went to the park.');
    const before = new Set(expected);
    const acme = await run(prompt, 24, 'acme');
    const other = await run(prompt, 24, 'other');
    // isolation: nothing of the default tenant's cached prefix is used
    assert.equal(acme.final.usage?.cachedPromptTokens, 0);
    assert.equal(other.final.usage?.cachedPromptTokens, 0);
    assert.deepEqual(acme.ids, other.ids);
    const acmeKeys = [...keysOf(heldTokens(prompt, acme), 'acme')];
    const otherKeys = new Set(keysOf(heldTokens(prompt, other), 'other'));
    const defaultKeys = new Set(keysOf(heldTokens(prompt, acme), ''));
    assert.ok(acmeKeys.length >= 5);
    for (const k of acmeKeys) {
      assert.ok(!otherKeys.has(k) && !defaultKeys.has(k) && !before.has(k), `key ${k} shared across tenants`);
    }
    // the default tenant's keys for these tokens were reported before; the new tenants' are new
    for (const k of defaultKeys) assert.ok(before.has(k));
    assert.equal(expected.size, before.size + acmeKeys.length + otherKeys.size);
    await assertAgreement('with three tenants');
    assert.equal(await cachedChunks(), expected.size);
  });

  it("the router's ClusterIndex built from Redis holds the same keys", async () => {
    indexConn = new Redis((redis as RedisServer).url, { retryStrategy: () => 50, maxRetriesPerRequest: 1 });
    indexConn.on('error', () => undefined);
    index = new ClusterIndex({
      redis: indexConn,
      cluster,
      constants: { modelId: 'stories260K', chunkTokens: CHUNK },
      pollIntervalMs: 100,
      blockMs: 200,
      snapshotRetryMs: 100,
    });
    await index.start();
    await assertIndexAgrees('bootstrapped');
    // and it follows new events
    await run(withEnding(' Lily found a cat.'), 20);
    await assertIndexAgrees('tailing');
  });

  it('keeps serving through a Redis crash; an empty Redis, once back, holds the whole tree again', async (t) => {
    if (!redis?.restartable) return t.skip('REDIS_URL is set: cannot crash it');
    const w = worker as WorkerProcess;
    const seqBefore =
      (await readWorkerView(reader as Redis, cluster, w.workerId)).events.at(-1)?.event.seq ?? 0;
    const earlier = await generate(client, {
      tokenIds: { ids: withEnding(' The dog ran away.') },
      sampling: { temperature: 0, maxTokens: 24, ignoreEos: true },
    });
    await redis.kill();

    // Requests during the outage: new prefixes, a new tenant, one served from the cache.
    const during = await Promise.all([
      run(withEnding(' A big red car drove by.'), 24),
      run([...tok().encode('Tom had a little boat.', { addSpecialTokens: true })], 40, 'acme'),
      run(withEnding(' The dog ran away.'), 24),
    ]);
    assert.deepEqual(during[2]?.ids, earlier.ids);
    assert.ok((during[2]?.final.usage?.cachedPromptTokens ?? 0) >= 64);
    assert.equal(await healthCheck(w.address), 'SERVING');
    // long enough for the reporter to have tried (and failed) to write
    await new Promise((r) => setTimeout(r, 300));
    await run(withEnding(' Then it rained.'), 20);
    assert.ok(w.running, w.describe());

    await redis.restart();
    await assertAgreement('after Redis came back empty');
    const view = await readWorkerView(reader as Redis, cluster, w.workerId);
    // the new stream starts with a resync: every tier cleared, then the stored set; seqs go on from before
    const ops = view.events.map((e) => `${e.event.op}:${e.event.tier}`);
    assert.deepEqual(ops.slice(0, 4), ['cleared:device', 'cleared:host', 'cleared:disk', 'stored:device']);
    assert.ok(
      (view.events[0]?.event.seq ?? 0) > seqBefore,
      `first seq ${view.events[0]?.event.seq} after ${seqBefore}`,
    );
    assert.equal(view.record?.endpoint, `127.0.0.1:${w.grpcPort}`);
    assert.equal(await cachedChunks(), expected.size);

    // and it goes on reporting
    await run(withEnding(' The sun was hot.'), 20);
    await assertAgreement('after a request on the new Redis');
    await assertIndexAgrees('through the outage');
    assert.equal(await healthCheck(w.address, GENERATION_SERVICE), 'SERVING');
  });
});
