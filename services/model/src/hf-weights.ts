// Hugging Face Llama-family tensor names -> the canonical names of model-spec.ts.
// HF linear weights are already [out, in] row-major, as the spec wants; only the
// names change.
import type { ModelConfig, TensorMap } from './model-spec.ts';
import type { SafetensorsReader } from './safetensors.ts';

export interface TensorSlot {
  canonical: string;
  hf: string;
  shape: number[];
}

/** Every tensor a model of `config` must have, in load order. */
export function hfTensorLayout(config: ModelConfig): TensorSlot[] {
  const { dim, hiddenDim, heads, kvHeads, headDim, vocabSize } = config;
  const q = heads * headDim;
  const kv = kvHeads * headDim;
  const slots: TensorSlot[] = [
    { canonical: 'tok_embeddings', hf: 'model.embed_tokens.weight', shape: [vocabSize, dim] },
  ];
  for (let i = 0; i < config.layers; i++) {
    const hf = `model.layers.${i}`;
    const c = `layers.${i}`;
    const attn = (name: string, proj: string, shape: number[], kind = 'weight'): TensorSlot => ({
      canonical: `${c}.${name}`,
      hf: `${hf}.self_attn.${proj}_proj.${kind}`,
      shape,
    });
    slots.push(
      { canonical: `${c}.attention_norm`, hf: `${hf}.input_layernorm.weight`, shape: [dim] },
      attn('wq', 'q', [q, dim]),
      attn('wk', 'k', [kv, dim]),
      attn('wv', 'v', [kv, dim]),
      attn('wo', 'o', [dim, q]),
    );
    if (config.qkvBias) {
      slots.push(attn('bq', 'q', [q], 'bias'), attn('bk', 'k', [kv], 'bias'), attn('bv', 'v', [kv], 'bias'));
    }
    slots.push(
      { canonical: `${c}.ffn_norm`, hf: `${hf}.post_attention_layernorm.weight`, shape: [dim] },
      { canonical: `${c}.w1`, hf: `${hf}.mlp.gate_proj.weight`, shape: [hiddenDim, dim] },
      { canonical: `${c}.w3`, hf: `${hf}.mlp.up_proj.weight`, shape: [hiddenDim, dim] },
      { canonical: `${c}.w2`, hf: `${hf}.mlp.down_proj.weight`, shape: [dim, hiddenDim] },
    );
  }
  slots.push({ canonical: 'norm', hf: 'model.norm.weight', shape: [dim] });
  // Tied checkpoints sometimes still carry lm_head.weight; it is ignored then.
  if (!config.tiedEmbeddings)
    slots.push({ canonical: 'output', hf: 'lm_head.weight', shape: [vocabSize, dim] });
  return slots;
}

/**
 * Checks that every tensor of the layout exists with its shape (all problems are
 * reported at once, before any data is read), then reads them as fp32.
 */
export async function loadHfWeights(reader: SafetensorsReader, config: ModelConfig): Promise<TensorMap> {
  const layout = hfTensorLayout(config);
  const problems: string[] = [];
  for (const slot of layout) {
    const info = reader.tensors.get(slot.hf);
    if (!info) problems.push(`missing tensor ${slot.hf} (${slot.canonical})`);
    else if (info.shape.join() !== slot.shape.join()) {
      problems.push(
        `tensor ${slot.hf} (${slot.canonical}) has shape [${info.shape.join(', ')}], expected [${slot.shape.join(', ')}]`,
      );
    }
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 10).join('; ');
    const more = problems.length > 10 ? `; and ${problems.length - 10} more` : '';
    throw new Error(`weights do not match config of ${config.modelId}: ${shown}${more}`);
  }
  const tensors: TensorMap = new Map();
  for (const slot of layout) tensors.set(slot.canonical, await reader.read(slot.hf));
  return tensors;
}
