#include "emu_rig.h"

#include <algorithm>
#include <cmath>

#include "device/emu/emu_device.h"

namespace cmtest {

using namespace chunkmesh;

EmuScope::EmuScope(emu::Schedule schedule, const std::string& mutation) {
  emu::Settings s;
  s.schedule = schedule;
  s.seed = 11;
  s.mutation = mutation;
  emu::configure(s);
}

EmuScope::~EmuScope() { emu::configure(emu::Settings{}); }

CachePair::CachePair(const KvShape& shape, uint32_t capacity_chunks) {
  KvCacheOptions o;
  o.shape = shape;
  o.capacity_chunks = capacity_chunks;
  o.model_id = "emu";
  o.threads = 1;
  cpu = std::make_unique<KvCache>(o);
  o.make_device = [] { return make_emu_device(DType::kF16); };
  gpu = std::make_unique<KvCache>(o);
}

void CachePair::insert(const std::vector<int32_t>& prompt, uint64_t kv_seed) {
  const KvShape& s = cpu->shape();
  for (KvCache* kv : {cpu.get(), gpu.get()}) {
    const MatchResult m =
        kv->run([&] { return kv->tree().add_sequence("", prompt.data(), prompt.size(), prompt.size()); });
    const size_t n = prompt.size() - m.cached_tokens;
    if (n > 0) kv->run([&] { kv->tree().append(m.seq_id, prompt.data() + m.cached_tokens, n); });
    Rng rng(kv_seed);  // the same K/V for both caches
    for (int layer = 0; layer < s.layers; ++layer) {
      const std::vector<float> k = rng.floats(n * s.kv_heads * s.head_dim);
      const std::vector<float> v = rng.floats(n * s.kv_heads * s.head_dim);
      if (n > 0) kv->write_kv(m.seq_id, layer, m.cached_tokens, n, k.data(), v.data());
    }
    kv->run([&] { kv->tree().commit(m.seq_id); });
    (kv == cpu.get() ? cpu_ids : gpu_ids).push_back(m.seq_id);
  }
}

double relative_error(const std::vector<float>& a, const std::vector<float>& b) {
  double err = 0, scale = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    err = std::max(err, static_cast<double>(std::fabs(a[i] - b[i])));
    scale = std::max(scale, static_cast<double>(std::fabs(b[i])));
  }
  return err / std::max(scale, 1e-30);
}

}  // namespace cmtest
