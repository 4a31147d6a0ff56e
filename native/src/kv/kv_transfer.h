#pragma once
// A cached prefix's KV as it travels between workers (KvCache::export_prefix,
// import_prefix): one record per whole chunk, with the chunk's key and a
// checksum, so the importer can tell that the sender keyed the chunk from the
// same tokens and salt as its own, and that the bytes arrived as they left
// (the checksum catches accidents, torn or flipped bytes; it is no signature:
// a peer is trusted through the cluster's mutual TLS, not through it).
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
