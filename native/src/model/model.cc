#include "model/model.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_set>

#include "model/matmul.h"
#include "runtime/error.h"

namespace chunkmesh {
namespace {

const ModelConfig& checked(const ModelConfig& c, const KvShape& shape) {
  validate_config(c);
  check_cache_shape(c, shape);
  return c;
}

void rmsnorm(const float* x, const float* weight, size_t m, size_t dim, float eps, float* out) {
  for (size_t t = 0; t < m; ++t) {
    const float* xt = x + t * dim;
    float ss = 0.f;
    for (size_t i = 0; i < dim; ++i) ss += xt[i] * xt[i];
    const float scale = 1.f / std::sqrt(ss / static_cast<float>(dim) + eps);
    float* ot = out + t * dim;
    for (size_t i = 0; i < dim; ++i) ot[i] = weight[i] * (scale * xt[i]);
  }
}

void add_into(float* x, const float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] += y[i];
}

void grow(std::vector<float>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

}  // namespace

Model::Model(const ModelConfig& config, const std::function<const float*(const TensorSpec&)>& source, KvCache& cache)
    : config_(checked(config, cache.shape())),
      weights_(config_, source),
      cache_(cache),
      rope_(config_),
      threads_(cache.device().threads()) {}

void Model::check(const StepInput& in) const {
  if (in.batch == 0) throw_invalid("step needs at least one sequence");
  size_t total = 0;
  for (size_t i = 0; i < in.batch; ++i) total += in.counts[i];
  if (total != in.n_tokens) {
    throw_invalid("counts add up to " + std::to_string(total) + " tokens but " + std::to_string(in.n_tokens) +
                  " were given");
  }
  for (size_t t = 0; t < in.n_tokens; ++t) {
    if (in.tokens[t] < 0 || in.tokens[t] >= config_.vocab_size) {
      throw_invalid("token " + std::to_string(in.tokens[t]) + " at index " + std::to_string(t) +
                    " is outside the vocabulary [0, " + std::to_string(config_.vocab_size) + ")");
    }
  }
  std::unordered_set<uint32_t> seen;
  const int32_t* tokens = in.tokens;
  for (size_t i = 0; i < in.batch; ++i) {
    const uint32_t id = in.seq_ids[i];
    const size_t n = in.counts[i];
    if (!seen.insert(id).second) throw_invalid("sequence " + std::to_string(id) + " appears twice in the step");
    if (n == 0) throw_invalid("sequence " + std::to_string(id) + " has no new tokens in the step");
    const Sequence& seq = cache_.tree().sequence(id);  // kUnknownSequence when absent
    if (seq.length > config_.max_seq_len) {
      throw_invalid("sequence " + std::to_string(id) + " reaches position " + std::to_string(seq.length - 1) +
                    ", past the model's maxSeqLen " + std::to_string(config_.max_seq_len));
    }
    // KV is written for the tokens the tree holds; a mismatch would share wrong KV under those tokens
    const std::vector<int32_t>& tail = seq.tail_tokens;
    if (n > tail.size() || !std::equal(tokens, tokens + n, tail.end() - n)) {
      throw_invalid("the " + std::to_string(n) + " new tokens of sequence " + std::to_string(id) +
                    " are not the last tokens appended to it (append them, and do not commit, before the step)");
    }
    tokens += n;
  }
}

std::vector<float> Model::step(const StepInput& in, DecodeMode mode) {
  check(in);
  const size_t m = in.n_tokens;
  const size_t dim = config_.dim;
  grow(x_, m * dim);
  grow(xb_, m * dim);
  grow(tmp_, m * dim);
  grow(q_, m * config_.q_width());
  grow(att_, m * config_.q_width());
  grow(k_, m * config_.kv_width());
  grow(v_, m * config_.kv_width());
  grow(h1_, m * config_.hidden_dim);
  grow(h3_, m * config_.hidden_dim);
  first_.resize(in.batch);
  for (size_t i = 0, row = 0; i < in.batch; row += in.counts[i], ++i) first_[i] = row;
  // every layer rotates at the same positions: one table of angles per step
  const size_t half = rope_.half();
  grow(cos_, m * half);
  grow(sin_, m * half);
  for (size_t i = 0; i < in.batch; ++i) {
    const size_t pos0 = cache_.tree().sequence(in.seq_ids[i]).length - in.counts[i];
    for (size_t t = 0; t < in.counts[i]; ++t) {
      rope_.angles(pos0 + t, cos_.data() + (first_[i] + t) * half, sin_.data() + (first_[i] + t) * half);
    }
  }

  for (size_t t = 0; t < m; ++t) {
    std::copy_n(weights_.tok_embeddings() + static_cast<size_t>(in.tokens[t]) * dim, dim, x_.data() + t * dim);
  }
  for (int layer = 0; layer < config_.layers; ++layer) {
    attention_layer(in, layer, mode);
    ffn_layer(m, layer);
  }

  // only each sequence's last token needs logits
  for (size_t i = 0; i < in.batch; ++i) {
    std::copy_n(x_.data() + (first_[i] + in.counts[i] - 1) * dim, dim, tmp_.data() + i * dim);
  }
  rmsnorm(tmp_.data(), weights_.norm(), in.batch, dim, config_.norm_eps, xb_.data());
  std::vector<float> logits(in.batch * static_cast<size_t>(config_.vocab_size));
  matmul(xb_.data(), in.batch, dim, weights_.classifier(), nullptr, config_.vocab_size, logits.data(), threads_);
  for (size_t i = 0; i < in.batch; ++i) cache_.tree().commit(in.seq_ids[i]);
  return logits;
}

void Model::attention_layer(const StepInput& in, int layer, DecodeMode mode) {
  const LayerWeights& w = weights_.layer(layer);
  const size_t m = in.n_tokens;
  const size_t dim = config_.dim;
  const size_t qw = config_.q_width();
  const size_t kvw = config_.kv_width();
  rmsnorm(x_.data(), w.attention_norm, m, dim, config_.norm_eps, xb_.data());
  matmul(xb_.data(), m, dim, w.wq, w.bq, qw, q_.data(), threads_);
  matmul(xb_.data(), m, dim, w.wk, w.bk, kvw, k_.data(), threads_);
  matmul(xb_.data(), m, dim, w.wv, w.bv, kvw, v_.data(), threads_);

  decode_ids_.clear();
  decode_rows_.clear();
  for (size_t i = 0; i < in.batch; ++i) {
    const uint32_t id = in.seq_ids[i];
    const size_t n = in.counts[i];
    const size_t row = first_[i];
    const size_t pos0 = cache_.tree().sequence(id).length - n;
    for (size_t t = row; t < row + n; ++t) {
      const float* cos = cos_.data() + t * rope_.half();
      const float* sin = sin_.data() + t * rope_.half();
      rope_.rotate(q_.data() + t * qw, config_.heads, cos, sin);
      rope_.rotate(k_.data() + t * kvw, config_.kv_heads, cos, sin);
    }
    cache_.write_kv(id, layer, pos0, n, k_.data() + row * kvw, v_.data() + row * kvw);
    if (n == 1) {
      decode_ids_.push_back(id);
      decode_rows_.push_back(row);
    } else {
      cache_.prefill(id, layer, config_.heads, n, q_.data() + row * qw, att_.data() + row * qw);
    }
  }
  if (!decode_ids_.empty()) {
    const size_t b = decode_ids_.size();
    grow(decode_q_, b * qw);
    grow(decode_out_, b * qw);
    for (size_t i = 0; i < b; ++i) std::copy_n(q_.data() + decode_rows_[i] * qw, qw, decode_q_.data() + i * qw);
    cache_.decode(decode_ids_.data(), b, layer, config_.heads, decode_q_.data(), decode_out_.data(), mode);
    for (size_t i = 0; i < b; ++i) std::copy_n(decode_out_.data() + i * qw, qw, att_.data() + decode_rows_[i] * qw);
  }
  matmul(att_.data(), m, qw, w.wo, nullptr, dim, tmp_.data(), threads_);
  add_into(x_.data(), tmp_.data(), m * dim);
}

void Model::ffn_layer(size_t m, int layer) {
  const LayerWeights& w = weights_.layer(layer);
  const size_t dim = config_.dim;
  const size_t hidden = config_.hidden_dim;
  rmsnorm(x_.data(), w.ffn_norm, m, dim, config_.norm_eps, xb_.data());
  matmul(xb_.data(), m, dim, w.w1, nullptr, hidden, h1_.data(), threads_);
  matmul(xb_.data(), m, dim, w.w3, nullptr, hidden, h3_.data(), threads_);
  for (size_t i = 0; i < m * hidden; ++i) {
    const float g = h1_[i];
    h1_[i] = g / (1.f + std::exp(-g)) * h3_[i];  // SwiGLU: silu(w1 x) * (w3 x)
  }
  matmul(h1_.data(), m, hidden, w.w2, nullptr, dim, tmp_.data(), threads_);
  add_into(x_.data(), tmp_.data(), m * dim);
}

}  // namespace chunkmesh
