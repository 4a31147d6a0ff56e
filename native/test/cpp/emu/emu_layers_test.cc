// The GEMM and layer kernels on the emulator against the CPU device, through
// the Device interface both implement: the same inputs, the same step plan.
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "device/emu/emu_device.h"
#include "emu_rig.h"
#include "runtime/half.h"

namespace {

using namespace chunkmesh;
using cmtest::Rng;

// A host vector in a device's memory, and back.
struct Mem {
  Mem(Device& d, size_t n) : dev(d), p(static_cast<float*>(d.allocate(n * sizeof(float)))), size(n) {}
  Mem(Device& d, const std::vector<float>& host) : Mem(d, host.size()) { d.copy_in(p, host.data(), host.size() * 4); }
  ~Mem() { dev.release(p); }
  std::vector<float> get() const {
    std::vector<float> out(size);
    dev.copy_out(out.data(), p, size * sizeof(float));
    return out;
  }
  Device& dev;
  float* p;
  size_t size;
};

float round_to(DType t, float x) {
  return t == DType::kF16 ? half_to_float(float_to_half(x)) : bf16_to_float(float_to_bf16(x));
}

std::vector<float> gemm_on(Device& d, const std::vector<float>& x, size_t m, size_t k, const std::vector<float>& w,
                           size_t n, const std::vector<float>& bias) {
  Mem xm(d, x), bm(d, bias), y(d, m * n);
  const DeviceMatrix wm = d.upload_matrix(w.data(), n, k);
  d.gemm(xm.p, m, wm, bm.p, y.p);
  d.synchronize();
  d.release_matrix(wm);
  return y.get();
}

CM_TEST(emu_gemm_equals_a_matmul_of_the_rounded_operands) {
  for (DType wt : {DType::kF16, DType::kBF16}) {
    auto gpu = make_emu_device(wt);
    auto cpu = make_cpu_device(1);
    Rng rng(3);
    struct Case {
      size_t m, k, n;
    };
    for (const Case c : {Case{1, 64, 16}, Case{17, 172, 100}, Case{70, 40, 130}}) {
      std::vector<float> x = rng.floats(c.m * c.k), w = rng.floats(c.n * c.k), bias = rng.floats(c.n);
      std::vector<float> xr = x, wr = w;
      for (float& v : xr) v = round_to(wt, v);
      for (float& v : wr) v = round_to(wt, v);
      const std::vector<float> got = gemm_on(*gpu, x, c.m, c.k, w, c.n, bias);
      const std::vector<float> want = gemm_on(*cpu, xr, c.m, c.k, wr, c.n, bias);
      const double err = cmtest::relative_error(got, want);
      CHECK_MSG(err <= 1e-5, "gemm " << c.m << "x" << c.k << "x" << c.n << " error " << err);
      // a row's result does not depend on the rest of its batch
      const std::vector<float> one = gemm_on(*gpu, std::vector<float>(x.end() - c.k, x.end()), 1, c.k, w, c.n, bias);
      CHECK(std::memcmp(one.data(), got.data() + (c.m - 1) * c.n, c.n * sizeof(float)) == 0);
    }
  }
}

// The per-row kernels, with a plan of `rows` rows.
CM_TEST(emu_layer_ops_equal_the_cpu_device) {
  auto gpu = make_emu_device(DType::kBF16);
  auto cpu = make_cpu_device(1);
  Rng rng(5);
  const size_t rows = 13, dim = 72, heads = 3, head_dim = 24, half = head_dim / 2, vocab = 50;
  StepPlan plan;
  plan.rows = rows;
  plan.tokens = rng.tokens(rows, vocab);
  plan.rope_cos = rng.floats(rows * half);
  plan.rope_sin = rng.floats(rows * half);
  plan.logit_rows = {3, 0, 12};
  const std::vector<float> x = rng.floats(rows * dim), w = rng.floats(dim), y = rng.floats(rows * dim);
  const std::vector<float> table = rng.floats(vocab * dim);
  std::vector<std::vector<float>> results[2];
  int i = 0;
  for (Device* d : {cpu.get(), gpu.get()}) {
    d->prepare(plan);
    Mem xm(*d, x), wm(*d, w), ym(*d, y), out(*d, rows * dim), g(*d, x), u(*d, y), r(*d, x), e(*d, rows * dim),
        gathered(*d, 3 * dim);
    d->rmsnorm(xm.p, wm.p, rows, dim, 1e-5f, out.p);
    d->swiglu(g.p, u.p, rows * dim);
    d->add(u.p, xm.p, rows * dim);
    for (RopeLayout l : {RopeLayout::kHalves, RopeLayout::kPairs}) d->rope(r.p, heads, head_dim, l);
    // the GPU keeps tables in its weight type: the CPU gets the table rounded alike
    std::vector<float> rounded = table;
    for (float& v : rounded) v = round_to(DType::kBF16, v);
    const DeviceMatrix tm = d->upload_matrix(d == gpu.get() ? table.data() : rounded.data(), vocab, dim);
    d->embed(tm, e.p);
    d->gather_logit_rows(xm.p, dim, gathered.p);
    d->synchronize();
    d->release_matrix(tm);
    results[i++] = {out.get(), g.get(), u.get(), r.get(), e.get(), gathered.get()};
  }
  const char* names[] = {"rmsnorm", "swiglu", "add", "rope", "embed", "gather"};
  for (int k = 0; k < 6; ++k) {
    const double err = cmtest::relative_error(results[1][k], results[0][k]);
    CHECK_MSG(err <= 1e-5, names[k] << " error " << err);
  }
}

CM_TEST(emu_kv_writes_and_reads_round_trip_through_the_pool) {
  auto gpu = make_emu_device(DType::kF16);
  for (DType kvt : {DType::kF16, DType::kBF16}) {
    const KvShape shape{2, 3, 16, 16, kvt};
    KvPool pool;
    pool.shape = shape;
    pool.slots = 4;
    pool.chunk_bytes = shape.chunk_bytes();
    pool.base = static_cast<uint8_t*>(gpu->allocate(pool.chunk_bytes * pool.slots));
    Rng rng(9);
    StepPlan plan;
    plan.rows = 16;
    for (uint32_t r = 0; r < 16; ++r) {  // 16 distinct (slot, row) pairs, scattered
      plan.kv_slot.push_back(r % 4);
      plan.kv_row.push_back((r * 7) % 16);
    }
    const std::vector<float> k = rng.floats(16 * 3 * 16), v = rng.floats(16 * 3 * 16);
    Mem km(*gpu, k), vm(*gpu, v), k2(*gpu, k.size()), v2(*gpu, v.size());
    gpu->prepare(plan);
    gpu->write_kv(pool, 1, km.p, vm.p);
    gpu->read_kv(pool, 1, k2.p, v2.p);
    std::vector<float> kr = k;
    for (float& x : kr) x = round_to(kvt, x);
    CHECK(cmtest::relative_error(k2.get(), kr) == 0.0);
    gpu->release(pool.base);
  }
}

}  // namespace
