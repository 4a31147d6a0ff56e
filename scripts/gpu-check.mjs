#!/usr/bin/env node
// npm run gpu:check: the checks that need a GPU, as one prepared command for a
// GPU node (CI has none; README, "GPU"). Under eight minutes on an A100/H100:
//   1. the addon's CUDA path is built and a GPU is usable;
//   2. the CUDA kernels against the CPU device on real shapes, and stories260K
//      greedy on both (bench/gpu/kernels-vs-cpu.ts);
//   3. compute-sanitizer memcheck and racecheck over the small shapes, when installed;
//   4. bench:attention --device cuda (TPP vs the per-sequence kernel, HBM roofline);
//   5. bench:worker --device cuda on a Llama-shaped random model of about 1B parameters.
// Prints one table and writes gpu-check.json (and each step's JSON) to --out.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log(
    'usage: npm run gpu:check [-- --out DIR]\n  runs the GPU checks (see scripts/gpu-check.mjs) and writes DIR/gpu-check.json (default .bench/gpu-check)',
  );
  process.exit(0);
}
const outArg = args.indexOf('--out');
const out = resolve(outArg >= 0 ? args[outArg + 1] : '.bench/gpu-check');
mkdirSync(out, { recursive: true });
const SOURCE = ['--conditions=chunkmesh-source', '--import', 'tsx'];
const log = (m) => process.stderr.write(`gpu:check: ${m}\n`);

function run(label, cmd, argv, limitS) {
  log(`${label} ...`);
  const t0 = Date.now();
  const r = spawnSync(cmd, argv, { stdio: ['ignore', 'inherit', 'inherit'], timeout: limitS * 1000 });
  const seconds = (Date.now() - t0) / 1000;
  const status = r.error
    ? `error: ${r.error.message}`
    : r.status === 0
      ? 'ok'
      : `exit ${r.status ?? r.signal}`;
  log(`${label}: ${status} in ${seconds.toFixed(0)} s`);
  return { label, status, seconds };
}

const readJson = (f) => {
  try {
    return JSON.parse(readFileSync(join(out, f), 'utf8'));
  } catch {
    return undefined;
  }
};

// 1. prerequisites
const probe = spawnSync(
  process.execPath,
  [
    ...SOURCE,
    '-e',
    "import('@chunkmesh/native').then((n) => console.log(JSON.stringify({ build: n.buildInfo(), device: (() => { try { return n.probeDevice('cuda'); } catch (e) { return { error: e.message }; } })() })))",
  ],
  { encoding: 'utf8' },
);
if (probe.status !== 0) {
  log(`cannot load the addon: ${probe.stderr}`);
  process.exit(2);
}
const { build, device } = JSON.parse(probe.stdout);
if (!build.cudaCompiled) {
  log('the addon was built without CUDA: run `npm ci` (or `npm run build`) with nvcc on the PATH');
  process.exit(2);
}
if (device.error) {
  log(`no usable CUDA device: ${device.error}`);
  process.exit(2);
}
log(`device: ${device.name} (${device.detail}); CUDA runtime ${build.cudaRuntimeVersion}`);

const steps = [];
steps.push(
  run(
    'kernels vs CPU',
    process.execPath,
    [...SOURCE, 'bench/gpu/kernels-vs-cpu.ts', '--json', join(out, 'kernels.json')],
    120,
  ),
);
const sanitizer = spawnSync('compute-sanitizer', ['--version']).status === 0;
for (const tool of sanitizer ? ['memcheck', 'racecheck'] : []) {
  steps.push(
    run(
      `compute-sanitizer ${tool}`,
      'compute-sanitizer',
      [
        '--tool',
        tool,
        '--error-exitcode',
        '1',
        process.execPath,
        ...SOURCE,
        'bench/gpu/kernels-vs-cpu.ts',
        '--small',
      ],
      90,
    ),
  );
}
if (!sanitizer) steps.push({ label: 'compute-sanitizer', status: 'not installed', seconds: 0 });
steps.push(
  run(
    'bench:attention --device cuda',
    process.execPath,
    [...SOURCE, 'bench/attention.ts', '--device', 'cuda', '--json', join(out, 'attention.json')],
    120,
  ),
);
steps.push(
  run(
    'bench:worker --device cuda (1B)',
    process.execPath,
    [
      ...SOURCE,
      'bench/worker.ts',
      '--device',
      'cuda',
      '--layers',
      '16',
      '--dim',
      '2048',
      '--heads',
      '32',
      '--kv-heads',
      '8',
      '--head-dim',
      '64',
      '--hidden',
      '5632',
      '--vocab',
      '32000',
      '--json',
      join(out, 'worker.json'),
    ],
    240,
  ),
);

// one table of what matters
const attention = readJson('attention.json');
const worker = readJson('worker.json');
const kernels = readJson('kernels.json');
const rows = steps.map((s) => [s.label, s.status, s.seconds.toFixed(0)]);
const facts = [];
for (const r of attention?.results ?? []) {
  facts.push([
    `attention ${r.case} ${r.sharedTokens} ${r.dtype}`,
    `TPP ${r.tppMs.toFixed(3)} ms, ${r.speedup.toFixed(2)}x baseline, ${r.tppOverRoofline.toFixed(2)}x roofline`,
  ]);
}
for (const s of worker?.summary ?? [])
  facts.push([`worker ${s.shared} shared`, `decode ON/OFF ${s.decodeRatio?.toFixed?.(2)}x`]);
for (const k of kernels?.results ?? [])
  facts.push([
    `kernels ${k.check}`,
    k.relError !== undefined ? `max rel error ${k.relError.toExponential(2)}` : `equal ${k.equal}`,
  ]);
const width = Math.max(...[...rows, ...facts].map((r) => r[0].length));
console.log('\nGPU check');
for (const [a, b, c] of rows) console.log(`  ${a.padEnd(width)}  ${b.padEnd(14)} ${c} s`);
for (const [a, b] of facts) console.log(`  ${a.padEnd(width)}  ${b}`);
writeFileSync(
  join(out, 'gpu-check.json'),
  JSON.stringify({ device, build, steps, attention, worker, kernels }, null, 2),
);
log(`wrote ${join(out, 'gpu-check.json')}`);
process.exit(steps.every((s) => s.status === 'ok' || s.status === 'not installed') ? 0 : 1);
