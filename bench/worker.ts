// End to end through the worker engine (in process, no gRPC): a batch of
// requests sharing a system prompt, with prefix sharing + TPP attention ON
// versus OFF, side by side; then the TTFT of one request whose prompt is cached
// against the same request on a fresh worker.
//   npm run bench:worker -- [--shared 1024,2048] [--requests 32] [--json FILE]
import { writeFile } from 'node:fs/promises';
import { mean, median, percentile, printTable } from '@chunkmesh/cli';
import { defineOptions, loadConfig } from '@chunkmesh/common';
import type { TinyModelOptions } from '@chunkmesh/model';
import { buildInfo, type KvCache, probeDevice } from '@chunkmesh/native';
import { createWorkerRuntime, type GenerateEvent, type WorkerRuntime } from '@chunkmesh/worker';
import { randomBenchModel, tokenStream } from './support/bench-model.ts';
import { greedyRequest } from './support/engine-bench.ts';

const cfg = loadConfig(
  defineOptions({
    shared: { type: 'string', default: '1024,2048', help: 'shared system prompt lengths in tokens' },
    requests: { type: 'integer', default: 32, min: 1, help: 'concurrent requests per run' },
    question: { type: 'integer', default: 64, min: 1, help: 'tokens of its own question per request' },
    output: { type: 'integer', default: 128, min: 2, help: 'tokens generated per request (EOS ignored)' },
    layers: { type: 'integer', default: 8, min: 1, help: 'model layers' },
    dim: { type: 'integer', default: 512, min: 2, help: 'model hidden size' },
    heads: { type: 'integer', default: 8, min: 1, help: 'query heads' },
    kvHeads: { type: 'integer', default: 0, min: 0, help: 'KV heads (0: as many as query heads)' },
    headDim: { type: 'integer', default: 64, min: 2, help: 'head dimension' },
    hidden: { type: 'integer', default: 1408, min: 1, help: 'FFN intermediate size' },
    vocab: { type: 'integer', default: 4096, min: 16, help: 'vocabulary size' },
    chunk: { type: 'integer', default: 64, min: 1, help: 'chunk tokens (c)' },
    stepTokens: { type: 'integer', default: 2048, min: 1, help: 'engine token budget per step' },
    threads: { type: 'integer', default: 0, min: 0, help: 'native threads (0: all cores)' },
    dtype: {
      type: 'string',
      default: 'auto',
      choices: ['auto', 'f32', 'f16', 'bf16'],
      help: 'KV cache dtype (auto: f32 on the CPU, bf16 on a GPU)',
    },
    device: {
      type: 'string',
      default: 'cpu',
      choices: ['cpu', 'cuda', 'auto'],
      help: 'where the worker computes',
    },
    repeat: {
      type: 'integer',
      default: 1,
      min: 1,
      help: 'ON/OFF pairs per shared length (medians reported)',
    },
    cachedProbe: {
      type: 'boolean',
      default: true,
      help: 'measure the TTFT of a cached versus an uncached prompt after each ON run',
    },
    seed: { type: 'integer', default: 1, min: 0, help: 'seed of the model weights and the prompts' },
    modelCache: { type: 'string', default: '.bench/models', help: 'where generated models are kept' },
    json: { type: 'string', help: 'also write the results to this JSON file' },
  }),
  {
    program: 'npm run bench:worker --',
    summary:
      'End-to-end worker benchmark: concurrent requests sharing a system prompt through the engine ' +
      '(createWorkerRuntime, in process), prefix sharing + TPP attention ON versus OFF, on a random-weight ' +
      'Llama model generated once into the model cache. Tables on stdout, progress on stderr.',
  },
);
const sharedList = cfg.shared.split(',').map((x) => Number(x.trim()));
if (sharedList.some((n) => !Number.isSafeInteger(n) || n < 1)) {
  process.stderr.write(`--shared must be a comma-separated list of positive integers, got '${cfg.shared}'\n`);
  process.exit(2);
}
const threads = cfg.threads || buildInfo().defaultThreads;
// the device every run computes on; one that cannot be had stops the bench before any work
const device = (() => {
  try {
    return probeDevice(cfg.device as 'cpu' | 'cuda' | 'auto');
  } catch (err) {
    process.stderr.write(`bench:worker: ${(err as Error).message}\n`);
    process.exit(2);
  }
})();
const log = (msg: string) => process.stderr.write(`${msg}\n`);

// Targets from the issue: decode throughput ON/OFF and cached/uncached TTFT.
const DECODE_TARGET: Record<number, number> = { 1024: 1.6, 2048: 2 };
const CACHED_TTFT_TARGET = 0.15;

// A fresh runtime per run, disposed (its KV pool, weights and threads freed at
// once) before the next is built: no cache carries over, and at most two
// runtimes (a run's and its probe's fresh one) are alive at once.
const rssMiB = () => (process.memoryUsage.rss() / 2 ** 20).toFixed(0);

// ---- model -------------------------------------------------------------------

async function benchModel(): Promise<{ dir: string; shape: TinyModelOptions }> {
  const longest = Math.max(...sharedList) + 2 * cfg.question + cfg.output;
  return randomBenchModel(
    {
      dim: cfg.dim,
      hiddenDim: cfg.hidden,
      layers: cfg.layers,
      heads: cfg.heads,
      kvHeads: cfg.kvHeads || cfg.heads,
      headDim: cfg.headDim,
      vocabSize: cfg.vocab,
      maxSeqLen: Math.max(4096, 2 ** Math.ceil(Math.log2(longest))),
      seed: cfg.seed,
    },
    cfg.modelCache,
    log,
  );
}

// ---- prompts -----------------------------------------------------------------

function prompts(shared: number): { system: number[]; questions: number[][]; probe: number[] } {
  const next = tokenStream(cfg.seed * 7919 + shared, cfg.vocab);
  const system = next(shared);
  const questions = Array.from({ length: cfg.requests }, () => next(cfg.question));
  return { system, questions, probe: next(cfg.question) };
}

// ---- one run -----------------------------------------------------------------

type Mode = 'on' | 'off';

interface RequestTrace {
  tokenTimes: number[];
  finishReason: string;
  cachedPromptTokens: number;
}

interface StepRecord {
  end: number;
  /** Process CPU time (all threads, µs) at the step's end. */
  cpu: number;
  ms: number;
  batch: number;
  tokens: number;
}

interface Instrumented {
  rt: WorkerRuntime;
  steps: StepRecord[];
  forwardMs: number[];
  peak: { physical: number; logical: number };
}

async function runtimeFor(
  modelDir: string,
  mode: Mode,
  kvTokens: number,
  label: string,
): Promise<Instrumented> {
  const steps: StepRecord[] = [];
  let reported = performance.now();
  const forwardMs: number[] = [];
  const peak = { physical: 0, logical: 0 };
  const rt = await createWorkerRuntime({
    modelDir,
    kvCapacityTokens: kvTokens,
    chunkTokens: cfg.chunk,
    dtype: cfg.dtype,
    device: device.kind,
    threads,
    engine: {
      prefixSharing: mode === 'on',
      stepTokens: cfg.stepTokens,
      maxBatch: cfg.requests,
      maxQueue: cfg.requests + 1,
    },
    observer: () => ({
      onStep: (batch, ms, queue, tokens) => {
        const now = performance.now();
        const cpu = process.cpuUsage();
        steps.push({ end: now, cpu: cpu.user + cpu.system, ms, batch, tokens });
        if (now - reported > 10_000) {
          reported = now;
          log(
            `${label}: step ${steps.length}: ${batch} sequences, ${tokens} tokens, ${ms.toFixed(0)} ms; ${queue} waiting`,
          );
        }
      },
    }),
  });
  // KV in use peaks inside a step, after its appends and before its commit
  // (which can drop twin chunks): the cache keeps that high-water mark itself.
  // Logical bytes are the same before and after the commit: sample them after
  // each step, and time the step.
  const cache: KvCache = rt.cache;
  const step = rt.model.step.bind(rt.model);
  rt.model.step = async (request) => {
    const t0 = performance.now();
    const result = await step(request);
    forwardMs.push(performance.now() - t0);
    const s = cache.stats();
    peak.physical = s.peakPhysicalBytes;
    peak.logical = Math.max(peak.logical, s.logicalBytes);
    return result;
  };
  return { rt, steps, forwardMs, peak };
}

async function consume(stream: AsyncIterable<GenerateEvent>): Promise<RequestTrace> {
  const trace: RequestTrace = { tokenTimes: [], finishReason: '', cachedPromptTokens: 0 };
  for await (const e of stream) {
    if (e.type === 'tokens') {
      const now = performance.now();
      for (let i = 0; i < e.ids.length; i++) trace.tokenTimes.push(now);
    } else {
      trace.finishReason = e.finishReason;
      trace.cachedPromptTokens = e.usage.cachedPromptTokens;
      if (e.error) throw e.error;
    }
  }
  return trace;
}

interface RunResult {
  shared: number;
  mode: Mode;
  ttftMs: { mean: number; p50: number; p90: number; max: number };
  prefillPhaseMs: number;
  decodePhaseMs: number;
  decodePhaseTokens: number;
  decodeTokensPerS: number;
  decodeCpuMsPerToken: number;
  decodeMeanBatch: number;
  decodeStepMs: number;
  decodeForwardMs: number;
  totalMs: number;
  generatedTokens: number;
  e2eTokensPerS: number;
  peakPhysicalKvBytes: number;
  peakLogicalKvBytes: number;
  cachedPromptTokens: number;
  steps: number;
}

interface ProbeResult {
  shared: number;
  cachedTtftMs: number;
  uncachedTtftMs: number;
  cachedPromptTokens: number;
  ratio: number;
}

async function probeTtft(
  inst: Instrumented,
  prompt: number[],
  salt: string,
): Promise<{ ttft: number; cached: number }> {
  const t0 = performance.now();
  const trace = await consume(inst.rt.engine.generate(greedyRequest('probe', prompt, 1, salt)));
  return { ttft: (trace.tokenTimes[0] as number) - t0, cached: trace.cachedPromptTokens };
}

async function run(
  modelDir: string,
  shared: number,
  mode: Mode,
  kvTokens: number,
  probes: ProbeResult[],
): Promise<RunResult> {
  const { system, questions, probe } = prompts(shared);
  const label = `shared ${shared} ${mode.toUpperCase()}`;
  const inst = await runtimeFor(modelDir, mode, kvTokens, label);
  const { rt, steps, forwardMs, peak } = inst;
  log(
    `${label}: ${cfg.requests} requests x (${shared} + ${cfg.question}) prompt tokens, ${cfg.output} out ...`,
  );
  const t0 = performance.now();
  // OFF is a server without prefix caching: no matching, per-sequence attention,
  // and (the engine gives each request a salt of its own) no shared chunks.
  const traces = await Promise.all(
    questions.map((q, i) =>
      consume(rt.engine.generate(greedyRequest(`r${i}`, [...system, ...q], cfg.output))),
    ),
  );
  const end = performance.now();
  for (const [i, t] of traces.entries()) {
    if (t.tokenTimes.length !== cfg.output || t.finishReason !== 'length') {
      throw new Error(
        `request ${i} produced ${t.tokenTimes.length} tokens (${t.finishReason}), expected ${cfg.output}`,
      );
    }
  }
  const ttfts = traces.map((t) => (t.tokenTimes[0] as number) - t0);
  // The step that produced the last first token reports (onStep) before its
  // tokens reach the consumers, and every later step decodes all requests: the
  // decode phase is the steps after it, timed from its end to the last one's.
  const lastFirst = Math.max(...traces.map((t) => t.tokenTimes[0] as number));
  const k = steps.findLastIndex((st) => st.end <= lastFirst);
  const decodeSteps = steps.slice(k + 1);
  const decodeTokens = decodeSteps.reduce((n, st) => n + st.batch, 0);
  const phaseStart = k >= 0 ? (steps[k] as StepRecord).end : t0;
  const last = steps[steps.length - 1] as StepRecord;
  const phaseMs = last.end - phaseStart;
  // CPU time is what the machine's other users cannot inflate much: a check on
  // the wall-clock ratio when the machine is shared
  const phaseCpuUs = last.cpu - (k >= 0 ? (steps[k] as StepRecord).cpu : 0);
  const tail = forwardMs.slice(k + 1);
  const result: RunResult = {
    shared,
    mode,
    ttftMs: {
      mean: mean(ttfts),
      p50: percentile(ttfts, 0.5),
      p90: percentile(ttfts, 0.9),
      max: Math.max(...ttfts),
    },
    prefillPhaseMs: phaseStart - t0,
    decodePhaseMs: phaseMs,
    decodePhaseTokens: decodeTokens,
    decodeTokensPerS: decodeTokens / (phaseMs / 1e3),
    decodeCpuMsPerToken: phaseCpuUs / 1e3 / decodeTokens,
    decodeMeanBatch: decodeSteps.length ? decodeTokens / decodeSteps.length : 0,
    decodeStepMs: decodeSteps.length ? median(decodeSteps.map((s) => s.ms)) : 0,
    decodeForwardMs: tail.length ? median(tail) : 0,
    totalMs: end - t0,
    generatedTokens: cfg.requests * cfg.output,
    e2eTokensPerS: (cfg.requests * cfg.output) / ((end - t0) / 1e3),
    peakPhysicalKvBytes: peak.physical,
    peakLogicalKvBytes: peak.logical,
    cachedPromptTokens: traces.reduce((n, t) => n + t.cachedPromptTokens, 0),
    steps: steps.length,
  };
  log(
    `${label}: TTFT mean ${(result.ttftMs.mean / 1e3).toFixed(2)} s, decode ${result.decodeTokensPerS.toFixed(1)} tok/s ` +
      `(step ${result.decodeStepMs.toFixed(1)} ms), total ${(result.totalMs / 1e3).toFixed(1)} s; rss ${rssMiB()} MiB`,
  );
  if (mode === 'on' && cfg.cachedProbe) {
    // same system prompt, a question no request asked: cached on this warm
    // runtime, computed from scratch on a fresh one
    const prompt = [...system, ...probe];
    const warm = await probeTtft(inst, prompt, '');
    const fresh = await runtimeFor(modelDir, 'on', kvTokens, `${label} probe`);
    const cold = await probeTtft(fresh, prompt, '');
    probes.push({
      shared,
      cachedTtftMs: warm.ttft,
      uncachedTtftMs: cold.ttft,
      cachedPromptTokens: warm.cached,
      ratio: warm.ttft / cold.ttft,
    });
    log(
      `${label}: probe TTFT cached ${warm.ttft.toFixed(1)} ms (${warm.cached} tokens cached) vs uncached ${cold.ttft.toFixed(1)} ms`,
    );
    await fresh.rt.dispose();
  }
  await rt.dispose();
  return result;
}

// ---- main --------------------------------------------------------------------

const { dir: modelDir, shape } = await benchModel();
const results: RunResult[] = [];
const probes: ProbeResult[] = [];
for (const shared of sharedList) {
  // every request's whole sequence unshared, plus slack for a tail chunk each and the probe
  const perRequest = shared + cfg.question + cfg.output;
  const kvTokens = cfg.requests * (perRequest + cfg.chunk) + perRequest + cfg.question + 4 * cfg.chunk;
  for (let r = 0; r < cfg.repeat; r++) {
    const order: Mode[] = r % 2 === 0 ? ['on', 'off'] : ['off', 'on'];
    for (const mode of order) results.push(await run(modelDir, shared, mode, kvTokens, probes));
  }
}

// ---- report ------------------------------------------------------------------

const pick = (shared: number, mode: Mode) => {
  const rs = results.filter((r) => r.shared === shared && r.mode === mode);
  const m = (f: (r: RunResult) => number) => median(rs.map(f));
  return {
    ttftMean: m((r) => r.ttftMs.mean),
    ttftP50: m((r) => r.ttftMs.p50),
    ttftP90: m((r) => r.ttftMs.p90),
    decode: m((r) => r.decodeTokensPerS),
    cpuPerToken: m((r) => r.decodeCpuMsPerToken),
    batch: m((r) => r.decodeMeanBatch),
    stepMs: m((r) => r.decodeStepMs),
    forwardMs: m((r) => r.decodeForwardMs),
    e2e: m((r) => r.e2eTokensPerS),
    total: m((r) => r.totalMs),
    physical: m((r) => r.peakPhysicalKvBytes),
    cached: m((r) => r.cachedPromptTokens),
    logical: m((r) => r.peakLogicalKvBytes),
  };
};
const mib = (b: number) => (b / 2 ** 20).toFixed(0);
const s = (ms: number) => (ms / 1e3).toFixed(2);
const kvH = shape.kvHeads ?? shape.heads;
console.log(
  `\nWorker end to end: ${shape.layers} layers, hidden ${shape.dim}, ${shape.heads} heads x ${shape.headDim} ` +
    `(${kvH} KV heads), FFN ${shape.hiddenDim}, vocab ${shape.vocabSize}, random weights; KV ${cfg.dtype === 'auto' ? (device.kind === 'cuda' ? 'bf16' : 'f32') : cfg.dtype}, ` +
    `c = ${cfg.chunk}, step budget ${cfg.stepTokens} tokens, ` +
    (device.kind === 'cpu'
      ? `cpu device, ${threads} threads (${buildInfo().simd})`
      : `${device.name} (${device.detail})`),
);
console.log(
  `${cfg.requests} concurrent requests: shared system prompt + ${cfg.question}-token question each, ` +
    `${cfg.output} tokens out (greedy, EOS ignored), ${cfg.repeat} ON/OFF pair(s) per length, alternating\n` +
    'ON: prefix matching + TPP attention. OFF: no matching, per-sequence attention, nothing shared.\n' +
    'decode tok/s: tokens generated once every request has its first token / wall time from the last first\n' +
    '  token to the last token (the phase where all requests decode). e2e tok/s: all generated tokens /\n' +
    '  wall time from submission to the last token. TTFT from submission (all requests at once).\n' +
    'CPU ms/tok: process CPU time (all threads) of the decode phase per token; "by CPU time" is the\n' +
    '  ON/OFF decode ratio from it, a check on the wall-clock ratio when other jobs share the machine.\n' +
    'cached prompt tok: prompt tokens of all requests found in the prefix tree (prefill skipped).\n' +
    "peak KV: physical bytes in the pool, max over the run (the cache's high-water mark); unshared: the same\n" +
    '  sequences without sharing (logical bytes).\n',
);
printTable(
  [
    'shared',
    'mode',
    'TTFT mean s',
    'p50 s',
    'p90 s',
    'decode tok/s',
    'CPU ms/tok',
    'batch',
    'step ms',
    'e2e tok/s',
    'total s',
    'cached prompt tok',
    'peak KV MiB',
    'unshared MiB',
  ],
  sharedList.flatMap((shared) =>
    (['on', 'off'] as const).map((mode) => {
      const p = pick(shared, mode);
      return [
        shared,
        mode.toUpperCase(),
        s(p.ttftMean),
        s(p.ttftP50),
        s(p.ttftP90),
        p.decode.toFixed(1),
        p.cpuPerToken.toFixed(2),
        p.batch.toFixed(1),
        p.stepMs.toFixed(1),
        p.e2e.toFixed(1),
        s(p.total),
        p.cached,
        mib(p.physical),
        mib(p.logical),
      ];
    }),
  ),
);
console.log('\nON versus OFF');
const summary = sharedList.map((shared) => {
  const on = pick(shared, 'on');
  const off = pick(shared, 'off');
  const target = DECODE_TARGET[shared];
  const decodeRatio = on.decode / off.decode;
  return {
    shared,
    decodeRatio,
    decodeTarget: target,
    decodeMet: target === undefined ? undefined : decodeRatio >= target,
    decodeCpuRatio: off.cpuPerToken / on.cpuPerToken,
    e2eRatio: on.e2e / off.e2e,
    ttftMeanRatio: on.ttftMean / off.ttftMean,
    kvSaved: 1 - on.physical / off.physical,
  };
});
printTable(
  ['shared', 'decode ON/OFF', 'target', 'met', 'by CPU time', 'e2e ON/OFF', 'TTFT ON/OFF', 'peak KV saved'],
  summary.map((x) => [
    x.shared,
    `${x.decodeRatio.toFixed(2)}x`,
    x.decodeTarget === undefined ? '-' : `>= ${x.decodeTarget}x`,
    x.decodeMet === undefined ? '-' : x.decodeMet ? 'yes' : 'NO',
    `${x.decodeCpuRatio.toFixed(2)}x`,
    `${x.e2eRatio.toFixed(2)}x`,
    x.ttftMeanRatio.toFixed(3),
    `${(100 * x.kvSaved).toFixed(1)}%`,
  ]),
);
if (probes.length > 0) {
  console.log(
    '\nTTFT of one more request (same system prompt, new question): cached on the warm ON runtime vs a fresh one',
  );
  printTable(
    ['shared', 'cached ms', 'cached tokens', 'uncached ms', 'cached/uncached', 'target', 'met'],
    sharedList.map((shared) => {
      const ps = probes.filter((p) => p.shared === shared);
      const cached = median(ps.map((p) => p.cachedTtftMs));
      const uncached = median(ps.map((p) => p.uncachedTtftMs));
      const ratio = median(ps.map((p) => p.ratio));
      return [
        shared,
        cached.toFixed(1),
        (ps[0] as ProbeResult).cachedPromptTokens,
        uncached.toFixed(1),
        `${(100 * ratio).toFixed(1)}%`,
        `<= ${100 * CACHED_TTFT_TARGET}%`,
        ratio <= CACHED_TTFT_TARGET ? 'yes' : 'NO',
      ];
    }),
  );
}
if (cfg.json) {
  await writeFile(
    cfg.json,
    JSON.stringify(
      {
        config: cfg,
        model: shape,
        machine: { device, threads, build: buildInfo() },
        results,
        probes,
        summary,
        targets: { decode: DECODE_TARGET, cachedTtft: CACHED_TTFT_TARGET },
      },
      null,
      2,
    ),
  );
  log(`wrote ${cfg.json}`);
}
