// Conversations that outgrow the context window: every turn returns with the
// whole history (a shared system prompt, then the earlier inputs and answers)
// plus a new input, and once that passes the window the client drops the
// oldest turns, keeping the system prompt. Truncation reuse ON grafts the
// kept turns' saved KV to their new positions (keys re-rotated); OFF, the
// kept turns have new chunk keys and are recomputed. Two workers run in one
// process, turn by turn (OFF, then ON on the same prompt: a shared machine's
// changing load weighs on both alike); the histories carry OFF's answers, and
// ON's own answers are compared with OFF's (greedy), since the reused KV is
// approximate past layer 0.
//   npm run bench:truncation -- [--sessions 6] [--turns 10] [--json FILE]
import { writeFile } from 'node:fs/promises';
import { mean, percentile, printTable } from '@chunkmesh/cli';
import { defineOptions, loadConfig } from '@chunkmesh/common';
import { buildInfo } from '@chunkmesh/native';
import { createWorkerRuntime, type WorkerRuntime } from '@chunkmesh/worker';
import { randomBenchModel, tokenStream } from './support/bench-model.ts';
import { deviceOrExit, engineBenchOptions, timedTurn } from './support/engine-bench.ts';

const cfg = loadConfig(
  defineOptions({
    sessions: { type: 'integer', default: 6, min: 1, help: 'conversations' },
    turns: { type: 'integer', default: 10, min: 2, help: 'turns per conversation' },
    system: { type: 'integer', default: 96, min: 0, help: 'system prompt tokens, kept by every truncation' },
    input: { type: 'integer', default: 96, min: 1, help: 'new user tokens per turn' },
    output: { type: 'integer', default: 64, min: 1, help: 'answer tokens per turn (EOS ignored)' },
    window: {
      type: 'integer',
      default: 1024,
      min: 2,
      help: 'context window: a prompt plus its answer past this drops the oldest turns',
    },
    ...engineBenchOptions({
      layers: 6,
      dim: 384,
      heads: 6,
      headDim: 64,
      hidden: 1024,
      vocab: 4096,
      chunk: 32,
    }),
    model: {
      type: 'string',
      help: 'a model directory to run instead of a random one (pass its --vocab); e.g. test/fixtures/stories260K, whose answers mean something to compare',
    },
  }),
  {
    program: 'npm run bench:truncation --',
    summary:
      'Conversations truncated to a context window through the worker engine (in process): truncation reuse ' +
      'ON versus OFF, side by side. Tables on stdout, progress on stderr.',
  },
);
const log = (msg: string) => process.stderr.write(`${msg}\n`);
const threads = cfg.threads || buildInfo().defaultThreads;
const device = deviceOrExit('bench:truncation', cfg.device);
if (cfg.system + cfg.input + cfg.output > cfg.window) {
  process.stderr.write('bench:truncation: the system prompt and one turn must fit in --window\n');
  process.exit(2);
}

const { dir: modelDir, shape } = cfg.model
  ? { dir: cfg.model, shape: { model: cfg.model } }
  : await randomBenchModel(
      {
        dim: cfg.dim,
        hiddenDim: cfg.hidden,
        layers: cfg.layers,
        heads: cfg.heads,
        kvHeads: cfg.heads,
        headDim: cfg.headDim,
        vocabSize: cfg.vocab,
        maxSeqLen: Math.max(4096, 2 ** Math.ceil(Math.log2(cfg.window + 1))),
        seed: cfg.seed,
      },
      cfg.modelCache,
      log,
    );

// ---- the conversations --------------------------------------------------------------

interface Session {
  system: number[];
  inputs: number[][];
}

function sessions(): Session[] {
  const system = tokenStream(cfg.seed * 104_729, cfg.vocab)(cfg.system);
  return Array.from({ length: cfg.sessions }, (_, s) => {
    const next = tokenStream(cfg.seed * 7919 + s + 1, cfg.vocab);
    return { system, inputs: Array.from({ length: cfg.turns }, () => next(cfg.input)) };
  });
}

/** The prompt of turn t: the system prompt, the latest earlier turns that fit, the new input. */
function promptOf(s: Session, answers: number[][], t: number): { prompt: number[]; dropped: number } {
  const turn = (i: number) => [...(s.inputs[i] as number[]), ...(answers[i] as number[])];
  let first = 0;
  const length = (from: number) =>
    cfg.system + (t - from) * (cfg.input + cfg.output) + cfg.input + cfg.output;
  while (length(first) > cfg.window) first++;
  const kept = Array.from({ length: t - first }, (_, i) => turn(first + i)).flat();
  return { prompt: [...s.system, ...kept, ...(s.inputs[t] as number[])], dropped: first };
}

// ---- both modes, turn by turn ------------------------------------------------------

type Mode = 'on' | 'off';

interface Turn {
  session: number;
  turn: number;
  truncated: boolean;
  promptTokens: number;
  cachedTokens: number;
  ttftMs: number;
  /** Time to the last answer token. */
  turnMs: number;
  answer: number[];
}

async function runtimeFor(mode: Mode, onReuse: (n: number) => void): Promise<WorkerRuntime> {
  const pool = cfg.sessions * cfg.turns * (cfg.input + cfg.output) + cfg.sessions * cfg.window;
  return createWorkerRuntime({
    modelDir,
    kvCapacityTokens: Math.ceil(pool / cfg.chunk) * cfg.chunk,
    chunkTokens: cfg.chunk,
    dtype: 'auto',
    device: device.kind,
    threads,
    engine: {
      prefixSharing: true,
      stepTokens: cfg.stepTokens,
      maxBatch: 64,
      maxQueue: 4,
      truncationReuseTokens: mode === 'on' ? cfg.sessions * cfg.window * 2 : 0,
    },
    observer: () => ({ onTruncationReuse: onReuse }),
  });
}

log(
  `device ${device.kind} (${threads} threads); ${cfg.sessions} sessions x ${cfg.turns} turns in a window of ` +
    `${cfg.window} tokens`,
);
// Two workers in one process, each turn run on OFF then at once on ON (the same prompt), so a
// machine whose load changes over the run weighs on both alike. The histories carry OFF's answers.
const reused = { off: 0, on: 0 };
const workers = {
  off: await runtimeFor('off', (n) => (reused.off += n)),
  on: await runtimeFor('on', (n) => (reused.on += n)),
};
const turns: Record<Mode, Turn[]> = { off: [], on: [] };
const totalMs = { off: 0, on: 0 };
const convs = sessions();
const answers: number[][][] = convs.map(() => []);
for (let t = 0; t < cfg.turns; t++) {
  log(`turn ${t + 1} of ${cfg.turns} for ${cfg.sessions} sessions ...`);
  for (let s = 0; s < convs.length; s++) {
    const { prompt, dropped } = promptOf(convs[s] as Session, answers[s] as number[][], t);
    for (const mode of ['off', 'on'] as const) {
      const t0 = performance.now();
      const r = await timedTurn(workers[mode], `s${s}t${t}`, prompt, cfg.output);
      const turnMs = performance.now() - t0;
      totalMs[mode] += turnMs;
      turns[mode].push({
        session: s,
        turn: t,
        truncated: dropped > 0,
        promptTokens: prompt.length,
        cachedTokens: r.cached,
        ttftMs: r.ttftMs,
        turnMs,
        answer: r.answer,
      });
      if (mode === 'off') (answers[s] as number[][]).push(r.answer);
    }
  }
}
for (const rt of Object.values(workers)) {
  await rt.engine.idle();
  await rt.dispose();
}
const off = { mode: 'off' as Mode, turns: turns.off, totalMs: totalMs.off, reused: reused.off };
const on = { mode: 'on' as Mode, turns: turns.on, totalMs: totalMs.on, reused: reused.on };

type Result = typeof off;
const truncated = (r: Result) => r.turns.filter((t) => t.truncated);
/** Leading tokens of each truncated turn's ON answer that equal OFF's. */
const agreement = on.turns
  .filter((t) => t.truncated)
  .map((t) => {
    const ref = off.turns.find((x) => x.session === t.session && x.turn === t.turn)?.answer ?? [];
    let n = 0;
    while (n < t.answer.length && t.answer[n] === ref[n]) n++;
    return n;
  });
const summary = (r: Result) => {
  const tr = truncated(r);
  const ttfts = tr.map((t) => t.ttftMs);
  const prompt = tr.reduce((n, t) => n + t.promptTokens, 0);
  const computed = tr.reduce((n, t) => n + t.promptTokens - t.cachedTokens, 0);
  return {
    truncatedTurns: tr.length,
    ttftMean: mean(ttfts),
    ttftP90: percentile(ttfts, 0.9),
    promptTokens: prompt,
    prefillComputed: computed,
    reusedTokens: r.reused,
  };
};
const sOff = summary(off);
const sOn = summary(on);

console.log(
  `Truncated conversations: ${cfg.sessions} sessions x ${cfg.turns} turns (system ${cfg.system}, +${cfg.input} in / ` +
    `${cfg.output} out per turn) in a ${cfg.window}-token window; chunk ${cfg.chunk}; model ` +
    `${cfg.model ?? `random, ${cfg.layers} layers, dim ${cfg.dim}`}; device ${device.kind} (${threads} threads)\n`,
);
printTable(
  [
    'mode',
    'truncated turns',
    'TTFT mean ms',
    'TTFT p90 ms',
    'prefill computed',
    'of prompt',
    'reused tokens',
    'turns s',
  ],
  [
    [off, sOff],
    [on, sOn],
  ].map(([r, s]) => {
    const res = r as Result;
    const sum = s as typeof sOff;
    return [
      res.mode.toUpperCase(),
      sum.truncatedTurns,
      sum.ttftMean.toFixed(1),
      sum.ttftP90.toFixed(1),
      sum.prefillComputed,
      `${((100 * sum.prefillComputed) / Math.max(1, sum.promptTokens)).toFixed(1)}%`,
      sum.reusedTokens,
      (res.totalMs / 1e3).toFixed(1),
    ];
  }),
);
const firstSame = agreement.filter((n) => n > 0).length;
const allSame = agreement.filter((n) => n === cfg.output).length;
console.log('\nON versus OFF (truncated turns)');
printTable(
  ['measure', 'value'],
  [
    ['TTFT mean ON/OFF', (sOn.ttftMean / sOff.ttftMean).toFixed(3)],
    ['prefill computed ON/OFF', (sOn.prefillComputed / Math.max(1, sOff.prefillComputed)).toFixed(3)],
    ['answers whose first token equals OFF', `${firstSame} of ${agreement.length}`],
    [`answers equal to OFF (all ${cfg.output} tokens)`, `${allSame} of ${agreement.length}`],
    ['leading tokens equal to OFF, mean', agreement.length ? mean(agreement).toFixed(1) : '-'],
  ],
);
if (cfg.json) {
  const strip = (r: Result) => ({ ...r, turns: r.turns.map(({ answer, ...t }) => t) });
  await writeFile(
    cfg.json,
    `${JSON.stringify(
      {
        config: cfg,
        model: shape,
        machine: { device, threads, build: buildInfo() },
        results: { off: { ...strip(off), summary: sOff }, on: { ...strip(on), summary: sOn } },
        agreement: { leadingTokens: agreement, firstTokenSame: firstSame, answersSame: allSame },
        ratios: {
          ttftMean: sOn.ttftMean / sOff.ttftMean,
          prefillComputed: sOn.prefillComputed / Math.max(1, sOff.prefillComputed),
        },
      },
      null,
      2,
    )}\n`,
  );
}
