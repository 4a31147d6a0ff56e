#include "model_rig.h"

#include <algorithm>
#include <cmath>

#include "harness.h"

namespace cmtest {

using chunkmesh::EntryKind;
using chunkmesh::EntryOutcome;
using chunkmesh::StepEntry;
using chunkmesh::StepRequest;
using chunkmesh::StepResult;

chunkmesh::ModelConfig model_config(int dim, int hidden_dim, int layers, int heads, int kv_heads, int head_dim,
                                    int vocab_size, size_t max_seq_len) {
  chunkmesh::ModelConfig c;
  c.dim = dim;
  c.hidden_dim = hidden_dim;
  c.layers = layers;
  c.heads = heads;
  c.kv_heads = kv_heads;
  c.head_dim = head_dim;
  c.vocab_size = vocab_size;
  c.max_seq_len = max_seq_len;
  return c;
}

ModelRig::ModelRig(const chunkmesh::ModelConfig& config, uint32_t capacity_chunks, uint64_t seed, int chunk_tokens) {
  Rng rng(seed);
  weights = random_model(config, rng);
  chunkmesh::KvCacheOptions o;
  o.shape = chunkmesh::KvShape{config.layers, config.kv_heads, config.head_dim, chunk_tokens, chunkmesh::DType::kF32};
  o.capacity_chunks = capacity_chunks;
  o.model_id = "model-test";
  o.threads = 2;
  cache = std::make_unique<chunkmesh::KvCache>(o);
  const auto source = [this](const chunkmesh::TensorSpec& s) -> const float* {
    const auto it = weights.tensors.find(s.name);
    return it == weights.tensors.end() ? nullptr : it->second.data();
  };
  cache->run([&] { model = std::make_unique<chunkmesh::Model>(config, source, *cache); });
}

ModelRig::~ModelRig() {
  cache->run([&] { model.reset(); });
}

StepResult ModelRig::step(const StepRequest& request) {
  return cache->run([&] { return model->step(request); });
}

StepResult StepChecker::step(const StepRequest& request) {
  const StepResult result = rig_.step(request);
  for (uint32_t id : request.release) tokens_.erase(id);
  const std::vector<StepEntry>& entries = request.entries;
  CHECK_EQ(result.entries.size(), entries.size());
  const size_t vocab = rig_.weights.config.vocab_size;
  size_t budget = request.token_budget;
  bool ran = false;
  size_t rows = 0, logit_row = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    const StepEntry& e = entries[i];
    const EntryOutcome& o = result.entries[i];
    // Tokens this entry had left to compute, and how many the budget lets it compute.
    std::vector<int32_t> given = e.tokens;
    if (e.kind == EntryKind::kAdmit) {
      if (!o.admitted) {
        CHECK_EQ(o.computed, size_t{0});
        continue;
      }
      CHECK_MSG(o.cached_tokens % rig_.cache->shape().chunk_tokens == 0 && o.cached_tokens <= e.max_match,
                "entry " << i << " cached " << o.cached_tokens << " tokens");
      CHECK_MSG(tokens_.count(o.seq_id) == 0, "admission reused live id " << o.seq_id);
      tokens_[o.seq_id].assign(e.tokens.begin(), e.tokens.begin() + o.cached_tokens);
      given.erase(given.begin(), given.begin() + o.cached_tokens);
    } else {
      CHECK_EQ(o.seq_id, e.seq_id);
    }
    const size_t allowed =
        e.kind == EntryKind::kDecode ? 1 : std::min(given.size(), std::max(budget, ran ? size_t{0} : 1));
    CHECK_MSG(o.computed == (o.no_room ? 0 : allowed),
              "entry " << i << " computed " << o.computed << " tokens, the budget allows " << allowed);
    CHECK_EQ(o.logits, o.computed > 0 && o.computed == given.size());
    std::vector<int32_t>& known = tokens_[o.seq_id];
    known.insert(known.end(), given.begin(), given.begin() + o.computed);
    if (o.computed > 0) {
      ran = true;
      budget -= std::min(budget, o.computed);
    }
    rows += o.computed;
    if (!o.logits) continue;
    const std::vector<double> expected = reference_logits(rig_.weights, known);
    const float* actual = result.logits.data() + logit_row++ * vocab;
    double scale = 0, err = 0;
    for (size_t v = 0; v < vocab; ++v) {
      scale = std::max(scale, std::abs(expected[v]));
      err = std::max(err, std::abs(actual[v] - expected[v]));
    }
    CHECK_MSG(err <= 1e-4 * scale, "sequence " << o.seq_id << " (entry " << i << ", " << known.size()
                                               << " tokens): logits off by " << err << ", largest " << scale);
  }
  CHECK_EQ(result.rows, rows);
  CHECK_EQ(result.logits.size(), logit_row * vocab);
  return result;
}

StepEntry admit(const std::vector<int32_t>& tokens, const std::string& salt) {
  StepEntry e;
  e.kind = EntryKind::kAdmit;
  e.tokens = tokens;
  e.salt = salt;
  e.max_match = tokens.size() - 1;  // the engine's convention: the last token is computed for its logits
  return e;
}

StepEntry decode(uint32_t seq, int32_t token) {
  StepEntry e;
  e.kind = EntryKind::kDecode;
  e.seq_id = seq;
  e.tokens = {token};
  return e;
}

StepEntry prefill(uint32_t seq, const std::vector<int32_t>& tokens) {
  StepEntry e;
  e.kind = EntryKind::kPrefill;
  e.seq_id = seq;
  e.tokens = tokens;
  return e;
}

}  // namespace cmtest
