// What the OpenAI API says about the deployment: the model card (/v1/models)
// and system_fingerprint. The fingerprint names the configuration that serves
// a reply (model, tokenizer, context, chunk size, the chunkmesh release), so
// clients see it change when the deployment changes, never with placement;
// every router replica of one deployment computes the same one.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ModelBundle } from '@chunkmesh/model';

export interface ModelCard {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  max_model_len: number;
}

export interface Deployment {
  modelCard: ModelCard;
  fingerprint: string;
}

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export function describeDeployment(bundle: ModelBundle, modelId: string, chunkTokens: number): Deployment {
  const c = bundle.model.config;
  const configuration = {
    model: modelId,
    tokenizer: bundle.tokenizer.id,
    vocabSize: c.vocabSize,
    maxSeqLen: c.maxSeqLen,
    chunkTokens,
    chunkmesh: version,
  };
  const hash = createHash('sha256').update(JSON.stringify(configuration)).digest('hex');
  return {
    modelCard: {
      id: modelId,
      object: 'model',
      created: bundle.created,
      owned_by: 'chunkmesh',
      max_model_len: c.maxSeqLen,
    },
    fingerprint: `fp_${hash.slice(0, 12)}`,
  };
}
