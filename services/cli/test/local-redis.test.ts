// A private redis-server does not outlive the process that started it, even
// when that process is killed outright (SIGKILL), which no exit handler sees:
// on Linux it is started with a parent-death signal (local-redis.ts).
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ServiceProcess } from '../src/cluster/service-process.ts';

let dir: string;
let entry: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'local-redis-test-'));
  entry = join(dir, 'starts-redis.ts');
  const module = fileURLToPath(new URL('../src/cluster/local-redis.ts', import.meta.url));
  // A process that starts a private redis-server, says where, and waits.
  await writeFile(
    entry,
    `import { RedisServer } from ${JSON.stringify(module)};
// (no top-level await: a .ts file outside the workspace is compiled as CommonJS)
void RedisServer.start().then((redis) => {
  console.log(JSON.stringify({ event: 'ready', url: redis.url }));
  setInterval(() => {}, 1000);
});
`,
  );
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Sends one command; the reply, or null when nothing listens. */
function command(port: number, line: string): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let reply = '';
    socket.setTimeout(1000, () => socket.destroy());
    socket.on('connect', () => socket.write(`${line}\r\n`));
    socket.on('data', (d) => {
      reply += d.toString();
      if (reply.includes('\r\n')) socket.end();
    });
    socket.on('error', () => resolve(null));
    socket.on('close', () => resolve(reply === '' ? null : reply));
  });
}

describe('RedisServer', {
  skip: process.platform !== 'linux' && 'a parent-death signal is Linux only',
}, () => {
  it('a private server goes when the process that started it is SIGKILLed', async () => {
    const { proc, ready } = await ServiceProcess.start({ entry, env: { REDIS_URL: undefined } });
    const port = Number(new URL(String(ready.url)).port);
    assert.match((await command(port, 'PING')) ?? '', /^\+PONG/);
    await proc.kill();
    let gone = false;
    for (let i = 0; i < 50 && !gone; i++) {
      gone = (await command(port, 'PING')) === null;
      if (!gone) await sleep(100);
    }
    if (!gone) await command(port, 'SHUTDOWN NOSAVE');
    assert.ok(gone, 'redis-server still answers after its parent was killed');
  });
});
