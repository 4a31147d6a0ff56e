#!/usr/bin/env node
// Runs the TypeScript sources directly (tsx), so there is no build step between a checkout and the command.
import { register } from 'tsx/esm/api';

register();
await import('../src/chunkmesh.ts');
