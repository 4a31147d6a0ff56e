import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, defineOptions, envName, flagName, parseConfig } from '../src/index.ts';

const table = defineOptions({
  redisUrl: { type: 'string', default: 'redis://127.0.0.1:6379', help: 'Redis to report to.' },
  port: { type: 'integer', default: 50051, min: 0, help: 'gRPC port.' },
  temperature: { type: 'number', default: 0.7, help: 'Default sampling temperature.' },
  share: { type: 'number', default: 0.5, min: 0, max: 1, help: 'A fraction.' },
  logLevel: { type: 'string', choices: ['debug', 'info', 'warn'], default: 'info', help: 'Log level.' },
  prewarm: { type: 'boolean', default: true, help: 'Load the model before serving.' },
  modelPath: { type: 'string', help: 'Checkpoint to load.' },
});
const info = { program: 'chunkmesh-test', summary: 'A test program.' };

function parse(argv: string[], env: Record<string, string> = {}) {
  const result = parseConfig(table, info, argv, env);
  assert.ok('config' in result, 'expected a config, got help');
  return result.config;
}

describe('config', () => {
  it('derives flag and environment names from the key', () => {
    assert.equal(flagName('heartbeatTtlMs'), 'heartbeat-ttl-ms');
    assert.equal(envName('heartbeatTtlMs'), 'CHUNKMESH_HEARTBEAT_TTL_MS');
  });

  it('takes defaults, typed', () => {
    const c = parse([]);
    assert.deepEqual(c, {
      redisUrl: 'redis://127.0.0.1:6379',
      port: 50051,
      temperature: 0.7,
      share: 0.5,
      logLevel: 'info',
      prewarm: true,
      modelPath: undefined,
    });
    // Types follow the table: a typo'd choice would not compile.
    const level: 'debug' | 'info' | 'warn' = c.logLevel;
    const path: string | undefined = c.modelPath;
    assert.equal(level, 'info');
    assert.equal(path, undefined);
  });

  it('lets flags beat the environment and the environment beat defaults', () => {
    const env = { CHUNKMESH_PORT: '7000', CHUNKMESH_TEMPERATURE: '0.1', CHUNKMESH_PREWARM: 'false' };
    const c = parse(['--port', '8000', '--log-level=debug'], env);
    assert.equal(c.port, 8000);
    assert.equal(c.temperature, 0.1);
    assert.equal(c.prewarm, false);
    assert.equal(c.logLevel, 'debug');
    assert.equal(parse(['--prewarm'], env).prewarm, true);
    assert.equal(parse(['--no-prewarm']).prewarm, false);
    assert.equal(parse([], { CHUNKMESH_PORT: '' }).port, 50051, 'an empty variable is unset');
  });

  it('rejects bad values, naming the source', () => {
    assert.throws(
      () => parse(['--port', '12.5']),
      (e) => e instanceof ConfigError && /--port: expected an integer/.test(e.message),
    );
    assert.throws(
      () => parse([], { CHUNKMESH_PORT: 'http' }),
      /CHUNKMESH_PORT: expected an integer, got "http"/,
    );
    assert.throws(() => parse(['--port=-1']), /a value >= 0/);
    assert.throws(() => parse(['--temperature', 'hot']), /expected a number/);
    assert.throws(() => parse(['--share', '1.5']), /--share: expected a value <= 1, got "1.5"/);
    assert.throws(() => parse([], { CHUNKMESH_SHARE: '-0.1' }), /a value >= 0/);
    assert.equal(parse(['--share', '1']).share, 1);
    assert.throws(() => parse(['--log-level', 'loud']), /one of debug, info, warn/);
    assert.throws(() => parse([], { CHUNKMESH_PREWARM: 'maybe' }), /expected true or false/);
  });

  it('rejects unknown flags, stray arguments and contradictions', () => {
    assert.throws(
      () => parse(['--prot', '1']),
      (e) => e instanceof ConfigError && /Unknown option '--prot'.*--help/.test(e.message),
    );
    assert.throws(() => parse(['model.bin']), ConfigError);
    assert.throws(() => parse(['--port']), ConfigError);
    assert.throws(() => parse(['--prewarm', '--no-prewarm']), /contradict/);
  });

  it('generates --help from the table', () => {
    for (const flag of ['--help', '-h']) {
      const result = parseConfig(table, info, [flag, '--port', 'not-even-checked'], {});
      assert.ok('help' in result);
      assert.match(result.help, /^Usage: chunkmesh-test \[options\]\n\nA test program\.\n/);
      assert.match(
        result.help,
        /--port <integer>\n +gRPC port\. \(env CHUNKMESH_PORT, default 50051, min 0\)/,
      );
      assert.match(
        result.help,
        /--share <number>\n +A fraction\. \(env CHUNKMESH_SHARE, default 0\.5, min 0, max 1\)/,
      );
      assert.match(result.help, /--log-level <debug\|info\|warn>/);
      assert.match(result.help, /--\[no-\]prewarm\n/);
      assert.match(
        result.help,
        /--model-path <string>\n +Checkpoint to load\. \(env CHUNKMESH_MODEL_PATH\)\n/,
      );
    }
  });
});
