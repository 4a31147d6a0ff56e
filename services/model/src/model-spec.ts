// What a loaded model is, whatever format it came from: the shape the native
// forward pass needs and its weights as fp32 tensors with canonical names.
// Loaders (llama2.c, Hugging Face) produce this; the native Model consumes it,
// so the types are defined once, beside it, in @chunkmesh/native.
export type { LoadedModel, ModelConfig, RopeLayout, RopeScaling, TensorMap } from '@chunkmesh/native';
