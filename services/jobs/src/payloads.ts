// Each job's payload: one schema per job name, checked when a job is added
// (the client refuses it with the field named) and again when it is processed
// (a job written by another version, or by hand, fails at once, unretried).
// validatePayload is the one check both sides call.
import { MAX_TENANT_BYTES } from '@chunkmesh/common';
import type { JobName } from './job-names.ts';

/** A payload that does not fit its job's schema. */
export class JobPayloadError extends Error {
  override name = 'JobPayloadError';
}

/** A prompt as the worker's Prefill takes it: exactly one of text, messages, token ids. */
export type PromptPayload =
  | { text: string }
  | { messages: { role: string; content: string }[] }
  | { tokenIds: number[] };

export interface PrewarmPayload {
  tenant: string;
  prompt: PromptPayload;
  /** The workers to prefill on, resolved when the job is added (explicit, or the N least loaded). */
  workers: string[];
}

export interface PrefillPayload {
  workerId: string;
  tenant: string;
  prompt: PromptPayload;
}

export interface DrainPayload {
  workerId: string;
  /** The incarnation to drain: a worker restarted since (another epoch) is not drained by this job. */
  epoch: string;
  /** Queued and running requests get this long; absent: the worker's own --shutdown-grace-ms. */
  graceMs?: number;
}

export interface MigratePayload {
  tenant: string;
  prompt: PromptPayload;
  /** The worker whose cached chunks of the prompt are copied, and the one they are copied to. */
  source: string;
  target: string;
}

/** A cached prompt's chunks moved down to `tier` (spill) on one worker. */
export interface SpillPayload {
  workerId: string;
  tenant: string;
  prompt: PromptPayload;
  tier: 'host' | 'disk';
}

/** A cached prompt's chunks brought up to the device on one worker. */
export interface RestorePayload {
  workerId: string;
  tenant: string;
  prompt: PromptPayload;
}

/** Compare each live worker's report in Redis with its tree (or only `workerId`'s) and repair it. */
export interface ReconcilePayload {
  workerId?: string;
}

export interface Payloads {
  'prefix.prewarm': PrewarmPayload;
  'prefix.prefill': PrefillPayload;
  'worker.drain': DrainPayload;
  'kv.migrate': MigratePayload;
  'index.reconcile': ReconcilePayload;
  'kv.spill': SpillPayload;
  'kv.restore': RestorePayload;
}

/** Bounds on what a job may carry: a job is a few ids and a prompt, never bulk data. */
export const MAX_PROMPT_CHARS = 1 << 20;
export const MAX_PROMPT_TOKENS = 1 << 18;
export const MAX_MESSAGES = 1024;
export const MAX_TARGET_WORKERS = 256;
const WORKER_ID = /^[A-Za-z0-9._-]{1,200}$/;

type Obj = Record<string, unknown>;

function object(v: unknown, at: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new JobPayloadError(`${at} must be an object`);
  return v as Obj;
}

function only(o: Obj, allowed: readonly string[], at: string): void {
  for (const k of Object.keys(o))
    if (!allowed.includes(k)) throw new JobPayloadError(`${at}.${k} is not a field of this job`);
}

function string(v: unknown, at: string, maxBytes: number): string {
  if (typeof v !== 'string') throw new JobPayloadError(`${at} must be a string`);
  if (Buffer.byteLength(v) > maxBytes) throw new JobPayloadError(`${at} is over ${maxBytes} bytes`);
  return v;
}

function workerId(v: unknown, at: string): string {
  if (typeof v !== 'string' || !WORKER_ID.test(v))
    throw new JobPayloadError(`${at} must be a worker id matching ${WORKER_ID}`);
  return v;
}

function prompt(v: unknown, at: string): PromptPayload {
  const o = object(v, at);
  const given = ['text', 'messages', 'tokenIds'].filter((k) => o[k] !== undefined);
  if (given.length !== 1) throw new JobPayloadError(`${at} needs exactly one of text, messages, tokenIds`);
  only(o, ['text', 'messages', 'tokenIds'], at);
  if (o.text !== undefined) {
    const text = string(o.text, `${at}.text`, MAX_PROMPT_CHARS);
    if (text === '') throw new JobPayloadError(`${at}.text is empty`);
    return { text };
  }
  if (o.messages !== undefined) {
    if (!Array.isArray(o.messages) || o.messages.length === 0 || o.messages.length > MAX_MESSAGES)
      throw new JobPayloadError(`${at}.messages must be a list of 1 to ${MAX_MESSAGES} messages`);
    return {
      messages: o.messages.map((m, i) => {
        const mo = object(m, `${at}.messages[${i}]`);
        only(mo, ['role', 'content'], `${at}.messages[${i}]`);
        return {
          role: string(mo.role, `${at}.messages[${i}].role`, 64),
          content: string(mo.content, `${at}.messages[${i}].content`, MAX_PROMPT_CHARS),
        };
      }),
    };
  }
  const ids = o.tokenIds;
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_PROMPT_TOKENS)
    throw new JobPayloadError(`${at}.tokenIds must be a list of 1 to ${MAX_PROMPT_TOKENS} token ids`);
  for (const id of ids)
    if (!Number.isInteger(id) || id < 0 || id > 0xffffffff)
      throw new JobPayloadError(`${at}.tokenIds holds ${JSON.stringify(id)}, not a token id`);
  return { tokenIds: ids as number[] };
}

function tenant(v: unknown, at: string): string {
  return v === undefined ? '' : string(v, at, MAX_TENANT_BYTES);
}

const validators: { [N in JobName]: (o: Obj) => Payloads[N] } = {
  'prefix.prewarm': (o) => {
    only(o, ['tenant', 'prompt', 'workers'], 'prefix.prewarm');
    const workers = o.workers;
    if (!Array.isArray(workers) || workers.length === 0 || workers.length > MAX_TARGET_WORKERS)
      throw new JobPayloadError(`prefix.prewarm.workers must list 1 to ${MAX_TARGET_WORKERS} worker ids`);
    const ids = workers.map((w, i) => workerId(w, `prefix.prewarm.workers[${i}]`));
    if (new Set(ids).size !== ids.length)
      throw new JobPayloadError('prefix.prewarm.workers lists a worker twice');
    return {
      tenant: tenant(o.tenant, 'prefix.prewarm.tenant'),
      prompt: prompt(o.prompt, 'prefix.prewarm.prompt'),
      workers: ids,
    };
  },
  'prefix.prefill': (o) => {
    only(o, ['workerId', 'tenant', 'prompt'], 'prefix.prefill');
    return {
      workerId: workerId(o.workerId, 'prefix.prefill.workerId'),
      tenant: tenant(o.tenant, 'prefix.prefill.tenant'),
      prompt: prompt(o.prompt, 'prefix.prefill.prompt'),
    };
  },
  'worker.drain': (o) => {
    only(o, ['workerId', 'epoch', 'graceMs'], 'worker.drain');
    if (typeof o.epoch !== 'string' || !/^\d{1,20}$/.test(o.epoch))
      throw new JobPayloadError("worker.drain.epoch must be a decimal uint64 (the registry entry's epoch)");
    const graceMs = o.graceMs;
    if (
      graceMs !== undefined &&
      (!Number.isInteger(graceMs) || (graceMs as number) < 1 || (graceMs as number) > 3_600_000)
    )
      throw new JobPayloadError('worker.drain.graceMs must be an integer from 1 to 3600000 (ms)');
    return {
      workerId: workerId(o.workerId, 'worker.drain.workerId'),
      epoch: o.epoch,
      ...(graceMs !== undefined ? { graceMs: graceMs as number } : {}),
    };
  },
  'kv.migrate': (o) => {
    only(o, ['tenant', 'prompt', 'source', 'target'], 'kv.migrate');
    const source = workerId(o.source, 'kv.migrate.source');
    const target = workerId(o.target, 'kv.migrate.target');
    if (source === target) throw new JobPayloadError('kv.migrate.target is the source');
    return {
      tenant: tenant(o.tenant, 'kv.migrate.tenant'),
      prompt: prompt(o.prompt, 'kv.migrate.prompt'),
      source,
      target,
    };
  },
  'kv.spill': (o) => {
    only(o, ['workerId', 'tenant', 'prompt', 'tier'], 'kv.spill');
    const tier = o.tier ?? 'host';
    if (tier !== 'host' && tier !== 'disk') throw new JobPayloadError('kv.spill.tier must be host or disk');
    return {
      workerId: workerId(o.workerId, 'kv.spill.workerId'),
      tenant: tenant(o.tenant, 'kv.spill.tenant'),
      prompt: prompt(o.prompt, 'kv.spill.prompt'),
      tier,
    };
  },
  'kv.restore': (o) => {
    only(o, ['workerId', 'tenant', 'prompt'], 'kv.restore');
    return {
      workerId: workerId(o.workerId, 'kv.restore.workerId'),
      tenant: tenant(o.tenant, 'kv.restore.tenant'),
      prompt: prompt(o.prompt, 'kv.restore.prompt'),
    };
  },
  'index.reconcile': (o) => {
    only(o, ['workerId'], 'index.reconcile');
    return o.workerId === undefined ? {} : { workerId: workerId(o.workerId, 'index.reconcile.workerId') };
  },
};

/** The payload of job `name`, checked; JobPayloadError naming the first field that is wrong. */
export function validatePayload<N extends JobName>(name: N, data: unknown): Payloads[N] {
  return validators[name](object(data, name));
}
