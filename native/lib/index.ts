export type {
  DecodeMode,
  DeviceChoice,
  KvDType,
  KvOp,
  KvTier,
  NativeBuildInfo,
  NativeDecodeCost,
  NativeKvChunk,
  TierCounts,
} from './binding.ts';
export { native } from './binding.ts';
export { CHUNK_KEY_FORMAT, type ChunkKeySpace, chunkKeyRoot, chunkKeys } from './chunk-keys.ts';
export {
  CapacityExhaustedError,
  ChunkMismatchError,
  ChunkmeshNativeError,
  DeviceUnavailableError,
  InvalidArgumentError,
  UnknownSequenceError,
} from './errors.ts';
export {
  type AddSequenceOptions,
  type DeviceInfo,
  type FetchResult,
  type Hold,
  KvCache,
  type KvCacheOptions,
  type KvEvent,
  type KvStats,
  type SpillResult,
} from './kv-cache.ts';
export {
  buildInfo,
  type DeviceProbe,
  measureAttendPeak,
  measureReadBandwidth,
  probeDevice,
} from './machine.ts';
export {
  type Graft,
  type LoadedModel,
  Model,
  type ModelConfig,
  type RopeLayout,
  type RopeScaling,
  type StepEntry,
  type StepOutcome,
  type StepRequest,
  type StepResult,
  type TensorMap,
} from './model.ts';
export { toInt32Tokens } from './tokens.ts';
