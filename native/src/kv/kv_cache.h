#pragma once
// The owner of the KV cache's state: the device, the chunk store on it and
// the prefix tree over them, all created, used and destroyed on one owner
// thread. Other threads never touch that state. They
//  - run a job on the owner thread and wait for it (run), or post one;
//  - read the statistics the owner thread published after its last job, and
//    take the tree events it has published so far (any thread, any time).
// The engine's unit of work is a step (step_request.h): begin_step applies
// releases, admissions and appends and builds the step plan once; the model
// runs every layer over it; end_step commits the tree.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "device/device.h"
#include "device/device_select.h"
#include "kv/chunk_store.h"
#include "kv/kv_transfer.h"
#include "kv/prefix_tree.h"
#include "kv/step_request.h"
#include "runtime/owner_thread.h"

namespace chunkmesh {

struct KvCacheOptions {
  KvShape shape;
  uint32_t capacity_chunks = 0;
  std::string model_id;
  int32_t vocab_size = 0;  // 0: token ids are not range-checked beyond >= 0
  int threads = 0;         // 0: default_thread_count()
  DeviceChoice device = DeviceChoice::kCpu;
  TierOptions tiers;  // host and disk tiers below the device pool (none by default)
  // When set, makes the device instead of `device` (on the owner thread): tests use it for the emulated GPU device.
  std::function<std::unique_ptr<Device>()> make_device;
};

// What JavaScript may read at any time: a copy made by the owner thread.
struct KvStats {
  TreeStats tree;
  TierCounters tiers;
  DiskRates disk_rates;
  uint32_t host_capacity = 0;  // chunks
  uint32_t disk_capacity = 0;  // chunk records
  uint64_t chunk_bytes = 0;
  uint64_t jobs = 0;  // owner-thread jobs finished so far
};

// A step between begin_step and end_step.
struct StepBatch {
  StepPlan plan;
  StepResult result;
  std::vector<uint32_t> ran;  // sequences whose tokens the plan computes, to commit
};

class KvCache {
 public:
  explicit KvCache(const KvCacheOptions& options);
  // Stops the tier IO, destroys the tree, store and device on the owner thread, then joins it.
  ~KvCache();
  KvCache(const KvCache&) = delete;
  KvCache& operator=(const KvCache&) = delete;

  // ---- any thread ----
  const KvShape& shape() const { return shape_; }
  const std::string& model_id() const { return model_id_; }
  const DeviceInfo& device_info() const { return device_info_; }
  // Why `auto` fell back to the CPU (empty otherwise).
  const std::string& device_note() const { return device_note_; }
  KvStats stats() const;
  std::vector<KvEvent> drain_events();

  // Runs fn on the owner thread and waits (inline when already there), then
  // publishes stats and events. fn's exceptions propagate.
  template <typename Fn>
  auto run(Fn&& fn) -> std::invoke_result_t<Fn&> {
    return owner_.run([&]() -> std::invoke_result_t<Fn&> {
      Publisher p(*this);
      return fn();
    });
  }
  // Queues work on the owner thread and returns. After work, and after what
  // it changed is published, done runs there too. Neither may throw.
  void post(std::function<void()> work, std::function<void()> done);
  bool on_owner() const { return owner_.on_owner(); }

  // ---- owner thread only ----
  PrefixTree& tree() { return *tree_; }
  ChunkStore& store() { return *store_; }
  Device& device() { return *device_; }
  // Checks the whole request (nothing changes when it is wrong), then
  // releases, admits and appends, filling batch (kept by the caller, so a
  // failure part way can still be undone by abort_step).
  void begin_step(const StepRequest& request, const StepLimits& limits, StepBatch& batch);
  // Commits every sequence the step computed (call after the forward pass).
  void end_step(StepBatch& batch);
  // Truncation reuse: makes the whole chunks of g.target that g.source's
  // cached chunks cover (on the device or host; disk chunks must be fetched
  // first) as tree nodes under the target's own keys, each row's K and V
  // copied from its source position, K rotated by -g.drop positions with
  // shift_cos / shift_sin (head_dim / 2 floats, Rope::shift) where it moved.
  // Returns the tokens made (0 when nothing is new or the pool has no room).
  // Checks g first (kInvalidArgument) and leaves no sequence behind.
  size_t graft(const GraftRequest& g, const float* shift_cos, const float* shift_sin, RopeLayout layout);
  // Migration (kv_transfer.h): the whole cached chunks of tokens' prefix
  // under salt that are on the device or host (at most max_chunks; disk
  // chunks must be fetched first), read out with their keys and checksums.
  std::vector<KvChunkRecord> export_prefix(const std::string& salt, const std::vector<int32_t>& tokens,
                                           size_t max_chunks);
  // Makes chunks (tokens' first chunks.size() chunks, in order) cached tree
  // nodes in one commit. Checks every key (recomputed from tokens and salt)
  // and checksum first (kChunkMismatch), and the pool's room (kCapacityExhausted):
  // on any error nothing is visible. Returns the tokens made (0: all were cached).
  size_t import_prefix(const std::string& salt, const std::vector<int32_t>& tokens,
                       const std::vector<KvChunkRecord>& chunks);
  // After any failure of a step: releases every sequence the request named
  // or created (their new KV may be half written), so a failed step always
  // leaves none of them behind.
  void abort_step(const StepRequest& request, StepBatch& batch) noexcept;

  // Models bound to this cache; a cache with models attached is not disposed.
  void attach_model() { ++models_; }
  void detach_model() { --models_; }
  int models() const { return models_.load(); }

  // ---- convenience operations for tests, tools and the trace replayer; each runs on the owner thread ----
  // Writes K and V ([n][kv_heads][head_dim] fp32, host) of positions [pos, pos + n).
  void write_kv(uint32_t seq_id, int layer, size_t pos, size_t n, const float* k, const float* v);
  void read_kv(uint32_t seq_id, int layer, size_t pos, size_t n, float* k, float* v);
  // One decode step of attention of one layer (host q, out: [batch][n_heads][head_dim]).
  void decode(const uint32_t* seq_ids, size_t batch, int layer, int n_heads, const float* q, float* out,
              DecodeMode mode);
  // Benchmark form of decode: the plan built and q uploaded once, then
  // `repeats` decode steps back to back on the device; returns seconds per
  // step (wall time to the device's completion, divided by repeats).
  double time_decode(const uint32_t* seq_ids, size_t batch, int layer, int n_heads, const float* q, DecodeMode mode,
                     int repeats);
  // Device-to-device copy bandwidth, bytes read plus bytes written per second,
  // over a buffer of `bytes` (best of `repeats`): the memory roofline of the device.
  double copy_bandwidth(size_t bytes, int repeats);
  // Attention of the sequence's last n_new tokens (already appended and written) over all of it.
  void prefill(uint32_t seq_id, int layer, int n_heads, size_t n_new, const float* q, float* out);
  void check_layer(int layer) const;
  void check_heads(int n_heads) const;

 private:
  // Publishes stats and events when a job finishes, however it finishes.
  struct Publisher {
    explicit Publisher(KvCache& c) : cache(c) {}
    ~Publisher() { cache.publish(); }
    KvCache& cache;
  };
  void publish();
  float attention_scale() const;

  const KvShape shape_;
  const std::string model_id_;
  OwnerThread owner_;  // first: the members below are created and destroyed on it
  std::unique_ptr<Device> device_;
  std::unique_ptr<ChunkStore> store_;
  std::unique_ptr<PrefixTree> tree_;
  DeviceInfo device_info_;
  std::string device_note_;
  std::atomic<int> models_{0};

  mutable std::mutex published_;  // guards stats_ and events_
  KvStats stats_;
  std::vector<KvEvent> events_;
};

}  // namespace chunkmesh
