// The emulator's own contract (kernels/emu/emu.h): what a kernel that breaks
// the CUDA execution model gets, tiny kernels at a time.
#include <cmath>
#include <vector>

#include "harness.h"
#include "kernels/portable.h"

namespace {

using namespace chunkmesh::kern;
namespace emu = chunkmesh::emu;

template <typename Fn>
bool emu_error(Fn&& fn, const char* expect) {
  try {
    fn();
  } catch (const emu::EmuError& e) {
    return std::string(e.what()).find(expect) != std::string::npos;
  }
  return false;
}

struct ScheduleScope {
  explicit ScheduleScope(emu::Schedule s) {
    emu::Settings st;
    st.schedule = s;
    st.seed = 7;
    emu::configure(st);
  }
  ~ScheduleScope() { emu::configure(emu::Settings{}); }
};

CM_KERNEL void sum_to_thread0(float* out) {
  CM_SHARED(float, s, 64);
  s[thread_x()] = static_cast<float>(thread_x());
  CM_SYNC("test.sum.written");
  if (thread_x() == 0) {
    float t = 0.f;
    for (int i = 0; i < 64; ++i) t += s[i];
    *out = t;
  }
}

CM_TEST(emu_barrier_makes_every_write_visible_under_every_schedule) {
  for (auto sch : {emu::Schedule::kForward, emu::Schedule::kReverse, emu::Schedule::kShuffle}) {
    ScheduleScope scope(sch);
    float out = 0.f;
    emu::launch_kernel(sum_to_thread0, emu::Dim3{3}, emu::Dim3{64}, 0, &out);
    CHECK_EQ(out, 64.f * 63.f / 2.f);
  }
}

CM_TEST(emu_missing_barrier_reads_poison_in_some_schedule) {
  emu::Settings st;
  st.mutation = "test.sum.written";
  bool wrong = false;
  for (auto sch : {emu::Schedule::kForward, emu::Schedule::kReverse, emu::Schedule::kShuffle}) {
    st.schedule = sch;
    emu::configure(st);
    float out = 0.f;
    emu::launch_kernel(sum_to_thread0, emu::Dim3{1}, emu::Dim3{64}, 0, &out);
    wrong = wrong || !(out == 64.f * 63.f / 2.f);
  }
  emu::configure(emu::Settings{});
  CHECK_MSG(wrong, "skipping the barrier went unnoticed");
}

CM_KERNEL void early_exit_then_sync(int* x) {
  if (thread_x() < 5) return;
  CM_SYNC("test.divergent");
  *x = 1;
}

CM_TEST(emu_reports_a_divergent_barrier) {
  int x = 0;
  CHECK(emu_error([&] { emu::launch_kernel(early_exit_then_sync, emu::Dim3{1}, emu::Dim3{32}, 0, &x); },
                  "divergent __syncthreads"));
}

CM_KERNEL void half_warp_shuffles(float* out) {
  float v = static_cast<float>(lane());
  if (lane() < 16) v = shfl_xor(v, 1);
  *out = v;
}

CM_TEST(emu_reports_a_warp_collective_with_lanes_missing) {
  float out = 0.f;
  CHECK(
      emu_error([&] { emu::launch_kernel(half_warp_shuffles, emu::Dim3{1}, emu::Dim3{32}, 0, &out); }, "lanes exited"));
}

CM_KERNEL void barrier_against_collective(float* out) {
  if (warp() == 0) {
    CM_SYNC("test.deadlock");
  } else {
    *out = shfl_xor(1.f, 1);
    CM_SYNC("test.deadlock.late");
    CM_SYNC("test.deadlock.later");
  }
}

CM_TEST(emu_reports_mismatched_barriers) {
  float out = 0.f;
  CHECK(emu_error([&] { emu::launch_kernel(barrier_against_collective, emu::Dim3{1}, emu::Dim3{64}, 0, &out); },
                  "__syncthreads"));
}

CM_KERNEL void shuffles(float* out) {
  const float v = static_cast<float>(thread_x());
  out[thread_x()] =
      shfl_xor(v, 3) + 1000.f * shfl_idx(v, 5) + 1e6f * static_cast<float>(ballot(lane() % 3 == 0) & 0xff);
}

CM_TEST(emu_warp_shuffles_and_ballots_exchange_lane_values) {
  std::vector<float> out(64);
  emu::launch_kernel(shuffles, emu::Dim3{1}, emu::Dim3{64}, 0, out.data());
  unsigned bits = 0;
  for (int l = 0; l < 8; ++l) bits |= (l % 3 == 0 ? 1u : 0u) << l;
  for (int t = 0; t < 64; ++t) {
    const int w = t / 32 * 32;
    CHECK_EQ(out[t], static_cast<float>(w + ((t % 32) ^ 3)) + 1000.f * static_cast<float>(w + 5) + 1e6f * bits);
  }
}

CM_KERNEL void out_of_bounds(float* out) {
  CM_SHARED(float, s, 16);
  s[thread_x()] = 1.f;  // 32 threads, 16 slots
  *out = s[0];
}

CM_TEST(emu_bounds_checks_shared_memory) {
  float out = 0.f;
  CHECK(emu_error([&] { emu::launch_kernel(out_of_bounds, emu::Dim3{1}, emu::Dim3{32}, 0, &out); }, "indexed at 16"));
}

CM_KERNEL void async_copy(const float* src, float* out) {
  CM_SHARED(float, s, 4);
  if (thread_x() == 0) {
    async_copy_16(at(s, 0, 4), src);
    async_commit();
    out[0] = s[0];  // before the wait: still poison
    CM_ASYNC_WAIT("test.async.wait", 0);
    out[1] = s[0];
  }
}

CM_TEST(emu_async_copies_land_only_at_their_wait) {
  const float src[4] = {1.f, 2.f, 3.f, 4.f};
  float out[2] = {0.f, 0.f};
  emu::launch_kernel(async_copy, emu::Dim3{1}, emu::Dim3{32}, 0, src, out);
  CHECK(std::isnan(out[0]));
  CHECK_EQ(out[1], 1.f);
}

}  // namespace
