// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte
// little-endian header length N, N bytes of JSON describing each tensor's dtype,
// shape and [begin, end) byte range within the data section that follows, then
// the data. Tensors are read with positional reads of just their byte range, so
// a multi-gigabyte shard is never held in memory as a whole.
import { existsSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { readJsonFile } from './hf-config.ts';

/** The dtypes that can be read as (and written from) fp32. */
export type FloatDtype = 'F32' | 'F16' | 'BF16';

// Every dtype of the format, so that files holding a few non-float tensors
// (integer buffers, say) still parse; only the float ones can be read.
const DTYPE_BYTES: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
};
const FLOAT_DTYPES: readonly string[] = ['F32', 'F16', 'BF16'];

// The reference implementation refuses headers over 100 MB; a larger length
// means a corrupt or non-safetensors file, not a real header.
const MAX_HEADER_BYTES = 100_000_000;
// fs reads and writes are capped near 2 GiB per call; embedding tables can be larger.
const IO_CHUNK_BYTES = 1 << 30;

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';

export interface TensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  /** Absolute byte range in the file (header included). */
  begin: number;
  end: number;
  file: string;
}

export interface SafetensorsHeader {
  file: string;
  metadata: Record<string, string>;
  tensors: Map<string, TensorInfo>;
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function isNonNegativeInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

async function readExactly(
  fh: FileHandle,
  target: Uint8Array,
  position: number,
  file: string,
): Promise<void> {
  let done = 0;
  while (done < target.byteLength) {
    const length = Math.min(IO_CHUNK_BYTES, target.byteLength - done);
    const { bytesRead } = await fh.read(target, done, length, position + done);
    if (bytesRead === 0) {
      throw new Error(`${file}: unexpected end of file at byte ${position + done}`);
    }
    done += bytesRead;
  }
}

/** Parses and validates the header of a safetensors file open as `fh`. */
export async function readSafetensorsHeader(fh: FileHandle, file: string): Promise<SafetensorsHeader> {
  const fail = (problem: string): never => {
    throw new Error(`${file}: invalid safetensors file: ${problem}`);
  };
  const { size } = await fh.stat();
  if (size < 8) fail(`truncated: ${size} bytes, shorter than the 8-byte header length`);
  const lengthBytes = new Uint8Array(8);
  await readExactly(fh, lengthBytes, 0, file);
  const headerLength = Number(Buffer.from(lengthBytes).readBigUInt64LE(0));
  if (headerLength < 2 || headerLength > MAX_HEADER_BYTES) {
    fail(`header length ${headerLength} is out of range (2..${MAX_HEADER_BYTES})`);
  }
  if (8 + headerLength > size) {
    fail(`truncated: header length ${headerLength} exceeds the ${size - 8} bytes after the length field`);
  }
  const headerBytes = new Uint8Array(headerLength);
  await readExactly(fh, headerBytes, 8, file);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (err) {
    fail(`header is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    fail('header is not a JSON object');
  }

  const dataStart = 8 + headerLength;
  const dataSize = size - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, TensorInfo>();
  for (const [name, entry] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
        fail('__metadata__ is not an object');
      }
      for (const [key, value] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof value !== 'string') fail(`__metadata__.${key} is not a string`);
        metadata[key] = value as string;
      }
      continue;
    }
    if (typeof entry !== 'object' || entry === null) fail(`tensor ${name}: entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (typeof dtype !== 'string' || DTYPE_BYTES[dtype] === undefined) {
      fail(`tensor ${name}: unsupported dtype ${JSON.stringify(dtype)}`);
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegativeInt)) {
      fail(`tensor ${name}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInt)) {
      fail(`tensor ${name}: data_offsets ${JSON.stringify(offsets)} is not a pair of non-negative integers`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataSize) {
      fail(
        `tensor ${name}: data_offsets [${begin}, ${end}] out of range of the ${dataSize}-byte data section`,
      );
    }
    const expected = numel(shape as number[]) * (DTYPE_BYTES[dtype as string] as number);
    if (end - begin !== expected) {
      fail(
        `tensor ${name}: data_offsets span ${end - begin} bytes but ${dtype} ${JSON.stringify(shape)} needs ${expected}`,
      );
    }
    tensors.set(name, {
      name,
      dtype: dtype as string,
      shape: shape as number[],
      begin: dataStart + begin,
      end: dataStart + end,
      file,
    });
  }

  const byStart = [...tensors.values()].filter((t) => t.end > t.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < byStart.length; i++) {
    const prev = byStart[i - 1] as TensorInfo;
    const cur = byStart[i] as TensorInfo;
    if (cur.begin < prev.end) fail(`tensors ${prev.name} and ${cur.name} overlap`);
  }
  return { file, metadata, tensors };
}

// A 64K-entry table turns half-precision decoding into one lookup per value.
let f16Table: Float32Array | undefined;
function halfToFloatTable(): Float32Array {
  if (f16Table) return f16Table;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) table[h] = sign * mant * 2 ** -24;
    else if (exp === 31) table[h] = mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
    else table[h] = sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  f16Table = table;
  return table;
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

function floatToHalf(value: number): number {
  f32Scratch[0] = value;
  const bits = u32Scratch[0] as number;
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    // Subnormal half: shift the mantissa (with its implicit 1) into place,
    // rounding to nearest even.
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let out = m >>> shift;
    if (rest > half || (rest === half && out & 1)) out++;
    return sign | out;
  }
  let out = sign | (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // Round to nearest even; a carry out of the mantissa correctly bumps the exponent.
  if (rest > 0x1000 || (rest === 0x1000 && out & 1)) out++;
  return out;
}

function floatToBf16(bits: number): number {
  if ((bits & 0x7f800000) === 0x7f800000 && bits & 0x7fffff) return ((bits >>> 16) | 0x40) & 0xffff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

function assertFloatDtype(dtype: string, what: string): asserts dtype is FloatDtype {
  if (!FLOAT_DTYPES.includes(dtype)) {
    throw new Error(`${what}: dtype ${dtype} cannot be read as fp32 (supported: ${FLOAT_DTYPES.join(', ')})`);
  }
}

/** Little-endian bytes of `dtype` -> fp32. The host is assumed little-endian, as every supported target is. */
export function decodeFloats(bytes: Uint8Array, dtype: FloatDtype): Float32Array {
  if (dtype === 'F32') {
    const out = new Float32Array(bytes.byteLength / 4);
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  const n = bytes.byteLength / 2;
  const halves = new Uint16Array(n);
  new Uint8Array(halves.buffer).set(bytes);
  if (dtype === 'BF16') {
    const out = new Uint32Array(n);
    for (let i = 0; i < n; i++) out[i] = (halves[i] as number) << 16;
    return new Float32Array(out.buffer);
  }
  const table = halfToFloatTable();
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = table[halves[i] as number] as number;
  return out;
}

/** fp32 -> little-endian bytes of `dtype`, rounding to nearest even. */
export function encodeFloats(data: Float32Array, dtype: FloatDtype): Uint8Array {
  if (dtype === 'F32')
    return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  const out = new Uint16Array(data.length);
  if (dtype === 'BF16') {
    const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
    for (let i = 0; i < data.length; i++) out[i] = floatToBf16(bits[i] as number);
  } else {
    for (let i = 0; i < data.length; i++) out[i] = floatToHalf(data[i] as number);
  }
  return new Uint8Array(out.buffer);
}

/** The value fp32 `data` takes after a round trip through `dtype`. */
export function roundTo(data: Float32Array, dtype: FloatDtype): Float32Array {
  return decodeFloats(encodeFloats(data, dtype), dtype);
}

/**
 * The tensors of a Hugging Face model directory: one `model.safetensors`, or the
 * shards named by `model.safetensors.index.json`. Holds the files open until `close()`.
 */
export class SafetensorsReader {
  private constructor(
    readonly tensors: ReadonlyMap<string, TensorInfo>,
    private readonly handles: Map<string, FileHandle>,
  ) {}

  static async open(dir: string): Promise<SafetensorsReader> {
    const indexPath = join(dir, INDEX_FILE);
    const weightMap = existsSync(indexPath) ? await readWeightMap(dir, indexPath) : undefined;
    const files = weightMap ? [...new Set(weightMap.values())] : [join(dir, SINGLE_FILE)];
    const handles = new Map<string, FileHandle>();
    const tensors = new Map<string, TensorInfo>();
    try {
      for (const file of files) {
        const fh = await open(file, 'r').catch((err: NodeJS.ErrnoException) => {
          throw new Error(`${file}: cannot open safetensors file (${err.code ?? err.message})`);
        });
        handles.set(file, fh);
        const header = await readSafetensorsHeader(fh, file);
        for (const [name, info] of header.tensors) {
          const other = tensors.get(name);
          if (other) throw new Error(`tensor ${name} appears in both ${other.file} and ${file}`);
          tensors.set(name, info);
        }
      }
      for (const [name, file] of weightMap ?? []) {
        if (tensors.get(name)?.file !== file) {
          throw new Error(`${indexPath}: weight_map puts ${name} in ${file}, which does not contain it`);
        }
      }
    } catch (err) {
      await Promise.all([...handles.values()].map((fh) => fh.close()));
      throw err;
    }
    return new SafetensorsReader(tensors, handles);
  }

  /** Reads one tensor, converted to fp32. */
  async read(name: string): Promise<Float32Array> {
    const info = this.tensors.get(name);
    if (!info) throw new Error(`tensor ${name} not found`);
    assertFloatDtype(info.dtype, `${info.file}: tensor ${name}`);
    const bytes = new Uint8Array(info.end - info.begin);
    await readExactly(this.handles.get(info.file) as FileHandle, bytes, info.begin, info.file);
    return decodeFloats(bytes, info.dtype);
  }

  async close(): Promise<void> {
    await Promise.all([...this.handles.values()].map((fh) => fh.close()));
    this.handles.clear();
  }
}

/** The index's weight_map (tensor -> shard path), its shards checked to be plain file names inside `dir`. */
async function readWeightMap(dir: string, indexPath: string): Promise<Map<string, string>> {
  const index = await readJsonFile(indexPath);
  const weightMap = (index as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    throw new Error(`${indexPath}: missing weight_map object`);
  }
  const out = new Map<string, string>();
  for (const [tensor, shard] of Object.entries(weightMap)) {
    if (typeof shard !== 'string' || shard.includes('/') || shard.includes('\\') || shard.startsWith('.')) {
      throw new Error(
        `${indexPath}: weight_map entry for ${tensor} is not a file name: ${JSON.stringify(shard)}`,
      );
    }
    out.set(tensor, join(dir, shard));
  }
  return out;
}

async function writeAll(fh: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    const length = Math.min(IO_CHUNK_BYTES, bytes.byteLength - done);
    const { bytesWritten } = await fh.write(bytes, done, length);
    done += bytesWritten;
  }
}

export interface TensorToWrite {
  name: string;
  dtype: FloatDtype;
  shape: number[];
  /** Produced when the tensor is written, so only one tensor's data is in memory at a time. */
  data: () => Float32Array;
}

/**
 * Writes a safetensors file, the header padded with spaces to 8-byte alignment as
 * the format recommends. Returns the size of the data section in bytes.
 */
export async function writeSafetensors(
  file: string,
  tensors: readonly TensorToWrite[],
  metadata: Record<string, string> = {},
): Promise<number> {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    const bytes = numel(t.shape) * (DTYPE_BYTES[t.dtype] as number);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const lengthBytes = Buffer.alloc(8);
  lengthBytes.writeBigUInt64LE(BigInt(headerBytes.byteLength));

  const fh = await open(file, 'w');
  try {
    await writeAll(fh, lengthBytes);
    await writeAll(fh, headerBytes);
    for (const t of tensors) {
      const data = t.data();
      if (data.length !== numel(t.shape)) {
        throw new Error(
          `${file}: tensor ${t.name} has ${data.length} values, shape ${JSON.stringify(t.shape)}`,
        );
      }
      await writeAll(fh, encodeFloats(data, t.dtype));
    }
  } finally {
    await fh.close();
  }
  return offset;
}
