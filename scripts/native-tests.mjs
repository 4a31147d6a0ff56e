#!/usr/bin/env node
// Builds the native test binary (native/test/cpp) with plain cmake, without
// Node or cmake-js, in three configurations and runs each:
//   plain  optimised, as the addon is built; also the CUDA kernels on the CPU emulator
//   tsan   ThreadSanitizer (the owner thread, thread pool and published snapshots)
//   asan   AddressSanitizer + UndefinedBehaviorSanitizer, portable (no -march=native),
//          so the scalar fp16/bf16 paths are the ones checked
// Fails on any test failure or sanitizer report. Build trees: native/build-tests/<name>.
import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const SANITIZE_COMMON = '-g -fno-omit-frame-pointer';
// The emulated CUDA kernels run on fibers (stack switching the sanitizers'
// runtimes do not follow): they are part of the plain build only.
const NO_EMULATOR = '-DCHUNKMESH_EMU_TESTS=OFF';
const BUILDS = {
  plain: { cmake: ['-DCMAKE_CXX_FLAGS_RELEASE=-O2'], env: {} },
  tsan: {
    cmake: [
      `-DCMAKE_CXX_FLAGS=-fsanitize=thread ${SANITIZE_COMMON}`,
      '-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread',
      NO_EMULATOR,
    ],
    env: { TSAN_OPTIONS: 'halt_on_error=1:second_deadlock_stack=1' },
  },
  asan: {
    cmake: [
      `-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined -fno-sanitize-recover=all ${SANITIZE_COMMON}`,
      '-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined',
      '-DCHUNKMESH_NATIVE_ARCH=OFF',
      NO_EMULATOR,
    ],
    env: {
      ASAN_OPTIONS: 'halt_on_error=1:detect_leaks=1:strict_string_checks=1',
      UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1',
    },
  },
};
// A hung run (a deadlock) fails instead of holding CI up; the default tests take seconds.
const RUN_TIMEOUT_MS = 15 * 60 * 1000;
// Printed by the sanitizers even where a report does not end the process.
const REPORT = /WARNING: ThreadSanitizer|ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:/;

const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log(`usage: npm run test:native [-- [${Object.keys(BUILDS).join('|')} ...] [-- TEST_SUBSTRING ...]]
  builds and runs the native tests in each named configuration (all by default);
  arguments after a second -- go to the test binary (substrings of test names).
  env: CHUNKMESH_TEST_SEED=N reruns one seed, CHUNKMESH_TEST_SCALE=N runs N times more cases`);
  process.exit(0);
}
const split = args.indexOf('--');
const names = split < 0 ? args : args.slice(0, split);
const filters = split < 0 ? [] : args.slice(split + 1);
const chosen = names.length > 0 ? names : Object.keys(BUILDS);
for (const n of chosen) {
  if (!BUILDS[n]) {
    console.error(`unknown build '${n}' (${Object.keys(BUILDS).join(', ')})`);
    process.exit(2);
  }
}

const source = relative(process.cwd(), join(dirname(fileURLToPath(import.meta.url)), '..', 'native')) || '.';
const jobs = String(availableParallelism());
const ninja = spawnSync('ninja', ['--version'], { stdio: 'ignore' }).status === 0;

// Runs a command; its output is kept, and also streamed when `echo` is set.
function step(command, argv, { env = {}, echo = false, timeout = 0 } = {}) {
  const start = Date.now();
  return new Promise((resolve) => {
    const child = spawn(command, argv, { env: { ...process.env, ...env }, timeout });
    let output = '';
    const take = (chunk) => {
      output += chunk;
      if (echo) process.stdout.write(chunk);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', (err) => take(`${err.message}\n`));
    child.on('close', (code, signal) => {
      if (signal)
        take(`${command} ended by ${signal}${signal === 'SIGTERM' && timeout ? ' (timed out)' : ''}\n`);
      resolve({ ok: code === 0, output, seconds: (Date.now() - start) / 1000 });
    });
  });
}

const results = [];
for (const name of chosen) {
  const dir = join(source, 'build-tests', name);
  console.log(`== ${name}: configure and build (${dir})`);
  const configure = await step('cmake', [
    '-S',
    source,
    '-B',
    dir,
    ...(ninja ? ['-G', 'Ninja'] : []),
    '-DCMAKE_BUILD_TYPE=Release',
    '-DCHUNKMESH_NATIVE_TESTS=ON',
    '-DCHUNKMESH_CUDA=OFF',
    ...BUILDS[name].cmake,
  ]);
  const build = configure.ok
    ? await step('cmake', ['--build', dir, '--target', 'chunkmesh_native_tests', '-j', jobs])
    : configure;
  if (!build.ok) {
    console.error(build.output);
    console.error(`== ${name}: build failed`);
    process.exit(1);
  }
  console.log(`== ${name}: built in ${build.seconds.toFixed(0)} s; running`);
  const run = await step(join(dir, 'chunkmesh_native_tests'), filters, {
    env: BUILDS[name].env,
    echo: true,
    timeout: RUN_TIMEOUT_MS,
  });
  const report = REPORT.test(run.output);
  if (run.ok && report) console.log(`== ${name}: sanitizer report above`);
  const tally = run.output.match(/^\d+ passed, \d+ failed$/m)?.[0] ?? 'no tally (crashed?)';
  results.push({
    name,
    ok: run.ok && !report,
    line: `${tally} in ${run.seconds.toFixed(1)} s (built in ${build.seconds.toFixed(0)} s)`,
  });
}
console.log('== native tests');
for (const r of results) console.log(`   ${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.line}`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
