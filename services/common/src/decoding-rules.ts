// The rules for what shapes decoding beyond temperature and top-k/p: penalties,
// logit bias, min_tokens, logprobs, n / best_of and constrained decoding. Part
// of the one set of request rules (request-rules.ts calls checkDecoding), so
// both front doors and the worker refuse the same values with the same param.
//
// Constraint errors name `response_format` (OpenAI's field; gRPC's
// SamplingParams.constraint carries the same thing) or `tools` when the
// constraint is a tool call (it has markup around it).
import { InvalidArgument } from './errors.ts';
import type { Init, SamplingParams } from './proto.ts';

export type ConstraintInput = NonNullable<Init<SamplingParams['constraint']>>;

export interface DecodingInput {
  presencePenalty?: number | undefined;
  frequencyPenalty?: number | undefined;
  repetitionPenalty?: number | undefined;
  /** Token id (as JSON gives keys: a string, or a number) to bias. */
  logitBias?: Readonly<Record<string, number>> | undefined;
  minTokens?: number | undefined;
  logprobs?: boolean | undefined;
  topLogprobs?: number | undefined;
  n?: number | undefined;
  bestOf?: number | undefined;
  constraint?: ConstraintInput | null | undefined;
}

/** The Constraint message as checked: exactly one kind set. */
export interface CheckedConstraint {
  jsonObject?: boolean;
  jsonSchema?: string;
  regex?: string;
  choice?: { values: string[] };
  strict: boolean;
  prefix: string;
  suffix: string;
}

/** Checked decoding parameters, in the proto's shape (repetitionPenalty 1: none). */
export interface Decoding {
  presencePenalty: number;
  frequencyPenalty: number;
  repetitionPenalty: number;
  logitBias: Record<number, number>;
  minTokens: number;
  logprobs: boolean;
  topLogprobs: number;
  n: number;
  bestOf: number;
  constraint?: CheckedConstraint;
}

export const PENALTY_MAX = 2;
export const LOGIT_BIAS_MAX = 100;
/** Entries in logit_bias at most (each is applied to every step's logits). */
export const MAX_LOGIT_BIAS_ENTRIES = 1024;
export const MAX_TOP_LOGPROBS = 20;
/** Choices (n) and candidates (best_of) per request at most: each is a decoding sequence. */
export const MAX_CHOICES = 16;
/** A JSON schema, regex or choice list of more than this many bytes is refused (compile cost, cache size). */
export const MAX_CONSTRAINT_BYTES = 64 * 1024;
const UINT32_MAX = 2 ** 32 - 1;

function bad(param: string, message: string): InvalidArgument {
  return new InvalidArgument(message, { param });
}

function range(param: string, v: number | undefined, lo: number, hi: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isFinite(v) || v < lo || v > hi)
    throw bad(param, `${param} must be in [${lo}, ${hi}], got ${v}`);
  return v;
}

function count(param: string, v: number | undefined, lo: number, hi: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < lo || v > hi)
    throw bad(param, `${param} must be an integer in [${lo}, ${hi}], got ${v}`);
  return v;
}

function logitBiasOf(raw: Readonly<Record<string, number>> | undefined): Record<number, number> {
  const out: Record<number, number> = {};
  const entries = Object.entries(raw ?? {});
  if (entries.length > MAX_LOGIT_BIAS_ENTRIES)
    throw bad('logit_bias', `logit_bias has ${entries.length} entries; at most ${MAX_LOGIT_BIAS_ENTRIES}`);
  for (const [key, value] of entries) {
    const id = /^\d+$/.test(key) ? Number(key) : Number.NaN;
    if (!Number.isInteger(id) || id > UINT32_MAX)
      throw bad('logit_bias', `logit_bias keys must be token ids, got ${JSON.stringify(key)}`);
    if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) > LOGIT_BIAS_MAX)
      throw bad(
        'logit_bias',
        `logit_bias values must be in [-${LOGIT_BIAS_MAX}, ${LOGIT_BIAS_MAX}], got ${value}`,
      );
    out[id] = value;
  }
  return out;
}

function constraintOf(c: ConstraintInput | null | undefined): CheckedConstraint | undefined {
  if (!c) return undefined;
  const prefix = c.prefix ?? '';
  const suffix = c.suffix ?? '';
  const param = prefix || suffix ? 'tools' : 'response_format';
  const common = { strict: c.strict ?? false, prefix, suffix };
  const size = (s: string) => {
    if (Buffer.byteLength(s) > MAX_CONSTRAINT_BYTES)
      throw bad(param, `the constraint is over ${MAX_CONSTRAINT_BYTES} bytes`);
  };
  size(prefix + suffix);
  if (typeof c.jsonSchema === 'string') {
    size(c.jsonSchema);
    let schema: unknown;
    try {
      schema = JSON.parse(c.jsonSchema);
    } catch {
      throw bad(param, 'the JSON schema is not valid JSON');
    }
    if (
      typeof schema !== 'boolean' &&
      (typeof schema !== 'object' || schema === null || Array.isArray(schema))
    )
      throw bad(param, 'the JSON schema must be an object');
    return { jsonSchema: c.jsonSchema, ...common };
  }
  if (typeof c.regex === 'string') {
    if (c.regex === '') throw bad(param, 'the regex is empty');
    size(c.regex);
    return { regex: c.regex, ...common };
  }
  if (c.choice) {
    const values = [...(c.choice.values ?? [])];
    if (values.length === 0) throw bad(param, 'choice needs at least one value');
    size(values.join(''));
    return { choice: { values }, ...common };
  }
  if (c.jsonObject) return { jsonObject: true, ...common };
  // proto3: a Constraint message with no kind set asks for nothing
  return undefined;
}

/** Checks the decoding parameters a request gives; absent ones take their neutral values. */
export function checkDecoding(d: DecodingInput, maxTokens: number): Decoding {
  const n = count('n', d.n, 1, MAX_CHOICES, 1);
  const bestOf = count('best_of', d.bestOf, 1, MAX_CHOICES, n);
  if (bestOf < n) throw bad('best_of', `best_of (${bestOf}) must be at least n (${n})`);
  const logprobs = d.logprobs ?? false;
  const topLogprobs = count('top_logprobs', d.topLogprobs, 0, MAX_TOP_LOGPROBS, 0);
  if (topLogprobs > 0 && !logprobs) throw bad('top_logprobs', 'top_logprobs needs logprobs to be true');
  const minTokens = count('min_tokens', d.minTokens, 0, UINT32_MAX, 0);
  if (maxTokens > 0 && minTokens > maxTokens)
    throw bad('min_tokens', `min_tokens (${minTokens}) must not exceed max_tokens (${maxTokens})`);
  const constraint = constraintOf(d.constraint);
  return {
    presencePenalty: range('presence_penalty', d.presencePenalty, -PENALTY_MAX, PENALTY_MAX, 0),
    frequencyPenalty: range('frequency_penalty', d.frequencyPenalty, -PENALTY_MAX, PENALTY_MAX, 0),
    repetitionPenalty: repetitionOf(d.repetitionPenalty),
    logitBias: logitBiasOf(d.logitBias),
    minTokens,
    logprobs,
    topLogprobs,
    n,
    bestOf,
    ...(constraint ? { constraint } : {}),
  };
}

function repetitionOf(v: number | undefined): number {
  if (v === undefined) return 1;
  if (!Number.isFinite(v) || v <= 0 || v > PENALTY_MAX)
    throw bad('repetition_penalty', `repetition_penalty must be in (0, ${PENALTY_MAX}], got ${v}`);
  return v;
}

/** A Generate request's decoding fields as given: proto3's zero values are "not given". */
export function decodingInputOf(s: Init<SamplingParams> | null | undefined): DecodingInput {
  const bias = s?.logitBias ?? undefined;
  // NaN is not a zero value: it stays, for the range checks to refuse
  const given = (v: number | string | null | undefined) =>
    v === undefined || v === null || Number(v) === 0 ? undefined : Number(v);
  return {
    presencePenalty: given(s?.presencePenalty),
    frequencyPenalty: given(s?.frequencyPenalty),
    repetitionPenalty: given(s?.repetitionPenalty),
    logitBias: bias ? Object.fromEntries(Object.entries(bias).map(([k, v]) => [k, Number(v)])) : undefined,
    minTokens: s?.minTokens || undefined,
    logprobs: s?.logprobs ?? undefined,
    topLogprobs: s?.topLogprobs || undefined,
    n: s?.n || undefined,
    bestOf: s?.bestOf || undefined,
    constraint: s?.constraint,
  };
}
