// The rules a generation request's parameters meet, one set for every door:
// the router's OpenAI HTTP API and gRPC Generation, and the worker's
// Generation (called by the router, or directly). Ranges, messages and the
// param named in errors are the same wherever a request comes in; params are
// the proto's field names, which are also OpenAI's.
//
// What a request gives arrives as SamplingInput, where undefined is "not
// given": HTTP bodies leave fields out; proto3 has no presence for scalars,
// so gRPC's zero values are "not given" (samplingInputOf), as the proto says,
// except seed and top_p, which are oneofs and so have presence.
//
// Every string a request may send that the servers keep (a tenant names a
// cache root and a metric label, a session id a router table entry, stop
// strings are matched against every token's text) has a length cap, so no
// request can make them hold megabytes.
import { checkDecoding, type Decoding, type DecodingInput, decodingInputOf } from './decoding-rules.ts';
import { InvalidArgument } from './errors.ts';
import type { Init, SamplingParams } from './proto.ts';

export interface SamplingInput extends DecodingInput {
  temperature?: number | undefined;
  topK?: number | undefined;
  topP?: number | undefined;
  /** int64 (OpenAI) or uint64 (the proto); sent on as its uint64 bits. */
  seed?: bigint | undefined;
  maxTokens?: number | undefined;
  stop?: readonly string[] | undefined;
  stopTokenIds?: readonly number[] | undefined;
  ignoreEos?: boolean | undefined;
}

/** Checked sampling parameters, in the proto's shape (maxTokens 0: the server's default). */
export interface Sampling extends Decoding {
  temperature: number;
  topK: number;
  topP: number;
  /** Decimal uint64. */
  seed?: string;
  maxTokens: number;
  stop: string[];
  stopTokenIds: number[];
  ignoreEos: boolean;
}

export const TEMPERATURE_MAX = 2;
export const MAX_STOP_STRINGS = 16;
/** UTF-8 bytes of one stop string at most. */
export const MAX_STOP_BYTES = 256;
/** UTF-8 bytes of a tenant and of a session id (OpenAI's `user`) at most. */
export const MAX_TENANT_BYTES = 256;
export const MAX_SESSION_ID_BYTES = 256;
const UINT32_MAX = 2 ** 32 - 1;
const INT64_MIN = -(2n ** 63n);
const UINT64_END = 2n ** 64n;

function bad(param: string, message: string): InvalidArgument {
  return new InvalidArgument(message, { param });
}

function capped(param: string, what: string, v: string, maxBytes: number): void {
  const bytes = Buffer.byteLength(v);
  if (bytes > maxBytes) throw bad(param, `${what} must be at most ${maxBytes} bytes (UTF-8), got ${bytes}`);
}

function integer(param: string, v: number | undefined, lo: number, hi: number): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || v < lo || v > hi)
    throw bad(param, `${param} must be an integer in [${lo}, ${hi}], got ${v}`);
  return v;
}

/** Checks what a request gives; absent values take the defaults (temperature: greedy). */
export function checkSampling(s: SamplingInput): Sampling {
  const temperature = s.temperature ?? 0;
  if (!Number.isFinite(temperature) || temperature < 0 || temperature > TEMPERATURE_MAX)
    throw bad('temperature', `temperature must be in [0, ${TEMPERATURE_MAX}], got ${temperature}`);
  const topP = s.topP ?? 1;
  if (!(topP > 0 && topP <= 1)) throw bad('top_p', `top_p must be in (0, 1], got ${topP}`);
  const topK = integer('top_k', s.topK, 0, UINT32_MAX) ?? 0;
  const maxTokens = integer('max_tokens', s.maxTokens, 1, UINT32_MAX) ?? 0;
  if (s.seed !== undefined && (s.seed < INT64_MIN || s.seed >= UINT64_END))
    throw bad('seed', `seed must be a 64-bit integer (int64 or uint64), got ${s.seed}`);
  const stop = (s.stop ?? []).filter((x) => x.length > 0);
  if (stop.length > MAX_STOP_STRINGS) throw bad('stop', `at most ${MAX_STOP_STRINGS} stop strings`);
  for (const x of stop) capped('stop', 'each stop string', x, MAX_STOP_BYTES);
  const stopTokenIds = [...(s.stopTokenIds ?? [])];
  for (const id of stopTokenIds) integer('stop_token_ids', id, 0, UINT32_MAX);
  return {
    temperature,
    topK,
    topP,
    ...(s.seed !== undefined ? { seed: BigInt.asUintN(64, s.seed).toString() } : {}),
    maxTokens,
    stop,
    stopTokenIds,
    ignoreEos: s.ignoreEos ?? false,
    ...checkDecoding(s, maxTokens),
  };
}

/** A Generate request's sampling as given: its zero values are "not given" (proto3). */
export function samplingInputOf(s: Init<SamplingParams> | null | undefined): SamplingInput {
  return {
    temperature: s?.temperature ?? undefined,
    topK: s?.topK ?? undefined,
    topP: s?.topP ?? undefined,
    seed: s?.seed === undefined || s.seed === null ? undefined : BigInt(s.seed),
    maxTokens: s?.maxTokens || undefined,
    stop: s?.stop ?? undefined,
    stopTokenIds: s?.stopTokenIds ?? undefined,
    ignoreEos: s?.ignoreEos ?? undefined,
    ...decodingInputOf(s),
  };
}

export interface Tenancy {
  tenant: string;
  sessionId: string;
}

/**
 * A request's tenant and session id, within their caps. sessionParam names the field the
 * session id came in (HTTP takes OpenAI's `user` for it).
 */
export function checkTenancy(t: Tenancy, sessionParam = 'session_id'): Tenancy {
  capped('tenant', 'tenant', t.tenant, MAX_TENANT_BYTES);
  capped(sessionParam, sessionParam, t.sessionId, MAX_SESSION_ID_BYTES);
  return t;
}

export interface ModelLimits {
  vocabSize: number;
  maxSeqLen: number;
}

/** The position of the first id that is not an integer in [0, vocabSize), or -1; copies them to `into` if given. */
function checkIds(tokens: readonly number[], vocabSize: number, into: Int32Array | undefined): number {
  if (into !== undefined && into.length !== tokens.length)
    throw new RangeError(`ids must hold the prompt's ${tokens.length} ids, not ${into.length}`);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as number;
    // (t | 0) === t: an int32 integer (not a fraction, NaN, a string or past 2^31).
    if ((t | 0) !== t || t < 0 || t >= vocabSize) return i;
    if (into !== undefined) into[i] = t;
  }
  return -1;
}

/**
 * The checks that need the model, made by the router before it hashes or forwards a prompt and
 * by the worker: prompt and completion within its context (first, so a prompt of a million ids
 * is refused before it is scanned), ids within its vocabulary. Returns the completion limit.
 * Without a defaultMaxTokens (the router's gRPC door leaves an unset max_tokens to the worker)
 * the prompt must leave room for one token, and the limit is unknown. Given `ids` (as long as
 * the prompt), the ids are written there as they are checked: the router hashes that copy, so
 * a prompt is scanned once.
 */
export function checkAgainstModel(
  sampling: Sampling,
  promptTokens: readonly number[],
  model: ModelLimits,
  defaultMaxTokens: number,
  ids?: Int32Array,
): number;
export function checkAgainstModel(
  sampling: Sampling,
  promptTokens: readonly number[],
  model: ModelLimits,
  defaultMaxTokens: number | undefined,
  ids?: Int32Array,
): number | undefined;
export function checkAgainstModel(
  sampling: Sampling,
  promptTokens: readonly number[],
  model: ModelLimits,
  defaultMaxTokens: number | undefined,
  ids?: Int32Array,
): number | undefined {
  const maxTokens = sampling.maxTokens || defaultMaxTokens;
  if (maxTokens === undefined && promptTokens.length >= model.maxSeqLen) {
    throw bad(
      'prompt',
      `prompt (${promptTokens.length} tokens) leaves no room in the model's context of ${model.maxSeqLen}`,
    );
  }
  if (maxTokens !== undefined && promptTokens.length + maxTokens > model.maxSeqLen) {
    throw bad(
      'max_tokens',
      `prompt (${promptTokens.length} tokens) plus max_tokens (${maxTokens}) exceeds the model's context of ${model.maxSeqLen}`,
    );
  }
  const badId = checkIds(promptTokens, model.vocabSize, ids);
  if (badId >= 0) {
    throw bad(
      'token_ids',
      `token id ${promptTokens[badId]} at position ${badId} is outside the vocabulary [0, ${model.vocabSize})`,
    );
  }
  if (sampling.topK > model.vocabSize)
    throw bad('top_k', `top_k must be at most the vocabulary size ${model.vocabSize}`);
  const badBias = Object.keys(sampling.logitBias).find((t) => Number(t) >= model.vocabSize);
  if (badBias !== undefined)
    throw bad(
      'logit_bias',
      `logit_bias token id ${badBias} is outside the vocabulary [0, ${model.vocabSize})`,
    );
  const badStop = sampling.stopTokenIds.find((t) => t >= model.vocabSize);
  if (badStop !== undefined)
    throw bad('stop_token_ids', `stop token id ${badStop} is outside the vocabulary`);
  return maxTokens;
}
