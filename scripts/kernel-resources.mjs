#!/usr/bin/env node
// The CUDA kernels' registers, shared memory and barriers per architecture, as
// ptxas reports them, against the table checked in at
// native/src/kernels/resources.json: a kernel whose resources drift without the
// table being updated fails CI (occupancy is decided by these numbers, and a
// change to them should be a decision). Spills and local memory already fail
// the build (ptxas gates in native/CMakeLists.txt); they are gated here too.
//   npm run kernels:check            compare (exit 1 on drift)
//   npm run kernels:check -- --update  rewrite the table
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const native = join(dirname(fileURLToPath(import.meta.url)), '..', 'native');
const TABLE = join(native, 'src', 'kernels', 'resources.json');
const SOURCE = join(native, 'src', 'device', 'cuda', 'cuda_device.cu');
const ARCHS = ['sm_80', 'sm_90a'];

if (process.argv.includes('--help')) {
  console.log(
    'usage: npm run kernels:check [-- --update]\n  compares ptxas resource usage of every CUDA kernel with native/src/kernels/resources.json',
  );
  process.exit(0);
}
if (spawnSync('nvcc', ['--version']).status !== 0) {
  console.log('kernels:check: nvcc not found; nothing to check');
  process.exit(0);
}

const demangle = (names) => {
  const r = spawnSync('c++filt', { input: names.join('\n'), encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim().split('\n') : names;
};
// "chunkmesh::kern::tile_attention<__half, 128, 32>(...)" -> "tile_attention<__half, 128, 32>"
const shortName = (n) => n.replace(/^chunkmesh::kern::/, '').replace(/\(.*$/, '');

const out = mkdtempSync(join(tmpdir(), 'chunkmesh-ptxas-'));
const measured = {};
try {
  for (const arch of ARCHS) {
    const r = spawnSync(
      'nvcc',
      [
        '-std=c++17',
        '-O3',
        `-I${join(native, 'src')}`,
        `-arch=${arch}`,
        '-Xptxas',
        '-v',
        '-c',
        SOURCE,
        '-o',
        join(out, `${arch}.o`),
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) {
      console.error(r.stderr);
      process.exit(1);
    }
    const lines = r.stderr.split('\n');
    const entries = [];
    for (let i = 0; i < lines.length; i++) {
      const fn = /Compiling entry function '([^']+)'/.exec(lines[i]);
      if (!fn) continue;
      const used = lines.slice(i + 1, i + 4).join(' ');
      const regs = /Used (\d+) registers/.exec(used);
      const smem = /(\d+) bytes smem/.exec(used);
      const bars = /used (\d+) barriers/.exec(used);
      const spill = /(\d+) bytes spill stores, (\d+) bytes spill loads/.exec(used);
      const stack = /(\d+) bytes stack frame/.exec(used);
      entries.push({
        name: fn[1],
        registers: Number(regs?.[1] ?? -1),
        staticSmem: Number(smem?.[1] ?? 0),
        barriers: Number(bars?.[1] ?? 0),
        spill: Number(spill?.[1] ?? 0) + Number(spill?.[2] ?? 0),
        stack: Number(stack?.[1] ?? 0),
      });
    }
    const names = demangle(entries.map((e) => e.name));
    measured[arch] = Object.fromEntries(
      entries
        .map((e, k) => [
          shortName(names[k]),
          {
            registers: e.registers,
            staticSmem: e.staticSmem,
            barriers: e.barriers,
            spill: e.spill,
            stack: e.stack,
          },
        ])
        .sort(([a], [b]) => a.localeCompare(b)),
    );
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}

const bad = Object.entries(measured).flatMap(([arch, ks]) =>
  Object.entries(ks)
    .filter(([, k]) => k.spill > 0 || k.stack > 0)
    .map(([n]) => `${arch} ${n}`),
);
if (bad.length > 0) {
  console.error(`kernels:check: spills or local memory in: ${bad.join(', ')}`);
  process.exit(1);
}
const text = `${JSON.stringify(measured, null, 2)}\n`;
if (process.argv.includes('--update')) {
  writeFileSync(TABLE, text);
  console.log(`kernels:check: wrote ${TABLE}`);
  process.exit(0);
}
let recorded = '';
try {
  recorded = readFileSync(TABLE, 'utf8');
} catch {}
if (recorded === text) {
  console.log(
    `kernels:check: ${Object.keys(measured[ARCHS[0]]).length} kernels on ${ARCHS.join(', ')} match the table`,
  );
  process.exit(0);
}
const old = recorded ? JSON.parse(recorded) : {};
for (const arch of ARCHS) {
  for (const name of new Set([...Object.keys(old[arch] ?? {}), ...Object.keys(measured[arch])])) {
    const a = JSON.stringify(old[arch]?.[name]);
    const b = JSON.stringify(measured[arch][name]);
    if (a !== b) console.error(`  ${arch} ${name}: table ${a ?? 'absent'}, ptxas ${b ?? 'absent'}`);
  }
}
console.error(
  'kernels:check: kernel resources drifted from native/src/kernels/resources.json; if intended, run npm run kernels:check -- --update',
);
process.exit(1);
