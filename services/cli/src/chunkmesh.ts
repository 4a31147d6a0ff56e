#!/usr/bin/env node
// The chunkmesh command: one entry point, one subcommand per job.
import { apiKeyCommand } from './api-key-command.ts';
import { demoCommand } from './demo-command.ts';
import { jobsCommand } from './jobs-command.ts';
import { replayCommand } from './replay-command.ts';
import { upCommand } from './up-command.ts';

const commands: Record<string, { summary: string; run: (argv: string[]) => Promise<number> }> = {
  demo: {
    summary: 'local cluster + mixed workload: prefix-aware vs round-robin, then shut down',
    run: demoCommand,
  },
  up: { summary: 'start a local cluster: Redis, workers and a router, until Ctrl-C', run: upCommand },
  replay: {
    summary: 'capacity planning: replay a Mooncake trace against simulated workers',
    run: replayCommand,
  },
  jobs: {
    summary: 'the control plane: run the job runner, prewarm prefixes, drain workers, migrate KV, job status',
    run: jobsCommand,
  },
  'api-key': {
    summary: 'a new API key for a tenant, and its line for the router’s key file',
    run: apiKeyCommand,
  },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`);
  return `usage: chunkmesh <command> [options]   (chunkmesh <command> --help for its options)\n\ncommands:\n${lines.join('\n')}\n`;
}

const [name, ...rest] = process.argv.slice(2);
if (name === undefined || name === '--help' || name === '-h') {
  process.stdout.write(usage());
  process.exit(name === undefined ? 2 : 0);
}
const command = commands[name];
if (!command) {
  process.stderr.write(`chunkmesh: unknown command '${name}'\n\n${usage()}`);
  process.exit(2);
}
try {
  process.exitCode = await command.run(rest);
} catch (err) {
  process.stderr.write(`chunkmesh ${name}: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
