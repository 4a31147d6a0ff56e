#!/usr/bin/env node
// Formats or checks every C++/CUDA source under native/src and native/test/cpp
// with the pinned clang-format from npm, so CI and every developer use the same version.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const mode = process.argv[2];
if (mode !== '--check' && mode !== '--fix') {
  console.log(
    'usage: clang-format.mjs --check | --fix\n  --check  exit 1 if any native source is not formatted\n  --fix    rewrite sources in place',
  );
  process.exit(mode === '--help' ? 0 : 2);
}
const require = createRequire(import.meta.url);
const bin = join(
  require.resolve('clang-format/package.json'),
  '..',
  'bin',
  `${process.platform}_${process.arch}`,
  'clang-format',
);

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return /\.(cc|h|cu|cuh)$/.test(e.name) ? [p] : [];
  });
}

const files = ['native/src', 'native/test/cpp'].flatMap(sources);
const args = mode === '--check' ? ['--dry-run', '--Werror', ...files] : ['-i', ...files];
try {
  execFileSync(bin, args, { stdio: 'inherit' });
} catch {
  console.error(`clang-format: ${mode === '--check' ? 'sources need formatting: npm run format' : 'failed'}`);
  process.exit(1);
}
console.log(`clang-format: ${files.length} files ${mode === '--check' ? 'clean' : 'formatted'}`);
