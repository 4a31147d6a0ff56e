#pragma once
// The disk tier's storage: one file of fixed-size records in the cache
// directory, a chunk per record. A record is a header (magic, chunk key, a
// write stamp, payload length, payload checksum, header checksum) followed by
// the chunk's bytes exactly as the device pool lays them out.
//
// A read is served only if the whole record comes back and every field
// matches what the store expects for that chunk: the key, and the stamp of
// the write that put it there. A torn or truncated write, a record
// overwritten by anyone, or a stale record from an earlier write to the same
// place is therefore a miss (kCorrupt / kShort), never KV of another chunk.
//
// The file is created empty at start (the tier does not survive a restart:
// nothing could prove that a file left by another process is whole and
// belongs to this model), grows sparse as records are written, and is locked
// (flock) so two workers can never share it.
//
// Threads: take/give (the free list) on the owner thread only; write, read
// and measure on IO threads (pread/pwrite on one descriptor are thread-safe),
// each on records the owner has lent to the calling job.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace chunkmesh {

enum class DiskRead { kOk, kShort, kCorrupt, kIoError };

struct DiskRates {
  double write_bytes_per_second = 0;
  double read_bytes_per_second = 0;
};

class DiskFile {
 public:
  // Creates (or empties) `dir`/chunks.kv with room for capacity_bytes of records.
  DiskFile(const std::string& dir, size_t payload_bytes, size_t capacity_bytes);
  ~DiskFile();
  DiskFile(const DiskFile&) = delete;
  DiskFile& operator=(const DiskFile&) = delete;

  size_t record_bytes() const { return record_bytes_; }
  uint32_t capacity() const { return records_; }

  // ---- owner thread ----
  uint32_t free_records() const { return static_cast<uint32_t>(free_.size()); }
  uint32_t take();
  void give(uint32_t record);

  // ---- IO thread ----
  // Writes a chunk; returns "" or what failed (errno text: a full disk, a file size limit, an IO error).
  std::string write(uint32_t record, uint64_t key, uint64_t stamp, const uint8_t* payload) const;
  // Reads a chunk into payload; anything but kOk leaves payload unspecified and says why in `error`.
  DiskRead read(uint32_t record, uint64_t key, uint64_t stamp, uint8_t* payload, std::string& error) const;
  // Write and read bandwidth over `bytes` of records written, flushed, dropped
  // from the page cache and read back (at start, before any record is in use).
  DiskRates measure(size_t bytes) const;

 private:
  std::string path_;
  int fd_ = -1;
  size_t payload_bytes_;
  size_t record_bytes_;
  uint32_t records_;
  std::vector<uint32_t> free_;
};

}  // namespace chunkmesh
