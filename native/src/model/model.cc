#include "model/model.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/error.h"

namespace chunkmesh {
namespace {

const ModelConfig& checked(const ModelConfig& c, const KvCache& cache) {
  if (!cache.on_owner()) throw_invalid("a Model must be created on its KvCache's owner thread");
  validate_config(c);
  check_cache_shape(c, cache.shape());
  return c;
}

}  // namespace

Model::Model(const ModelConfig& config, const std::function<const float*(const TensorSpec&)>& source, KvCache& cache)
    : config_(checked(config, cache)),
      cache_(cache),
      device_(cache.device()),
      weights_(config_, source, device_),
      rope_(config_),
      scale_(1.f / std::sqrt(static_cast<float>(config_.head_dim))),
      x_(device_),
      xb_(device_),
      q_(device_),
      k_(device_),
      v_(device_),
      att_(device_),
      h1_(device_),
      h3_(device_),
      tmp_(device_),
      logits_(device_) {
  cache_.attach_model();
}

Model::~Model() { cache_.detach_model(); }

StepResult Model::step(const StepRequest& request) {
  StepBatch batch;
  try {
    // Grafts first: before the request's holds are let go of, and before its admissions, which match their nodes.
    // Each is checked before it changes anything, and only adds cached nodes, so a step failing later is still clean.
    for (const GraftRequest& g : request.grafts) batch.result.grafted.push_back(graft(g));
    cache_.begin_step(request, StepLimits{config_.vocab_size, config_.max_seq_len}, batch);
    if (batch.plan.rows > 0) forward(batch.plan, request.mode, batch.result.logits);
    cache_.end_step(batch);
  } catch (...) {
    cache_.abort_step(request, batch);
    throw;
  }
  return std::move(batch.result);
}

size_t Model::graft(const GraftRequest& g) {
  // the cache may not range-check ids (its vocabulary is optional): the model's is the bound
  for (const std::vector<int32_t>* t : {&g.source, &g.target}) {
    for (int32_t id : *t) {
      if (id >= config_.vocab_size) {
        throw_invalid("graft: token " + std::to_string(id) + " is outside the vocabulary [0, " +
                      std::to_string(config_.vocab_size) + ")");
      }
    }
  }
  std::vector<float> cos(rope_.half()), sin(rope_.half());
  rope_.shift(-static_cast<int64_t>(g.drop), cos.data(), sin.data());
  return cache_.graft(g, cos.data(), sin.data(), config_.rope_layout);
}

void Model::forward(StepPlan& plan, DecodeMode mode, std::vector<float>& logits) {
  const size_t m = plan.rows;
  const size_t dim = config_.dim;
  // every layer rotates at the same positions: one table of angles per step
  const size_t half = rope_.half();
  plan.rope_cos.resize(m * half);
  plan.rope_sin.resize(m * half);
  for (size_t r = 0; r < m; ++r) rope_.angles(plan.positions[r], &plan.rope_cos[r * half], &plan.rope_sin[r * half]);

  device_.prepare(plan);
  device_.embed(weights_.tok_embeddings(), x_.floats(m * dim));
  for (int layer = 0; layer < config_.layers; ++layer) {
    attention_layer(m, layer, mode);
    ffn_layer(m, layer);
  }
  // only the rows that end a sequence's given tokens need logits
  const size_t n = plan.logit_rows.size();
  if (n > 0) {
    const size_t vocab = config_.vocab_size;
    device_.gather_logit_rows(x_.floats(m * dim), dim, tmp_.floats(m * dim));
    device_.rmsnorm(tmp_.floats(m * dim), weights_.norm(), n, dim, config_.norm_eps, xb_.floats(m * dim));
    device_.gemm(xb_.floats(m * dim), n, weights_.classifier(), nullptr, logits_.floats(n * vocab));
    logits.resize(n * vocab);
    device_.copy_out(logits.data(), logits_.floats(n * vocab), n * vocab * sizeof(float));
  }
  device_.synchronize();
}

void Model::attention_layer(size_t m, int layer, DecodeMode mode) {
  const LayerWeights& w = weights_.layer(layer);
  const size_t dim = config_.dim;
  const size_t qw = config_.q_width();
  const size_t kvw = config_.kv_width();
  float* x = x_.floats(m * dim);
  float* xb = xb_.floats(m * dim);
  float* q = q_.floats(m * qw);
  float* k = k_.floats(m * kvw);
  float* v = v_.floats(m * kvw);
  float* att = att_.floats(m * qw);
  float* tmp = tmp_.floats(m * dim);
  const KvPool& pool = cache_.store().pool();
  device_.rmsnorm(x, w.attention_norm, m, dim, config_.norm_eps, xb);
  device_.gemm(xb, m, w.wq, w.bq, q);
  device_.gemm(xb, m, w.wk, w.bk, k);
  device_.gemm(xb, m, w.wv, w.bv, v);
  device_.rope(q, config_.heads, config_.head_dim, config_.rope_layout);
  device_.rope(k, config_.kv_heads, config_.head_dim, config_.rope_layout);
  device_.write_kv(pool, layer, k, v);
  device_.decode_attention(pool, layer, config_.heads, scale_, q, att, mode);
  device_.prefill_attention(pool, layer, config_.heads, scale_, q, att);
  device_.gemm(att, m, w.wo, nullptr, tmp);
  device_.add(x, tmp, m * dim);
}

void Model::ffn_layer(size_t m, int layer) {
  const LayerWeights& w = weights_.layer(layer);
  const size_t dim = config_.dim;
  const size_t hidden = config_.hidden_dim;
  float* x = x_.floats(m * dim);
  float* xb = xb_.floats(m * dim);
  float* h1 = h1_.floats(m * hidden);
  float* h3 = h3_.floats(m * hidden);
  float* tmp = tmp_.floats(m * dim);
  device_.rmsnorm(x, w.ffn_norm, m, dim, config_.norm_eps, xb);
  device_.gemm(xb, m, w.w1, nullptr, h1);
  device_.gemm(xb, m, w.w3, nullptr, h3);
  device_.swiglu(h1, h3, m * hidden);
  device_.gemm(h1, m, w.w2, nullptr, tmp);
  device_.add(x, tmp, m * dim);
}

}  // namespace chunkmesh
