// chunkmesh jobs: the control plane from the command line (README, "Control
// plane"). `run` is the job runner process; the others add jobs to the
// cluster's queues in Redis and read them back, as the router's admin
// endpoints do:
//   chunkmesh jobs prewarm --text ... [--tenant T] [--workers a,b | --count N] [--wait]
//   chunkmesh jobs drain --worker-id W [--grace-ms MS] [--wait]
//   chunkmesh jobs migrate --text ... [--tenant T] --source A --target B [--wait]
//   chunkmesh jobs spill --worker-id W --text ... [--tenant T] [--tier host|disk] [--wait]
//   chunkmesh jobs restore --worker-id W --text ... [--tenant T] [--wait]
//   chunkmesh jobs status --id ID
//   chunkmesh jobs list [--limit N]
import { setTimeout as sleep } from 'node:timers/promises';
import {
  connectRedis,
  createLogger,
  defineOptions,
  levelFromEnv,
  redisTlsOf,
  securityOptions,
} from '@chunkmesh/common';
import { JobClient, type JobView, type OperatorJob, runJobRunner } from '@chunkmesh/jobs';
import { parseCommand } from './command-options.ts';
import { printTable } from './table.ts';

const common = defineOptions({
  redisUrl: {
    type: 'string',
    default: 'redis://127.0.0.1:6379',
    help: 'Redis the cluster reports to and its queues live in',
  },
  cluster: { type: 'string', default: 'default', help: 'Redis namespace cm:{cluster}:' },
  redisTlsCaFile: securityOptions.redisTlsCaFile,
  redisTlsCertFile: securityOptions.redisTlsCertFile,
  redisTlsKeyFile: securityOptions.redisTlsKeyFile,
});

const waitOptions = defineOptions({
  wait: {
    type: 'boolean',
    default: false,
    help: 'wait until the job completes or fails; exit 1 if it fails',
  },
  waitTimeoutMs: {
    type: 'integer',
    default: 300_000,
    min: 1,
    help: 'with --wait: give up (exit 1) after this long',
  },
});

const promptOptions = defineOptions({
  text: { type: 'string', help: 'the prompt as text (or --token-ids)' },
  tokenIds: { type: 'string', help: 'the prompt as comma-separated token ids' },
  tenant: {
    type: 'string',
    default: '',
    help: 'the tenant whose cache holds the prompt (its chunk-key salt)',
  },
});

const prewarmOptions = defineOptions({
  ...common,
  ...promptOptions,
  workers: { type: 'string', help: 'comma-separated worker ids to prefill on (or --count)' },
  count: { type: 'integer', min: 1, help: 'prefill on this many of the least loaded workers (default 1)' },
  ...waitOptions,
});

const drainOptions = defineOptions({
  ...common,
  workerId: { type: 'string', help: 'the worker to drain (required)' },
  graceMs: {
    type: 'integer',
    min: 1,
    help: 'how long its requests get to finish (default: the worker\u2019s own)',
  },
  ...waitOptions,
});

const migrateOptions = defineOptions({
  ...common,
  ...promptOptions,
  source: { type: 'string', help: 'the worker whose cached chunks of the prompt are copied (required)' },
  target: { type: 'string', help: 'the worker they are copied to, over gRPC (required)' },
  ...waitOptions,
});

const restoreOptions = defineOptions({
  ...common,
  workerId: { type: 'string', help: 'the worker whose cache holds the prompt (required)' },
  ...promptOptions,
  ...waitOptions,
});

const spillOptions = defineOptions({
  ...restoreOptions,
  tier: { type: 'string', default: 'host', help: 'where the chunks go: host or disk' },
});

const statusOptions = defineOptions({ ...common, id: { type: 'string', help: 'the job id (required)' } });
const listOptions = defineOptions({
  ...common,
  limit: { type: 'integer', default: 20, min: 1, help: 'jobs to list, newest first' },
});

const SUBCOMMANDS = {
  run: 'the job runner: processes the queues until SIGTERM (chunkmesh up starts one)',
  prewarm: 'prefill a prompt on chosen workers (or the N least loaded) without generating',
  drain: 'take a worker out: no new placements, in-flight requests finish, then it deregisters and exits',
  migrate: 'copy a prompt\u2019s cached KV chunks from one worker to another (worker to worker over gRPC)',
  spill: 'move a cached prompt\u2019s chunks on one worker off the device, to its host (or disk) tier',
  restore: 'bring a cached prompt\u2019s chunks on one worker back up to the device',
  status: 'one job: its state, attempts, result or failure, and a prewarm\u2019s per-worker prefills',
  list: 'the most recent control-plane jobs',
} as const;

function usage(): string {
  const lines = Object.entries(SUBCOMMANDS).map(([n, s]) => `  ${n.padEnd(8)} ${s}`);
  return `usage: chunkmesh jobs <subcommand> [options]   (chunkmesh jobs <subcommand> --help)\n\nsubcommands:\n${lines.join('\n')}\n`;
}

interface ClientConfig {
  redisUrl: string;
  cluster: string;
  redisTlsCaFile?: string | undefined;
  redisTlsCertFile?: string | undefined;
  redisTlsKeyFile?: string | undefined;
}

function client(cfg: ClientConfig) {
  // a command's output is its answer: only errors (a refused password, say) unless asked for more
  const log = createLogger(
    { service: 'cli' },
    { level: process.env.CHUNKMESH_LOG_LEVEL ? levelFromEnv() : 'error' },
  );
  const tls = redisTlsOf(cfg, cfg.redisUrl, log);
  const registry = connectRedis({ url: cfg.redisUrl, name: 'cli/jobs', log, ...(tls ? { tls } : {}) });
  const jobs = new JobClient({
    redis: { url: cfg.redisUrl, ...(tls ? { tls } : {}) },
    registry,
    cluster: cfg.cluster,
  });
  return {
    jobs,
    close: async () => {
      await jobs.close();
      await registry.quit().catch(() => undefined);
      tls?.close();
    },
  };
}

async function waitFor(jobs: JobClient, id: string, timeoutMs: number): Promise<JobView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await jobs.get(id);
    if (!v) throw new Error(`job ${id} is gone`);
    if (v.state === 'completed' || v.state === 'failed' || Date.now() > deadline) return v;
    await sleep(200);
  }
}

async function addJob(
  name: OperatorJob,
  request: unknown,
  cfg: ClientConfig & { wait: boolean; waitTimeoutMs: number },
): Promise<number> {
  const c = client(cfg);
  try {
    const { job, added } = await c.jobs.add(name, request);
    process.stderr.write(
      added ? `added ${job.id}\n` : `${job.id} exists already (${job.state}): not added again\n`,
    );
    const shown = cfg.wait ? await waitFor(c.jobs, job.id, cfg.waitTimeoutMs) : job;
    process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
    return cfg.wait && shown.state !== 'completed' ? 1 : 0;
  } finally {
    await c.close();
  }
}

/** A job's prompt: --text or --token-ids, exactly one. */
function promptOf(cfg: { text?: string | undefined; tokenIds?: string | undefined }) {
  if ((cfg.text === undefined) === (cfg.tokenIds === undefined))
    throw new Error('give the prompt as --text or --token-ids (one of them; see --help)');
  return cfg.text !== undefined ? { text: cfg.text } : { tokenIds: (list(cfg.tokenIds) ?? []).map(Number) };
}

/** A spill's or restore's worker, tenant and prompt. */
function tierMove(cfg: {
  workerId?: string | undefined;
  tenant: string;
  text?: string | undefined;
  tokenIds?: string | undefined;
}) {
  if (!cfg.workerId) throw new Error('--worker-id is required (see --help)');
  return { workerId: cfg.workerId, tenant: cfg.tenant, prompt: promptOf(cfg) };
}

function list(s: string | undefined): string[] | undefined {
  return s === undefined
    ? undefined
    : s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
}

export async function jobsCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    process.stdout.write(usage());
    return sub === undefined ? 2 : 0;
  }
  const program = `chunkmesh jobs ${sub}`;
  switch (sub) {
    case 'run':
      return runJobRunner(rest);
    case 'prewarm': {
      const cfg = parseCommand(prewarmOptions, { program, summary: SUBCOMMANDS.prewarm }, rest);
      if (!cfg) return 0;
      const prompt = promptOf(cfg);
      const workers = list(cfg.workers);
      return addJob(
        'prefix.prewarm',
        {
          tenant: cfg.tenant,
          prompt,
          ...(workers ? { workers } : {}),
          ...(cfg.count !== undefined ? { count: cfg.count } : {}),
        },
        cfg,
      );
    }
    case 'drain': {
      const cfg = parseCommand(drainOptions, { program, summary: SUBCOMMANDS.drain }, rest);
      if (!cfg) return 0;
      if (!cfg.workerId) throw new Error('--worker-id is required (see --help)');
      return addJob(
        'worker.drain',
        { workerId: cfg.workerId, ...(cfg.graceMs !== undefined ? { graceMs: cfg.graceMs } : {}) },
        cfg,
      );
    }
    case 'migrate': {
      const cfg = parseCommand(migrateOptions, { program, summary: SUBCOMMANDS.migrate }, rest);
      if (!cfg) return 0;
      if (!cfg.source || !cfg.target) throw new Error('--source and --target are required (see --help)');
      return addJob(
        'kv.migrate',
        { tenant: cfg.tenant, prompt: promptOf(cfg), source: cfg.source, target: cfg.target },
        cfg,
      );
    }
    case 'spill': {
      const cfg = parseCommand(spillOptions, { program, summary: SUBCOMMANDS.spill }, rest);
      if (!cfg) return 0;
      return addJob('kv.spill', { ...tierMove(cfg), tier: cfg.tier }, cfg);
    }
    case 'restore': {
      const cfg = parseCommand(restoreOptions, { program, summary: SUBCOMMANDS.restore }, rest);
      if (!cfg) return 0;
      return addJob('kv.restore', tierMove(cfg), cfg);
    }
    case 'status': {
      const cfg = parseCommand(statusOptions, { program, summary: SUBCOMMANDS.status }, rest);
      if (!cfg) return 0;
      if (!cfg.id) throw new Error('--id is required (see --help)');
      const c = client(cfg);
      try {
        const v = await c.jobs.get(cfg.id);
        if (!v) {
          process.stderr.write(`no job ${cfg.id}\n`);
          return 1;
        }
        process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
        return 0;
      } finally {
        await c.close();
      }
    }
    case 'list': {
      const cfg = parseCommand(listOptions, { program, summary: SUBCOMMANDS.list }, rest);
      if (!cfg) return 0;
      const c = client(cfg);
      try {
        const jobs = await c.jobs.list(cfg.limit);
        printTable(
          ['id', 'name', 'state', 'attempts', 'created'],
          jobs.map((j) => [j.id, j.name, j.state, j.attemptsMade, new Date(j.createdAt).toISOString()]),
        );
        return 0;
      } finally {
        await c.close();
      }
    }
    default:
      process.stderr.write(`chunkmesh jobs: unknown subcommand '${sub}'\n\n${usage()}`);
      return 2;
  }
}
