// The .proto as users outside this repository compile it, and the TypeScript
// types generated from it.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO_ROOT } from '@chunkmesh/test-support';

const GENERATED = join(REPO_ROOT, 'services', 'common', 'src', 'generated');
const work = mkdtempSync(join(tmpdir(), 'proto-contract-'));
after(() => rmSync(work, { recursive: true, force: true }));

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

// Debian's python3-grpc-tools (1.14, protoc 3.5): what Python and Go users of older
// distributions compile with; it rejects proto3 `optional`. .ci/run installs it.
const OLD_PROTOC = '/usr/bin/python3';
const hasOldProtoc =
  existsSync(OLD_PROTOC) && spawnSync(OLD_PROTOC, ['-c', 'import grpc_tools.protoc']).status === 0;

describe('the wire contract', () => {
  it('services/common/src/generated is what `npm run proto:gen` makes of the proto', () => {
    const fresh = join(work, 'generated');
    execFileSync(process.execPath, [join(REPO_ROOT, 'scripts', 'proto-gen.mjs'), fresh], { stdio: 'pipe' });
    assert.deepEqual(files(GENERATED), files(fresh));
    for (const f of files(fresh)) {
      assert.equal(
        readFileSync(join(GENERATED, f), 'utf8'),
        readFileSync(join(fresh, f), 'utf8'),
        `${f} is stale: run npm run proto:gen`,
      );
    }
  });

  it('compiles with an old protoc (grpc_tools 1.14, protoc 3.5) to Python stubs', {
    skip: !hasOldProtoc && !process.env.CI && 'python3-grpc-tools is not installed',
  }, () => {
    const out = join(work, 'python');
    execFileSync('mkdir', ['-p', out]);
    const r = spawnSync(
      OLD_PROTOC,
      [
        '-m',
        'grpc_tools.protoc',
        '-Iproto',
        `--python_out=${out}`,
        `--grpc_python_out=${out}`,
        'chunkmesh/v1/generation.proto',
      ],
      { cwd: REPO_ROOT, encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(join(out, 'chunkmesh', 'v1', 'generation_pb2_grpc.py')));
  });
});
