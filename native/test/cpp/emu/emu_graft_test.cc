// Truncation reuse on the emulated GPU device: KvCache::graft goes through the
// device's read_kv / rope / write_kv, so the CUDA kernels must make what the
// CPU device makes from the same cached conversation.
#include <memory>

#include "device/emu/emu_device.h"
#include "emu_rig.h"
#include "graft_rig.h"
#include "model_rig.h"

namespace {

using namespace chunkmesh;

CM_TEST(emu_graft_equals_the_cpu_device) {
  for (RopeLayout layout : {RopeLayout::kHalves, RopeLayout::kPairs}) {
    for (const emu::Schedule schedule : cmtest::kSchedules) {
      cmtest::EmuScope scope(schedule);
      cmtest::GraftCase g;
      g.chunk_tokens = 16;  // the GPU device's smallest chunk
      g.source_tokens = 16 * 6 + 5;
      g.head = 20;
      g.drop = 37;
      g.layout = layout;
      KvCacheOptions o;
      o.shape = KvShape{2, 2, 16, g.chunk_tokens, DType::kF16};
      o.capacity_chunks = 32;
      o.model_id = "emu-graft";
      o.threads = 1;
      KvCache cpu(o);
      o.make_device = [] { return make_emu_device(DType::kF16); };
      KvCache gpu(o);
      const Rope rope(cmtest::model_config(32, 8, 2, 2, 2, 16, 1000, 1 << 16));
      const std::vector<int32_t> source = cmtest::graft_source(g);
      std::vector<int32_t> target(source.begin(), source.begin() + 20);
      target.insert(target.end(), source.begin() + 57, source.end());
      size_t made[2] = {};
      cmtest::LayersKv kv[2];
      KvCache* caches[2] = {&cpu, &gpu};
      for (int i = 0; i < 2; ++i) {
        cmtest::cache_source(*caches[i], source, 9);
        made[i] = cmtest::run_graft(*caches[i], rope, g, source);
        kv[i] = cmtest::read_cached(*caches[i], target, 48);
      }
      CHECK_EQ(made[0], 32u);  // target chunks 1 and 2: chunk 0 is the head's, chunk 3 is not all cached
      CHECK_EQ(made[1], made[0]);
      for (int layer = 0; layer < 2; ++layer) {
        CHECK(kv[1].v[layer] == kv[0].v[layer]);
        const double err = cmtest::relative_error(kv[1].k[layer], kv[0].k[layer]);
        CHECK_MSG(err < 2e-3, "layer " << layer << " K error " << err);  // one f16 rounding apart at most
      }
    }
  }
}

}  // namespace
