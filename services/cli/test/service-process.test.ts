// ServiceProcess tells every service it starts who its parent is
// (CHUNKMESH_PARENT_PID), so the service stops on its own when that process
// dies without stopping it (services/common parent-watch): no test run or
// `chunkmesh up` killed outright leaves a worker, router or job runner behind.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ServiceProcess } from '../src/cluster/service-process.ts';

let dir: string;
let entry: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'service-process-test-'));
  entry = join(dir, 'echo-parent.mjs');
  // A service that says who it was told its parent is, then serves until stopped.
  await writeFile(
    entry,
    `process.on('SIGTERM', () => process.exit(0));
setInterval(() => {}, 1000);
console.log(JSON.stringify({ event: 'ready', parent: process.env.CHUNKMESH_PARENT_PID ?? null }));
`,
  );
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ServiceProcess', () => {
  it('passes this process as the parent to watch, unless the caller says otherwise', async () => {
    const started = await ServiceProcess.start({ entry });
    assert.equal(started.ready.parent, String(process.pid));
    assert.equal((await started.proc.stop(5_000)).code, 0);
    const unwatched = await ServiceProcess.start({ entry, env: { CHUNKMESH_PARENT_PID: undefined } });
    assert.equal(unwatched.ready.parent, null);
    await unwatched.proc.stop(5_000);
  });
});
