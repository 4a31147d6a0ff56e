// Original file: proto/chunkmesh/v1/generation.proto

import type { Choices as _chunkmesh_v1_Choices, Choices__Output as _chunkmesh_v1_Choices__Output } from '../../chunkmesh/v1/Choices.ts';

export interface Constraint {
  /**
   * Any JSON object.
   */
  'jsonObject'?: (boolean);
  /**
   * A JSON Schema, as JSON text.
   */
  'jsonSchema'?: (string);
  /**
   * A regular expression the whole output matches.
   */
  'regex'?: (string);
  /**
   * One of these strings, exactly.
   */
  'choice'?: (_chunkmesh_v1_Choices | null);
  /**
   * json_schema: objects take no properties beyond the schema's (OpenAI's strict).
   */
  'strict'?: (boolean);
  /**
   * Literal text around the constrained part (a tool call's markup).
   */
  'prefix'?: (string);
  'suffix'?: (string);
  'kind'?: "jsonObject"|"jsonSchema"|"regex"|"choice";
}

export interface Constraint__Output {
  /**
   * Any JSON object.
   */
  'jsonObject'?: (boolean);
  /**
   * A JSON Schema, as JSON text.
   */
  'jsonSchema'?: (string);
  /**
   * A regular expression the whole output matches.
   */
  'regex'?: (string);
  /**
   * One of these strings, exactly.
   */
  'choice'?: (_chunkmesh_v1_Choices__Output | null);
  /**
   * json_schema: objects take no properties beyond the schema's (OpenAI's strict).
   */
  'strict': (boolean);
  /**
   * Literal text around the constrained part (a tool call's markup).
   */
  'prefix': (string);
  'suffix': (string);
  'kind'?: "jsonObject"|"jsonSchema"|"regex"|"choice";
}
