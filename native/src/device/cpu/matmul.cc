#include "device/cpu/matmul.h"

#include <algorithm>

namespace chunkmesh {
namespace {

// 16 floats, loadable from any float pointer (see attention/block_attend.cc).
typedef float v16 __attribute__((vector_size(64), aligned(4)));
constexpr size_t kLanes = 16;
// A work unit is kUnitRows weight rows (256 KiB of a 4096-wide matrix: stays
// in L2 while the unit's tokens stream past) times kUnitTokens tokens.
constexpr size_t kUnitRows = 16;
constexpr size_t kUnitTokens = 64;
// Below this many multiply-adds, waking the pool costs more than it saves.
constexpr size_t kSerialMacs = size_t{1} << 18;

// Pins a loaded vector to a register. Left alone, GCC folds each use of a
// loaded weight or token vector into its FMA as a memory operand, so a TM x TO
// tile re-reads them TM * TO times per step instead of TM + TO: the kernel
// becomes load-bound at about half its FMA rate (measured on Zen 4, 8 layers of
// a 512-wide model at 32 tokens: 42 -> 72 GFLOP/s per core). Costs nothing and
// changes no result; elsewhere (AVX2, NEON) a v16 spans several registers.
inline void in_register(v16& v) {
#if defined(__AVX512F__)
  asm("" : "+v"(v));
#else
  (void)v;
#endif
}

inline float hsum(v16 a) {
  float s = 0.f;
  for (size_t i = 0; i < kLanes; ++i) s += a[i];
  return s;
}

// TM tokens x TO output rows held in registers: each weight vector loaded is
// used TM times, each token vector TO times.
template <int TM, int TO>
void tile(const float* x, const float* w, size_t in, const float* bias, float* y, size_t ldy) {
  const size_t in16 = in / kLanes * kLanes;
  v16 acc[TM][TO] = {};
  for (size_t i = 0; i < in16; i += kLanes) {
    v16 wv[TO];
    for (int o = 0; o < TO; ++o) {
      wv[o] = *reinterpret_cast<const v16*>(w + o * in + i);
      in_register(wv[o]);
    }
    for (int t = 0; t < TM; ++t) {
      v16 xv = *reinterpret_cast<const v16*>(x + t * in + i);
      in_register(xv);
      for (int o = 0; o < TO; ++o) acc[t][o] += xv * wv[o];
    }
  }
  for (int t = 0; t < TM; ++t) {
    for (int o = 0; o < TO; ++o) {
      float s = hsum(acc[t][o]);
      for (size_t i = in16; i < in; ++i) s += x[t * in + i] * w[o * in + i];
      y[t * ldy + o] = bias ? s + bias[o] : s;
    }
  }
}

template <int TM>
void token_rows(const float* x, const float* w, size_t in, const float* bias, float* y, size_t out, size_t o0,
                size_t o1) {
  size_t o = o0;
  for (; o + 4 <= o1; o += 4) tile<TM, 4>(x, w + o * in, in, bias ? bias + o : nullptr, y + o, out);
  for (; o < o1; ++o) tile<TM, 1>(x, w + o * in, in, bias ? bias + o : nullptr, y + o, out);
}

// Tokens [t0, t1) against weight rows [o0, o1).
void block(const float* x, size_t in, const float* w, const float* bias, size_t out, float* y, size_t t0, size_t t1,
           size_t o0, size_t o1) {
  size_t t = t0;
  for (; t + 4 <= t1; t += 4) token_rows<4>(x + t * in, w, in, bias, y + t * out, out, o0, o1);
  for (; t < t1; ++t) token_rows<1>(x + t * in, w, in, bias, y + t * out, out, o0, o1);
}

}  // namespace

void matmul(const float* x, size_t m, size_t in, const float* w, const float* bias, size_t out, float* y,
            ThreadPool& threads) {
  if (m * in * out < kSerialMacs) {
    block(x, in, w, bias, out, y, 0, m, 0, out);
    return;
  }
  const size_t row_blocks = (out + kUnitRows - 1) / kUnitRows;
  const size_t token_blocks = (m + kUnitTokens - 1) / kUnitTokens;
  threads.parallel_for(row_blocks * token_blocks, [&](size_t unit, int) {
    const size_t o0 = (unit % row_blocks) * kUnitRows;
    const size_t t0 = (unit / row_blocks) * kUnitTokens;
    block(x, in, w, bias, out, y, t0, std::min(m, t0 + kUnitTokens), o0, std::min(out, o0 + kUnitRows));
  });
}

}  // namespace chunkmesh
