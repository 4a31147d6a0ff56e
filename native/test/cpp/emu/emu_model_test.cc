// The whole forward pass on the emulated CUDA device: greedy tokens equal the
// CPU device's, for stories260K (a real trained model: 5 layers, GQA 8/4,
// head dim 8, RoPE pairs) and for a tiny random GQA model (RoPE halves, q/k/v
// biases), with steps that mix admission, a cached prefix and decoding. The
// CPU gets the same weights rounded to the GPU's weight type and the same f16
// KV, so what differs is how the kernels compute.
#include <memory>
#include <vector>

#include "device/emu/emu_device.h"
#include "emu_rig.h"
#include "model/model.h"
#include "model_rig.h"
#include "reference_model.h"
#include "runtime/half.h"
#include "stories_checkpoint.h"

namespace {

using namespace chunkmesh;

using Source = std::function<const float*(const TensorSpec&)>;

// Greedy continuations of each prompt (all admitted in one step), `steps` tokens each.
std::vector<std::vector<int32_t>> greedy(const ModelConfig& config, const Source& weights, bool emulated,
                                         const std::vector<std::vector<int32_t>>& prompts, int steps) {
  KvCacheOptions o;
  o.shape = KvShape{config.layers, config.kv_heads, config.head_dim, 16, DType::kF16};
  o.capacity_chunks = 256;
  o.model_id = "emu-model";
  o.vocab_size = config.vocab_size;
  o.threads = 1;
  if (emulated) o.make_device = [] { return make_emu_device(DType::kBF16); };
  KvCache cache(o);
  std::vector<std::vector<int32_t>> out(prompts.size());
  cache.run([&] {
    Model model(config, weights, cache);
    StepRequest first;
    first.token_budget = 1 << 20;
    for (const auto& p : prompts) first.entries.push_back(StepEntry{EntryKind::kAdmit, 0, p, "", p.size() - 1});
    StepResult r = model.step(first);
    std::vector<uint32_t> seqs;
    for (const EntryOutcome& e : r.entries) seqs.push_back(e.seq_id);
    for (int t = 0; t < steps; ++t) {
      StepRequest next;
      next.token_budget = 1 << 20;
      for (size_t i = 0; i < prompts.size(); ++i) {
        const float* row = r.logits.data() + i * config.vocab_size;
        int best = 0;
        for (int v = 1; v < config.vocab_size; ++v) best = row[v] > row[best] ? v : best;
        out[i].push_back(best);
        next.entries.push_back(StepEntry{EntryKind::kDecode, seqs[i], {best}, "", 0});
      }
      r = model.step(next);
    }
  });
  return out;
}

// The weights rounded to bf16, as the GPU device stores its matrices (norms and biases stay f32).
std::map<std::string, std::vector<float>> rounded(const std::map<std::string, std::vector<float>>& tensors) {
  std::map<std::string, std::vector<float>> out = tensors;
  for (auto& [name, t] : out) {
    if (name.find("norm") != std::string::npos || name.find(".b") != std::string::npos) continue;
    for (float& v : t) v = bf16_to_float(float_to_bf16(v));
  }
  return out;
}

CM_TEST(emu_stories260k_greedy_tokens_equal_the_cpu_device) {
  const cmtest::Checkpoint ck = cmtest::load_stories260k();
  const auto cpu_weights = rounded(ck.tensors);
  const std::vector<std::vector<int32_t>> prompts = {{1}, {1, 403, 407, 261}};
  const auto gpu = greedy(
      ck.config, [&](const TensorSpec& s) { return ck.tensor(s); }, true, prompts, 32);
  const auto cpu = greedy(
      ck.config, [&](const TensorSpec& s) { return cpu_weights.at(s.name).data(); }, false, prompts, 32);
  for (size_t i = 0; i < prompts.size(); ++i) CHECK_MSG(gpu[i] == cpu[i], "prompt " << i << " diverges");
}

CM_TEST(emu_tiny_gqa_model_greedy_tokens_equal_the_cpu_device) {
  chunkmesh::ModelConfig c = cmtest::model_config(64, 96, 2, 8, 2, 16, 97, 256);
  c.qkv_bias = true;
  cmtest::Rng rng(13);
  const cmtest::RandomModel m = cmtest::random_model(c, rng);
  const auto cpu_weights = rounded(m.tensors);
  const std::vector<int32_t> shared = rng.tokens(40, c.vocab_size);
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < 3; ++i) {
    std::vector<int32_t> p = shared;
    const std::vector<int32_t> own = rng.tokens(static_cast<size_t>(3 + 5 * i), c.vocab_size);
    p.insert(p.end(), own.begin(), own.end());
    prompts.push_back(p);
  }
  const auto gpu = greedy(
      c, [&](const TensorSpec& s) { return m.tensors.at(s.name).data(); }, true, prompts, 16);
  const auto cpu = greedy(
      c, [&](const TensorSpec& s) { return cpu_weights.at(s.name).data(); }, false, prompts, 16);
  for (size_t i = 0; i < prompts.size(); ++i) CHECK_MSG(gpu[i] == cpu[i], "prompt " << i << " diverges");
}

}  // namespace
