// The emulator's scheduler: one block at a time, its threads as fibers
// resumed in the schedule's order; barriers and warp collectives are
// released here once every participant has arrived (emu.h has the contract).
// Fibers are stacks primed once through ucontext and then reused for every
// thread of every block; all switching is _setjmp/_longjmp, which, unlike
// swapcontext, makes no system call.
#include "kernels/emu/emu.h"

#include <setjmp.h>
#include <ucontext.h>

#include <algorithm>
#include <array>
#include <exception>
#include <memory>
#include <mutex>
#include <numeric>
#include <random>
#include <unordered_map>
#include <vector>

namespace chunkmesh::emu {
namespace {

constexpr size_t kStackBytes = size_t{256} << 10;
constexpr size_t kStaticSharedBytes = size_t{228} << 10;  // the most an H100 SM offers
constexpr unsigned char kPoison = 0xff;                   // NaN as f32, f16 and bf16

enum class State { kRunnable, kBlockBarrier, kWarpBarrier, kDone };

struct Copy {
  void* dst;
  unsigned char bytes[16];
};

// A stack with a fiber parked on it, waiting to run a thread's kernel body.
struct FiberStack {
  std::unique_ptr<char[]> mem;
  ucontext_t ctx{};
  jmp_buf ready;
};

struct Thread {
  Dim3 tid;
  int linear = 0;
  int warp = 0;
  int lane = 0;
  jmp_buf resume;
  bool started = false;
  struct FiberStack* stack = nullptr;
  State state = State::kRunnable;
  uint64_t block_barriers = 0;  // barriers passed, to match arrivals
  uint64_t collectives = 0;     // warp collectives passed
  const char* collective = "";  // kind of the collective waited at
  std::vector<Copy> open;       // copies not yet committed
  std::vector<std::vector<Copy>> groups;
};

struct Block {
  Dim3 idx;
  Dim3 dim;
  Dim3 grid;
  KernelBody body = nullptr;
  void* args = nullptr;
  std::vector<Thread> threads;
  jmp_buf scheduler;
  std::exception_ptr error;
  std::vector<unsigned char> static_smem;
  size_t static_used = 0;
  std::unordered_map<std::string, size_t> sites;
  std::vector<unsigned char> dynamic_smem;
  // per warp, two generations of lane slots (a lane can be at most one collective ahead of a slow one)
  std::vector<std::array<std::array<uint32_t, kWarpSize>, 2>> slots;
  // per warp: scratch for work done once per collective (warp_once)
  struct Once {
    uint64_t generation = ~uint64_t{0};
    std::vector<unsigned char> bytes;
  };
  std::vector<Once> once;
};

thread_local Block* t_block = nullptr;
thread_local Thread* t_thread = nullptr;

std::mutex g_settings_mutex;
Settings g_settings;
thread_local Settings t_launch;  // the running launch's copy

Thread& self() {
  if (t_thread == nullptr) throw EmuError("emulated CUDA call outside a kernel launch");
  return *t_thread;
}

// Back to the scheduler; returns when the scheduler resumes this fiber.
void yield() {
  Thread& t = self();
  if (_setjmp(t.resume) == 0) _longjmp(t_block->scheduler, 1);
}

// Runs thread t until it yields or finishes.
void resume(Block& b, Thread& t) {
  t_thread = &t;
  if (_setjmp(b.scheduler) == 0) {
    if (t.started) _longjmp(t.resume, 1);
    t.started = true;
    _longjmp(t.stack->ready, 1);
  }
  t_thread = nullptr;
}

thread_local FiberStack* t_priming = nullptr;

// The life of a fiber: park at `ready`; when the scheduler jumps there, run
// the current thread's kernel body, then park again for the next thread.
void fiber_main() {
  FiberStack* const st = t_priming;
  for (;;) {
    if (_setjmp(st->ready) == 0) _longjmp(t_block->scheduler, 1);
    Block& b = *t_block;
    try {
      b.body(b.args);
    } catch (...) {
      if (!b.error) b.error = std::current_exception();
    }
    t_thread->state = State::kDone;
  }
}

// Fiber stack i of this thread, primed (parked at `ready`) on first use.
FiberStack* fiber_stack(Block& b, size_t i) {
  static thread_local std::vector<std::unique_ptr<FiberStack>> stacks;
  while (stacks.size() <= i) {
    auto st = std::make_unique<FiberStack>();
    st->mem.reset(new char[kStackBytes]);
    getcontext(&st->ctx);
    st->ctx.uc_stack.ss_sp = st->mem.get();
    st->ctx.uc_stack.ss_size = kStackBytes;
    st->ctx.uc_link = nullptr;
    makecontext(&st->ctx, fiber_main, 0);
    t_priming = st.get();
    if (_setjmp(b.scheduler) == 0) setcontext(&st->ctx);
    stacks.push_back(std::move(st));
  }
  return stacks[i].get();
}

std::vector<int> resume_order(size_t n, uint64_t round) {
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  const Settings& s = t_launch;
  if (s.schedule == Schedule::kReverse) std::reverse(order.begin(), order.end());
  if (s.schedule == Schedule::kShuffle) {
    std::mt19937_64 rng(s.seed * 0x9e3779b97f4a7c15ull + round);
    std::shuffle(order.begin(), order.end(), rng);
  }
  return order;
}

std::string where(const Block& b) {
  return "block (" + std::to_string(b.idx.x) + "," + std::to_string(b.idx.y) + "," + std::to_string(b.idx.z) + ")";
}

// Releases the block barrier once every live thread has arrived; throws on divergence.
bool release_block(Block& b) {
  const size_t n = b.threads.size();
  size_t live = 0, at_block = 0;
  for (const Thread& t : b.threads) {
    live += t.state != State::kDone;
    at_block += t.state == State::kBlockBarrier;
  }
  if (at_block == 0 || at_block != live) return false;
  if (live < n) {
    throw EmuError("divergent __syncthreads in " + where(b) + ": " + std::to_string(n - live) +
                   " threads exited while " + std::to_string(live) + " wait");
  }
  const uint64_t gen = b.threads[0].block_barriers;
  for (Thread& t : b.threads) {
    if (t.block_barriers != gen) throw EmuError("threads of " + where(b) + " wait at different __syncthreads");
    ++t.block_barriers;
    t.state = State::kRunnable;
  }
  return true;
}

// Releases warp w's collective once every lane has arrived; throws on divergence.
bool release_warp(Block& b, size_t w) {
  const size_t w0 = w * kWarpSize;
  const size_t w1 = std::min(b.threads.size(), w0 + kWarpSize);
  size_t alive = 0, waiting = 0;
  for (size_t i = w0; i < w1; ++i) {
    alive += b.threads[i].state != State::kDone;
    waiting += b.threads[i].state == State::kWarpBarrier;
  }
  if (waiting == 0 || waiting != alive) return false;
  const Thread& first = b.threads[w0];
  if (alive < w1 - w0) {
    throw EmuError(std::string("warp collective '") + first.collective + "' in " + where(b) + " warp " +
                   std::to_string(w) + ": " + std::to_string(w1 - w0 - alive) + " lanes exited");
  }
  for (size_t i = w0; i < w1; ++i) {
    const Thread& t = b.threads[i];
    if (t.collectives != first.collectives || std::strcmp(t.collective, first.collective) != 0) {
      throw EmuError(std::string("lanes of ") + where(b) + " warp " + std::to_string(w) +
                     " meet at different collectives ('" + first.collective + "' and '" + t.collective + "')");
    }
  }
  for (size_t i = w0; i < w1; ++i) b.threads[i].state = State::kRunnable;
  return true;
}

// Runs one warp as far as it can go alone: its lanes in the schedule's order,
// its collectives released as soon as every lane arrives, until each lane is
// at the block barrier or done. Warps running ahead of one another like this
// is what makes a missing __syncthreads or cp.async wait read poison.
bool run_warp(Block& b, size_t w, uint64_t& round) {
  const size_t w0 = w * kWarpSize;
  const size_t lanes = std::min(b.threads.size(), w0 + kWarpSize) - w0;
  bool ran = false;
  for (;;) {
    bool any = false;
    for (int i : resume_order(lanes, round++)) {
      Thread& t = b.threads[w0 + i];
      if (t.state != State::kRunnable) continue;
      resume(b, t);
      any = ran = true;
      if (b.error) std::rethrow_exception(b.error);
    }
    if (!release_warp(b, w) && !any) return ran;
  }
}

void run_block(Block& b) {
  const size_t n = b.threads.size();
  for (size_t i = 0; i < n; ++i) {
    Thread& t = b.threads[i];
    t.linear = static_cast<int>(i);
    t.tid = Dim3{static_cast<unsigned>(i % b.dim.x), static_cast<unsigned>(i / b.dim.x % b.dim.y),
                 static_cast<unsigned>(i / (b.dim.x * b.dim.y))};
    t.warp = static_cast<int>(i / kWarpSize);
    t.lane = static_cast<int>(i % kWarpSize);
    t.stack = fiber_stack(b, i);
  }
  const size_t warps = (n + kWarpSize - 1) / kWarpSize;
  for (uint64_t round = 0;;) {
    bool ran = false;
    for (int w : resume_order(warps, round++)) ran = run_warp(b, static_cast<size_t>(w), round) || ran;
    if (std::all_of(b.threads.begin(), b.threads.end(), [](const Thread& t) { return t.state == State::kDone; })) {
      return;
    }
    if (!release_block(b) && !ran) {
      size_t at_block = 0, at_warp = 0;
      for (const Thread& t : b.threads) {
        at_block += t.state == State::kBlockBarrier;
        at_warp += t.state == State::kWarpBarrier;
      }
      throw EmuError("deadlock in " + where(b) + ": " + std::to_string(at_block) + " threads at __syncthreads, " +
                     std::to_string(at_warp) + " at warp collectives");
    }
  }
}

// Arrive at a warp collective carrying v; returns the slot array of this collective.
const std::array<uint32_t, kWarpSize>& warp_collective(const char* kind, uint32_t v) {
  Thread& t = self();
  auto& slots = t_block->slots[t.warp][t.collectives & 1];
  slots[t.lane] = v;
  t.collective = kind;
  t.state = State::kWarpBarrier;
  yield();
  ++t.collectives;
  return slots;
}

}  // namespace

void configure(const Settings& s) {
  std::lock_guard<std::mutex> lock(g_settings_mutex);
  g_settings = s;
}

Settings configured() {
  std::lock_guard<std::mutex> lock(g_settings_mutex);
  return g_settings;
}

bool mutated(const char* point) {
  const std::string& m = t_launch.mutation;
  return !m.empty() && m == point;
}

const Dim3& thread_idx() { return self().tid; }
const Dim3& block_idx() {
  self();
  return t_block->idx;
}
const Dim3& block_dim() {
  self();
  return t_block->dim;
}
const Dim3& grid_dim() {
  self();
  return t_block->grid;
}
int lane_id() { return self().lane; }
int warp_id() { return self().warp; }

void sync_threads() {
  self().state = State::kBlockBarrier;
  yield();
}

void sync_warp() { warp_collective("__syncwarp", 0); }

uint32_t shfl_xor(uint32_t v, int mask) {
  const int lane = self().lane;
  return warp_collective("shfl_xor", v)[(lane ^ mask) & (kWarpSize - 1)];
}

uint32_t shfl_idx(uint32_t v, int src_lane) { return warp_collective("shfl_idx", v)[src_lane & (kWarpSize - 1)]; }

uint32_t ballot(bool pred) {
  const auto& slots = warp_collective("ballot", pred ? 1u : 0u);
  uint32_t bits = 0;
  for (int i = 0; i < kWarpSize; ++i) bits |= (slots[i] & 1u) << i;
  return bits;
}

void* warp_once(size_t bytes, bool* first) {
  Thread& t = self();
  Block::Once& o = t_block->once[t.warp];
  *first = o.generation != t.collectives;
  if (*first) {
    o.generation = t.collectives;
    o.bytes.resize(bytes);
  }
  return o.bytes.data();
}

void* shared_static(const char* site, size_t bytes, size_t align) {
  self();
  Block& b = *t_block;
  const auto it = b.sites.find(site);
  if (it != b.sites.end()) return b.static_smem.data() + it->second;
  const size_t offset = (b.static_used + align - 1) / align * align;
  if (offset + bytes > kStaticSharedBytes) {
    throw EmuError(std::string("static shared memory exhausted at '") + site + "'");
  }
  b.static_used = offset + bytes;
  b.static_smem.resize(b.static_used, kPoison);
  b.sites.emplace(site, offset);
  return b.static_smem.data() + offset;
}

void* shared_dynamic(size_t* bytes) {
  self();
  *bytes = t_block->dynamic_smem.size();
  return t_block->dynamic_smem.data();
}

void check_shared(const void* p, size_t bytes, const char* what) {
  self();
  const auto* c = static_cast<const unsigned char*>(p);
  const auto inside = [&](const std::vector<unsigned char>& arena) {
    return c >= arena.data() && c + bytes <= arena.data() + arena.size();
  };
  if (!inside(t_block->static_smem) && !inside(t_block->dynamic_smem)) {
    throw EmuError(std::string(what) + ": " + std::to_string(bytes) + " bytes outside shared memory");
  }
}

void async_copy_16(void* smem_dst, const void* global_src) {
  check_shared(smem_dst, 16, "cp.async destination");
  Copy c;
  c.dst = smem_dst;
  std::memcpy(c.bytes, global_src, 16);
  self().open.push_back(c);
}

void async_commit() {
  Thread& t = self();
  t.groups.push_back(std::move(t.open));
  t.open.clear();
}

void async_wait(int pending) {
  Thread& t = self();
  while (t.groups.size() > static_cast<size_t>(std::max(0, pending))) {
    for (const Copy& c : t.groups.front()) std::memcpy(c.dst, c.bytes, 16);
    t.groups.erase(t.groups.begin());
  }
}

void launch(const Dim3& grid, const Dim3& block, size_t dynamic_shared_bytes, KernelBody body, void* args) {
  if (t_block != nullptr) throw EmuError("a kernel launched from inside a kernel");
  if (block.count() == 0 || block.count() > 1024) {
    throw EmuError("block of " + std::to_string(block.count()) + " threads (1..1024 allowed)");
  }
  if (grid.count() == 0) return;
  t_launch = configured();
  std::vector<int> blocks = resume_order(grid.count(), ~uint64_t{0});
  for (int linear : blocks) {
    Block b;
    b.idx = Dim3{static_cast<unsigned>(linear % grid.x), static_cast<unsigned>(linear / grid.x % grid.y),
                 static_cast<unsigned>(linear / (grid.x * grid.y))};
    b.dim = block;
    b.grid = grid;
    b.body = body;
    b.args = args;
    b.threads.resize(block.count());
    b.static_smem.reserve(kStaticSharedBytes);  // never reallocated: pointers into it stay valid
    b.dynamic_smem.assign(dynamic_shared_bytes, kPoison);
    b.slots.resize((block.count() + kWarpSize - 1) / kWarpSize);
    b.once.resize(b.slots.size());
    t_block = &b;
    try {
      run_block(b);
    } catch (...) {
      t_block = nullptr;
      throw;
    }
    t_block = nullptr;
  }
}

}  // namespace chunkmesh::emu
