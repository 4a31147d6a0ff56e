// WorkerControl's migration calls between two real worker processes, without
// Redis or the job runner: ExportPrefix streams a prompt's cached whole chunks
// under the keys the cluster uses; PullPrefix answers with a clear status for
// every way it can go wrong, and keeps nothing of a prefix it refused. A byte
// flipped on the wire (a TCP relay in front of the source) is caught by the
// chunk's checksum: DATA_LOSS, and the target holds nothing of the prompt.
// One pull runs at a time; a pull its caller cancels imports nothing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  createWorkerControlClient,
  type KvChunk,
  type PullPrefixRequest,
  type PullPrefixResponse,
} from '@chunkmesh/common';
import { chunkKeys } from '@chunkmesh/native';
import { completeOn, startWorker, TcpRelay, tokenRun, type WorkerProcess } from '@chunkmesh/test-support';
import * as grpc from '@grpc/grpc-js';

const CHUNK = 16;
const MODEL_ID = 'stories260K';

/** The prompt tokens a worker finds cached for ids (a greedy one-token completion on it). */
async function cached(worker: WorkerProcess, ids: number[], tenant: string): Promise<number> {
  return (await completeOn(worker.address, ids, { tenant })).cached;
}

function exported(worker: WorkerProcess, ids: number[], tenant: string, maxBytes = '0'): Promise<KvChunk[]> {
  const client = createWorkerControlClient(worker.address);
  return new Promise<KvChunk[]>((resolve, reject) => {
    const out: KvChunk[] = [];
    const s = client.exportPrefix({ tokenIds: { ids }, tenant, maxBytes }, new grpc.Metadata(), {});
    s.on('data', (m: KvChunk) => out.push(m));
    s.on('error', reject);
    s.on('end', () => resolve(out));
  }).finally(() => client.close());
}

function pulled(target: WorkerProcess, req: Partial<PullPrefixRequest>): Promise<PullPrefixResponse> {
  const client = createWorkerControlClient(target.address);
  return new Promise<PullPrefixResponse>((resolve, reject) =>
    client.pullPrefix(req, new grpc.Metadata(), { deadline: Date.now() + 30_000 }, (err, res) =>
      err || !res ? reject(err) : resolve(res),
    ),
  ).finally(() => client.close());
}

describe('WorkerControl ExportPrefix / PullPrefix', { timeout: 120_000 }, () => {
  let source: WorkerProcess;
  let target: WorkerProcess;
  const relay = new TcpRelay();
  let relayed = '';

  before(async () => {
    const opts = { chunkTokens: CHUNK };
    [source, target] = await Promise.all([startWorker(opts), startWorker(opts)]);
    relay.upstreamPort = source.grpcPort;
    relayed = `127.0.0.1:${await relay.listen()}`;
  });
  after(async () => {
    relay.close();
    await Promise.all([source, target].map((w) => w?.kill()));
  });

  test('ExportPrefix streams the cached whole chunks in order, under the cluster keys', async () => {
    const ids = tokenRun(1, 3 * CHUNK + 5);
    assert.deepEqual(await exported(source, ids, 't'), [], 'nothing cached: an empty stream');
    await cached(source, ids, 't');
    const chunks = await exported(source, ids, 't');
    assert.deepEqual(
      chunks.map((c) => [c.index, BigInt(c.key)]),
      [...chunkKeys({ modelId: MODEL_ID, chunkTokens: CHUNK, salt: 't' }, ids)].map((k, i) => [i, k]),
    );
    assert.ok(chunks.every((c) => c.kv.length === (chunks[0]?.kv.length ?? 0) && c.kv.length > 0));
    await assert.rejects(exported(source, ids, 't', String(chunks[0]?.kv.length)), {
      code: grpc.status.RESOURCE_EXHAUSTED,
    });
    await assert.rejects(exported(source, [], 't'), { code: grpc.status.INVALID_ARGUMENT });
  });

  test('PullPrefix refuses clearly and keeps nothing it refused', async () => {
    const ids = tokenRun(2, 2 * CHUNK + 3);
    await cached(source, ids, 't');
    const base = {
      prompt: 'tokenIds' as const,
      tokenIds: { ids },
      tenant: 't',
      sourceEndpoint: source.address,
      sourceWorkerId: source.workerId,
    };
    const cases: [string, Partial<PullPrefixRequest>, grpc.status][] = [
      ['another tenant: the source holds none of it', { ...base, tenant: 'u' }, grpc.status.NOT_FOUND],
      ['from itself', { ...base, sourceWorkerId: target.workerId }, grpc.status.INVALID_ARGUMENT],
      ['no source', { ...base, sourceEndpoint: '' }, grpc.status.INVALID_ARGUMENT],
      ['over max_bytes', { ...base, maxBytes: '1' }, grpc.status.RESOURCE_EXHAUSTED],
      ['a source that is not there', { ...base, sourceEndpoint: '127.0.0.1:1' }, grpc.status.UNAVAILABLE],
    ];
    for (const [what, req, code] of cases) await assert.rejects(pulled(target, req), { code }, what);
    // a byte flipped inside the first chunk's K/V on the wire
    relay.flipAt = 4000;
    await assert.rejects(pulled(target, { ...base, sourceEndpoint: relayed }), {
      code: grpc.status.DATA_LOSS,
    });
    assert.equal(relay.flipped, true);
    assert.equal(await cached(target, ids, 't'), 0, 'nothing of a refused pull is kept');

    const never = await pulled(target, { ...base, tokenIds: { ids: tokenRun(3, 2 * CHUNK + 3) } }).catch(
      (e: grpc.ServiceError) => e,
    );
    assert.equal((never as grpc.ServiceError).code, grpc.status.NOT_FOUND, 'a prompt the source never saw');
  });

  test('PullPrefix runs one pull at a time, and a pull cancelled by its caller imports nothing', async () => {
    const slow = tokenRun(5, 3 * CHUNK + 2);
    const other = tokenRun(6, 2 * CHUNK + 2);
    await cached(source, slow, 't');
    await cached(source, other, 't');
    const req = (ids: number[], endpoint: string) => ({
      prompt: 'tokenIds' as const,
      tokenIds: { ids },
      tenant: 't',
      sourceEndpoint: endpoint,
      sourceWorkerId: source.workerId,
    });
    // The slow pull's stream stops after its first bytes: the relay holds the rest.
    relay.held = false;
    relay.holdAfter = 2000;
    const holding = new Promise<void>((resolve) => {
      relay.onHold = resolve;
    });
    const client = createWorkerControlClient(target.address);
    const slowPull = new Promise<grpc.ServiceError | null>((resolve) => {
      const call = client.pullPrefix(req(slow, relayed), new grpc.Metadata(), {}, (err) => resolve(err));
      void holding.then(async () => {
        await assert.rejects(pulled(target, req(other, source.address)), {
          code: grpc.status.RESOURCE_EXHAUSTED,
          details: /already pulling/,
        });
        call.cancel();
      });
    });
    const err = await slowPull;
    client.close();
    assert.equal(err?.code, grpc.status.CANCELLED);
    relay.holdAfter = Number.POSITIVE_INFINITY;
    relay.held = false;
    // the target lets go of the cancelled pull: the next one runs (once it has seen the cancel)
    let next: PullPrefixResponse | undefined;
    for (let i = 0; i < 50 && !next; i++) {
      next = await pulled(target, req(other, source.address)).catch((e: grpc.ServiceError) => {
        assert.equal(e.code, grpc.status.RESOURCE_EXHAUSTED, e.message);
        return new Promise<undefined>((r) => setTimeout(() => r(undefined), 100));
      });
    }
    assert.equal(next?.importedTokens, 2 * CHUNK);
    assert.equal(await cached(target, slow, 't'), 0, 'nothing of the cancelled pull was imported');
  });

  test('PullPrefix imports every chunk, once', async () => {
    const ids = tokenRun(4, 4 * CHUNK + 1);
    await cached(source, ids, 't');
    const req = {
      prompt: 'tokenIds' as const,
      tokenIds: { ids },
      tenant: 't',
      sourceEndpoint: source.address,
      sourceWorkerId: source.workerId,
    };
    const first = await pulled(target, req);
    assert.deepEqual(
      [first.promptTokens, first.chunkKeys.length, first.importedTokens, first.workerId],
      [ids.length, 4, 4 * CHUNK, target.workerId],
    );
    assert.ok(Number(first.bytes) > 0);
    assert.equal((await pulled(target, req)).importedTokens, 0, 'a repeat imports nothing');
    assert.equal(await cached(target, ids, 't'), 4 * CHUNK);
  });
});
