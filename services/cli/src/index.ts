// What the tests and benches share with the chunkmesh command: the private
// redis-server and the service launcher `chunkmesh up` runs on, the command's
// own paths, and its table and progress output.
export { RedisServer, type RedisServerOptions } from './cluster/local-redis.ts';
export {
  JOBS_MAIN,
  ROUTER_MAIN,
  ServiceProcess,
  SOURCE_NODE_ARGS,
  WORKER_MAIN,
} from './cluster/service-process.ts';
export { CHUNKMESH_BIN, MOONCAKE_TRACE, REPO_ROOT } from './paths.ts';
export { Progress } from './progress.ts';
export { mean, median, percentile, printTable } from './table.ts';
