// Original file: proto/chunkmesh/v1/worker_control.proto


export interface DrainResponse {
  'workerId'?: (string);
  /**
   * Requests queued or running when the drain began.
   */
  'inFlight'?: (number);
}

export interface DrainResponse__Output {
  'workerId': (string);
  /**
   * Requests queued or running when the drain began.
   */
  'inFlight': (number);
}
