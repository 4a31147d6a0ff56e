// Original file: proto/chunkmesh/v1/generation.proto


export interface InfoRequest {
}

export interface InfoRequest__Output {
}
