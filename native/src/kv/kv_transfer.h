#pragma once
// A cached prefix's KV as it travels between workers (KvCache::export_prefix,
// import_prefix): one record per whole chunk, with the chunk's key and a
// checksum, so the importer can prove each chunk is the one its own tokens
// and salt name and that its bytes arrived as they left.
//
// bytes: for each layer in order, K then V of the chunk's rows, each
// [chunk_tokens][kv_heads][head_dim] fp32 (whatever the pool's dtype: the
// device's read_kv / write_kv convert, so a worker may import from one whose
// pool has another type).
#include <cstdint>
#include <vector>

namespace chunkmesh {

struct KvChunkRecord {
  uint64_t key = 0;
  uint64_t checksum = 0;  // chunk_checksum(key, bytes)
  std::vector<uint8_t> bytes;
};

uint64_t chunk_checksum(uint64_t key, const uint8_t* bytes, size_t n);

}  // namespace chunkmesh
