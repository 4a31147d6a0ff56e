export {
  type Config,
  ConfigError,
  defineOptions,
  envName,
  flagName,
  helpText,
  loadConfig,
  type OptionSpec,
  type OptionTable,
  type OptionType,
  type ParseResult,
  type ProgramInfo,
  parseConfig,
} from './config.ts';
export {
  type CheckedConstraint,
  type ConstraintInput,
  type Decoding,
  type DecodingInput,
  MAX_CHOICES,
  MAX_TOP_LOGPROBS,
} from './decoding-rules.ts';
export {
  DeadlineExceeded,
  HttpOnlyError,
  InvalidArgument,
  NotFound,
  ResourceExhausted,
  StatusError,
  Unavailable,
} from './errors.ts';
export { callDeadline, type GenerationServer, serveGeneration } from './generation-server.ts';
export { addHealthService, type HealthSwitch, healthPackageDefinition } from './grpc-health.ts';
export { addReflectionService } from './grpc-reflection.ts';
export {
  createLogger,
  isLogLevel,
  type LogFields,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  levelFromEnv,
} from './log.ts';
export {
  createRegistry,
  type OpsHandler,
  type OpsServer,
  opsHandler,
  type RegistryOptions,
  serveOps,
} from './metrics.ts';
export { watchParent } from './parent-watch.ts';
export * from './proto.ts';
export { connectRedis, isRedisUp, type RedisConnectOptions, waitForRedis } from './redis-connect.ts';
export * from './redis-keys.ts';
export { pruneWorker } from './redis-scripts.ts';
export {
  checkAgainstModel,
  checkSampling,
  MAX_STOP_STRINGS,
  type ModelLimits,
  type Sampling,
  type SamplingInput,
  samplingInputOf,
  TEMPERATURE_MAX,
} from './request-rules.ts';
export {
  type GrpcStatus,
  grpcStatusOf,
  httpStatusOf,
  type OpenAiError,
  type OpenAiErrorBody,
  openAiErrorOf,
  PARAM_METADATA,
  sendOpenAiError,
  toServerError,
} from './status.ts';
