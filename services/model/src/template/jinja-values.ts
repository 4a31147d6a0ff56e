// Values of a compiled chat template (compile-jinja.ts) and the rules
// @huggingface/jinja's interpreter applies to them, on plain JavaScript values
// instead of its wrapper objects: a string, a number, a boolean, null (none),
// undefined, an array, a plain object (a mapping: what the caller passed, or
// `loop`), a Namespace, or a global function. The interpreter's wrappers cost
// about 0.5 µs each to make on Node 20 (their class fields are defined
// megamorphically) and a chat of twenty messages makes hundreds of them.
//
// Invariant: a compiled template either returns exactly the interpreter's
// text or throws; every case these rules do not model exactly throws
// `Unmodelled`, and the caller then renders with the interpreter, which also
// gives the interpreter's own error where the template fails. What is not
// modelled: non-integer numbers in arithmetic (the interpreter keeps ints and
// floats apart, a JS number does not), writing out arrays, mappings or
// namespaces with `{{ }}` (the interpreter writes a JSON of its own there,
// `undefined` and all), and any filter, test, method or global function not
// listed in compile-jinja.ts.

/** Thrown where the interpreter may do something these rules do not model. */
export class Unmodelled extends Error {}

/** A `namespace(...)` object: the one mutable value a template makes. */
export class Namespace {
  constructor(readonly entries: Map<string, unknown>) {}
}

/** A global function (namespace, raise_exception, range, strftime_now): only ever called. */
export class GlobalFunction {
  constructor(readonly name: string) {}
}

export function unmodelled(): never {
  throw new Unmodelled();
}

export function isMapping(v: unknown): v is Record<string, unknown> {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    !(v instanceof Namespace) &&
    !(v instanceof GlobalFunction)
  );
}

/**
 * A number the interpreter holds as an IntegerValue: it makes one of every whole number it is
 * given, and its integer arithmetic can reach Infinity or NaN; a FloatValue (from the caller's
 * data) is never whole. Arithmetic on anything else is not modelled.
 */
export function isInteger(v: unknown): v is number {
  return typeof v === 'number' && (Number.isInteger(v) || !Number.isFinite(v));
}

/** Python truthiness as the interpreter's `__bool__` has it. */
export function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Namespace || v instanceof GlobalFunction) return true;
  if (typeof v === 'object' && v !== null) return Object.keys(v).length > 0;
  return Boolean(v);
}

/** What `{{ v }}` writes: nothing for none and undefined. */
export function output(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  // a number here is an IntegerValue (whole) or a float from the caller's data (never whole, so
  // FloatValue writes it as String does)
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return unmodelled();
}

/** `a.toString()` of a primitive operand of `~` or string `+`. */
export function primitiveText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return unmodelled();
}

/** `==`: the interpreter compares the wrapped values with JS `==`; containers by identity. */
export function looselyEqual(a: unknown, b: unknown): boolean {
  const aObject = typeof a === 'object' && a !== null;
  const bObject = typeof b === 'object' && b !== null;
  if (aObject && bObject) return a === b;
  // a container against a primitive: JS would compare the wrapper's Map or array converted to text
  if (aObject || bObject) {
    if (a === null || a === undefined || b === null || b === undefined) return false;
    return unmodelled();
  }
  // biome-ignore lint/suspicious/noDoubleEquals: the interpreter's own comparison
  return a == b;
}

/**
 * The `tojson` filter without arguments, as the interpreter writes it: Python's separators (`, `
 * and `: `), keys in the mapping's order, none and undefined as null, no ASCII escaping.
 */
export function toJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(toJson).join(', ')}]`;
  const entries = v instanceof Namespace ? [...v.entries] : isMapping(v) ? Object.entries(v) : unmodelled();
  return `{${entries.map(([key, value]) => `${JSON.stringify(key)}: ${toJson(value)}`).join(', ')}}`;
}

/** Python slicing of a list, as the interpreter does it (step 0: empty). */
export function sliceOf<T>(items: readonly T[], start?: number, stop?: number, step = 1): T[] {
  const n = items.length;
  const out: T[] = [];
  if (step > 0) {
    const from = start === undefined ? 0 : start < 0 ? Math.max(n + start, 0) : Math.min(start, n);
    const to = stop === undefined ? n : stop < 0 ? Math.max(n + stop, 0) : Math.min(stop, n);
    for (let i = from; i < to; i += step) out.push(items[i] as T);
  } else if (step < 0) {
    const from = start === undefined ? n - 1 : start < 0 ? Math.max(n + start, -1) : Math.min(start, n - 1);
    const to = stop === undefined ? -1 : stop < -1 ? Math.max(n + stop, -1) : Math.min(stop, n - 1);
    for (let i = from; i > to; i += step) out.push(items[i] as T);
  }
  return out;
}
