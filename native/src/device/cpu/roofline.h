#pragma once
// The two ceilings a kernel is judged against, measured on this machine with
// the same thread pool and the same SIMD code the kernels use.
#include <cstddef>

#include "runtime/thread_pool.h"

namespace chunkmesh {

// Sustained read bandwidth, bytes/s: every thread streams its share of a
// buffer far larger than the last-level cache.
double measure_read_bandwidth(ThreadPool& threads, size_t bytes, int repeats);

// Peak FLOP/s of attend_block on cache-resident data: `rows` query rows of
// head_dim against chunks of c keys, on every thread at once.
double measure_attend_peak(ThreadPool& threads, int rows, int head_dim, int c, int repeats);

}  // namespace chunkmesh
