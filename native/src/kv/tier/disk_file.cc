#include "kv/tier/disk_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "kv/tier/checksum.h"
#include "runtime/error.h"

namespace chunkmesh {
namespace {

constexpr uint64_t kMagic = 0x31434552564b4d43ull;  // "CMKVREC1"
constexpr size_t kAlign = 4096;                     // records start on page boundaries

struct Header {
  uint64_t magic;
  uint64_t key;
  uint64_t stamp;
  uint64_t payload_bytes;
  uint64_t payload_sum;
  uint64_t header_sum;  // of the fields above
  uint64_t pad[2];
};
static_assert(sizeof(Header) == 64, "the record header is 64 bytes");

uint64_t header_sum(const Header& h) { return checksum_bytes(&h, offsetof(Header, header_sum), kMagic); }

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// pwritev/preadv until done: a short transfer is retried, an error or EOF ends it.
bool transfer_all(int fd, iovec* iov, int n, off_t at, bool writing, std::string& error) {
  while (n > 0) {
    const ssize_t done = writing ? pwritev(fd, iov, n, at) : preadv(fd, iov, n, at);
    if (done < 0) {
      if (errno == EINTR) continue;
      error = errno_text(writing ? "write" : "read");
      return false;
    }
    if (done == 0) {
      error = writing ? "write made no progress" : "end of file";
      return false;
    }
    at += done;
    size_t left = static_cast<size_t>(done);
    while (n > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --n;
    }
    if (n > 0) {
      iov->iov_base = static_cast<uint8_t*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return true;
}

}  // namespace

DiskFile::DiskFile(const std::string& dir, size_t payload_bytes, size_t capacity_bytes)
    : path_(dir + "/chunks.kv"),
      payload_bytes_(payload_bytes),
      record_bytes_((sizeof(Header) + payload_bytes + kAlign - 1) / kAlign * kAlign),
      records_(static_cast<uint32_t>(std::min<size_t>(capacity_bytes / record_bytes_, UINT32_MAX))) {
  if (records_ == 0) {
    throw_invalid("the KV disk tier needs room for at least one chunk record (" + std::to_string(record_bytes_) +
                  " bytes); got " + std::to_string(capacity_bytes));
  }
  struct stat st;
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw_invalid("KV disk directory " + dir + " does not exist or is not a directory");
  }
  fd_ = open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) throw_invalid("cannot open " + path_ + ": " + std::strerror(errno));
  if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    close(fd_);
    throw_invalid("KV disk file " + path_ + " is in use by another process (" + std::strerror(e) + ")");
  }
  if (ftruncate(fd_, 0) != 0) {
    const int e = errno;
    close(fd_);
    throw_invalid("cannot empty " + path_ + ": " + std::strerror(e));
  }
  free_.reserve(records_);
  for (uint32_t i = records_; i > 0; --i) free_.push_back(i - 1);
}

DiskFile::~DiskFile() {
  if (fd_ >= 0) {
    if (ftruncate(fd_, 0) != 0) {
      // nothing to do: the file is emptied again at the next start
    }
    close(fd_);
  }
}

uint32_t DiskFile::take() {
  const uint32_t r = free_.back();
  free_.pop_back();
  return r;
}

void DiskFile::give(uint32_t record) { free_.push_back(record); }

std::string DiskFile::write(uint32_t record, uint64_t key, uint64_t stamp, const uint8_t* payload) const {
  Header h{kMagic, key, stamp, payload_bytes_, checksum_bytes(payload, payload_bytes_), 0, {0, 0}};
  h.header_sum = header_sum(h);
  iovec iov[2] = {{&h, sizeof h}, {const_cast<uint8_t*>(payload), payload_bytes_}};
  std::string error;
  transfer_all(fd_, iov, 2, static_cast<off_t>(record) * static_cast<off_t>(record_bytes_), true, error);
  return error;
}

DiskRead DiskFile::read(uint32_t record, uint64_t key, uint64_t stamp, uint8_t* payload, std::string& error) const {
  Header h;
  iovec iov[2] = {{&h, sizeof h}, {payload, payload_bytes_}};
  if (!transfer_all(fd_, iov, 2, static_cast<off_t>(record) * static_cast<off_t>(record_bytes_), false, error)) {
    return error == "end of file" ? DiskRead::kShort : DiskRead::kIoError;
  }
  if (h.magic != kMagic || h.header_sum != header_sum(h)) {
    error = "record header is damaged";
    return DiskRead::kCorrupt;
  }
  if (h.key != key || h.stamp != stamp || h.payload_bytes != payload_bytes_) {
    error = "record holds another write (key or stamp differs)";
    return DiskRead::kCorrupt;
  }
  if (checksum_bytes(payload, payload_bytes_) != h.payload_sum) {
    error = "chunk bytes do not match their checksum";
    return DiskRead::kCorrupt;
  }
  return DiskRead::kOk;
}

DiskRates DiskFile::measure(size_t bytes) const {
  const uint32_t n = static_cast<uint32_t>(std::clamp<size_t>(bytes / record_bytes_, 1, records_));
  std::vector<uint8_t> payload(payload_bytes_);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i * 131 + 7);
  using Clock = std::chrono::steady_clock;
  const auto seconds = [](Clock::time_point t0) {
    return std::max(1e-9, std::chrono::duration<double>(Clock::now() - t0).count());
  };
  DiskRates rates;
  auto t0 = Clock::now();
  for (uint32_t r = 0; r < n; ++r) {
    if (!write(r, r, r, payload.data()).empty()) return rates;  // a disk that cannot be written: rates stay 0
  }
  fdatasync(fd_);
  rates.write_bytes_per_second = static_cast<double>(n) * static_cast<double>(record_bytes_) / seconds(t0);
  posix_fadvise(fd_, 0, 0, POSIX_FADV_DONTNEED);  // read from the disk, not the page cache
  t0 = Clock::now();
  std::string error;
  for (uint32_t r = 0; r < n; ++r) {
    if (read(r, r, r, payload.data(), error) != DiskRead::kOk) return rates;
  }
  rates.read_bytes_per_second = static_cast<double>(n) * static_cast<double>(record_bytes_) / seconds(t0);
  if (ftruncate(fd_, 0) != 0) {
    // the records written here are never read again: each real record carries its own stamp
  }
  return rates;
}

}  // namespace chunkmesh
