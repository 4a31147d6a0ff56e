// The command and the services it launches run from the build (dist/); without
// one, each says how to make it instead of failing on a missing module.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ServiceProcess } from '../src/cluster/service-process.ts';
import { CHUNKMESH_BIN } from '../src/paths.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'missing-build-test-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('without a build', () => {
  it('chunkmesh exits 1 and says to run npm run build', async () => {
    // The launcher alone, in a copy of the package that was never built.
    await mkdir(join(root, 'bin'));
    const bin = join(root, 'bin', 'chunkmesh.mjs');
    await copyFile(CHUNKMESH_BIN, bin);
    const failed = await promisify(execFile)(process.execPath, [bin, 'up']).then(
      () => assert.fail('chunkmesh ran without a build'),
      (err: { code: number; stderr: string }) => err,
    );
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /chunkmesh is not built .*: run npm run build/);
  });

  it('a service whose entry is missing is refused with the same hint', async () => {
    await assert.rejects(
      ServiceProcess.start({ entry: join(root, 'dist', 'main.js') }),
      /dist\/main\.js does not exist: run npm run build/,
    );
  });
});
