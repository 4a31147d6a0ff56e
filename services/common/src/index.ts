export {
  type Config,
  ConfigError,
  configOrExit,
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
  FailedPrecondition,
  HttpOnlyError,
  InvalidArgument,
  NotFound,
  PermissionDenied,
  ResourceExhausted,
  StatusError,
  Unauthenticated,
  Unavailable,
} from './errors.ts';
export { FILE_POLL_MS, watchFiles } from './file-watch.ts';
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
  type RegistryOptions,
  serveOps,
} from './metrics.ts';
export { watchParent } from './parent-watch.ts';
export * from './proto.ts';
export {
  connectRedis,
  DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
  isRedisUp,
  type RedisConnectOptions,
  redisRetryDelay,
  waitForRedis,
} from './redis-connect.ts';
export * from './redis-keys.ts';
export { redisRefusal } from './redis-refusal.ts';
export { deregister, type HeartbeatResult, heartbeat, pruneWorker } from './redis-scripts.ts';
export {
  checkAgainstModel,
  checkSampling,
  checkTenancy,
  MAX_SESSION_ID_BYTES,
  MAX_STOP_BYTES,
  MAX_STOP_STRINGS,
  MAX_TENANT_BYTES,
  type ModelLimits,
  type Sampling,
  type SamplingInput,
  samplingInputOf,
  TEMPERATURE_MAX,
  type Tenancy,
} from './request-rules.ts';
export {
  clusterTlsOf,
  clusterTlsProtection,
  enforceMode,
  type Protection,
  redisTlsOf,
  SECURITY_MODES,
  type SecurityMode,
  securityOptions,
} from './security-options.ts';
export {
  type GrpcStatus,
  grpcStatusOf,
  httpStatusOf,
  type OpenAiError,
  type OpenAiErrorBody,
  openAiErrorOf,
  PARAM_METADATA,
  RETRY_AFTER_METADATA,
  sendOpenAiError,
  toServerError,
} from './status.ts';
export {
  CertificateFiles,
  type CertificateFilesOptions,
  type CertificateMaterial,
  type CertificatePaths,
} from './tls/certificate-files.ts';
export {
  checkWorkerIdentity,
  clusterChannelCredentials,
  clusterChannelOptions,
  clusterServerCredentials,
  serverTlsCredentials,
} from './tls/grpc-credentials.ts';
export { WorkerClients } from './tls/worker-clients.ts';
export {
  addWorkerControlService,
  createWorkerControlClient,
  type DrainRequest,
  type DrainResponse,
  type ExportPrefixRequest,
  type KvChunk,
  type PrefillRequest,
  type PrefillResponse,
  type PullPrefixRequest,
  type PullPrefixResponse,
  type ResidentKeysRequest,
  type ResidentKeysResponse,
  type TierMoveRequest,
  type TierMoveResponse,
  WORKER_CONTROL_SERVICE,
  type WorkerControlClient,
  type WorkerControlHandlers,
} from './worker-control.ts';
