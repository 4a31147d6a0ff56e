#include "device/cpu/roofline.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <vector>

#include "device/cpu/block_attend.h"
#include "device/cpu/online_softmax.h"

namespace chunkmesh {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

double measure_read_bandwidth(ThreadPool& threads, size_t bytes, int repeats) {
  const size_t n = bytes / sizeof(float);
  std::vector<float> buf(n, 1.f);
  const size_t parts = static_cast<size_t>(threads.size()) * 8;
  std::vector<float> sums(parts);
  double best = std::numeric_limits<double>::max();
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    threads.parallel_for(parts, [&](size_t p, int) {
      const size_t lo = n * p / parts, hi = n * (p + 1) / parts;
      float acc[16] = {};
      size_t i = lo;
      for (; i + 16 <= hi; i += 16)
        for (int l = 0; l < 16; ++l) acc[l] += buf[i + l];
      float s = 0;
      for (float a : acc) s += a;
      for (; i < hi; ++i) s += buf[i];
      sums[p] = s;
    });
    best = std::min(best, seconds_since(t0));
  }
  volatile float sink = sums[0];
  (void)sink;
  return static_cast<double>(n * sizeof(float)) / best;
}

double measure_attend_peak(ThreadPool& threads, int rows, int head_dim, int c, int repeats) {
  const int per_thread_blocks = 64;
  struct Local {
    std::vector<float> q, k, v, m, l, o;
    BlockScratch scratch;
  };
  std::vector<Local> locals(threads.size());
  for (auto& L : locals) {
    L.q.assign(static_cast<size_t>(rows) * head_dim, 0.01f);
    L.k.assign(static_cast<size_t>(c) * head_dim, 0.02f);
    L.v.assign(static_cast<size_t>(c) * head_dim, 0.03f);
    L.m.assign(rows, kNegInf);
    L.l.assign(rows, 0.f);
    L.o.assign(static_cast<size_t>(rows) * head_dim, 0.f);
  }
  double best = std::numeric_limits<double>::max();
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    threads.parallel_for(threads.size(), [&](size_t i, int) {
      Local& L = locals[i];
      for (int b = 0; b < per_thread_blocks; ++b) {
        attend_block(L.q.data(), rows, head_dim, L.k.data(), L.v.data(), c, nullptr, L.m.data(), L.l.data(), L.o.data(),
                     L.scratch);
      }
    });
    best = std::min(best, seconds_since(t0));
  }
  return attend_block_flops(rows, head_dim, c) * per_thread_blocks * threads.size() / best;
}

}  // namespace chunkmesh
