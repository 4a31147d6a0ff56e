// The router's gRPC Generation as clients that do not share our TypeScript
// see it: a client built from server reflection alone (as grpcurl, Postman or
// dynamic Python/Go clients build theirs), grpc.health.v1 as a Kubernetes
// probe reads it, deadlines, and the parameter rules of the HTTP door.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PARAM_METADATA } from '@chunkmesh/common';
import {
  expectStatus,
  healthCheck,
  reflectedFiles,
  startRouter,
  startWorker,
  uniqueCluster,
  waitFor,
} from '@chunkmesh/test-support';
import * as grpc from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer } from '@grpc/proto-loader';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import { TestCluster } from '../router/cluster.ts';

const { FileDescriptorProto, FileDescriptorSet } = descriptor;
const PROTO = 'chunkmesh/v1/generation.proto';
const PROMPT = 'Once upon a time, there was a little dog named Max who liked to run';

type Dynamic = grpc.Client & {
  Generate(
    request: unknown,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
  ): grpc.ClientReadableStream<unknown>;
};

/** A Generation client made from what reflection serves, with the .proto's field names (keepCase). */
async function reflectionClient(address: string): Promise<Dynamic> {
  const files = await reflectedFiles(address, { file_containing_symbol: 'chunkmesh.v1.Generation' });
  const set = FileDescriptorSet.encode({ file: files.map((f) => FileDescriptorProto.decode(f)) }).finish();
  const definition = loadFileDescriptorSetFromBuffer(Buffer.from(set), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const Client = grpc.makeClientConstructor(
    definition['chunkmesh.v1.Generation'] as grpc.ServiceDefinition,
    'Generation',
  );
  return new Client(address, grpc.credentials.createInsecure()) as unknown as Dynamic;
}

function collect(stream: grpc.ClientReadableStream<unknown>): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  return new Promise((resolve, reject) => {
    stream.on('data', (m: Record<string, unknown>) => out.push(m));
    stream.on('error', reject);
    stream.on('end', () => resolve(out));
  });
}

describe('gRPC clients against the router', { timeout: 60_000 }, () => {
  let c: TestCluster;
  let address: string;

  before(async () => {
    c = await TestCluster.start({ workers: 1, name: 'grpc-compat' });
    address = (await c.startRouter()).address;
  });
  after(async () => {
    await c?.stop();
  });

  test('reflection serves the .proto by its path, with its own field names', async () => {
    const [bySymbol] = await reflectedFiles(address, { file_containing_symbol: 'chunkmesh.v1.Generation' });
    const [byName] = await reflectedFiles(address, { file_by_filename: PROTO });
    assert.ok(bySymbol && byName);
    const fd = FileDescriptorProto.decode(byName) as unknown as {
      name: string;
      messageType: { name: string; field: { name: string }[] }[];
    };
    assert.equal(fd.name, PROTO);
    const sampling = fd.messageType.find((m) => m.name === 'SamplingParams');
    assert.deepEqual(
      sampling?.field.map((f) => f.name),
      [
        ...['temperature', 'top_k', 'top_p', 'seed', 'max_tokens', 'stop', 'stop_token_ids', 'ignore_eos'],
        ...['presence_penalty', 'frequency_penalty', 'repetition_penalty', 'logit_bias', 'min_tokens'],
        ...['logprobs', 'top_logprobs', 'n', 'best_of', 'constraint'],
      ],
    );
  });

  test('a client built from reflection is heard: max_tokens is not dropped', async () => {
    const client = await reflectionClient(address);
    try {
      const messages = await collect(
        client.Generate(
          { text: PROMPT, sampling: { max_tokens: 3, ignore_eos: true } },
          new grpc.Metadata(),
          {},
        ),
      );
      const final = messages.at(-1)?.final as { usage: { completion_tokens: number }; finish_reason: string };
      assert.equal(final.usage.completion_tokens, 3);
      assert.equal(final.finish_reason, 'FINISH_REASON_LENGTH');
    } finally {
      client.close();
    }
  });

  test('the same parameter rules as HTTP, with the param in trailing metadata', async () => {
    const front = c.client(address);
    const hot = await expectStatus(
      front,
      { text: PROMPT, sampling: { temperature: 2.5 } },
      grpc.status.INVALID_ARGUMENT,
      /temperature must be in \[0, 2\]/,
    );
    assert.deepEqual(hot.metadata.get(PARAM_METADATA), ['temperature']);
    // The worker's check, its param carried through the router.
    const long = await expectStatus(
      front,
      { text: PROMPT, sampling: { maxTokens: 600 } },
      grpc.status.INVALID_ARGUMENT,
      /exceeds the model's context/,
    );
    assert.deepEqual(long.metadata.get(PARAM_METADATA), ['max_tokens']);
  });

  test('a call past its deadline is DEADLINE_EXCEEDED', async () => {
    const front = c.client(address);
    await assert.rejects(
      collect(
        front.generate({ text: PROMPT, sampling: { maxTokens: 480, ignoreEos: true } }, new grpc.Metadata(), {
          deadline: Date.now() + 60,
        }),
      ),
      (err: grpc.ServiceError) => err.code === grpc.status.DEADLINE_EXCEEDED,
    );
  });

  test('grpc.health.v1 is NOT_SERVING while the router has no live worker, as /readyz is 503', async () => {
    assert.equal(await healthCheck(address), 'SERVING');
    const cluster = uniqueCluster('health');
    const lonely = c.track(await startRouter({ redisUrl: c.redis.url, cluster }));
    assert.equal((await fetch(`${lonely.opsUrl}/readyz`)).status, 503);
    assert.equal(await healthCheck(lonely.address), 'NOT_SERVING');
    assert.equal(await healthCheck(lonely.address, 'chunkmesh.v1.Generation'), 'NOT_SERVING');
    // A worker appears: both turn ready.
    const worker = c.track(await startWorker({ redisUrl: c.redis.url, cluster }));
    await waitFor('gRPC health to follow', async () => (await healthCheck(lonely.address)) === 'SERVING');
    assert.equal((await fetch(`${lonely.opsUrl}/readyz`)).status, 200);
    await Promise.all([worker.kill(), lonely.kill()]);
  });
});
