// Original file: proto/chunkmesh/v1/worker_resident.proto

import type { Long } from '@grpc/proto-loader';

export interface ResidentKeysResponse {
  'workerId'?: (string);
  'epoch'?: (number | string | Long);
  /**
   * Chunk keys in the tree now, by tier (a chunk being written to disk
   * counts as host, one being read back as disk, as the events say).
   */
  'device'?: (number | string | Long)[];
  'host'?: (number | string | Long)[];
  'disk'?: (number | string | Long)[];
}

export interface ResidentKeysResponse__Output {
  'workerId': (string);
  'epoch': (string);
  /**
   * Chunk keys in the tree now, by tier (a chunk being written to disk
   * counts as host, one being read back as disk, as the events say).
   */
  'device': (string)[];
  'host': (string)[];
  'disk': (string)[];
}
