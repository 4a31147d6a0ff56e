#!/usr/bin/env node
// The chunkmesh command, compiled: plain node runs dist/ (`npm ci` and
// `npm run build` write it), no TypeScript at run time.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/chunkmesh.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('chunkmesh is not built (services/cli/dist is missing): run npm run build\n');
  process.exit(1);
}
await import(entry.href);
