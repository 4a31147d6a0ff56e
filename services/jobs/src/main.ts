// The job runner process (runner/run-process.ts); `chunkmesh jobs run` runs the same.
import { runJobRunner } from './runner/run-process.ts';

process.exitCode = await runJobRunner(process.argv.slice(2));
