// What the engine benchmarks (bench:multiturn, bench:truncation) share: the
// options of the random model they generate and the device they run on, the
// device chosen or a clear exit, and one greedy turn timed to its first token.
import { defineOptions } from '@chunkmesh/common';
import { type DeviceProbe, probeDevice } from '@chunkmesh/native';
import type { GenerateEvent, GenerateInput, WorkerRuntime } from '@chunkmesh/worker';

export interface ModelDefaults {
  layers: number;
  dim: number;
  heads: number;
  headDim: number;
  hidden: number;
  vocab: number;
  chunk: number;
}

/** The random model's shape, the engine's chunk and step, threads, device, seed, model cache and JSON file. */
export function engineBenchOptions(d: ModelDefaults) {
  return defineOptions({
    layers: { type: 'integer', default: d.layers, min: 1, help: 'model layers' },
    dim: { type: 'integer', default: d.dim, min: 2, help: 'model hidden size' },
    heads: { type: 'integer', default: d.heads, min: 1, help: 'query heads' },
    headDim: { type: 'integer', default: d.headDim, min: 2, help: 'head dimension' },
    hidden: { type: 'integer', default: d.hidden, min: 1, help: 'FFN intermediate size' },
    vocab: { type: 'integer', default: d.vocab, min: 16, help: 'vocabulary size' },
    chunk: { type: 'integer', default: d.chunk, min: 1, help: 'chunk tokens (c)' },
    stepTokens: { type: 'integer', default: 2048, min: 1, help: 'engine token budget per step' },
    threads: { type: 'integer', default: 0, min: 0, help: 'native threads (0: all cores)' },
    device: {
      type: 'string',
      default: 'cpu',
      choices: ['cpu', 'cuda', 'auto'],
      help: 'where the worker computes',
    },
    seed: { type: 'integer', default: 1, min: 0, help: 'seed of the model weights and the prompts' },
    modelCache: { type: 'string', default: '.bench/models', help: 'where generated models are kept' },
    json: { type: 'string', help: 'also write the results to this JSON file' },
  });
}

/** The device a run asks for, or the reason it cannot be had and exit 2. */
export function deviceOrExit(program: string, choice: string): DeviceProbe {
  try {
    return probeDevice(choice as 'cpu' | 'cuda' | 'auto');
  } catch (err) {
    process.stderr.write(`${program}: ${(err as Error).message}\n`);
    process.exit(2);
  }
}

/** A greedy request of maxTokens that ignores EOS, so every run answers alike. */
export function greedyRequest(
  id: string,
  promptTokens: number[],
  maxTokens: number,
  salt = '',
): GenerateInput {
  return {
    requestId: id,
    promptTokens,
    sampling: { temperature: 0, topK: 0, topP: 1 },
    maxTokens,
    eosTokenIds: [],
    stopTokenIds: [],
    stopStrings: [],
    salt,
  };
}

/** One greedy turn through the engine: its answer, the prompt tokens found cached, and its TTFT. */
export async function timedTurn(rt: WorkerRuntime, id: string, prompt: number[], maxTokens: number) {
  const t0 = performance.now();
  let first = 0;
  const answer: number[] = [];
  let cached = 0;
  for await (const e of rt.engine.generate(
    greedyRequest(id, prompt, maxTokens),
  ) as AsyncIterable<GenerateEvent>) {
    if (e.type === 'tokens') {
      if (first === 0 && e.ids.length > 0) first = performance.now();
      answer.push(...e.ids);
    } else {
      if (e.error) throw e.error;
      cached = e.usage.cachedPromptTokens;
    }
  }
  return { answer, cached, ttftMs: first - t0 };
}
