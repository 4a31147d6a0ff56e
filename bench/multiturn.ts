// Multi-turn conversations on one worker whose device pool holds about a
// quarter of the live sessions' KV (CachedAttention's setting): every turn of
// a session returns with its whole history (the earlier prompts and answers)
// plus a short new input. With the host and disk tiers ON, a session's KV
// evicted from the device between its turns is demoted, then restored when it
// returns; OFF (device only), it is dropped and the history is recomputed.
// Both modes run side by side in one process, on the same sessions.
//   npm run bench:multiturn -- [--sessions 16] [--turns 4] [--json FILE]
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mean, percentile, printTable } from '@chunkmesh/cli';
import { defineOptions, loadConfig } from '@chunkmesh/common';
import { buildInfo, type FetchResult } from '@chunkmesh/native';
import { createWorkerRuntime } from '@chunkmesh/worker';
import { randomBenchModel, tokenStream } from './support/bench-model.ts';
import { deviceOrExit, engineBenchOptions, timedTurn } from './support/engine-bench.ts';

const cfg = loadConfig(
  defineOptions({
    sessions: { type: 'integer', default: 16, min: 2, help: 'conversations' },
    turns: { type: 'integer', default: 4, min: 2, help: 'turns per conversation' },
    system: {
      type: 'integer',
      default: 128,
      min: 0,
      help: 'system prompt tokens, the same for every session',
    },
    history: {
      type: 'integer',
      default: 768,
      min: 1,
      help: "each session's own first prompt (a document, say)",
    },
    input: { type: 'integer', default: 48, min: 1, help: 'new user tokens per turn' },
    output: { type: 'integer', default: 48, min: 1, help: 'answer tokens per turn (EOS ignored)' },
    concurrency: {
      type: 'integer',
      default: 2,
      min: 1,
      help: 'sessions taking a turn at once (the device pool must hold their prompts together)',
    },
    deviceShare: {
      type: 'number',
      default: 0.25,
      help: "device KV pool as a share of all sessions' KV at their last turn",
    },
    hostShare: { type: 'number', default: 1, help: 'host tier size as a multiple of the device pool (ON)' },
    diskShare: { type: 'number', default: 4, help: 'disk tier size as a multiple of the device pool (ON)' },
    restore: {
      type: 'string',
      default: 'auto',
      choices: ['auto', 'always', 'never'],
      help: 'read a prefix on disk back, or recompute it (ON; auto: by the rates measured at start)',
    },
    ...engineBenchOptions({
      layers: 8,
      dim: 512,
      heads: 8,
      headDim: 64,
      hidden: 1408,
      vocab: 4096,
      chunk: 64,
    }),
    diskDir: {
      type: 'string',
      help: 'directory for the disk tier (default: a fresh one under the temp dir)',
    },
  }),
  {
    program: 'npm run bench:multiturn --',
    summary:
      'Multi-turn conversations through the worker engine (in process) on a device pool that holds about a ' +
      "quarter of the sessions' KV: host and disk tiers ON versus recompute (device only), side by side. " +
      'Tables on stdout, progress on stderr.',
  },
);
const log = (msg: string) => process.stderr.write(`${msg}\n`);
const threads = cfg.threads || buildInfo().defaultThreads;
const device = deviceOrExit('bench:multiturn', cfg.device);

const TTFT_TARGET = 0.3;
const PREFILL_TARGET = 0.4;

const lastPrompt = cfg.system + cfg.history + cfg.turns * (cfg.input + cfg.output);
const { dir: modelDir, shape } = await randomBenchModel(
  {
    dim: cfg.dim,
    hiddenDim: cfg.hidden,
    layers: cfg.layers,
    heads: cfg.heads,
    kvHeads: cfg.heads,
    headDim: cfg.headDim,
    vocabSize: cfg.vocab,
    maxSeqLen: Math.max(4096, 2 ** Math.ceil(Math.log2(lastPrompt + 1))),
    seed: cfg.seed,
  },
  cfg.modelCache,
  log,
);
// f32 KV on the CPU (as the worker's auto), bf16 on a GPU
const kvBytesPerToken = cfg.layers * 2 * cfg.heads * cfg.headDim * (device.kind === 'cuda' ? 2 : 4);
const deviceTokens = Math.max(
  4 * cfg.chunk,
  Math.floor((cfg.deviceShare * cfg.sessions * lastPrompt) / cfg.chunk) * cfg.chunk,
);
const deviceBytes = deviceTokens * kvBytesPerToken;
if (deviceTokens < cfg.concurrency * (lastPrompt + cfg.output)) {
  // otherwise the running turns preempt each other and both modes measure thrashing, not tiers
  process.stderr.write(
    `bench:multiturn: a device pool of ${deviceTokens} tokens cannot hold ${cfg.concurrency} turns of up to ` +
      `${lastPrompt + cfg.output} tokens at once: raise --device-share or --sessions, or lower --concurrency\n`,
  );
  process.exit(2);
}

// ---- the conversations --------------------------------------------------------------

interface Session {
  history: number[];
  inputs: number[][];
}

function sessions(): Session[] {
  const shared = tokenStream(cfg.seed * 104_729, cfg.vocab)(cfg.system);
  return Array.from({ length: cfg.sessions }, (_, s) => {
    const next = tokenStream(cfg.seed * 7919 + s + 1, cfg.vocab);
    return {
      history: [...shared, ...next(cfg.history)],
      inputs: Array.from({ length: cfg.turns }, () => next(cfg.input)),
    };
  });
}

// ---- one mode ------------------------------------------------------------------------

type Mode = 'on' | 'off';

interface Turn {
  session: number;
  turn: number;
  promptTokens: number;
  cachedTokens: number;
  ttftMs: number;
}

interface ModeResult {
  mode: Mode;
  turns: Turn[];
  totalMs: number;
  hitTokens: { device: number; host: number; disk: number };
  restores: FetchResult[];
  diskReadBytes: number;
  diskReadSeconds: number;
  diskWriteBytes: number;
  demotions: number;
  diskDemotions: number;
  checksumFailures: number;
}

async function runMode(mode: Mode): Promise<ModeResult> {
  const restores: FetchResult[] = [];
  const diskDir = cfg.diskDir ?? mkdtempSync(join(tmpdir(), 'chunkmesh-multiturn-'));
  const rt = await createWorkerRuntime({
    modelDir,
    kvCapacityTokens: deviceTokens,
    chunkTokens: cfg.chunk,
    dtype: 'auto',
    device: device.kind,
    threads,
    ...(mode === 'on'
      ? {
          tiers: {
            hostBytes: Math.floor(cfg.hostShare * deviceBytes),
            diskDir,
            diskBytes: Math.floor(cfg.diskShare * deviceBytes) + (64 << 20),
            lookAhead: 16,
            restore: cfg.restore as 'auto' | 'always' | 'never',
          },
        }
      : {}),
    engine: { prefixSharing: true, stepTokens: cfg.stepTokens, maxBatch: 64, maxQueue: cfg.sessions + 1 },
    observer: () => ({ onRestore: (r) => restores.push(r) }),
  });
  const convs = sessions();
  const turns: Turn[] = [];
  const t0 = performance.now();
  try {
    for (let t = 0; t < cfg.turns; t++) {
      log(`${mode.toUpperCase()}: turn ${t + 1} of ${cfg.turns} for ${cfg.sessions} sessions ...`);
      // the sessions take their turn `concurrency` at a time, in order
      let nextSession = 0;
      const lane = async () => {
        for (let s = nextSession++; s < convs.length; s = nextSession++) {
          const c = convs[s] as Session;
          const prompt = [...c.history, ...(c.inputs[t] as number[])];
          const r = await timedTurn(rt, `s${s}t${t}`, prompt, cfg.output);
          turns.push({
            session: s,
            turn: t,
            promptTokens: prompt.length,
            cachedTokens: r.cached,
            ttftMs: r.ttftMs,
          });
          c.history = [...prompt, ...r.answer];
        }
      };
      await Promise.all(Array.from({ length: cfg.concurrency }, lane));
    }
  } finally {
    await rt.engine.idle();
  }
  const totalMs = performance.now() - t0;
  const s = rt.cache.stats();
  await rt.dispose();
  if (!cfg.diskDir) rmSync(diskDir, { recursive: true, force: true });
  return {
    mode,
    turns,
    totalMs,
    hitTokens: s.hitTokens,
    restores,
    diskReadBytes: s.diskReadBytes,
    diskReadSeconds: s.diskReadSeconds,
    diskWriteBytes: s.diskWriteBytes,
    demotions: s.demotions,
    diskDemotions: s.diskDemotions,
    checksumFailures: s.checksumFailures,
  };
}

// ---- run and report --------------------------------------------------------------------

log(
  `device ${device.kind} (${threads} threads); ${cfg.sessions} sessions x ${cfg.turns} turns, last prompt ` +
    `${lastPrompt} tokens; device pool ${deviceTokens} tokens (${(deviceBytes / 2 ** 20).toFixed(0)} MiB, ` +
    `${(100 * cfg.deviceShare).toFixed(0)}% of all sessions' KV)`,
);
// OFF first, then ON: the same sessions (the answers are greedy, so both see the same histories)
const off = await runMode('off');
const on = await runMode('on');

const returning = (r: ModeResult) => r.turns.filter((t) => t.turn > 0);
const summary = (r: ModeResult) => {
  const ret = returning(r);
  const ttfts = ret.map((t) => t.ttftMs);
  const computed = ret.reduce((n, t) => n + t.promptTokens - t.cachedTokens, 0);
  const prompt = ret.reduce((n, t) => n + t.promptTokens, 0);
  return {
    ttftMean: mean(ttfts),
    ttftP90: percentile(ttfts, 0.9),
    prefillComputed: computed,
    promptTokens: prompt,
    cached: prompt - computed,
  };
};
const sOff = summary(off);
const sOn = summary(on);

console.log(
  `Multi-turn: ${cfg.sessions} sessions x ${cfg.turns} turns (system ${cfg.system}, history ${cfg.history}, ` +
    `+${cfg.input} in / ${cfg.output} out per turn), ${cfg.concurrency} at a time; device pool ${deviceTokens} ` +
    `tokens = ${(100 * cfg.deviceShare).toFixed(0)}% of the sessions' KV; ON: host ${cfg.hostShare}x and disk ` +
    `${cfg.diskShare}x the pool, restore ${cfg.restore}; device ${device.kind} (${threads} threads)\n`,
);
printTable(
  [
    'mode',
    'returning turns',
    'TTFT mean ms',
    'TTFT p90 ms',
    'prefill computed',
    'of prompt',
    'hit device',
    'hit host',
    'hit disk',
    'restore MiB',
    'disk read s',
    'fetch p50 ms',
    'total s',
  ],
  [off, on].map((r) => {
    const s = r === off ? sOff : sOn;
    const fetches = r.restores.filter((f) => !f.cancelled).map((f) => f.seconds * 1e3);
    return [
      r.mode.toUpperCase(),
      returning(r).length,
      s.ttftMean.toFixed(1),
      s.ttftP90.toFixed(1),
      s.prefillComputed,
      `${((100 * s.prefillComputed) / s.promptTokens).toFixed(1)}%`,
      r.hitTokens.device,
      r.hitTokens.host,
      r.hitTokens.disk,
      (r.diskReadBytes / 2 ** 20).toFixed(1),
      r.diskReadSeconds.toFixed(3),
      fetches.length ? percentile(fetches, 0.5).toFixed(1) : '-',
      (r.totalMs / 1e3).toFixed(1),
    ];
  }),
);
const ttftRatio = sOn.ttftMean / sOff.ttftMean;
const p90Ratio = sOn.ttftP90 / sOff.ttftP90;
const prefillRatio = sOn.prefillComputed / sOff.prefillComputed;
console.log('\nON versus recompute (returning turns)');
printTable(
  ['measure', 'ON/OFF', 'target', 'met'],
  [
    ['TTFT mean', ttftRatio.toFixed(3), `<= ${TTFT_TARGET}`, ttftRatio <= TTFT_TARGET ? 'yes' : 'NO'],
    ['TTFT p90', p90Ratio.toFixed(3), '-', '-'],
    [
      'prefill tokens computed',
      prefillRatio.toFixed(3),
      `<= ${PREFILL_TARGET}`,
      prefillRatio <= PREFILL_TARGET ? 'yes' : 'NO',
    ],
  ],
);
if (on.checksumFailures > 0) console.log(`\n(ON: ${on.checksumFailures} disk records failed their checksum)`);
if (cfg.json) {
  await writeFile(
    cfg.json,
    `${JSON.stringify(
      {
        config: cfg,
        model: shape,
        machine: { device, threads, build: buildInfo() },
        deviceTokens,
        results: { off: { ...off, summary: sOff }, on: { ...on, summary: sOn } },
        ratios: { ttftMean: ttftRatio, ttftP90: p90Ratio, prefillComputed: prefillRatio },
        targets: { ttft: TTFT_TARGET, prefill: PREFILL_TARGET },
      },
      null,
      2,
    )}\n`,
  );
}
