// Tests use the same private redis-server the `chunkmesh up` command starts.
export { RedisServer, RestartUnsupported } from '../../services/cli/src/cluster/local-redis.ts';
