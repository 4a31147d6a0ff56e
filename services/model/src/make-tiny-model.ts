// Writes a tiny deterministic Llama-family model as a Hugging Face directory.
//   node services/model/dist/make-tiny-model.js --out /tmp/tiny --dim 64 --layers 2   (after npm run build)
import { parseArgs } from 'node:util';
import { type TinyDtype, type TinyModelOptions, writeTinyModel } from './tiny-model.ts';

const HELP = `Usage: make-tiny-model --out DIR [options]

Writes config.json, model.safetensors (or shards and model.safetensors.index.json),
tokenizer.json and tokenizer_config.json (with a chat template) to DIR. Weights are
pseudo-random but deterministic in --seed, so the same flags give the same model.

Options (defaults in brackets):
  --out DIR            output directory (created if missing)   [required]
  --family NAME        llama | mistral | qwen2 (qwen2 adds q/k/v biases)  [llama]
  --dim N              hidden size                              [64]
  --hidden N           MLP intermediate size                    [172]
  --layers N           transformer layers                       [2]
  --heads N            attention heads                          [4]
  --kv-heads N         key/value heads (GQA)                    [= heads]
  --head-dim N         dimension per head                       [= dim / heads]
  --vocab N            vocabulary size (>= 7; ~100 covers ASCII) [512]
  --max-seq-len N      max_position_embeddings                  [256]
  --dtype T            f32 | f16 | bf16                         [f32]
  --tied               tie the output layer to the embeddings
  --shards N           number of safetensors shards             [1]
  --seed N             weight seed (>= 0)                       [1]
  --rope-theta X       RoPE base                                [10000]
  --quiet              no progress output
  -h, --help           this text
`;

const DTYPES: readonly string[] = ['f32', 'f16', 'bf16'];
const FAMILIES: readonly string[] = ['llama', 'mistral', 'qwen2'];

function integer(flag: string, value: string, min = 1): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < min) {
    throw new Error(`--${flag} must be an integer >= ${min}, got "${value}"`);
  }
  return n;
}

function oneOf(flag: string, value: string, allowed: readonly string[]): string {
  if (!allowed.includes(value))
    throw new Error(`--${flag} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      family: { type: 'string', default: 'llama' },
      dim: { type: 'string', default: '64' },
      hidden: { type: 'string', default: '172' },
      layers: { type: 'string', default: '2' },
      heads: { type: 'string', default: '4' },
      'kv-heads': { type: 'string' },
      'head-dim': { type: 'string' },
      vocab: { type: 'string', default: '512' },
      'max-seq-len': { type: 'string', default: '256' },
      dtype: { type: 'string', default: 'f32' },
      tied: { type: 'boolean', default: false },
      shards: { type: 'string', default: '1' },
      seed: { type: 'string', default: '1' },
      'rope-theta': { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  if (values.out === undefined) throw new Error('--out is required (see --help)');
  const ropeTheta = values['rope-theta'] === undefined ? undefined : Number(values['rope-theta']);
  if (ropeTheta !== undefined && !(ropeTheta > 0)) throw new Error('--rope-theta must be a positive number');
  const opts: TinyModelOptions = {
    family: oneOf('family', values.family, FAMILIES) as TinyModelOptions['family'],
    dim: integer('dim', values.dim),
    hiddenDim: integer('hidden', values.hidden),
    layers: integer('layers', values.layers),
    heads: integer('heads', values.heads),
    vocabSize: integer('vocab', values.vocab),
    maxSeqLen: integer('max-seq-len', values['max-seq-len']),
    dtype: oneOf('dtype', values.dtype, DTYPES) as TinyDtype,
    tiedEmbeddings: values.tied,
    shards: integer('shards', values.shards),
    seed: integer('seed', values.seed, 0),
    ...(values['kv-heads'] === undefined ? {} : { kvHeads: integer('kv-heads', values['kv-heads']) }),
    ...(values['head-dim'] === undefined ? {} : { headDim: integer('head-dim', values['head-dim']) }),
    ...(ropeTheta === undefined ? {} : { ropeTheta }),
    ...(values.quiet ? {} : { onProgress: (message: string) => process.stderr.write(`${message}\n`) }),
  };
  await writeTinyModel(values.out, opts);
}

main().catch((err: unknown) => {
  process.stderr.write(`make-tiny-model: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
