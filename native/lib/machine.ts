// What the addon was built with, and the two ceilings of this machine that
// benchmarks compare kernels against.
import { type DeviceChoice, type NativeBuildInfo, type NativeDeviceInfo, native } from './binding.ts';
import { translated } from './errors.ts';

export function buildInfo(): NativeBuildInfo {
  return native.buildInfo();
}

export type DeviceProbe = Pick<NativeDeviceInfo, 'kind' | 'name' | 'detail' | 'fallbackReason'>;

/** Which device a KvCache asking for `choice` would get on this machine, and why 'auto' fell back to the CPU. */
export function probeDevice(choice: DeviceChoice): DeviceProbe {
  return translated(() => native.probeDevice(choice));
}

/** Sustained read bandwidth in bytes/s over a buffer of `bytes` (default 512 MiB). */
export function measureReadBandwidth(threads: number, bytes = 512 * 1024 * 1024): number {
  return translated(() => native.measureReadBandwidth(threads, bytes));
}

/** FLOP/s of the attention inner kernel on cache-resident data, all threads busy. */
export function measureAttendPeak(
  threads: number,
  rows: number,
  headDim: number,
  chunkTokens: number,
): number {
  return translated(() => native.measureAttendPeak(threads, rows, headDim, chunkTokens));
}
