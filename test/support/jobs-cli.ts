// `chunkmesh jobs ...` run from its sources, for the control-plane suites.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, SOURCE_NODE_ARGS } from '@chunkmesh/cli';

const CLI = join(REPO_ROOT, 'services', 'cli', 'src', 'chunkmesh.ts');

/** Exit code, stdout and stderr of `chunkmesh jobs <args>`. */
export async function jobsCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, [...SOURCE_NODE_ARGS, CLI, 'jobs', ...args]);
    return { code: 0, ...r };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
