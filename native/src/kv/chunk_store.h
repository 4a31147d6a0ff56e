#pragma once
// Where the bytes of every tree node live, and the moves between tiers:
// node -> device slot, host slot, or disk record. The device tier is a fixed
// pool of slots allocated once on the Device; running sequences' private
// tails also hold device slots (taken and given back here). Below it, when
// configured, a host tier (HostArena: page-locked on a GPU) and below that a
// disk tier (DiskFile), written and read by IO threads.
//
// The store moves bytes and keeps the map; which node to evict, demote,
// write back, read or promote is the prefix tree's decision.
//
// States of a node's bytes and the moves between them:
//   kDevice      --demote_to_host (owner thread, a device copy)-->  kHost
//   kHost        --start_write (IO thread)--> kWriting --done--> kDisk
//   kDisk        --start_read (IO thread)-->  kReading --done--> kHost
//   kHost, kWriting  --promote (owner thread, a device copy)-->  kDevice
//   any          --forget--> gone;  kDevice/kHost --place--> kDevice
// kWriting keeps the host copy readable until the write lands; kReading is
// not readable until the read lands and checks out. An IO job owns the host
// slot and disk record it was lent until its completion comes back to the
// owner thread (finish_io); a node that moved or was forgotten meanwhile is
// recognised by its generation, and the job's resources are simply freed.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kv/kv_event.h"
#include "kv/kv_pool.h"
#include "kv/tier/disk_file.h"
#include "kv/tier/host_arena.h"
#include "kv/tier/io_worker.h"

namespace chunkmesh {

class Device;

struct TierOptions {
  uint32_t host_slots = 0;  // 0: no host tier (evicted chunks are dropped)
  std::string disk_dir;     // empty: no disk tier; needs a host tier
  size_t disk_bytes = 0;
  int io_threads = 2;
};

enum class Where : uint8_t { kNone, kDevice, kHost, kWriting, kDisk, kReading };

// What an IO job found, handed to the tree on the owner thread.
struct IoDone {
  enum Kind : uint8_t { kWritten, kWriteFailed, kRead, kReadFailed } kind = kWritten;
  uint32_t node = 0;
  DiskRead read = DiskRead::kOk;  // kReadFailed: why
  std::string error;              // kWriteFailed / kReadFailed: what the disk said
  size_t bytes = 0;
  double seconds = 0;  // the IO itself, on the IO thread
};

// Gets IO results on the owner thread. The tree implements it.
class IoListener {
 public:
  virtual ~IoListener() = default;
  virtual void io_finished(const IoDone& done) = 0;
};

struct TierCounters {
  uint64_t disk_writes = 0, disk_write_bytes = 0, disk_reads = 0, disk_read_bytes = 0;
  double disk_write_seconds = 0, disk_read_seconds = 0;
  uint64_t checksum_failures = 0;  // reads refused: short, damaged, or another write's record
  uint64_t io_errors = 0;          // reads and writes the OS failed
  bool disk_failed = false;        // a write failed: the disk tier takes no more writes
  std::string disk_error;          // the first failure's text
};

class ChunkStore {
 public:
  // post_to_owner queues a job on the owner thread (how IO results come back).
  ChunkStore(Device& device, const KvShape& shape, uint32_t device_slots, const TierOptions& tiers = {},
             std::function<void(std::function<void()>)> post_to_owner = {});
  ~ChunkStore();
  ChunkStore(const ChunkStore&) = delete;
  ChunkStore& operator=(const ChunkStore&) = delete;

  const KvPool& pool() const { return pool_; }
  const KvShape& shape() const { return pool_.shape; }
  uint32_t capacity() const { return pool_.slots; }
  void set_listener(IoListener* listener) { listener_ = listener; }
  // Stops the IO threads (their results still queued on the owner thread are
  // then delivered before anything after). Call before destroying the tree.
  void stop_io();

  // ---- device slots ----
  uint32_t free_slots() const { return static_cast<uint32_t>(free_.size()); }
  // A free device slot; the caller has checked free_slots() > 0.
  uint32_t take_slot();
  void give_slot(uint32_t slot);
  void copy_slot(uint32_t dst, uint32_t src);

  // ---- node locations ----
  Where where(uint32_t node) const { return node < loc_.size() ? loc_[node].where : Where::kNone; }
  // The tier the node counts in for the cluster: kWriting is still host, kReading still disk.
  KvTier tier_of(uint32_t node) const;
  bool on_device(uint32_t node) const { return where(node) == Where::kDevice; }
  // Device or host copy present: a prefix hit can use it now.
  bool usable(uint32_t node) const;
  uint32_t slot_of(uint32_t node) const { return loc_[node].slot; }
  // The node's bytes are now in device slot `slot` (written there, or adopted); other copies are dropped.
  void place(uint32_t node, uint32_t slot);
  // The node leaves the tree: its bytes are released wherever they are.
  void forget(uint32_t node);

  // ---- tiers ----
  bool has_host() const { return host_ != nullptr; }
  bool has_disk() const { return disk_ != nullptr; }
  bool disk_writable() const { return disk_ != nullptr && !counters_.disk_failed; }
  uint32_t host_capacity() const { return host_ ? host_->capacity() : 0; }
  uint32_t host_free() const { return host_ ? host_->free_slots() : 0; }
  uint32_t disk_capacity() const { return disk_ ? disk_->capacity() : 0; }
  uint32_t disk_free() const { return disk_ ? disk_->free_records() : 0; }
  // Write-back jobs not yet come back (each holds a host slot until then).
  uint32_t writes_in_flight() const { return writes_in_flight_; }
  uint32_t reads_in_flight() const { return reads_in_flight_; }
  // kDevice -> kHost; needs host_free() > 0. Frees the device slot.
  void demote_to_host(uint32_t node);
  // kHost -> kWriting, key names the chunk in its record; needs disk_writable() and disk_free() > 0.
  void start_write(uint32_t node, uint64_t key);
  // kHost -> kDisk at once, on the calling (owner) thread: for a host tier
  // that must give up a slot now (a burst of demotions beyond its headroom).
  // The write lands in the page cache, so this costs about a memory copy;
  // false when it failed (the disk tier then takes no more writes).
  bool write_now(uint32_t node, uint64_t key);
  // kDisk -> kReading; needs host_free() > 0.
  void start_read(uint32_t node);
  // kHost or kWriting -> kDevice into slot `slot`, taken by the caller.
  void promote(uint32_t node, uint32_t slot);
  const TierCounters& counters() const { return counters_; }
  // Runs fn later, as its own job on the owner thread (after the current one).
  void defer(std::function<void()> fn) { post_to_owner_(std::move(fn)); }
  // Disk bandwidth measured at start (zeros without a disk tier).
  const DiskRates& disk_rates() const { return disk_rates_; }

 private:
  // An IO job's result, on the owner thread: updates the map, then tells the listener.
  void finish_io(IoDone done, uint32_t gen, uint32_t host_slot, uint32_t record);
  struct Location {
    Where where = Where::kNone;
    uint32_t slot = 0;    // device slot (kDevice) or host slot (kHost, kWriting, kReading)
    uint32_t record = 0;  // disk record (kWriting, kDisk, kReading)
    uint32_t gen = 0;     // bumped on every move, so a stale IO result is recognised
  };
  // What a disk record must hold to be read back: the chunk's key and its write's stamp.
  struct Stamp {
    uint64_t key = 0;
    uint64_t stamp = 0;
  };
  Location& loc(uint32_t node);
  // Adds an IO result to the counters.
  void count(const IoDone& done);
  // Ends the node's current location: frees what it holds, except what an IO job in flight owns.
  void vacate(Location& at);

  Device& device_;
  KvPool pool_;
  std::vector<uint32_t> free_;  // stack: most recently freed first, warm in cache
  std::vector<Location> loc_;   // indexed by node id, grown as nodes appear
  std::unique_ptr<HostArena> host_;
  std::unique_ptr<DiskFile> disk_;
  DiskRates disk_rates_;
  std::function<void(std::function<void()>)> post_to_owner_;
  IoListener* listener_ = nullptr;
  TierCounters counters_;
  std::vector<Stamp> stamps_;  // by disk record
  uint64_t next_stamp_ = 1;
  uint32_t writes_in_flight_ = 0;
  uint32_t reads_in_flight_ = 0;
  std::unique_ptr<IoWorker> io_;  // last: its threads stop before the tiers they use go away
};

}  // namespace chunkmesh
