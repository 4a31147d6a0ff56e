// Client-side helpers for the integration tests (workers and routers): a Generate stream
// collected into tokens, text and its final message; a call expected to fail
// with a given status; grpc.health.v1 and reflection clients.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  createGenerationClient,
  type Final,
  type GenerateRequest,
  type GenerateResponse,
  type GenerationClient,
  type InfoResponse,
  type Init,
} from '@chunkmesh/common';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { service as healthService } from 'grpc-health-check';

export interface Completion {
  ids: number[];
  text: string;
  final: Final;
  /** Messages after the final (must be none). */
  afterFinal: number;
}

/** Reads a Generate stream to its end; rejects with the call's error. `onMessage` sees each message as it comes. */
export function collect(
  stream: grpc.ClientReadableStream<GenerateResponse>,
  onMessage?: (m: GenerateResponse) => void,
): Promise<Completion> {
  const ids: number[] = [];
  let text = '';
  let final: Final | null = null;
  let afterFinal = 0;
  return new Promise<Completion>((resolve, reject) => {
    stream.on('data', (m: GenerateResponse) => {
      if (final) afterFinal++;
      if (m.kind === 'delta') {
        ids.push(...m.delta.tokenIds);
        text += m.delta.text;
      } else {
        final = m.final;
      }
      onMessage?.(m);
    });
    stream.on('error', reject);
    stream.on('end', () => {
      if (final) resolve({ ids, text, final, afterFinal });
      else reject(new Error(`stream ended without a final message after ${ids.length} tokens`));
    });
  });
}

export function generate(
  client: GenerationClient,
  request: Init<GenerateRequest>,
  options: grpc.CallOptions = {},
): Promise<Completion> {
  return collect(client.generate(request, new grpc.Metadata(), options));
}

/**
 * A greedy completion of token ids straight on a worker (or router) at `address`, over a client of
 * its own: the prompt tokens it found cached (-1 when the final carries no usage) and its output.
 */
export async function completeOn(
  address: string,
  ids: number[],
  { tenant = '', maxTokens = 1 }: { tenant?: string; maxTokens?: number } = {},
): Promise<{ cached: number; ids: number[] }> {
  const client = createGenerationClient(address);
  try {
    const c = await generate(client, { tokenIds: { ids }, tenant, sampling: { maxTokens, temperature: 0 } });
    return { cached: c.final.usage?.cachedPromptTokens ?? -1, ids: c.ids };
  } finally {
    client.close();
  }
}

/** A Generate call that must fail with `code` and a message matching `message`, before any token. */
export async function expectStatus(
  client: GenerationClient,
  request: Init<GenerateRequest>,
  code: grpc.status,
  message: RegExp,
): Promise<grpc.ServiceError> {
  let received = 0;
  try {
    for await (const _ of client.generate(request) as AsyncIterable<GenerateResponse>) received++;
  } catch (err) {
    const e = err as grpc.ServiceError;
    assert.equal(
      grpc.status[e.code],
      grpc.status[code],
      `${JSON.stringify(request)}: expected ${grpc.status[code]}, got ${grpc.status[e.code]} (${e.details})`,
    );
    assert.match(e.details, message, `${JSON.stringify(request)}: message`);
    assert.equal(received, 0, 'no messages before the error');
    return e;
  }
  assert.fail(`${JSON.stringify(request)}: expected ${grpc.status[code]}, got ${received} messages and OK`);
}

export function info(client: GenerationClient): Promise<InfoResponse> {
  return new Promise((resolve, reject) =>
    client.info({}, (err, res) => (err || !res ? reject(err ?? new Error('no response')) : resolve(res))),
  );
}

// ---- grpc.health.v1 ----

const HealthClient = grpc.makeGenericClientConstructor(healthService, 'Health');

export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

/** Health.Check for `service` ("" is the server as a whole). */
export function healthCheck(address: string, service = ''): Promise<ServingStatus> {
  const client = new HealthClient(address, grpc.credentials.createInsecure());
  const check = (client as unknown as { Check: HealthCheck }).Check.bind(client);
  return new Promise<ServingStatus>((resolve, reject) =>
    check({ service }, (err, res) => {
      client.close();
      if (err || !res) reject(err ?? new Error('no response'));
      else resolve(res.status);
    }),
  );
}

export interface HealthWatch {
  /** Every status the stream has sent, in order. */
  readonly statuses: ServingStatus[];
  /** Settles when the stream ends: null when the server ended it with OK, else its status code. */
  readonly ended: Promise<grpc.status | null>;
  cancel(): void;
}

/** Health.Watch for `service`: a stream that stays open while the server keeps it. */
export function healthWatch(address: string, service = ''): HealthWatch {
  const client = new HealthClient(address, grpc.credentials.createInsecure());
  const call = (
    client as unknown as {
      Watch(req: { service: string }): grpc.ClientReadableStream<{ status: ServingStatus }>;
    }
  ).Watch({ service });
  const statuses: ServingStatus[] = [];
  call.on('data', (res: { status: ServingStatus }) => statuses.push(res.status));
  const ended = new Promise<grpc.status | null>((resolve) => {
    call.on('error', (err: grpc.ServiceError) => resolve(err.code));
    call.on('end', () => resolve(null));
  }).finally(() => client.close());
  return { statuses, ended, cancel: () => call.cancel() };
}

type HealthCheck = (
  request: { service: string },
  callback: (err: grpc.ServiceError | null, res?: { status: ServingStatus }) => void,
) => void;

// ---- reflection (grpc.reflection.v1) ----

const require = createRequire(import.meta.url);
const reflectionProto = join(
  dirname(require.resolve('@grpc/reflection')),
  '..',
  'proto',
  'grpc',
  'reflection',
  'v1',
  'reflection.proto',
);
const reflectionPackage = grpc.loadPackageDefinition(
  loadSync(reflectionProto, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true }),
) as unknown as {
  grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } };
};

type ReflectionRequest =
  | { list_services: string }
  | { file_containing_symbol: string }
  | { file_by_filename: string };

interface ReflectionResponse {
  list_services_response?: { service: { name: string }[] };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}

/** One ServerReflectionInfo exchange. */
function reflect(address: string, request: ReflectionRequest): Promise<ReflectionResponse> {
  const client = new reflectionPackage.grpc.reflection.v1.ServerReflection(
    address,
    grpc.credentials.createInsecure(),
  );
  return new Promise<ReflectionResponse>((resolve, reject) => {
    const call = (
      client as unknown as { ServerReflectionInfo(): grpc.ClientDuplexStream<unknown, unknown> }
    ).ServerReflectionInfo();
    call.on('data', (res: ReflectionResponse) => {
      call.end();
      client.close();
      resolve(res);
    });
    call.on('error', (err) => {
      client.close();
      reject(err);
    });
    call.write(request);
  });
}

/** The service names ServerReflectionInfo lists. */
export async function reflectedServices(address: string): Promise<string[]> {
  const res = await reflect(address, { list_services: '' });
  if (!res.list_services_response) throw new Error(`reflection answered ${JSON.stringify(res)}`);
  return res.list_services_response.service.map((s) => s.name);
}

/** The serialized FileDescriptorProtos reflection answers with for a symbol or a file name. */
export async function reflectedFiles(
  address: string,
  request: { file_containing_symbol: string } | { file_by_filename: string },
): Promise<Buffer[]> {
  const res = await reflect(address, request);
  if (!res.file_descriptor_response)
    throw new Error(`reflection answered ${JSON.stringify(res.error_response)}`);
  return res.file_descriptor_response.file_descriptor_proto;
}
