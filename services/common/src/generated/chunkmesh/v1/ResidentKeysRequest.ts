// Original file: proto/chunkmesh/v1/worker_resident.proto


export interface ResidentKeysRequest {
  /**
   * First rewrite the worker's report to Redis from its mirror ('cleared'
   * for every tier, the full stored set, a snapshot: what it does after a
   * Redis outage) and answer once that is written. A worker that does not
   * report to Redis, or cannot write it now, answers FAILED_PRECONDITION.
   */
  'resync'?: (boolean);
}

export interface ResidentKeysRequest__Output {
  /**
   * First rewrite the worker's report to Redis from its mirror ('cleared'
   * for every tier, the full stored set, a snapshot: what it does after a
   * Redis outage) and answer once that is written. A worker that does not
   * report to Redis, or cannot write it now, answers FAILED_PRECONDITION.
   */
  'resync': (boolean);
}
