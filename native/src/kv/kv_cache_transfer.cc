// KvCache::export_prefix / import_prefix: a cached prefix's whole chunks out
// of one cache and into another (kv_transfer.h), through the device's own
// read_kv / write_kv as graft does, so every device does it. The importer
// trusts nothing it is sent: every chunk's key is recomputed from its own
// tokens and salt and every checksum checked before the tree changes at all,
// and the new chunks become tree nodes in one commit, so a failed import
// leaves nothing behind.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "device/device_buffer.h"
#include "kv/chunk_key.h"
#include "kv/kv_cache.h"
#include "kv/kv_cache_internal.h"
#include "kv/tier/checksum.h"
#include "runtime/error.h"

namespace chunkmesh {
namespace {

[[noreturn]] void mismatch(size_t i, const std::string& what) {
  throw Error(ErrorCode::kChunkMismatch, "import: chunk " + std::to_string(i) + " " + what);
}

}  // namespace

uint64_t chunk_checksum(uint64_t key, const uint8_t* bytes, size_t n) { return checksum_bytes(bytes, n, key); }

std::vector<KvChunkRecord> KvCache::export_prefix(const std::string& salt, const std::vector<int32_t>& tokens,
                                                  size_t max_chunks) {
  PrefixTree& t = tree();
  t.check_tokens(tokens.data(), tokens.size());
  const size_t c = static_cast<size_t>(shape_.chunk_tokens);
  const size_t max_match = std::min(tokens.size(), max_chunks * c);
  const MatchResult m = t.add_sequence(salt, tokens.data(), tokens.size(), max_match, false);
  kv_internal::Sequences seq(t);
  seq.ids.push_back(m.seq_id);
  const size_t chunks = m.cached_tokens / c;
  const size_t row_floats = static_cast<size_t>(shape_.kv_heads) * shape_.head_dim;
  const size_t block = shape_.record_block_bytes();  // one chunk's K (or V) of one layer
  std::vector<KvChunkRecord> out(chunks);
  for (auto& r : out) r.bytes.resize(shape_.record_bytes());
  if (chunks > 0) {
    const size_t rows = chunks * c;
    DeviceBuffer kb(device()), vb(device());
    void* k = kb.bytes(rows * row_floats * sizeof(float));
    void* v = vb.bytes(rows * row_floats * sizeof(float));
    std::vector<uint8_t> hk(rows * row_floats * sizeof(float)), hv(hk.size());
    // one plan for every layer, prepared (on a GPU, uploaded) once; the device reads it until the next
    const StepPlan plan = kv_internal::positions_plan(t, m.seq_id, 0, rows, shape_.chunk_tokens);
    device().prepare(plan);
    for (int layer = 0; layer < shape_.layers; ++layer) {
      device().read_kv(store().pool(), layer, static_cast<float*>(k), static_cast<float*>(v));
      device().copy_out(hk.data(), k, hk.size());
      device().copy_out(hv.data(), v, hv.size());
      for (size_t i = 0; i < chunks; ++i) {
        uint8_t* dst = out[i].bytes.data() + static_cast<size_t>(layer) * 2 * block;
        std::memcpy(dst, hk.data() + i * block, block);
        std::memcpy(dst + block, hv.data() + i * block, block);
      }
    }
  }
  uint64_t key = t.root_key(salt);
  for (size_t i = 0; i < chunks; ++i) {
    key = chunk_key_next(key, tokens.data() + i * c, c);
    out[i].key = key;
    out[i].checksum = chunk_checksum(key, out[i].bytes.data(), out[i].bytes.size());
  }
  return out;
}

size_t KvCache::import_prefix(const std::string& salt, const std::vector<int32_t>& tokens,
                              const std::vector<KvChunkRecord>& chunks) {
  PrefixTree& t = tree();
  t.check_tokens(tokens.data(), tokens.size());
  const size_t c = static_cast<size_t>(shape_.chunk_tokens);
  const size_t n = chunks.size() * c;
  if (n > tokens.size()) {
    throw_invalid("import: " + std::to_string(chunks.size()) + " chunks cover more than the " +
                  std::to_string(tokens.size()) + " tokens given");
  }
  const size_t row_floats = static_cast<size_t>(shape_.kv_heads) * shape_.head_dim;
  const size_t block = shape_.record_block_bytes();
  // every chunk checked before anything changes
  uint64_t key = t.root_key(salt);
  for (size_t i = 0; i < chunks.size(); ++i) {
    const KvChunkRecord& r = chunks[i];
    key = chunk_key_next(key, tokens.data() + i * c, c);
    if (r.key != key) mismatch(i, "has another key than these tokens and salt give (other tokens, tenant or model)");
    if (r.bytes.size() != shape_.record_bytes()) {
      mismatch(i, "holds " + std::to_string(r.bytes.size()) + " bytes, not this model's " +
                      std::to_string(shape_.record_bytes()));
    }
    if (chunk_checksum(r.key, r.bytes.data(), r.bytes.size()) != r.checksum) mismatch(i, "fails its checksum");
  }
  const MatchResult m = t.add_sequence(salt, tokens.data(), n, n, false);
  kv_internal::Sequences seq(t);
  seq.ids.push_back(m.seq_id);
  const size_t begin = m.cached_tokens;
  if (begin >= n) return 0;
  t.append(m.seq_id, tokens.data() + begin, n - begin);  // kCapacityExhausted: nothing changed
  const size_t rows = n - begin;
  std::vector<uint8_t> hk(rows * row_floats * sizeof(float)), hv(hk.size());
  DeviceBuffer kb(device()), vb(device());
  void* k = kb.bytes(hk.size());
  void* v = vb.bytes(hv.size());
  // one plan for every layer, prepared (on a GPU, uploaded) once; the device reads it until the next
  const StepPlan plan = kv_internal::positions_plan(t, m.seq_id, begin, rows, shape_.chunk_tokens);
  device().prepare(plan);
  const size_t first = begin / c;  // begin is whole chunks (a match is)
  for (int layer = 0; layer < shape_.layers; ++layer) {
    for (size_t i = first; i < chunks.size(); ++i) {
      const uint8_t* src = chunks[i].bytes.data() + static_cast<size_t>(layer) * 2 * block;
      std::memcpy(hk.data() + (i - first) * block, src, block);
      std::memcpy(hv.data() + (i - first) * block, src + block, block);
    }
    device().copy_in(k, hk.data(), hk.size());
    device().copy_in(v, hv.data(), hv.size());
    device().write_kv(store().pool(), layer, static_cast<float*>(k), static_cast<float*>(v));
  }
  device().synchronize();
  t.commit(m.seq_id);
  return rows;
}

}  // namespace chunkmesh
