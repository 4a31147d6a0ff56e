// Model::step on tiny random models against the double-precision reference
// forward pass: RoPE halves and pairs (with linear and llama3 scaling), GQA,
// q/k/v biases, tied and separate classifiers, in TPP and baseline mode; a
// scripted step sequence (admissions over cached prefixes while others
// decode, chunked prefill under a budget) and a random engine-like schedule
// under memory pressure.
#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "harness.h"
#include "model_rig.h"

namespace cmtest {
namespace {

using chunkmesh::DecodeMode;
using chunkmesh::ModelConfig;
using chunkmesh::RopeLayout;
using chunkmesh::RopeScalingType;
using chunkmesh::StepRequest;
using chunkmesh::StepResult;
using Tokens = std::vector<int32_t>;

ModelConfig base_config() { return model_config(48, 40, 2, 4, 2, 16, 50, 128); }

struct Case {
  const char* name;
  ModelConfig config;
};

std::vector<Case> cases() {
  ModelConfig qwen = base_config();
  qwen.qkv_bias = true;
  ModelConfig pairs = base_config();
  pairs.rope_layout = RopeLayout::kPairs;
  pairs.tied_embeddings = true;
  pairs.dim = 32;
  pairs.head_dim = 8;
  pairs.kv_heads = 1;
  ModelConfig llama3 = base_config();
  llama3.heads = 8;
  llama3.kv_heads = 2;
  llama3.dim = 40;  // head_dim * heads != dim
  llama3.rope_scaling = {RopeScalingType::kLlama3, 8, 1, 4, 32};
  ModelConfig linear = base_config();
  linear.rope_scaling = {RopeScalingType::kLinear, 4, 0, 0, 0};
  // big enough (with a long prompt) for the threaded matmul and row operations
  ModelConfig wide = base_config();
  wide.dim = 128;
  wide.hidden_dim = 344;
  wide.heads = 8;
  wide.vocab_size = 300;
  return {{"halves, q/k/v biases", qwen},
          {"pairs, tied, head dim 8, one KV head", pairs},
          {"llama3 scaling, GQA 4, head dim not dim / heads", llama3},
          {"linear scaling", linear},
          {"wide", wide}};
}

StepRequest request(std::vector<chunkmesh::StepEntry> entries, DecodeMode mode, size_t budget = 1 << 20) {
  StepRequest r;
  r.entries = std::move(entries);
  r.mode = mode;
  r.token_budget = budget;
  return r;
}

CM_TEST(model_step_equals_reference_forward) {
  for (const Case& k : cases()) {
    for (DecodeMode mode : {DecodeMode::kTpp, DecodeMode::kBaseline}) {
      try {
        const ModelConfig& cfg = k.config;
        ModelRig rig(cfg, 64, 17);
        StepChecker check(rig);
        Rng rng(std::string(k.name).size());
        const Tokens a = rng.tokens(cfg.dim >= 128 ? 100 : 11, cfg.vocab_size);
        Tokens b(a.begin(), a.begin() + 8);
        for (int32_t t : rng.tokens(5, cfg.vocab_size)) b.push_back(t);
        const StepResult first = check.step(request({admit(a), admit(b)}, mode));
        const uint32_t sa = first.entries[0].seq_id, sb = first.entries[1].seq_id;
        // a third prompt on the first two's cached chunks, prefilled while they decode
        Tokens c(a.begin(), a.begin() + 8);
        for (int32_t t : rng.tokens(3, cfg.vocab_size)) c.push_back(t);
        const StepResult second = check.step(request(
            {decode(sa, rng.range(0, cfg.vocab_size - 1)), admit(c), decode(sb, rng.range(0, cfg.vocab_size - 1))},
            mode));
        CHECK_EQ(second.entries[1].cached_tokens, size_t{8});
        const uint32_t sc = second.entries[1].seq_id;
        for (int i = 0; i < 4; ++i) {
          std::vector<chunkmesh::StepEntry> entries;
          for (uint32_t id : {sa, sb, sc}) entries.push_back(decode(id, rng.range(0, cfg.vocab_size - 1)));
          check.step(request(entries, mode));
        }
      } catch (Failure& f) {
        f.message = std::string(k.name) + (mode == DecodeMode::kTpp ? " (tpp): " : " (baseline): ") + f.message;
        throw;
      }
    }
  }
}

CM_TEST(model_chunked_prefill_under_a_token_budget) {
  const ModelConfig cfg = base_config();
  ModelRig rig(cfg, 64, 21);
  StepChecker check(rig);
  Rng rng(22);
  const Tokens p = rng.tokens(23, cfg.vocab_size), q = rng.tokens(6, cfg.vocab_size);
  // the budget goes to the first entry; the second is admitted and waits
  const StepResult first = check.step(request({admit(p), admit(q)}, DecodeMode::kTpp, 10));
  CHECK(first.entries[0].computed == 10 && !first.entries[0].logits);
  CHECK(first.entries[1].admitted && first.entries[1].computed == 0);
  const uint32_t sp = first.entries[0].seq_id, sq = first.entries[1].seq_id;
  const StepResult second =
      check.step(request({prefill(sp, Tokens(p.begin() + 10, p.end())), prefill(sq, q)}, DecodeMode::kTpp, 13));
  CHECK(second.entries[0].computed == 13 && second.entries[0].logits && second.entries[1].computed == 0);
  // a step always makes progress, budget or not
  const StepResult third = check.step(request({prefill(sq, q)}, DecodeMode::kTpp, 0));
  CHECK_EQ(third.entries[0].computed, size_t{1});
  check.step(request({prefill(sq, Tokens(q.begin() + 1, q.end())), decode(sp, 3)}, DecodeMode::kTpp, 100));
}

// An engine in miniature: sequences finish, new prompts (sharing prefixes)
// arrive, prefill is chunked by a random budget, the rest decode; a sequence
// with no room is preempted. Every logits row is checked.
void random_schedule(const ModelConfig& cfg, DecodeMode mode, uint64_t seed, int steps) {
  Rng rng(seed);
  const int c = rng.pick(std::vector<int>{1, 3, 4, 8});
  ModelRig rig(cfg, 56 / c, seed, c);  // about 56 tokens: admissions wait and decodes run out of room
  StepChecker check(rig);
  std::vector<Tokens> bases;
  for (int i = 0; i < 3; ++i) bases.push_back(rng.tokens(rng.range(4, 14), cfg.vocab_size));
  std::map<uint32_t, Tokens> pending;  // running sequences -> prompt tokens still to compute
  std::vector<uint32_t> preempt;
  for (int step = 0; step < steps; ++step) {
    StepRequest r = request({}, mode, static_cast<size_t>(rng.range(0, 16)));
    r.release = preempt;
    for (const auto& [id, rest] : pending) {
      const bool done = rest.empty() && (check.tokens(id).size() > 36 || rng.chance(0.05));
      if (done && std::find(r.release.begin(), r.release.end(), id) == r.release.end()) r.release.push_back(id);
    }
    for (uint32_t id : r.release) pending.erase(id);
    for (const auto& [id, rest] : pending) {
      r.entries.push_back(rest.empty() ? decode(id, rng.range(0, cfg.vocab_size - 1)) : prefill(id, rest));
    }
    for (int n = rng.range(0, 2); n > 0; --n) {
      Tokens p = rng.pick(bases);
      p.resize(rng.range(static_cast<int>(p.size()) / 2, static_cast<int>(p.size())));
      for (int32_t t : rng.tokens(rng.range(1, 6), cfg.vocab_size)) p.push_back(t);
      r.entries.push_back(admit(p, rng.chance(0.2) ? "tenant" : ""));
    }
    std::shuffle(r.entries.begin(), r.entries.end(), std::mt19937_64(rng.next()));
    const StepResult result = check.step(r);
    preempt.clear();
    for (size_t i = 0; i < r.entries.size(); ++i) {
      const chunkmesh::StepEntry& e = r.entries[i];
      const chunkmesh::EntryOutcome& o = result.entries[i];
      if (e.kind == chunkmesh::EntryKind::kAdmit) {
        if (o.admitted) pending[o.seq_id] = Tokens(e.tokens.begin() + o.cached_tokens + o.computed, e.tokens.end());
      } else if (e.kind == chunkmesh::EntryKind::kPrefill) {
        Tokens& rest = pending[o.seq_id];
        rest.erase(rest.begin(), rest.begin() + o.computed);
      }
      if (o.no_room) preempt.push_back(o.seq_id);
    }
  }
}

CM_TEST(model_random_schedule_equals_reference) {
  const std::vector<Case> all = cases();
  for_each_seed(4, [&](uint64_t seed) {
    for (DecodeMode mode : {DecodeMode::kTpp, DecodeMode::kBaseline}) {
      random_schedule(all[seed % all.size()].config, mode, seed, 40 * scale());
    }
  });
}

}  // namespace
}  // namespace cmtest
