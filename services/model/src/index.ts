// What the worker, the router, the chunkmesh command and the benches use:
// loading a model directory (Hugging Face or llama2.c) into a bundle of
// weights, tokenizer and chat template; a request's prompt as token ids;
// streaming detokenisation; tokenizers alone; the tiny random-weight model.
export { BYTE_LEVEL_CHARS } from './byte-level.ts';
export type { ChatMessage, ChatToolCall, TemplateRenderStats, ToolSpec } from './chat-template.ts';
export { loadHfTokenizer } from './hf-tokenizer.ts';
export { loadLlama2cTokenizer } from './llama2c-tokenizer.ts';
export { loadModel, type ModelBundle } from './load-model.ts';
export { type PromptInput, promptInputOf, promptTokens } from './prompt-tokens.ts';
export { type SegmentCacheStats, SegmentCachingTokenizer } from './segment-cache.ts';
export { TextStream } from './text-stream.ts';
export {
  splitmix32,
  TINY_SPECIAL_TOKENS,
  type TinyModelOptions,
  writeTinyModel,
} from './tiny-model.ts';
export type { Segmenter, Tokenizer } from './tokenizer.ts';
export { ChoiceToolCalls, type IdentifiedToolCall, toolCallId } from './tools/choice-tool-calls.ts';
export { checkTools, type RequestTools } from './tools/request-tools.ts';
export { type ParsedDelta, type ParsedToolCall, ToolCallParser } from './tools/tool-call-parser.ts';
export {
  type ToolCallFormat,
  type ToolChoice,
  type ToolConstraint,
  toolCallFormat,
  toolConstraint,
} from './tools/tool-format.ts';
export { checkedToolSampling } from './tools/tool-sampling.ts';
