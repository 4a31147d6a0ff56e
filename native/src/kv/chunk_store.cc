#include "kv/chunk_store.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

#include "device/device.h"
#include "runtime/error.h"

namespace chunkmesh {

ChunkStore::ChunkStore(Device& device, const KvShape& shape, uint32_t device_slots, const TierOptions& tiers,
                       std::function<void(std::function<void()>)> post_to_owner)
    : device_(device), post_to_owner_(std::move(post_to_owner)) {
  if (device_slots == 0) throw_invalid("capacity must be at least one chunk");
  if (!tiers.disk_dir.empty() && tiers.host_slots == 0) {
    throw_invalid("the KV disk tier needs a host tier: disk records are written from and read into host memory");
  }
  if (!tiers.disk_dir.empty() && !post_to_owner_)
    throw_invalid("the KV disk tier needs a way back to the owner thread");
  pool_.shape = shape;
  pool_.slots = device_slots;
  pool_.chunk_bytes = shape.chunk_bytes();
  pool_.base = static_cast<uint8_t*>(device_.allocate(pool_.chunk_bytes * device_slots));
  free_.reserve(device_slots);
  for (uint32_t i = device_slots; i > 0; --i) free_.push_back(i - 1);
  try {
    if (tiers.host_slots > 0) host_ = std::make_unique<HostArena>(device_, pool_.chunk_bytes, tiers.host_slots);
    if (!tiers.disk_dir.empty()) {
      disk_ = std::make_unique<DiskFile>(tiers.disk_dir, pool_.chunk_bytes, tiers.disk_bytes);
      disk_rates_ = disk_->measure(size_t{16} << 20);
      stamps_.resize(disk_->capacity());
      io_ = std::make_unique<IoWorker>(std::max(1, tiers.io_threads));
    }
  } catch (...) {
    host_.reset();
    device_.release(pool_.base);
    throw;
  }
}

ChunkStore::~ChunkStore() {
  stop_io();
  disk_.reset();
  host_.reset();
  device_.release(pool_.base);
}

void ChunkStore::stop_io() {
  if (io_) io_->stop();
}

uint32_t ChunkStore::take_slot() {
  const uint32_t s = free_.back();
  free_.pop_back();
  return s;
}

void ChunkStore::give_slot(uint32_t slot) { free_.push_back(slot); }

void ChunkStore::copy_slot(uint32_t dst, uint32_t src) { device_.copy_chunk(pool_, dst, src); }

ChunkStore::Location& ChunkStore::loc(uint32_t node) {
  if (node >= loc_.size()) loc_.resize(node + 1);
  return loc_[node];
}

KvTier ChunkStore::tier_of(uint32_t node) const {
  switch (where(node)) {
    case Where::kHost:
    case Where::kWriting:
      return KvTier::kHost;
    case Where::kDisk:
    case Where::kReading:
      return KvTier::kDisk;
    default:
      return KvTier::kDevice;
  }
}

bool ChunkStore::usable(uint32_t node) const {
  const Where w = where(node);
  return w == Where::kDevice || w == Where::kHost || w == Where::kWriting;
}

void ChunkStore::vacate(Location& at) {
  switch (at.where) {
    case Where::kDevice:
      give_slot(at.slot);
      break;
    case Where::kHost:
      host_->give(at.slot);
      break;
    case Where::kDisk:
      disk_->give(at.record);
      break;
    case Where::kWriting:
    case Where::kReading:
      break;  // the job in flight owns the slot and record; it frees them when it comes back
    case Where::kNone:
      break;
  }
  at.where = Where::kNone;
  ++at.gen;
}

void ChunkStore::place(uint32_t node, uint32_t slot) {
  Location& at = loc(node);
  if (at.where != Where::kDevice) vacate(at);  // a node already on the device keeps its slot's bytes: adopted
  at.where = Where::kDevice;
  at.slot = slot;
}

void ChunkStore::forget(uint32_t node) {
  if (node < loc_.size()) vacate(loc_[node]);
}

void ChunkStore::demote_to_host(uint32_t node) {
  Location& at = loc(node);
  const uint32_t h = host_->take();
  device_.read_chunk(pool_, at.slot, host_->at(h));
  vacate(at);
  at.where = Where::kHost;
  at.slot = h;
}

void ChunkStore::promote(uint32_t node, uint32_t slot) {
  Location& at = loc(node);
  if (at.where != Where::kHost && at.where != Where::kWriting) {
    throw_invalid("promote: node " + std::to_string(node) + " has no host copy");
  }
  device_.write_chunk(pool_, slot, host_->at(at.slot));
  vacate(at);
  at.where = Where::kDevice;
  at.slot = slot;
}

void ChunkStore::start_write(uint32_t node, uint64_t key) {
  Location& at = loc(node);
  at.where = Where::kWriting;
  at.record = disk_->take();
  const uint32_t gen = ++at.gen;
  const uint32_t h = at.slot, record = at.record;
  const uint64_t stamp = next_stamp_++;
  ++writes_in_flight_;
  stamps_[record] = Stamp{key, stamp};
  const uint8_t* bytes = host_->at(h);
  DiskFile* disk = disk_.get();
  io_->submit([this, disk, node, gen, h, record, key, stamp, bytes] {
    const auto t0 = std::chrono::steady_clock::now();
    std::string error = disk->write(record, key, stamp, bytes);
    IoDone done;
    done.kind = error.empty() ? IoDone::kWritten : IoDone::kWriteFailed;
    done.node = node;
    done.error = std::move(error);
    done.bytes = disk->record_bytes();
    done.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    post_to_owner_(
        [this, done = std::move(done), gen, h, record]() mutable { finish_io(std::move(done), gen, h, record); });
  });
}

bool ChunkStore::write_now(uint32_t node, uint64_t key) {
  Location& at = loc(node);
  const uint32_t record = disk_->take();
  const uint64_t stamp = next_stamp_++;
  const auto t0 = std::chrono::steady_clock::now();
  IoDone done;
  done.node = node;
  done.error = disk_->write(record, key, stamp, host_->at(at.slot));
  done.kind = done.error.empty() ? IoDone::kWritten : IoDone::kWriteFailed;
  done.bytes = disk_->record_bytes();
  done.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ++writes_in_flight_;  // count() takes it off again
  count(done);
  if (done.kind == IoDone::kWriteFailed) {
    disk_->give(record);
    return false;
  }
  stamps_[record] = Stamp{key, stamp};
  host_->give(at.slot);
  at.where = Where::kDisk;
  at.record = record;
  ++at.gen;
  return true;
}

void ChunkStore::start_read(uint32_t node) {
  Location& at = loc(node);
  at.where = Where::kReading;
  at.slot = host_->take();
  const uint32_t gen = ++at.gen;
  const uint32_t h = at.slot, record = at.record;
  const Stamp expect = stamps_[record];
  ++reads_in_flight_;
  uint8_t* bytes = host_->at(h);
  DiskFile* disk = disk_.get();
  io_->submit([this, disk, node, gen, h, record, expect, bytes] {
    const auto t0 = std::chrono::steady_clock::now();
    IoDone done;
    done.kind = IoDone::kRead;
    done.node = node;
    done.read = disk->read(record, expect.key, expect.stamp, bytes, done.error);
    if (done.read != DiskRead::kOk) done.kind = IoDone::kReadFailed;
    done.bytes = disk->record_bytes();
    done.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    post_to_owner_(
        [this, done = std::move(done), gen, h, record]() mutable { finish_io(std::move(done), gen, h, record); });
  });
}

void ChunkStore::count(const IoDone& done) {
  switch (done.kind) {
    case IoDone::kWritten:
      --writes_in_flight_;
      ++counters_.disk_writes;
      counters_.disk_write_bytes += done.bytes;
      counters_.disk_write_seconds += done.seconds;
      break;
    case IoDone::kWriteFailed:
      --writes_in_flight_;
      ++counters_.io_errors;
      if (!counters_.disk_failed) counters_.disk_error = done.error;
      counters_.disk_failed = true;
      break;
    case IoDone::kRead:
      --reads_in_flight_;
      ++counters_.disk_reads;
      counters_.disk_read_bytes += done.bytes;
      counters_.disk_read_seconds += done.seconds;
      break;
    case IoDone::kReadFailed:
      --reads_in_flight_;
      ++(done.read == DiskRead::kIoError ? counters_.io_errors : counters_.checksum_failures);
      break;
  }
}

void ChunkStore::finish_io(IoDone done, uint32_t gen, uint32_t host_slot, uint32_t record) {
  count(done);
  Location& at = loc(done.node);
  if (at.gen != gen) {
    // The node moved (promoted, forgotten) while the job ran: its resources come back here.
    host_->give(host_slot);
    disk_->give(record);
    return;
  }
  switch (done.kind) {
    case IoDone::kWritten:  // the disk copy is whole: the host slot goes back
      host_->give(host_slot);
      at.where = Where::kDisk;
      break;
    case IoDone::kWriteFailed:  // still on the host, as before
      disk_->give(record);
      at.where = Where::kHost;
      break;
    case IoDone::kRead:  // on the host now; the record goes back
      disk_->give(record);
      at.where = Where::kHost;
      break;
    case IoDone::kReadFailed:  // a miss: the bytes are gone from every tier
      host_->give(host_slot);
      disk_->give(record);
      at.where = Where::kNone;
      break;
  }
  ++at.gen;
  if (listener_) listener_->io_finished(done);
}

}  // namespace chunkmesh
