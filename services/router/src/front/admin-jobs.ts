// The control plane's admin endpoints on the router's HTTP front door (README,
// "Control plane"), for admin keys only (Authenticator.authenticateAdmin):
//   POST /admin/v1/jobs/{name}   add a job (prefix.prewarm, worker.drain, kv.migrate, kv.spill, kv.restore); the
//                                body is its request. 201 when added, 200 when
//                                the same request's job was there already.
//   GET  /admin/v1/jobs/{id}     one job, with a prewarm's per-worker prefills
//   GET  /admin/v1/jobs          the most recent jobs (?limit=N, at most 100)
// The jobs go to the cluster's queues in Redis (@chunkmesh/jobs) for the job
// runner; the router does none of their work. Errors are in the OpenAI error
// shape, like the rest of the front door.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidArgument, type Logger, NotFound, sendOpenAiError } from '@chunkmesh/common';
import { type JobClient, JobPayloadError, OPERATOR_JOBS, type OperatorJob } from '@chunkmesh/jobs';
import type { Authenticator } from '../auth/authenticator.ts';
import { decodedPathSegment, methodNotAllowed, readBody, sendJson } from './openai-http.ts';

export const ADMIN_JOBS_PATH = '/admin/v1/jobs';
const MAX_LIST = 100;

export interface AdminJobsOptions {
  auth: Authenticator;
  /** Made on the first admin call: a router nobody administers opens no queue connections. */
  jobs: () => JobClient;
  maxBodyBytes: number;
  log: Logger;
}

function isOperatorJob(name: string): name is OperatorJob {
  return (OPERATOR_JOBS as readonly string[]).includes(name);
}

/** Handles /admin/v1/jobs[/...] and returns true; false for any other path. */
export function adminJobsHandler(o: AdminJobsOptions) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    // every request of the HTTP front door passes here first: only admin paths pay for a URL
    if (!(req.url ?? '').startsWith(ADMIN_JOBS_PATH)) return false;
    const url = new URL(req.url ?? '/', 'http://router');
    const path = url.pathname;
    if (path !== ADMIN_JOBS_PATH && !path.startsWith(`${ADMIN_JOBS_PATH}/`)) return false;
    const fail = (err: unknown) => {
      const e = err instanceof JobPayloadError ? new InvalidArgument(err.message) : err;
      if (!(e instanceof InvalidArgument))
        o.log.warn('admin request failed', { path, error: (e as Error).message });
      if (!res.headersSent) sendOpenAiError(res, e);
    };
    (async () => {
      const principal = o.auth.authenticateAdmin(req.headers.authorization);
      const rest = decodedPathSegment(path.slice(ADMIN_JOBS_PATH.length + 1));
      if (req.method === 'POST') {
        if (!isOperatorJob(rest))
          throw new NotFound(`no job named '${rest}' (jobs: ${OPERATOR_JOBS.join(', ')})`);
        const { json } = await readBody(req, o.maxBodyBytes);
        const { job, added } = await o.jobs().add(rest, json);
        o.log.info('job requested', { id: job.id, name: rest, added, by: principal.name });
        sendJson(res, added ? 201 : 200, { ...job, added });
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed(path, 'GET, HEAD, POST');
      if (rest === '') {
        const limit = Math.min(MAX_LIST, Math.max(1, Number(url.searchParams.get('limit') ?? 20) || 20));
        sendJson(res, 200, { object: 'list', data: await o.jobs().list(limit) });
        return;
      }
      const job = await o.jobs().get(rest);
      if (!job) throw new NotFound(`no job '${rest}'`);
      sendJson(res, 200, job);
    })().catch(fail);
    return true;
  };
}
