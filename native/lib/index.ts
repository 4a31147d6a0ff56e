export type { DecodeMode, KvDType, KvOp, KvTier, NativeBuildInfo, NativeDecodeCost } from './binding.ts';
export { native } from './binding.ts';
export { type ChunkKeySpace, chunkKeyRoot, chunkKeys } from './chunk-keys.ts';
export {
  CapacityExhaustedError,
  ChunkmeshNativeError,
  InvalidArgumentError,
  UnknownSequenceError,
} from './errors.ts';
export {
  type AddSequenceOptions,
  KvCache,
  type KvCacheOptions,
  type KvEvent,
  type KvStats,
} from './kv-cache.ts';
export { buildInfo, measureAttendPeak, measureReadBandwidth } from './machine.ts';
export {
  type LoadedModel,
  Model,
  type ModelConfig,
  type RopeLayout,
  type RopeScaling,
  type TensorMap,
} from './model.ts';
export { toInt32Tokens } from './tokens.ts';
