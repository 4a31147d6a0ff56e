#pragma once
// The CPU device's element-wise and per-row layer operations. Each is split
// over the thread pool by rows when the work is large enough to pay for it.
#include <cstddef>
#include <cstdint>

#include "device/device.h"
#include "runtime/thread_pool.h"

namespace chunkmesh::cpu {

void rmsnorm(const float* x, const float* weight, size_t m, size_t dim, float eps, float* out, ThreadPool& threads);
// cos, sin: [m][head_dim / 2]; x: [m][heads][head_dim].
void rope(float* x, size_t m, int heads, int head_dim, RopeLayout layout, const float* cos, const float* sin,
          ThreadPool& threads);
void swiglu(float* gate, const float* up, size_t n, ThreadPool& threads);
void add(float* x, const float* y, size_t n, ThreadPool& threads);
void embed(const float* table, size_t dim, const int32_t* tokens, size_t m, float* x);
// K and V of m rows into the pool at (slot, row) each; the reverse for read_kv.
void write_kv(const KvPool& pool, int layer, size_t m, const uint32_t* slots, const uint32_t* rows, const float* k,
              const float* v);
void read_kv(const KvPool& pool, int layer, size_t m, const uint32_t* slots, const uint32_t* rows, float* k, float* v);

}  // namespace chunkmesh::cpu
