// Seeded random integers for the model package's property tests.
import { splitmix32 } from '../../src/tiny-model.ts';

/** Random non-negative integers below 2^32 (splitmix32 gives fractions in [0, 1)). */
export function randomInts(seed: number): () => number {
  const unit = splitmix32(seed);
  return () => Math.floor(unit() * 2 ** 32);
}
