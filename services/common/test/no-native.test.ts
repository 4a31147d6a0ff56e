// Importing @chunkmesh/common loads no native addon: common is the config,
// wire contract and Redis layout every process shares, and loads none of the
// native core (its typed errors come from @chunkmesh/native/errors, which is
// plain TypeScript). Every .node addon loads through process.dlopen, so a
// child process that replaces it with a thrower proves it, from the sources
// (as the tests run) and from the build (as `node` runs in production).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT, SOURCE_NODE_ARGS } from '@chunkmesh/test-support';

const run = promisify(execFile);

/** Imports `specifier` in a fresh node whose process.dlopen throws; resolves with its stdout. */
async function importWithoutDlopen(specifier: string, nodeArgs: readonly string[]): Promise<string> {
  const script = [
    "process.dlopen = (_module, file) => { throw new Error('native code loaded: ' + file); };",
    `const m = await import(${JSON.stringify(specifier)});`,
    'console.log(Object.keys(m).length);',
  ].join('\n');
  const { stdout } = await run(process.execPath, [...nodeArgs, '--input-type=module', '--eval', script], {
    cwd: REPO_ROOT,
  });
  return stdout;
}

const modes = [
  { name: 'sources', nodeArgs: SOURCE_NODE_ARGS },
  { name: 'build', nodeArgs: [] },
];

describe('@chunkmesh/common loads no native code', () => {
  for (const { name, nodeArgs } of modes) {
    it(`imports with process.dlopen disabled (${name})`, async () => {
      assert.ok(Number(await importWithoutDlopen('@chunkmesh/common', nodeArgs)) > 0);
    });

    it(`the check catches a package that does load the addon (${name})`, async () => {
      await assert.rejects(
        importWithoutDlopen('@chunkmesh/native', nodeArgs),
        /native code loaded: .*\.node/,
      );
    });
  }
});
