// The client's GenerateRequest serializer (direct token-id writer) against
// protobufjs's own: every request decodes, with the contract's own
// deserializer, exactly as protobufjs's encoding of it does; requests it does
// not handle are protobufjs's bytes exactly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import { generateRequestSerializer } from '../src/generate-request-codec.ts';
import { GENERATION_SERVICE, packageDefinition } from '../src/proto.ts';

const method = (packageDefinition[GENERATION_SERVICE] as grpc.ServiceDefinition)
  .Generate as grpc.MethodDefinition<object, unknown>;
const standard = method.requestSerialize;
const decode = method.requestDeserialize;
const fast = generateRequestSerializer(packageDefinition, standard);

// Where a varint grows a byte, and the largest uint32.
const EDGES = [0, 1, 0x7f, 0x80, 0x3fff, 0x4000, 0x1fffff, 0x200000, 0xfffffff, 0x10000000, 0xffffffff];

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('requests with token ids decode exactly as protobufjs encodes them', () => {
  const r = rng(7);
  for (let i = 0; i < 300; i++) {
    const n = i < 3 ? i : Math.floor(r() * 3000);
    const ids = Array.from({ length: n }, () =>
      r() < 0.2 ? (EDGES[Math.floor(r() * EDGES.length)] as number) : Math.floor(r() * 2 ** (1 + r() * 31)),
    );
    const request = {
      tokenIds: { ids },
      ...(r() < 0.7 ? { sampling: { maxTokens: Math.floor(r() * 100), temperature: r(), seed: '12' } } : {}),
      ...(r() < 0.5 ? { tenant: `t${i}` } : {}),
      ...(r() < 0.5 ? { sessionId: 'é🙂' } : {}),
      requestId: `r${i}`,
      ...(r() < 0.3 ? { tools: [{ name: 'f', parameters: '{}' }], toolChoice: 'auto' } : {}),
    };
    const bytes = fast(request);
    assert.deepEqual(decode(bytes), decode(standard(request)), `request ${i} (${n} ids)`);
    assert.equal((decode(bytes) as { prompt: string }).prompt, 'tokenIds');
  }
});

test('text prompts, chats and ids that are not uint32 are protobufjs bytes exactly', () => {
  const cases: object[] = [
    { text: 'hello', tenant: 'a' },
    { messages: [{ role: 'user', content: 'hi' }] },
    { tokenIds: { ids: [1, -2, 3] } },
    { tokenIds: { ids: [1, 2.5] } },
    { tokenIds: { ids: [2 ** 32] } },
    { requestId: 'x' },
  ];
  for (const request of cases) assert.deepEqual(fast(request), standard(request), JSON.stringify(request));
});
