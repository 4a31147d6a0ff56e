// KV migration on the emulated GPU device: export_prefix / import_prefix go
// through the device's read_kv / write_kv, so a prefix exported from the
// emulated GPU's f16 pool and imported into the CPU device's, and from there
// into a second emulated GPU, must read back the source's values exactly
// (f16 values survive the fp32 wire format unchanged).
#include <vector>

#include "device/emu/emu_device.h"
#include "emu_rig.h"
#include "graft_rig.h"

namespace {

using namespace chunkmesh;

CM_TEST(emu_transfer_between_gpu_and_cpu_devices) {
  for (const emu::Schedule schedule : cmtest::kSchedules) {
    cmtest::EmuScope scope(schedule);
    cmtest::GraftCase g;
    g.chunk_tokens = 16;  // the GPU device's smallest chunk
    g.source_tokens = 16 * 4 + 3;
    KvCacheOptions o;
    o.shape = KvShape{2, 2, 16, g.chunk_tokens, DType::kF16};
    o.capacity_chunks = 32;
    o.model_id = "emu-transfer";
    o.threads = 1;
    KvCache cpu(o);
    o.make_device = [] { return make_emu_device(DType::kF16); };
    KvCache gpu(o);
    KvCache gpu2(o);
    const std::vector<int32_t> source = cmtest::graft_source(g);
    cmtest::cache_source(gpu, source, 5);
    const auto out = gpu.run([&] { return gpu.export_prefix("", source, 64); });
    CHECK_EQ(out.size(), 4u);
    CHECK_EQ(cpu.run([&] { return cpu.import_prefix("", source, out); }), 64u);
    const auto back = cpu.run([&] { return cpu.export_prefix("", source, 64); });
    CHECK_EQ(gpu2.run([&] { return gpu2.import_prefix("", source, back); }), 64u);
    const cmtest::LayersKv want = cmtest::read_cached(gpu, source, 64);
    for (KvCache* c : {&cpu, &gpu2}) {
      const cmtest::LayersKv got = cmtest::read_cached(*c, source, 64);
      for (int layer = 0; layer < 2; ++layer) {
        CHECK(got.k[layer] == want.k[layer]);
        CHECK(got.v[layer] == want.v[layer]);
      }
    }
  }
}

}  // namespace
