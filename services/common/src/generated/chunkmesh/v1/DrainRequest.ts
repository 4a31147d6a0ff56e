// Original file: proto/chunkmesh/v1/worker_control.proto


export interface DrainRequest {
  /**
   * How long queued and running requests get before they are cancelled;
   * 0: the worker's own --shutdown-grace-ms.
   */
  'graceMs'?: (number);
}

export interface DrainRequest__Output {
  /**
   * How long queued and running requests get before they are cancelled;
   * 0: the worker's own --shutdown-grace-ms.
   */
  'graceMs': (number);
}
