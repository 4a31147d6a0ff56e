// Mutation checks: every named barrier and async-copy wait in the kernels,
// switched off one at a time through the emulator, must make a comparison with
// the CPU device fail (or the schedules disagree, or the emulator report a
// broken execution model). A point nobody notices would be a test that cannot
// fail.
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "device/emu/emu_device.h"
#include "emu_rig.h"

namespace {

using namespace chunkmesh;
using cmtest::CachePair;
using cmtest::EmuScope;

// Runs `gpu` under every schedule with `mutation` set; true when something noticed:
// an emulator error, an output far from `want`, or schedules giving different outputs.
bool noticed(const std::string& mutation, const std::vector<float>& want,
             const std::function<std::vector<float>()>& gpu, double tolerance) {
  std::vector<float> first;
  for (auto schedule : cmtest::kSchedules) {
    EmuScope scope(schedule, mutation);
    std::vector<float> got;
    try {
      got = gpu();
    } catch (const emu::EmuError&) {
      return true;
    }
    if (!(cmtest::relative_error(got, want) <= tolerance)) return true;
    if (first.empty()) first = got;
    if (std::memcmp(first.data(), got.data(), got.size() * sizeof(float)) != 0) return true;
  }
  return false;
}

struct Attention {
  Attention() : pair(KvShape{1, 2, 64, 32, DType::kF16}, 64) {
    cmtest::Rng rng(21);
    const std::vector<int32_t> shared = rng.tokens(80, 1000);
    for (int i = 0; i < 6; ++i) {
      std::vector<int32_t> p = shared;
      const std::vector<int32_t> own = rng.tokens(static_cast<size_t>(5 + 9 * i), 1000);
      p.insert(p.end(), own.begin(), own.end());
      pair.insert(p, 100 + i);
    }
    q = rng.floats(6 * 8 * 64);
    qp = rng.floats(40 * 8 * 64);
  }
  std::vector<float> decode(KvCache& kv, const std::vector<uint32_t>& ids, DecodeMode mode) {
    std::vector<float> out(q.size());
    kv.decode(ids.data(), ids.size(), 0, 8, q.data(), out.data(), mode);
    return out;
  }
  std::vector<float> prefill(KvCache& kv, uint32_t id) {
    std::vector<float> out(qp.size());
    kv.prefill(id, 0, 8, 40, qp.data(), out.data());
    return out;
  }
  CachePair pair;
  std::vector<float> q, qp;
};

CM_TEST(emu_every_attention_sync_point_is_load_bearing) {
  Attention a;
  const std::vector<float> tpp = a.decode(*a.pair.cpu, a.pair.cpu_ids, DecodeMode::kTpp);
  const std::vector<float> base = a.decode(*a.pair.cpu, a.pair.cpu_ids, DecodeMode::kBaseline);
  const std::vector<float> pre = a.prefill(*a.pair.cpu, a.pair.cpu_ids.back());
  const auto tpp_gpu = [&] { return a.decode(*a.pair.gpu, a.pair.gpu_ids, DecodeMode::kTpp); };
  const auto base_gpu = [&] { return a.decode(*a.pair.gpu, a.pair.gpu_ids, DecodeMode::kBaseline); };
  const auto pre_gpu = [&] { return a.prefill(*a.pair.gpu, a.pair.gpu_ids.back()); };
  CHECK_MSG(!noticed("", tpp, tpp_gpu, 3e-3) && !noticed("", pre, pre_gpu, 3e-3), "the unmutated kernels fail");
  for (const char* point : {"tile_attention.wait_current", "tile_attention.wait_last", "tile_attention.tile_loaded",
                            "tile_attention.tile_consumed"}) {
    CHECK_MSG(noticed(point, tpp, tpp_gpu, 3e-3) || noticed(point, pre, pre_gpu, 3e-3), point << " is not tested");
  }
  for (const char* point : {"sequence_attention.queries_loaded", "sequence_attention.warps_done"}) {
    CHECK_MSG(noticed(point, base, base_gpu, 3e-3), point << " is not tested");
  }
}

CM_TEST(emu_every_gemm_and_norm_sync_point_is_load_bearing) {
  auto gpu = make_emu_device(DType::kF16);
  cmtest::Rng rng(4);
  const size_t m = 70, k = 96, n = 80;
  const std::vector<float> x = rng.floats(m * k), w = rng.floats(n * k), weight = rng.floats(k);
  const auto run = [&](auto op, size_t out_n) {
    float* xd = static_cast<float*>(gpu->allocate(x.size() * 4));
    float* wd = static_cast<float*>(gpu->allocate(weight.size() * 4));
    float* yd = static_cast<float*>(gpu->allocate(out_n * 4));
    gpu->copy_in(xd, x.data(), x.size() * 4);
    gpu->copy_in(wd, weight.data(), weight.size() * 4);
    op(xd, wd, yd);
    std::vector<float> y(out_n);
    gpu->copy_out(y.data(), yd, out_n * 4);
    gpu->release(xd);
    gpu->release(wd);
    gpu->release(yd);
    return y;
  };
  const DeviceMatrix wm = gpu->upload_matrix(w.data(), n, k);
  const auto gemm = [&] {
    return run([&](float* xd, float*, float* yd) { gpu->gemm(xd, m, wm, nullptr, yd); }, m * n);
  };
  const auto norm = [&] {
    return run([&](float* xd, float* wd, float* yd) { gpu->rmsnorm(xd, wd, m, k, 1e-5f, yd); }, m * k);
  };
  const std::vector<float> gemm_want = gemm(), norm_want = norm();
  for (const char* point : {"gemm.tiles_loaded", "gemm.tiles_consumed", "gemm.staged"}) {
    CHECK_MSG(noticed(point, gemm_want, gemm, 1e-6), point << " is not tested");
  }
  CHECK_MSG(noticed("rmsnorm.partials", norm_want, norm, 1e-6), "rmsnorm.partials is not tested");
  gpu->release_matrix(wm);
}

}  // namespace
