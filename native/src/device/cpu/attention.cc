#include "device/cpu/attention.h"

#include <algorithm>

#include "device/cpu/kv_block_reader.h"
#include "device/cpu/online_softmax.h"

namespace chunkmesh {
namespace {

// Sizes a thread's buffers for `rows` query rows against chunks of c tokens.
void prepare(ThreadScratch& t, int rows, int d, int c) {
  const size_t rd = static_cast<size_t>(rows) * d;
  if (t.q.size() < rd) t.q.resize(rd);
  if (t.o.size() < rd) t.o.resize(rd);
  if (t.m.size() < static_cast<size_t>(rows)) t.m.resize(rows);
  if (t.l.size() < static_cast<size_t>(rows)) t.l.resize(rows);
  if (t.row_keys.size() < static_cast<size_t>(rows)) t.row_keys.resize(rows);
  const size_t cd = static_cast<size_t>(c) * d;
  if (t.k.size() < cd) t.k.resize(cd);
  if (t.v.size() < cd) t.v.resize(cd);
  std::fill(t.m.begin(), t.m.begin() + rows, kNegInf);
  std::fill(t.l.begin(), t.l.begin() + rows, 0.f);
  std::fill(t.o.begin(), t.o.begin() + rd, 0.f);
}

// Copies query row (token, head) scaled into the thread's contiguous q buffer.
void gather_row(const AttentionCall& call, size_t token, int head, int d, float* dst) {
  const float* src = call.q + (token * call.n_heads + head) * static_cast<size_t>(d);
  for (int i = 0; i < d; ++i) dst[i] = src[i] * call.scale;
}

void attend_chunk(const KvBlockReader& reader, uint32_t chunk, int kv_head, int tokens, int rows, int d,
                  const int* row_keys, ThreadScratch& t) {
  const float* k = reader.read(chunk, 0, kv_head, tokens, t.k.data());
  const float* v = reader.read(chunk, 1, kv_head, tokens, t.v.data());
  attend_block(t.q.data(), rows, d, k, v, tokens, row_keys, t.m.data(), t.l.data(), t.o.data(), t.block);
}

void ensure_threads(AttentionWorkspace& ws, const ThreadPool& pool) {
  if (ws.threads.size() < static_cast<size_t>(pool.size())) ws.threads.resize(pool.size());
}

}  // namespace

void decode_attention(const DecodePlan& plan, const AttentionCall& call, DecodeMode mode, ThreadPool& threads,
                      AttentionWorkspace& ws) {
  const KvShape& shape = call.pool->shape;
  const int d = shape.head_dim;
  const int c = shape.chunk_tokens;
  const int kvh = shape.kv_heads;
  const int g = call.n_heads / kvh;
  const KvBlockReader reader(*call.pool, call.layer);
  ensure_threads(ws, threads);
  const bool tpp = mode == DecodeMode::kTpp;

  // Phase 1 (chunk-first): each shared run, each KV head, all queries under it.
  if (tpp && !plan.runs.empty()) {
    ws.run_base.resize(plan.runs.size());
    size_t rows_total = 0;
    for (size_t r = 0; r < plan.runs.size(); ++r) {
      ws.run_base[r] = rows_total;
      rows_total += static_cast<size_t>(plan.runs[r].seq_end - plan.runs[r].seq_begin) * call.n_heads;
    }
    if (ws.part_m.size() < rows_total) {
      ws.part_m.resize(rows_total);
      ws.part_l.resize(rows_total);
    }
    if (ws.part_o.size() < rows_total * d) ws.part_o.resize(rows_total * d);
    threads.parallel_for(plan.runs.size() * kvh, [&](size_t unit, int thread) {
      const SharedRun& run = plan.runs[unit / kvh];
      const int h = static_cast<int>(unit % kvh);
      const int n_seq = static_cast<int>(run.seq_end - run.seq_begin);
      const int rows = n_seq * g;
      ThreadScratch& t = ws.threads[thread];
      prepare(t, rows, d, c);
      for (int s = 0; s < n_seq; ++s) {
        for (int gi = 0; gi < g; ++gi) {
          gather_row(call, plan.seqs[run.seq_begin + s].row, h * g + gi, d, t.q.data() + (s * g + gi) * d);
        }
      }
      for (uint32_t chunk : run.chunks) attend_chunk(reader, chunk, h, c, rows, d, nullptr, t);
      const size_t base = ws.run_base[unit / kvh];
      for (int s = 0; s < n_seq; ++s) {
        for (int gi = 0; gi < g; ++gi) {
          const size_t dst = base + static_cast<size_t>(s) * call.n_heads + h * g + gi;
          const int row = s * g + gi;
          ws.part_m[dst] = t.m[row];
          ws.part_l[dst] = t.l[row];
          std::copy_n(t.o.data() + static_cast<size_t>(row) * d, d, ws.part_o.data() + dst * d);
        }
      }
    });
  }

  // Phase 2 (sequence-first): private chunks, then merge the phase-1 partials.
  threads.parallel_for(plan.seqs.size() * kvh, [&](size_t unit, int thread) {
    const size_t si = unit / kvh;
    const PlannedSeq& seq = plan.seqs[si];
    const int h = static_cast<int>(unit % kvh);
    ThreadScratch& t = ws.threads[thread];
    prepare(t, g, d, c);
    for (int gi = 0; gi < g; ++gi) gather_row(call, seq.row, h * g + gi, d, t.q.data() + gi * d);
    const size_t from = tpp ? seq.private_from : 0;
    const size_t last = seq.chunks.size() - 1;
    for (size_t i = from; i < seq.chunks.size(); ++i) {
      attend_chunk(reader, seq.chunks[i], h, i == last ? seq.last_tokens(c) : c, g, d, nullptr, t);
    }
    if (tpp) {
      for (uint32_t r : seq.runs) {
        const size_t base = ws.run_base[r] + (si - plan.runs[r].seq_begin) * call.n_heads;
        for (int gi = 0; gi < g; ++gi) {
          const size_t src = base + h * g + gi;
          merge_partial(t.m[gi], t.l[gi], t.o.data() + static_cast<size_t>(gi) * d, ws.part_m[src], ws.part_l[src],
                        ws.part_o.data() + src * d, d);
        }
      }
    }
    for (int gi = 0; gi < g; ++gi) {
      finish_row(t.l[gi], t.o.data() + static_cast<size_t>(gi) * d,
                 call.out + (static_cast<size_t>(seq.row) * call.n_heads + h * g + gi) * d, d);
    }
  });
}

void prefill_attention(const PrefillItem& item, const AttentionCall& call, ThreadPool& threads,
                       AttentionWorkspace& ws) {
  const size_t n_new = item.n_new;
  const size_t length = item.length;
  const std::vector<uint32_t>& chunks = item.chunks;
  if (n_new == 0) return;
  const size_t first_row = item.first_row;
  const KvShape& shape = call.pool->shape;
  const int d = shape.head_dim;
  const int c = shape.chunk_tokens;
  const int kvh = shape.kv_heads;
  const int g = call.n_heads / kvh;
  const size_t first = length - n_new;
  const KvBlockReader reader(*call.pool, call.layer);
  ensure_threads(ws, threads);
  // Query blocks of one chunk's worth of tokens: enough rows per key read,
  // and enough units to keep every thread busy on long prompts.
  const size_t qb = static_cast<size_t>(c);
  const size_t blocks = (n_new + qb - 1) / qb;
  threads.parallel_for(blocks * kvh, [&](size_t unit, int thread) {
    const size_t b = unit / kvh;
    const int h = static_cast<int>(unit % kvh);
    const size_t t0 = b * qb;
    const size_t t1 = std::min(n_new, t0 + qb);
    const int rows = static_cast<int>(t1 - t0) * g;
    ThreadScratch& t = ws.threads[thread];
    prepare(t, rows, d, c);
    for (size_t tok = t0; tok < t1; ++tok) {
      for (int gi = 0; gi < g; ++gi) {
        gather_row(call, first_row + tok, h * g + gi, d, t.q.data() + ((tok - t0) * g + gi) * d);
      }
    }
    const size_t last_pos = first + t1 - 1;  // the block's last query position
    for (size_t ci = 0; ci < chunks.size(); ++ci) {
      const size_t base = ci * c;
      if (base > last_pos) break;
      const int tokens = static_cast<int>(std::min<size_t>(c, length - base));
      const bool causal_edge = base + tokens - 1 > first + t0;
      if (causal_edge) {
        for (size_t tok = t0; tok < t1; ++tok) {
          const size_t pos = first + tok;
          const int visible = pos >= base ? static_cast<int>(std::min<size_t>(tokens, pos - base + 1)) : 0;
          for (int gi = 0; gi < g; ++gi) t.row_keys[(tok - t0) * g + gi] = visible;
        }
      }
      attend_chunk(reader, chunks[ci], h, tokens, rows, d, causal_edge ? t.row_keys.data() : nullptr, t);
    }
    for (size_t tok = t0; tok < t1; ++tok) {
      for (int gi = 0; gi < g; ++gi) {
        const int row = static_cast<int>(tok - t0) * g + gi;
        finish_row(t.l[row], t.o.data() + static_cast<size_t>(row) * d,
                   call.out + ((first_row + tok) * call.n_heads + h * g + gi) * static_cast<size_t>(d), d);
      }
    }
  });
}

}  // namespace chunkmesh
