#!/usr/bin/env node
// Generates the TypeScript types of proto/chunkmesh/v1/generation.proto (and
// worker_control.proto, the workers' control service) into
// services/common/src/generated (or the folder given), with proto-loader's own
// generator: exactly the object shapes @grpc/proto-loader hands the services at
// run time with the options services/common/src/proto.ts loads it with.
// `npm run proto:gen` after changing the proto; a test fails while they differ.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = process.argv[2] ?? join(root, 'services', 'common', 'src', 'generated');
const require = createRequire(import.meta.url);
const generator = join(
  dirname(require.resolve('@grpc/proto-loader/package.json')),
  'build',
  'bin',
  'proto-loader-gen-types.js',
);

rmSync(out, { recursive: true, force: true });
const r = spawnSync(
  process.execPath,
  [
    generator,
    '--longs=String',
    '--enums=String',
    '--defaults',
    '--oneofs',
    '--grpcLib=@grpc/grpc-js',
    '--includeComments',
    '--importFileExtension=.ts',
    '-I',
    'proto',
    '-O',
    out,
    'chunkmesh/v1/generation.proto',
    'chunkmesh/v1/worker_control.proto',
    'chunkmesh/v1/worker_resident.proto',
    'chunkmesh/v1/worker_tiers.proto',
  ],
  { cwd: root, stdio: 'inherit' },
);
process.exit(r.status ?? 1);
