// Job ids derived from what a job does: the same request made twice gets the
// same id, and BullMQ keeps one job per id, so a repeated request is a no-op
// (it finds the first one, in whatever state it is). Ids carry no ':' (BullMQ
// refuses them: its keys are ':'-separated).
import { createHash } from 'node:crypto';
import type { JobName } from './job-names.ts';

/** Key order does not change the id: objects are written with sorted keys. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

export function jobIdOf(name: JobName, payload: unknown): string {
  const digest = createHash('sha256').update(name).update('\0').update(canonical(payload)).digest('hex');
  return `${name}-${digest.slice(0, 32)}`;
}

/** A flow child's id: its parent's and the worker it runs on. */
export function childJobId(parentId: string, workerId: string): string {
  return `${parentId}-${workerId}`;
}
