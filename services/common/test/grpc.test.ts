// The wire contract end to end over a real grpc-js server: typed handlers and
// client, the loader options (camelCase, oneof names, uint64 as strings),
// status mapping across the wire, health and reflection.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { reflectedServices } from '@chunkmesh/test-support';
import * as grpc from '@grpc/grpc-js';
import {
  addGenerationService,
  addHealthService,
  addReflectionService,
  createGenerationClient,
  GENERATION_SERVICE,
  type GenerateRequest,
  type GenerateResponse,
  type GenerationClient,
  type HealthSwitch,
  healthPackageDefinition,
  type InfoResponse,
  type Init,
  InvalidArgument,
  packageDefinition,
  type SamplingParams,
  toServerError,
} from '../src/index.ts';

// biome-ignore lint/suspicious/noExplicitAny: clients built from a loaded proto are untyped
type Untyped = any;

describe('gRPC wire contract', () => {
  const server = new grpc.Server();
  let client: GenerationClient;
  let health: HealthSwitch;
  let address: string;
  const seen: GenerateRequest[] = [];

  before(async () => {
    addGenerationService(server, {
      generate(call) {
        seen.push(call.request);
        if (call.request.prompt !== 'tokenIds') {
          call.emit(
            'error',
            toServerError(new InvalidArgument('this test serves token ids only', { param: 'prompt' })),
          );
          return;
        }
        call.write({ delta: { tokenIds: call.request.tokenIds.ids.map((t) => t + 1), text: 'ab' } });
        call.write({
          final: {
            finishReason: 'FINISH_REASON_LENGTH',
            usage: { promptTokens: 3, completionTokens: 3 },
            workerId: 'w0',
          },
        });
        call.end();
      },
      info(_call, callback) {
        callback(null, {
          modelId: 'stories260K',
          chunkTokens: 64,
          epoch: '18446744073709551615',
          workerId: 'w0',
        });
      },
    });
    health = addHealthService(server, [GENERATION_SERVICE]);
    addReflectionService(server, [packageDefinition, healthPackageDefinition]);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    address = `127.0.0.1:${port}`;
    client = createGenerationClient(address);
  });

  after(() => {
    client.close();
    server.forceShutdown();
  });

  it('streams deltas then a final, with oneof names and defaults filled in', async () => {
    const out: GenerateResponse[] = [];
    const call = client.generate({
      tokenIds: { ids: [1, 2, 3] },
      sampling: { temperature: 0.5, seed: '18446744073709551615', stop: ['\n'] },
      tenant: 'acme',
    });
    for await (const msg of call) out.push(msg as GenerateResponse);

    const req = seen.at(-1) as GenerateRequest;
    assert.equal(req.prompt, 'tokenIds');
    assert.equal(req.tenant, 'acme');
    assert.equal(req.sessionId, '');
    assert.deepEqual(req.messages, []);
    assert.equal(req.sampling?.seed, '18446744073709551615', 'uint64 seed survives exactly, as a string');
    assert.equal(req.sampling?.topK, 0);
    assert.deepEqual(req.sampling?.stop, ['\n']);

    assert.equal(out.length, 2);
    const [delta, final] = out;
    assert.equal(delta?.kind, 'delta');
    assert.deepEqual(delta?.kind === 'delta' && delta.delta, {
      tokenIds: [2, 3, 4],
      text: 'ab',
      index: 0,
      logprobs: [],
    });
    assert.equal(final?.kind, 'final');
    assert.deepEqual(final?.kind === 'final' && final.final, {
      finishReason: 'FINISH_REASON_LENGTH',
      usage: {
        promptTokens: 3,
        completionTokens: 3,
        cachedPromptTokens: 0,
        computedPromptTokens: 0,
        forkedPromptTokens: 0,
      },
      workerId: 'w0',
      error: '',
      choices: [],
    });
  });

  it('leaves an unset seed unset', async () => {
    for await (const _ of client.generate({ tokenIds: { ids: [1] }, sampling: { maxTokens: 4 } })) {
      // drain
    }
    assert.equal(seen.at(-1)?.sampling?.seed, undefined);
  });

  it('tells a top_p of 0 that was sent from one that was not (presence), and carries NaN', async () => {
    const sent = async (sampling: Init<SamplingParams>) => {
      for await (const _ of client.generate({ tokenIds: { ids: [1] }, sampling })) {
        // drain
      }
      return seen.at(-1)?.sampling?.topP;
    };
    assert.equal(await sent({ maxTokens: 4 }), undefined);
    assert.equal(await sent({ topP: 0 }), 0);
    assert.ok(Number.isNaN(await sent({ topP: Number.NaN })));
    assert.equal(await sent({ topP: 0.25 }), 0.25);
  });

  it('carries mapped statuses across the wire', async () => {
    const call = client.generate({ text: 'hello' });
    await assert.rejects(
      (async () => {
        for await (const _ of call) {
          // drain
        }
      })(),
      (err: grpc.ServiceError) =>
        err.code === grpc.status.INVALID_ARGUMENT && err.details === 'this test serves token ids only',
    );
    assert.equal(seen.at(-1)?.prompt, 'text');
  });

  it('answers Info with 64-bit epochs as strings', async () => {
    const info = await new Promise<InfoResponse>((resolve, reject) =>
      client.info({}, (err, res) => (err || !res ? reject(err) : resolve(res))),
    );
    assert.equal(info.modelId, 'stories260K');
    assert.equal(info.chunkTokens, 64);
    assert.equal(info.epoch, '18446744073709551615');
    assert.equal(info.vocabSize, 0);
  });

  it('reports health, NOT_SERVING until switched', async () => {
    const Health = (grpc.loadPackageDefinition(healthPackageDefinition) as Untyped).grpc.health.v1.Health;
    const hc = new Health(address, grpc.credentials.createInsecure());
    const check = (service: string) =>
      new Promise<string>((resolve, reject) =>
        hc.check({ service }, (err: Error | null, res: { status: string }) =>
          err ? reject(err) : resolve(res.status),
        ),
      );
    try {
      assert.equal(await check(''), 'NOT_SERVING');
      health.setServing(true);
      assert.equal(await check(''), 'SERVING');
      assert.equal(await check(GENERATION_SERVICE), 'SERVING');
      health.setServing(false);
      assert.equal(await check(GENERATION_SERVICE), 'NOT_SERVING');
    } finally {
      hc.close();
    }
  });

  it('lists its services through reflection', async () => {
    assert.deepEqual((await reflectedServices(address)).sort(), [
      'chunkmesh.v1.Generation',
      'grpc.health.v1.Health',
    ]);
  });
});
