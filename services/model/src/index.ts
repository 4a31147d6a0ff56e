// What the worker, the router, the chunkmesh command and the benches use:
// loading a model directory (Hugging Face or llama2.c) into a bundle of
// weights, tokenizer and chat template; a request's prompt as token ids;
// streaming detokenisation; the tiny random-weight model generator.
export type { ChatTemplate } from './chat-template.ts';
export { loadHfTokenizer } from './hf-tokenizer.ts';
export { type Llama2cTokenizer, loadLlama2cTokenizer } from './llama2c-tokenizer.ts';
export { type LoadModelOptions, loadModel, type ModelBundle } from './load-model.ts';
export type { LoadedModel, ModelConfig } from './model-spec.ts';
export { type PromptInput, promptInputOf, promptTokens } from './prompt-tokens.ts';
export { TextStream } from './text-stream.ts';
export {
  splitmix32,
  TINY_SPECIAL_TOKENS,
  type TinyModelOptions,
  writeTinyModel,
} from './tiny-model.ts';
export type { Tokenizer } from './tokenizer.ts';
