// Random JSON schemas for the structured-output tests: objects of strings,
// integers, booleans, enums, arrays and nested objects, each bounded (string
// lengths, integer ranges, array sizes, no extra properties) so a valid value
// always fits in a few hundred tokens whatever the model prefers.

/** mulberry32: a small seeded generator, so schema i is the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Schema = Record<string, unknown>;

export function randomSchema(seed: number): Schema {
  const r = rng(seed + 1);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const value = (depth: number): Schema => {
    switch (int(0, depth > 0 ? 5 : 3)) {
      case 0:
        return { type: 'string', minLength: int(0, 2), maxLength: int(3, 10) };
      case 1: {
        const lo = int(-50, 50);
        return { type: 'integer', minimum: lo, maximum: lo + int(0, 500) };
      }
      case 2:
        return { type: 'boolean' };
      case 3:
        return { enum: ['red', 'green', 'blue', 7, null].slice(0, int(2, 5)) };
      case 4:
        return { type: 'array', items: value(depth - 1), minItems: int(0, 1), maxItems: int(1, 3) };
      default:
        return object(depth - 1);
    }
  };
  const object = (depth: number): Schema => {
    const properties: Record<string, Schema> = {};
    const n = int(1, 3);
    for (let i = 0; i < n; i++) properties[`k${i}_${int(0, 99)}`] = value(depth);
    return { type: 'object', properties, required: Object.keys(properties), additionalProperties: false };
  };
  return object(2);
}
