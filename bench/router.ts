// The router's placement path alone, no gRPC: the live workers, then decide()
// as RouterCore calls it for each request (chunk keys over the prompt tokens
// with the native hash, ClusterIndex.longestPrefix, the prefix-aware policy,
// speculate); timed per decision and per stage on the main thread (one core).
// The router's code runs as the router runs it: the compiled packages (dist/,
// which `npm run bench:router` builds first), not the TypeScript sources
// through tsx (whose per-function name helpers showed in the profiles).
// The index is a
// real ClusterIndex holding 1M (chunk, worker) entries that 64 real KvReporters
// wrote to a private redis-server and the index read back (from the event
// stream by default, or from the snapshots). Tokenization is timed apart, with
// the stories260K llama2.c tokenizer and a generated Hugging Face tokenizer.
//   npm run bench:router -- [--prompts 2048,8192] [--decisions 20000] [--json FILE]

import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Profiler } from 'node:inspector';
import { Session } from 'node:inspector/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep, setImmediate as yieldToLoop } from 'node:timers/promises';
import { Progress, printTable, RedisServer } from '@chunkmesh/cli';
import {
  type ClusterConstants,
  connectRedis,
  createLogger,
  defineOptions,
  loadConfig,
  type WorkerLoad,
  waitForRedis,
} from '@chunkmesh/common';
import {
  loadHfTokenizer,
  loadLlama2cTokenizer,
  splitmix32,
  type Tokenizer,
  writeTinyModel,
} from '@chunkmesh/model';
import { type ChunkKeySpace, chunkKeys } from '@chunkmesh/native';
import {
  CircuitBreaker,
  ClusterIndex,
  type DecideOptions,
  type DecisionStage,
  decide,
  ForwardedLoad,
  PrefixAwarePolicy,
  placementPool,
} from '@chunkmesh/router';
import { KvReporter } from '@chunkmesh/worker';
import type { Redis } from 'ioredis';
import { wordText } from './support/word-text.ts';

const TARGET_DECISIONS_PER_S = 50_000; // at 2K-token prompts (issue 10)
const TARGET_P99_US = 500;

const options = defineOptions({
  prompts: { type: 'string', default: '2048,8192', help: 'prompt lengths in tokens, one table row each' },
  workers: { type: 'integer', default: 64, min: 1, help: 'workers (each a KvReporter)' },
  entries: { type: 'integer', default: 1_000_000, min: 1, help: '(chunk, worker) entries in the index' },
  decisions: { type: 'integer', default: 20_000, min: 1, help: 'timed decisions per prompt length' },
  warmup: { type: 'integer', default: 3_000, min: 0, help: 'untimed decisions first, per prompt length' },
  batch: {
    type: 'integer',
    default: 250,
    min: 1,
    help: 'decisions between yields to the event loop (heartbeats, registry polls, speculation sweeps)',
  },
  returning: {
    type: 'number',
    default: 0.5,
    min: 0,
    help: 'share of prompts continuing a conversation some worker holds',
  },
  hot: { type: 'number', default: 0.3, min: 0, help: 'share of new conversations on a hot system prompt' },
  chunkTokens: { type: 'integer', default: 64, min: 1, help: 'chunk size c' },
  speculationTtlMs: { type: 'integer', default: 5_000, min: 0, help: 'as the router flag of that name' },
  populate: {
    type: 'string',
    default: 'stream',
    choices: ['stream', 'snapshot'],
    help: 'how the index gets its entries: tailing the event stream, or bootstrapping from snapshots',
  },
  tokenizers: {
    type: 'string',
    default: 'both',
    choices: ['both', 'llama2c', 'hf', 'none'],
    help: 'tokenizers to time',
  },
  llama2cTokenizer: {
    type: 'string',
    default: 'test/fixtures/stories260K/tok512.bin',
    help: 'llama2.c tokenizer file (default: the vendored stories260K one)',
  },
  tokenizeRepeat: { type: 'integer', default: 5, min: 1, help: 'encodes per text (median reported)' },
  seed: { type: 'integer', default: 1, min: 0, help: 'seed of the trees, prompts and texts' },
  json: { type: 'string', help: 'also write the results to this JSON file' },
  cpuProfile: {
    type: 'string',
    help: 'write a V8 CPU profile (.cpuprofile) of the timed decision loops, nothing else, to this file',
  },
});

const cfg = loadConfig(options, {
  program: 'npm run bench:router --',
  summary:
    "Router placement path without gRPC: the router's decide() (chunkKeys (native hash) -> " +
    'ClusterIndex.longestPrefix -> PrefixAwarePolicy.choose over the live workers -> speculate), per ' +
    'decision on one core, against a ' +
    'real ClusterIndex filled by one KvReporter per worker through a private redis-server (stopped at ' +
    'the end). Tokenization timed separately. Tables on stdout, progress on stderr.',
});
if (cfg.returning + cfg.hot > 1) throw new Error('--returning + --hot must be at most 1');
const promptLengths = cfg.prompts.split(',').map(Number);
if (promptLengths.some((n) => !Number.isInteger(n) || n < cfg.chunkTokens))
  throw new Error(`--prompts takes comma-separated token counts of at least one chunk, got ${cfg.prompts}`);
const log = (msg: string) => process.stderr.write(`${msg}\n`);
const quiet = createLogger({}, { level: 'silent' });
/** The router's and every worker's cluster constants. */
const constants: ClusterConstants = { modelId: 'bench-model', chunkTokens: cfg.chunkTokens };
/** Every prompt's chunk-key space: one tenant. */
const space: ChunkKeySpace = { ...constants, salt: 'bench-tenant' };
const VOCAB = 32_000;

// ---- deterministic randomness ------------------------------------------------

const rand = splitmix32(cfg.seed * 7919 + 17);
const uniformInt = (lo: number, hi: number, r = rand) => lo + Math.floor(r() * (hi - lo + 1));

/** Token ids of a stream named by seed: the same seed gives the same tokens. */
function tokenStream(seed: number, n: number, into = new Int32Array(n), at = 0): Int32Array {
  const r = splitmix32(seed);
  for (let i = 0; i < n; i++) into[at + i] = Math.floor(r() * VOCAB);
  return into;
}

// ---- the workers' trees --------------------------------------------------------
// A few hot system prompts, each cached by many workers, and many distinct
// conversations: 60% of them begin with a hot system prompt their worker holds;
// 10% of the conversations a worker holds were moved there from another worker
// (held by both). Every chain is stored in full but the last of each worker,
// cut to fill its share of the entries exactly.

const HOT_TOKENS = [512, 1024, 1024, 1536, 2048, 768];
const HOT_HOLDER_SHARE = [1, 0.75, 0.5, 0.375, 0.25, 0.125];
/** How often a new conversation picks each hot system prompt: as often as workers hold it. */
const HOT_WEIGHTS = HOT_HOLDER_SHARE.map((s) => s / HOT_HOLDER_SHARE.reduce((a, b) => a + b, 0));
const hotPrompts = HOT_TOKENS.map((n, j) => tokenStream(cfg.seed * 1_000_003 + 1_000 + j, n));

interface Chain {
  hot: number; // index into hotPrompts, or -1
  seed: number;
  ownTokens: number;
}

function chainTokens(chain: Chain): Int32Array {
  const hot = chain.hot >= 0 ? (hotPrompts[chain.hot] as Int32Array) : new Int32Array(0);
  const out = new Int32Array(hot.length + chain.ownTokens);
  out.set(hot);
  return tokenStream(chain.seed, chain.ownTokens, out, hot.length);
}

interface WorkerTree {
  id: string;
  keys: BigUint64Array;
  hotHeld: number[];
  /** Conversations this worker holds that another worker also holds (moved there). */
  movedChains: number;
}

function buildTrees(): { trees: WorkerTree[]; chains: Chain[] } {
  const ids = Array.from({ length: cfg.workers }, (_, i) => `w${String(i).padStart(3, '0')}`);
  const holders = HOT_HOLDER_SHARE.map((share) => {
    const order = [...ids.keys()];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    return new Set(order.slice(0, Math.max(1, Math.round(share * cfg.workers))));
  });
  const hotKeys = hotPrompts.map((t) => chunkKeys(space, t));
  const chains: Chain[] = [];
  const trees: WorkerTree[] = [];
  const progress = new Progress('building trees');
  for (const [w, id] of ids.entries()) {
    const target = Math.floor(cfg.entries / cfg.workers) + (w < cfg.entries % cfg.workers ? 1 : 0);
    const held = holders.flatMap((set, j) => (set.has(w) ? [j] : []));
    const keys = new Set<bigint>();
    const add = (ks: BigUint64Array) => {
      for (const k of ks) {
        if (keys.size >= target) return;
        keys.add(k);
      }
    };
    for (const j of held) add(hotKeys[j] as BigUint64Array);
    let moved = 0;
    while (keys.size < target) {
      let chain: Chain;
      if (chains.length > 0 && rand() < 0.1) {
        chain = chains[Math.floor(rand() * chains.length)] as Chain;
        moved++;
      } else {
        const hot = held.length > 0 && rand() < 0.6 ? (held[Math.floor(rand() * held.length)] as number) : -1;
        chain = {
          hot,
          seed: cfg.seed * 1_000_003 + 1_000_000 + chains.length,
          ownTokens: uniformInt(256, 6144),
        };
        chains.push(chain);
      }
      add(chunkKeys(space, chainTokens(chain)));
    }
    trees.push({
      id,
      keys: BigUint64Array.from(keys),
      hotHeld: held,
      movedChains: moved,
    });
    progress.update(w + 1, ids.length);
  }
  return { trees, chains };
}

/**
 * A registry load for worker w: most moderately busy, one in sixteen past the balance guard's line.
 * Redrawn every second while the benchmark runs, as engines' loads move between heartbeats.
 */
function loadOf(w: number): WorkerLoad {
  const overloaded = w % 16 === 5;
  const runningSequences = uniformInt(4, 32);
  return {
    queuedRequests: overloaded ? uniformInt(20, 40) : uniformInt(0, 4),
    runningSequences,
    queuedTokens: overloaded ? uniformInt(60_000, 120_000) : uniformInt(0, 4_000),
    runningTokens: uniformInt(runningSequences * 100, runningSequences * 600),
    freeChunks: uniformInt(500, 8_000),
  };
}

// ---- prompts -------------------------------------------------------------------

type PromptKind = 'returning' | 'hot' | 'cold';
interface Prompt {
  /** As the router's front doors hand prompts to placement: the checked ids (checkedPrompt). */
  tokens: Int32Array;
  kind: PromptKind;
}

/**
 * The q-th prompt of this length: a conversation some worker holds plus a new turn, a hot system
 * prompt plus a new question, or nothing cached. Every prompt is new; a returning one repeats
 * another's conversation only when both draw the same one.
 */
function makePrompt(length: number, chains: Chain[], q: number): Prompt {
  const r = splitmix32(cfg.seed * 1_000_003 + 300_000_000 + length * 1_000_000 + q);
  const fresh = (n: number) => tokenStream(cfg.seed * 1_000_003 + 500_000_000 + length * 1_000_000 + q, n);
  const turn = uniformInt(64, Math.max(64, Math.min(512, length >> 2)), r);
  const x = r();
  let prefix: Int32Array;
  let kind: PromptKind;
  if (x < cfg.returning) {
    prefix = chainTokens(chains[Math.floor(r() * chains.length)] as Chain);
    kind = 'returning';
  } else if (x < cfg.returning + cfg.hot) {
    let u = r();
    let j = 0;
    while (j < HOT_WEIGHTS.length - 1 && u >= (HOT_WEIGHTS[j] as number)) u -= HOT_WEIGHTS[j++] as number;
    prefix = hotPrompts[j] as Int32Array;
    kind = 'hot';
  } else {
    prefix = new Int32Array(0);
    kind = 'cold';
  }
  const keep = Math.min(prefix.length, length - turn);
  const tokens = new Int32Array(length);
  tokens.set(prefix.subarray(0, keep));
  tokens.set(fresh(length - keep), keep);
  return { tokens, kind };
}

// ---- one decision, as RouterCore.routeAdmitted's first attempt makes it ----------

interface Timings {
  total: Float64Array;
  keys: Float64Array;
  lookup: Float64Array;
  policy: Float64Array;
  speculate: Float64Array;
}

function timings(n: number): Timings {
  return {
    total: new Float64Array(n),
    keys: new Float64Array(n),
    lookup: new Float64Array(n),
    policy: new Float64Array(n),
    speculate: new Float64Array(n),
  };
}

interface Outcome {
  reasons: Map<string, number>;
  cachedTokens: number;
  chosen: Set<string>;
}

/**
 * How a decision is timed: not at all (warm-up), as a whole (two clock reads around it: what
 * decisions/s and the latency percentiles are taken from), or stage by stage (six clock reads,
 * which cost about a microsecond themselves: what the stage columns are taken from).
 */
type Clocking = 'none' | 'whole' | 'stages';

function makeDecider(index: ClusterIndex) {
  const options: DecideOptions = {
    constants,
    policy: new PrefixAwarePolicy(),
    index,
    speculationTtlMs: cfg.speculationTtlMs,
  };
  const breaker = new CircuitBreaker();
  const forwarded = new ForwardedLoad();
  const tried = new Set<string>();
  /** The first attempt's pool, as RouterCore makes it (nothing tried yet; nothing forwarded here). */
  const pool = () => placementPool(index.workers(), tried, breaker, forwarded);
  const hr = process.hrtime.bigint;
  /** When each stage of the decision being timed ended. */
  const end: Record<DecisionStage, bigint> = { keys: 0n, lookup: 0n, policy: 0n, speculate: 0n };
  const mark = (stage: DecisionStage) => {
    end[stage] = hr();
  };
  const place = (tokens: Int32Array, onStage?: (done: DecisionStage) => void) => {
    const live = pool();
    return decide(options, { promptTokens: tokens, tenant: space.salt }, live, onStage);
  };
  return (tokens: Int32Array, clocking: Clocking, t: Timings, i: number, outcome: Outcome): void => {
    let d: ReturnType<typeof place>;
    if (clocking === 'stages') {
      const t0 = hr();
      const live = pool();
      const tLive = hr();
      d = decide(options, { promptTokens: tokens, tenant: space.salt }, live, mark);
      t.keys[i] = Number(end.keys - tLive) / 1e3;
      t.lookup[i] = Number(end.lookup - end.keys) / 1e3;
      // Listing the live workers is the policy's input, timed with it.
      t.policy[i] = Number(tLive - t0 + end.policy - end.lookup) / 1e3;
      t.speculate[i] = Number(end.speculate - end.policy) / 1e3;
    } else if (clocking === 'whole') {
      const t0 = performance.now();
      d = place(tokens);
      t.total[i] = (performance.now() - t0) * 1e3;
    } else d = place(tokens);
    outcome.reasons.set(d.reason, (outcome.reasons.get(d.reason) ?? 0) + 1);
    outcome.cachedTokens += d.predictedCachedTokens;
    outcome.chosen.add(d.workerId);
  };
}

function quantile(xs: Float64Array, q: number): number {
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
}
const mean = (xs: Float64Array) => xs.reduce((a, b) => a + b, 0) / xs.length;
const stat = (xs: Float64Array) => ({ mean: mean(xs), p50: quantile(xs, 0.5), p99: quantile(xs, 0.99) });

// ---- tokenization --------------------------------------------------------------

interface TokenizeResult {
  tokenizer: string;
  targetTokens: number;
  tokens: number;
  chars: number;
  medianUs: number;
}

/** A text of about `tokens` tokens for this tokenizer (one correction step), encoded `repeat` times. */
function timeTokenizer(name: string, tok: Tokenizer, tokens: number): TokenizeResult {
  const sample = wordText(cfg.seed + 99, 400);
  const perWord = tok.encode(sample).length / 400;
  let words = Math.max(1, Math.round(tokens / perWord));
  let text = wordText(cfg.seed + tokens, words);
  const first = tok.encode(text, { addSpecialTokens: true }).length;
  words = Math.max(1, Math.round((words * tokens) / first));
  text = wordText(cfg.seed + tokens, words);
  const times: number[] = [];
  let n = 0;
  for (let i = 0; i < cfg.tokenizeRepeat; i++) {
    const t0 = process.hrtime.bigint();
    n = tok.encode(text, { addSpecialTokens: true }).length;
    times.push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
  times.sort((a, b) => a - b);
  const medianUs = times[Math.floor(times.length / 2)] as number;
  return { tokenizer: name, targetTokens: tokens, tokens: n, chars: text.length, medianUs };
}

async function tokenizers(): Promise<{ name: string; tok: Tokenizer }[]> {
  const out: { name: string; tok: Tokenizer }[] = [];
  if (cfg.tokenizers === 'both' || cfg.tokenizers === 'llama2c')
    out.push({ name: 'llama2c', tok: await loadLlama2cTokenizer(cfg.llama2cTokenizer) });
  if (cfg.tokenizers === 'both' || cfg.tokenizers === 'hf') {
    const dir = await mkdtemp(join(tmpdir(), 'chunkmesh-bench-router-'));
    try {
      await writeTinyModel(dir, {
        dim: 64,
        hiddenDim: 128,
        layers: 1,
        heads: 4,
        vocabSize: VOCAB,
        maxSeqLen: 32_768,
      });
      out.push({ name: 'hf', tok: (await loadHfTokenizer(dir, 'tiny-bench')).tokenizer });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return out;
}

// ---- profiling -------------------------------------------------------------------

type Profile = Profiler.Profile;

/** One profile of the timed batches only: their samples, on the first batch's call tree extended by the others'. */
function mergeProfiles(profiles: Profile[]): Profile {
  const nodes: Profile['nodes'] = [];
  const key = new Map<string, number>();
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  for (const p of profiles) {
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const mapped = new Map<number, number>();
    const mapNode = (id: number): number => {
      const known = mapped.get(id);
      if (known !== undefined) return known;
      const n = byId.get(id) as Profile['nodes'][number];
      const up = parent.get(id);
      const parentNew = up === undefined ? 0 : mapNode(up);
      const f = n.callFrame;
      const k = `${parentNew}|${f.functionName}|${f.url}|${f.lineNumber}|${f.columnNumber}`;
      let newId = key.get(k);
      if (newId === undefined) {
        newId = nodes.length + 1;
        key.set(k, newId);
        nodes.push({ id: newId, callFrame: f, children: [] });
        if (parentNew) nodes[parentNew - 1]?.children?.push(newId);
      }
      const merged = nodes[newId - 1] as Profile['nodes'][number];
      for (const t of n.positionTicks ?? []) {
        merged.positionTicks ??= [];
        const line = merged.positionTicks.find((x) => x.line === t.line);
        if (line) line.ticks += t.ticks;
        else merged.positionTicks.push({ ...t });
      }
      mapped.set(id, newId);
      return newId;
    };
    (p.samples ?? []).forEach((s, i) => {
      samples.push(mapNode(s));
      timeDeltas.push(i === 0 ? 0 : (p.timeDeltas?.[i] ?? 0));
    });
  }
  let t = 0;
  for (const d of timeDeltas) t += d;
  return { nodes, startTime: 0, endTime: t, samples, timeDeltas };
}

// ---- the cluster: redis-server, 64 reporters, the index ----------------------------

interface Cluster {
  index: ClusterIndex;
  populateMs: number;
  stop(): Promise<void>;
}

/** Until the index holds every reporter's keys and every worker is live and in sync. */
async function waitForIndex(index: ClusterIndex, trees: WorkerTree[]): Promise<void> {
  const expected = trees.reduce((s, t) => s + t.keys.length, 0);
  const t0 = Date.now();
  const progress = new Progress(`index (${cfg.populate})`);
  for (;;) {
    const entries = index.stats().entries;
    const live = index.workers();
    progress.update(Math.min(entries, expected), expected);
    if (entries === expected && live.length === trees.length && live.every((w) => w.synced)) break;
    if (Date.now() - t0 > 180_000)
      throw new Error(
        `index did not fill: ${entries}/${expected} entries, ${live.length}/${trees.length} workers`,
      );
    await sleep(50);
  }
  for (const t of trees) {
    const n = index.entriesOf(t.id).size;
    if (n !== t.keys.length)
      throw new Error(`index holds ${n} entries of ${t.id}, its reporter ${t.keys.length}`);
  }
}

/**
 * A private redis-server, one KvReporter per worker tree (each publishes its tree as one
 * 'stored' event, so it starts with a resync: cleared + stored entries on the stream and a
 * snapshot), and a ClusterIndex that reads them back. Worker loads are redrawn every second.
 * Everything is stopped (the server too) by stop(), or on failure here.
 */
async function startCluster(trees: WorkerTree[]): Promise<Cluster> {
  const server = await RedisServer.start();
  const connections: Redis[] = [];
  const reporters: KvReporter[] = [];
  let index: ClusterIndex | undefined;
  let loadTimer: NodeJS.Timeout | undefined;
  const stop = async () => {
    clearInterval(loadTimer);
    await index?.stop();
    await Promise.all(reporters.map((r) => r.stop()));
    for (const c of connections) c.disconnect();
    await server.stop();
  };
  try {
    const connect = async () => {
      const redis = connectRedis({ url: server.url, maxBackoffMs: 100 });
      connections.push(redis);
      await waitForRedis(redis, 5000);
      return redis;
    };
    const cluster = 'bench';
    const reporterRedis = await connect();
    for (const [w, tree] of trees.entries()) {
      const r = new KvReporter({
        redis: reporterRedis,
        cluster,
        workerId: tree.id,
        endpoint: `127.0.0.1:${50_000 + w}`,
        ...constants,
        kvDtype: 'f32',
        capacityChunks: 20_000,
        heartbeatIntervalMs: 1_000,
        // A registry entry outlives a long synchronous stretch of the benchmark.
        heartbeatTtlMs: 30_000,
        log: quiet,
      });
      r.setLoad(loadOf(w));
      r.publish([{ op: 'stored', tier: 'device', keys: tree.keys }]);
      reporters.push(r);
    }
    index = new ClusterIndex({
      redis: await connect(),
      cluster,
      constants,
      log: quiet,
    });
    const t0 = Date.now();
    // stream: the index is tailing before the reporters write; snapshot: it bootstraps after.
    if (cfg.populate === 'stream') await index.start();
    await Promise.all(reporters.map((r) => r.start()));
    if (cfg.populate === 'snapshot') await index.start();
    await waitForIndex(index, trees);
    const populateMs = Date.now() - t0;
    loadTimer = setInterval(() => {
      for (const [w, r] of reporters.entries()) r.setLoad(loadOf(w));
    }, 1_000);
    return { index, populateMs, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

// ---- measuring -----------------------------------------------------------------------

interface Row {
  promptTokens: number;
  decisions: number;
  /**
   * Decisions over the wall time of the batches timed whole (prompt making, event-loop turns and the
   * stage-timed batches excluded).
   */
  decisionsPerSecond: number;
  /** Those decisions over the process's CPU time in their batches (every thread's: GC helpers included). */
  decisionsPerCpuSecond: number;
  /**
   * The fastest whole-timed batch's decisions/s: on a shared machine, the batches the scheduler left alone
   * show the path's own speed, which the whole loop's wall time hides under other processes' load.
   */
  bestBatchDecisionsPerSecond: number;
  totalUs: ReturnType<typeof stat>;
  chunkKeysUs: ReturnType<typeof stat>;
  lookupUs: ReturnType<typeof stat>;
  policyUs: ReturnType<typeof stat>;
  speculateUs: ReturnType<typeof stat>;
  mix: Record<PromptKind, number>;
  reasons: Record<string, number>;
  meanPredictedCachedTokens: number;
  workersChosen: number;
  speculativeKeys: number;
  tokenize: TokenizeResult[];
}

async function measure(
  index: ClusterIndex,
  decide: ReturnType<typeof makeDecider>,
  length: number,
  chains: Chain[],
  profiler: Session | undefined,
  profiles: Profile[],
): Promise<Row> {
  let q = 0;
  const batchOf = (n: number) => Array.from({ length: n }, () => makePrompt(length, chains, q++));
  const warm: Outcome = { reasons: new Map(), cachedTokens: 0, chosen: new Set() };
  const unused = timings(0);
  for (let done = 0; done < cfg.warmup; ) {
    for (const p of batchOf(Math.min(cfg.batch, cfg.warmup - done)))
      decide(p.tokens, 'none', unused, done++, warm);
    await yieldToLoop();
  }
  const outcome: Outcome = { reasons: new Map(), cachedTokens: 0, chosen: new Set() };
  const mix: Record<PromptKind, number> = { returning: 0, hot: 0, cold: 0 };
  // Batches alternate: timed whole (decisions/s, percentiles), then stage by stage (the stage means).
  const whole = timings(cfg.decisions);
  const staged = timings(cfg.decisions);
  let wholeN = 0;
  let stagedN = 0;
  const progress = new Progress(`${length}-token prompts`);
  let wallNs = 0n;
  let bestBatch = 0;
  let cpuUs = 0;
  for (let done = 0, b = 0; done < cfg.decisions; b++) {
    // Prompts are made before the clock starts: the router gets its tokens from the tokenizer.
    const batch = batchOf(Math.min(cfg.batch, cfg.decisions - done));
    const clocking: Clocking = b % 2 === 0 ? 'whole' : 'stages';
    if (profiler) await profiler.post('Profiler.start');
    const c0 = process.cpuUsage();
    const b0 = process.hrtime.bigint();
    if (clocking === 'whole')
      for (let i = 0; i < batch.length; i++)
        decide((batch[i] as Prompt).tokens, clocking, whole, wholeN++, outcome);
    else
      for (let i = 0; i < batch.length; i++)
        decide((batch[i] as Prompt).tokens, clocking, staged, stagedN++, outcome);
    const batchNs = process.hrtime.bigint() - b0;
    if (clocking === 'whole') {
      wallNs += batchNs;
      bestBatch = Math.max(bestBatch, batch.length / (Number(batchNs) / 1e9));
      const cpu = process.cpuUsage(c0);
      cpuUs += cpu.user + cpu.system;
    }
    if (profiler) profiles.push((await profiler.post('Profiler.stop')).profile);
    for (const p of batch) mix[p.kind]++;
    done += batch.length;
    progress.update(done, cfg.decisions);
    // Heartbeats, registry polls (which sweep the speculation) and the stream tail run here.
    await yieldToLoop();
  }
  const part = (xs: Float64Array, n: number) => stat(xs.subarray(0, Math.max(1, n)));
  return {
    promptTokens: length,
    decisions: cfg.decisions,
    decisionsPerSecond: wholeN / (Number(wallNs) / 1e9),
    decisionsPerCpuSecond: wholeN / (cpuUs / 1e6),
    bestBatchDecisionsPerSecond: bestBatch,
    totalUs: part(whole.total, wholeN),
    chunkKeysUs: part(staged.keys, stagedN),
    lookupUs: part(staged.lookup, stagedN),
    policyUs: part(staged.policy, stagedN),
    speculateUs: part(staged.speculate, stagedN),
    mix,
    reasons: Object.fromEntries(outcome.reasons),
    meanPredictedCachedTokens: outcome.cachedTokens / cfg.decisions,
    workersChosen: outcome.chosen.size,
    speculativeKeys: index.stats().speculativeKeys,
    tokenize: [],
  };
}

// ---- output ----------------------------------------------------------------------------

function printResults(rows: Row[], header: string): void {
  const tokNames = rows[0]?.tokenize.map((r) => r.tokenizer) ?? [];
  const f = (x: number) => x.toFixed(1);
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  console.log(`\n${header}`);
  console.log(
    'Per decision, as RouterCore places a request (decide()): chunk keys (native hash) + longestPrefix + ' +
      'workers()/PrefixAwarePolicy.choose + speculate. Batches alternate: decisions/s and the ' +
      'percentiles are over the batches timed whole, the stage columns (means) over the others, timed ' +
      'stage by stage (whose clock reads, about 1 µs per decision, are in no other column); tokenize is ' +
      'the median per prompt, not part of the decision columns.\n',
  );
  printTable(
    [
      'prompt tokens',
      'decisions/s',
      'target',
      'p50 µs',
      'p99 µs',
      'target',
      'chunk-key µs',
      'lookup µs',
      'policy µs',
      'speculate µs',
      ...tokNames.map((n) => `tokenize µs (${n})`),
    ],
    rows.map((r) => [
      r.promptTokens,
      Math.round(r.decisionsPerSecond),
      r.promptTokens === 2048
        ? `>= ${TARGET_DECISIONS_PER_S} ${verdict(r.decisionsPerSecond >= TARGET_DECISIONS_PER_S)}`
        : '-',
      f(r.totalUs.p50),
      f(r.totalUs.p99),
      `< ${TARGET_P99_US} ${verdict(r.totalUs.p99 < TARGET_P99_US)}`,
      f(r.chunkKeysUs.mean),
      f(r.lookupUs.mean),
      f(r.policyUs.mean),
      f(r.speculateUs.mean),
      ...r.tokenize.map((x) => `${Math.round(x.medianUs)} (${x.tokens} tok)`),
    ]),
  );
  console.log('\nWhat the decisions did');
  printTable(
    [
      'prompt tokens',
      'mix r/h/c',
      'reasons',
      'mean predicted cached',
      'workers chosen',
      'speculative keys',
      'decisions/CPU-s',
      'best batch decisions/s',
    ],
    rows.map((r) => [
      r.promptTokens,
      `${r.mix.returning}/${r.mix.hot}/${r.mix.cold}`,
      Object.entries(r.reasons)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
      Math.round(r.meanPredictedCachedTokens),
      r.workersChosen,
      r.speculativeKeys,
      Math.round(r.decisionsPerCpuSecond),
      Math.round(r.bestBatchDecisionsPerSecond),
    ]),
  );
}

// ---- run ----------------------------------------------------------------------------------

async function main(): Promise<void> {
  const load = () =>
    loadavg()
      .map((x) => x.toFixed(2))
      .join(' ');
  log(
    `chunkmesh router benchmark: ${cfg.workers} workers, ${cfg.entries} entries, c = ${cfg.chunkTokens}; ` +
      `load average ${load()} on ${cpus().length} cores`,
  );
  const t0 = Date.now();
  const { trees, chains } = buildTrees();
  const entries = trees.reduce((s, t) => s + t.keys.length, 0);
  log(`trees: ${chains.length} conversations, ${entries} entries, built in ${Date.now() - t0} ms`);

  const cluster = await startCluster(trees);
  const rows: Row[] = [];
  const loadBefore = loadavg()[0] as number;
  let stats: ReturnType<ClusterIndex['stats']>;
  try {
    const { index } = cluster;
    log(`index: ${index.stats().entries} entries through the ${cfg.populate} in ${cluster.populateMs} ms`);
    const decide = makeDecider(index);
    const profiler = cfg.cpuProfile ? new Session() : undefined;
    const profiles: Profile[] = [];
    if (profiler) {
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.setSamplingInterval', { interval: 100 });
    }
    for (const length of promptLengths)
      rows.push(await measure(index, decide, length, chains, profiler, profiles));
    if (profiler && cfg.cpuProfile) {
      writeFileSync(cfg.cpuProfile, JSON.stringify(mergeProfiles(profiles)));
      profiler.disconnect();
      log(`wrote ${cfg.cpuProfile}`);
    }
    stats = index.stats();
  } finally {
    await cluster.stop();
  }
  const loadAfter = loadavg()[0] as number;

  // Tokenization, apart from the decisions (the router tokenizes before it routes).
  for (const { name, tok } of await tokenizers()) {
    for (const row of rows) {
      log(`tokenizing ${row.promptTokens} tokens with ${name} ...`);
      row.tokenize.push(timeTokenizer(name, tok, row.promptTokens));
    }
  }

  printResults(
    rows,
    `Router placement path, one core: ${trees.length} workers, ${stats.entries} indexed (chunk, worker) ` +
      `entries (${chains.length} conversations, ${HOT_TOKENS.length} hot system prompts), c = ${cfg.chunkTokens}, ` +
      `${cfg.decisions} decisions per row, every prompt new (${cfg.returning} returning, ${cfg.hot} hot, ` +
      `${(1 - cfg.returning - cfg.hot).toFixed(2)} cold). 1-minute load average ${loadBefore.toFixed(2)} ` +
      `-> ${loadAfter.toFixed(2)} on ${cpus().length} cores.`,
  );
  if (cfg.json) {
    const result = {
      options: cfg,
      targets: { decisionsPerSecondAt2048: TARGET_DECISIONS_PER_S, p99Us: TARGET_P99_US },
      machine: { cpus: cpus().length, node: process.version, loadAverage: [loadBefore, loadAfter] },
      index: {
        ...stats,
        populate: cfg.populate,
        populateMs: cluster.populateMs,
        conversations: chains.length,
        movedConversations: trees.reduce((s, t) => s + t.movedChains, 0),
        hotPrompts: HOT_TOKENS.map((tokens, j) => ({
          tokens,
          holders: trees.filter((t) => t.hotHeld.includes(j)).length,
        })),
      },
      results: rows,
    };
    writeFileSync(cfg.json, `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote ${cfg.json}`);
  }
}

await main();
