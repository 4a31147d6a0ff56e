// XGrammar (the structured-generation engine vLLM, SGLang and TensorRT-LLM
// use), from its WebAssembly npm build. The package is a UMD bundle that
// declares itself an ES module, so Node cannot load it as either: under ESM
// its CommonJS branch finds no `require`. It is evaluated here as the CommonJS
// module it is, once, with the real require/__filename it asks for (the wasm
// binary is inlined in it; nothing is fetched). A Function rather than
// node:vm, because the bundle's own dynamic import() needs the main realm.
//
// When XGrammar refuses a grammar it prints the reason ("[FATAL] ...
// Unsupported type") through the console.error it bound at start-up and
// aborts the call with a bare "Aborted()"; the wasm module stays usable. That
// binding is made to go through `diagnostics` below, so callers can tell the
// client why.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

export type XGrammar = typeof import('@mlc-ai/web-xgrammar');

let loaded: Promise<XGrammar> | undefined;
/** Receives what XGrammar prints to stderr; undefined: printed as usual. */
let listener: ((line: string) => void) | undefined;

async function load(): Promise<XGrammar> {
  const require = createRequire(import.meta.url);
  const file = require.resolve('@mlc-ai/web-xgrammar');
  const module = { exports: {} as XGrammar };
  const body = new Function(
    'exports',
    'module',
    'require',
    '__filename',
    '__dirname',
    readFileSync(file, 'utf8'),
  );
  body(module.exports, module, require, file, dirname(file));
  const xg = module.exports;
  // The wasm module starts (and binds console.error) on its first call: route it through here.
  const original = console.error;
  console.error = (...args: unknown[]) => {
    const line = args.map(String).join(' ');
    if (listener) listener(line);
    else original.apply(console, args);
  };
  try {
    (await xg.TokenizerInfo.createTokenizerInfo([''], 'RAW', false, 1)).dispose();
  } finally {
    // the module keeps the router it bound; everything else gets console.error back
    console.error = original;
  }
  return xg;
}

export function xgrammar(): Promise<XGrammar> {
  loaded ??= load();
  return loaded;
}

/**
 * Runs an XGrammar call and, when it aborts, throws an Error whose message is XGrammar's own
 * reason. Calls run one at a time on the event loop (the wasm is synchronous), so the capture is
 * the call's own.
 */
export async function withDiagnostics<T>(call: () => Promise<T>): Promise<T> {
  const lines: string[] = [];
  listener = (line) => lines.push(line);
  try {
    return await call();
  } catch (err) {
    const reason = lines.map((l) => /\[FATAL\][^:]*:\d+: (.*)/.exec(l)?.[1]).find((m) => m !== undefined);
    throw new Error(reason ?? (err as Error).message);
  } finally {
    listener = undefined;
  }
}
