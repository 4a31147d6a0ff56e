#include "device/gpu/attention_layout.h"

#include <algorithm>

namespace chunkmesh {
namespace {

using kern::kTileRows;

// Appends tiles of up to kTileRows rows for one KV head; row(i) describes row i.
template <typename RowFn>
void add_tiles(AttentionLayout& l, size_t n_rows, uint32_t kv_head, bool partial, const std::vector<uint32_t>& chunks,
               int c, RowFn row) {
  for (size_t r0 = 0; r0 < n_rows; r0 += kTileRows) {
    const size_t r1 = std::min(n_rows, r0 + kTileRows);
    kern::TileWork w{};
    w.row_begin = static_cast<uint32_t>(l.rows.size());
    w.row_count = static_cast<uint32_t>(r1 - r0);
    w.kv_head = kv_head;
    w.partial = partial ? 1u : 0u;
    for (size_t r = r0; r < r1; ++r) {
      l.rows.push_back(row(r));
      w.keys = std::max(w.keys, l.rows.back().keys);
    }
    w.chunk_begin = static_cast<uint32_t>(l.tile_chunks.size());
    w.chunk_count = (w.keys + c - 1) / c;
    l.tile_chunks.insert(l.tile_chunks.end(), chunks.begin(), chunks.begin() + w.chunk_count);
    l.tiles.push_back(w);
  }
}

}  // namespace

AttentionLayout decode_layout(const DecodePlan& plan, DecodeMode mode, const AttentionGeometry& geo) {
  AttentionLayout l;
  const int g = geo.n_heads / geo.kv_heads;
  const int d = geo.head_dim;
  const int c = geo.chunk_tokens;
  const bool tpp = mode == DecodeMode::kTpp;
  std::vector<size_t> run_base(plan.runs.size());
  if (tpp) {
    for (size_t r = 0; r < plan.runs.size(); ++r) {
      const SharedRun& run = plan.runs[r];
      run_base[r] = l.partial_rows;
      const size_t n_seq = run.seq_end - run.seq_begin;
      l.partial_rows += n_seq * geo.n_heads;
      const uint32_t keys = static_cast<uint32_t>(run.chunks.size() * c);
      for (int h = 0; h < geo.kv_heads; ++h) {
        add_tiles(l, n_seq * g, static_cast<uint32_t>(h), true, run.chunks, c, [&](size_t rho) {
          const size_t s = rho / g;
          const size_t qh = static_cast<size_t>(h) * g + rho % g;
          const size_t row = plan.seqs[run.seq_begin + s].row;
          return kern::TileRow{static_cast<uint32_t>((row * geo.n_heads + qh) * d),
                               static_cast<uint32_t>(run_base[r] + s * geo.n_heads + qh), keys, 0};
        });
      }
    }
  }
  for (size_t i = 0; i < plan.seqs.size(); ++i) {
    const PlannedSeq& seq = plan.seqs[i];
    const size_t from = tpp ? seq.private_from : 0;
    kern::SeqWork w{};
    w.chunk_begin = static_cast<uint32_t>(l.seq_chunks.size());
    w.chunk_count = static_cast<uint32_t>(seq.chunks.size() - from);
    w.keys = static_cast<uint32_t>(seq.length - from * c);
    w.q_row = seq.row;
    l.seq_chunks.insert(l.seq_chunks.end(), seq.chunks.begin() + from, seq.chunks.end());
    w.part_begin = static_cast<uint32_t>(l.part_bases.size());
    if (tpp) {
      for (uint32_t r : seq.runs) {
        l.part_bases.push_back(static_cast<uint32_t>(run_base[r] + (i - plan.runs[r].seq_begin) * geo.n_heads));
      }
    }
    w.part_count = static_cast<uint32_t>(l.part_bases.size() - w.part_begin);
    l.seqs.push_back(w);
  }
  return l;
}

AttentionLayout prefill_layout(const std::vector<PrefillItem>& items, const AttentionGeometry& geo) {
  AttentionLayout l;
  const int g = geo.n_heads / geo.kv_heads;
  const int d = geo.head_dim;
  for (const PrefillItem& item : items) {
    const size_t first_pos = item.length - item.n_new;
    for (int h = 0; h < geo.kv_heads; ++h) {
      add_tiles(l, static_cast<size_t>(item.n_new) * g, static_cast<uint32_t>(h), false, item.chunks, geo.chunk_tokens,
                [&](size_t rho) {
                  const size_t tok = rho / g;
                  const size_t qh = static_cast<size_t>(h) * g + rho % g;
                  const uint32_t at = static_cast<uint32_t>(((item.first_row + tok) * geo.n_heads + qh) * d);
                  return kern::TileRow{at, at, static_cast<uint32_t>(first_pos + tok + 1), 0};
                });
    }
  }
  return l;
}

}  // namespace chunkmesh
