// The attention kernels (tile_attention for TPP phase 1 and prefill,
// sequence_attention for phase 2 and the baseline) on the emulator against the
// CPU device: random trees of 1-3 shared levels with ragged tails, empty
// private parts, batches that are not a multiple of the 16-row MMA tile,
// GQA 1/4/8, head dims 64 and 128 (and small ones), chunks of 16/32/64, f16
// and bf16 pools. Every schedule must give the same bits.
#include <cstring>
#include <vector>

#include "emu_rig.h"

namespace {

using namespace chunkmesh;
using cmtest::CachePair;
using cmtest::EmuScope;
using cmtest::Rng;

struct Shape {
  int head_dim, group, kv_heads, c, batch;
  DType dtype;
};

// f16 rounds q (and p) to 11 significant bits for the tensor-core products, bf16 to 8.
double tolerance(DType t) { return t == DType::kBF16 ? 3e-2 : 3e-3; }

// Prompts of shared levels: a system prompt (1-3 chunks, maybe ragged), sub-group
// continuations, and own tails (some empty: whole path shared).
std::vector<std::vector<int32_t>> prompts(Rng& rng, int c, int batch) {
  const int levels = rng.range(1, 3);
  std::vector<int32_t> system =
      rng.tokens(static_cast<size_t>(rng.range(1, 2) * c + (rng.chance(0.5) ? rng.range(1, c - 1) : 0)), 1000);
  std::vector<std::vector<int32_t>> out;
  while (static_cast<int>(out.size()) < batch) {
    std::vector<int32_t> p = system;
    if (levels >= 2) {
      const std::vector<int32_t> more = rng.tokens(static_cast<size_t>(c * rng.range(1, 2)), 1000);
      if (rng.chance(0.6)) p.insert(p.end(), more.begin(), more.end());
    }
    if (levels >= 3 && rng.chance(0.5)) {
      const std::vector<int32_t> more = rng.tokens(static_cast<size_t>(c), 1000);
      p.insert(p.end(), more.begin(), more.end());
    }
    const std::vector<int32_t> own = rng.tokens(static_cast<size_t>(rng.chance(0.2) ? 0 : rng.range(1, 2 * c)), 1000);
    p.insert(p.end(), own.begin(), own.end());
    out.push_back(p);
  }
  return out;
}

void check_decode(const Shape& s, uint64_t seed) {
  Rng rng(seed);
  const auto ps = prompts(rng, s.c, s.batch);
  size_t chunks = 0;
  for (const auto& p : ps) chunks += p.size() / s.c + 2;
  CachePair pair(KvShape{2, s.kv_heads, s.head_dim, s.c, s.dtype}, static_cast<uint32_t>(chunks));
  for (size_t i = 0; i < ps.size(); ++i) pair.insert(ps[i], seed * 1000 + i);
  const int n_heads = s.kv_heads * s.group;
  const std::vector<float> q = rng.floats(ps.size() * n_heads * s.head_dim);
  for (DecodeMode mode : {DecodeMode::kTpp, DecodeMode::kBaseline}) {
    std::vector<float> want(q.size()), first;
    pair.cpu->decode(pair.cpu_ids.data(), ps.size(), 1, n_heads, q.data(), want.data(), mode);
    for (auto schedule : cmtest::kSchedules) {
      EmuScope scope(schedule);
      std::vector<float> got(q.size());
      pair.gpu->decode(pair.gpu_ids.data(), ps.size(), 1, n_heads, q.data(), got.data(), mode);
      const double err = cmtest::relative_error(got, want);
      CHECK_MSG(err <= tolerance(s.dtype), (mode == DecodeMode::kTpp ? "TPP" : "baseline")
                                               << " error " << err << " d=" << s.head_dim << " g=" << s.group
                                               << " c=" << s.c << " batch=" << s.batch);
      if (first.empty()) first = got;
      CHECK_MSG(std::memcmp(first.data(), got.data(), got.size() * sizeof(float)) == 0,
                "schedules disagree: a race in the kernel");
    }
  }
}

void check_prefill(const Shape& s, uint64_t seed) {
  Rng rng(seed);
  CachePair pair(KvShape{2, s.kv_heads, s.head_dim, s.c, s.dtype}, 64);
  const std::vector<int32_t> prefix = rng.tokens(static_cast<size_t>(rng.range(0, 2) * s.c), 1000);
  if (!prefix.empty()) pair.insert(prefix, seed);
  std::vector<int32_t> prompt = prefix;
  const std::vector<int32_t> fresh = rng.tokens(static_cast<size_t>(rng.range(2, 3 * s.c + 5)), 1000);
  prompt.insert(prompt.end(), fresh.begin(), fresh.end());
  pair.insert(prompt, seed + 1);
  const int n_heads = s.kv_heads * s.group;
  const size_t n_new = fresh.size();
  const std::vector<float> q = rng.floats(n_new * n_heads * s.head_dim);
  std::vector<float> want(q.size()), got(q.size());
  pair.cpu->prefill(pair.cpu_ids.back(), 0, n_heads, n_new, q.data(), want.data());
  for (auto schedule : cmtest::kSchedules) {
    EmuScope scope(schedule);
    pair.gpu->prefill(pair.gpu_ids.back(), 0, n_heads, n_new, q.data(), got.data());
    const double err = cmtest::relative_error(got, want);
    CHECK_MSG(err <= tolerance(s.dtype),
              "prefill error " << err << " d=" << s.head_dim << " g=" << s.group << " c=" << s.c << " new=" << n_new);
  }
}

const Shape kShapes[] = {
    {64, 1, 2, 16, 5, DType::kF16},   {64, 4, 2, 32, 17, DType::kBF16}, {128, 8, 1, 64, 9, DType::kF16},
    {128, 1, 4, 64, 3, DType::kBF16}, {16, 4, 2, 16, 21, DType::kF16},  {8, 2, 4, 32, 7, DType::kF16},
};

CM_TEST(emu_decode_attention_equals_the_cpu_device) {
  cmtest::for_each_seed(2, [](uint64_t seed) {
    for (const Shape& s : kShapes) check_decode(s, seed * 31 + s.head_dim + s.c);
  });
}

CM_TEST(emu_prefill_attention_equals_the_cpu_device) {
  cmtest::for_each_seed(2, [](uint64_t seed) {
    for (const Shape& s : kShapes) check_prefill(s, seed * 17 + s.head_dim + s.group);
  });
}

}  // namespace
