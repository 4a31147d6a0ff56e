#include "reference_model.h"

#include <algorithm>
#include <cmath>

#include "model/model_weights.h"

namespace cmtest {
namespace {

using chunkmesh::ModelConfig;
using Vec = std::vector<double>;

// RoPE inverse frequencies with the config's scaling (Hugging Face's rope_init_fn).
Vec inverse_frequencies(const ModelConfig& c) {
  Vec inv(c.head_dim / 2);
  const chunkmesh::RopeScaling& s = c.rope_scaling;
  for (size_t i = 0; i < inv.size(); ++i) {
    const double f = std::pow(c.rope_theta, -2.0 * i / c.head_dim);
    inv[i] = f;
    if (s.type == chunkmesh::RopeScalingType::kLinear) inv[i] = f / s.factor;
    if (s.type == chunkmesh::RopeScalingType::kLlama3) {
      const double wavelen = 2 * M_PI / f;
      const double low = s.original_max_positions / s.low_freq_factor;
      const double high = s.original_max_positions / s.high_freq_factor;
      const double smooth =
          (s.original_max_positions / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
      inv[i] = wavelen < high ? f : wavelen > low ? f / s.factor : (1 - smooth) * f / s.factor + smooth * f;
    }
  }
  return inv;
}

void rope(const ModelConfig& c, Vec& x, int heads, size_t pos, const Vec& inv) {
  const int half = c.head_dim / 2;
  for (int h = 0; h < heads; ++h) {
    for (int i = 0; i < half; ++i) {
      const bool pairs = c.rope_layout == chunkmesh::RopeLayout::kPairs;
      const size_t a = h * c.head_dim + (pairs ? 2 * i : i);
      const size_t b = h * c.head_dim + (pairs ? 2 * i + 1 : i + half);
      const double angle = static_cast<double>(pos) * inv[i];
      const double xa = x[a], xb = x[b];
      x[a] = xa * std::cos(angle) - xb * std::sin(angle);
      x[b] = xa * std::sin(angle) + xb * std::cos(angle);
    }
  }
}

// y = W x (+ bias), W [out][x.size()].
Vec matvec(const std::vector<float>& w, const Vec& x, size_t out, const std::vector<float>* bias = nullptr) {
  Vec y(out);
  for (size_t o = 0; o < out; ++o) {
    double s = bias != nullptr ? (*bias)[o] : 0.0;
    for (size_t i = 0; i < x.size(); ++i) s += static_cast<double>(w[o * x.size() + i]) * x[i];
    y[o] = s;
  }
  return y;
}

Vec rmsnorm(const Vec& x, const std::vector<float>& w, double eps) {
  double ss = 0;
  for (double v : x) ss += v * v;
  const double scale = 1 / std::sqrt(ss / x.size() + eps);
  Vec out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = x[i] * scale * w[i];
  return out;
}

}  // namespace

RandomModel random_model(const ModelConfig& config, Rng& rng) {
  RandomModel m{config, {}};
  for (const chunkmesh::TensorSpec& spec : chunkmesh::tensor_specs(config)) {
    std::vector<float> t = rng.floats(spec.elems);
    const std::string& n = spec.name;
    const auto ends_with = [&](const char* suffix) {
      const std::string s(suffix);
      return n.size() >= s.size() && n.compare(n.size() - s.size(), s.size(), s) == 0;
    };
    if (ends_with("norm")) {
      for (float& x : t) x = 1 + 0.2f * x;
    } else if (n != "tok_embeddings" && !ends_with(".bq") && !ends_with(".bk") && !ends_with(".bv")) {
      const size_t in = ends_with(".wo") ? config.q_width() : ends_with(".w2") ? config.hidden_dim : config.dim;
      for (float& x : t) x *= static_cast<float>(1.5 / std::sqrt(static_cast<double>(in)));
    }
    m.tensors[n] = std::move(t);
  }
  return m;
}

std::vector<double> reference_logits(const RandomModel& model, const std::vector<int32_t>& tokens) {
  const ModelConfig& c = model.config;
  const auto t = [&](const std::string& name) -> const std::vector<float>& { return model.tensors.at(name); };
  const size_t d = c.head_dim;
  const int group = c.heads / c.kv_heads;
  const Vec inv = inverse_frequencies(c);
  std::vector<Vec> xs;
  for (int32_t tok : tokens) {
    const std::vector<float>& e = t("tok_embeddings");
    xs.emplace_back(e.begin() + static_cast<size_t>(tok) * c.dim, e.begin() + static_cast<size_t>(tok + 1) * c.dim);
  }
  for (int l = 0; l < c.layers; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    const auto bias = [&](const char* name) { return c.qkv_bias ? &t(p + name) : nullptr; };
    std::vector<Vec> qs, ks, vs;
    for (size_t pos = 0; pos < xs.size(); ++pos) {
      const Vec xb = rmsnorm(xs[pos], t(p + "attention_norm"), c.norm_eps);
      qs.push_back(matvec(t(p + "wq"), xb, c.q_width(), bias("bq")));
      ks.push_back(matvec(t(p + "wk"), xb, c.kv_width(), bias("bk")));
      vs.push_back(matvec(t(p + "wv"), xb, c.kv_width(), bias("bv")));
      rope(c, qs.back(), c.heads, pos, inv);
      rope(c, ks.back(), c.kv_heads, pos, inv);
    }
    for (size_t pos = 0; pos < xs.size(); ++pos) {
      Vec att(c.q_width(), 0.0);
      for (int h = 0; h < c.heads; ++h) {
        const size_t kvh = h / group;
        Vec scores(pos + 1);
        for (size_t s = 0; s <= pos; ++s) {
          double dot = 0;
          for (size_t i = 0; i < d; ++i) dot += qs[pos][h * d + i] * ks[s][kvh * d + i];
          scores[s] = dot / std::sqrt(static_cast<double>(d));
        }
        const double mx = *std::max_element(scores.begin(), scores.end());
        double sum = 0;
        for (double& s : scores) sum += (s = std::exp(s - mx));
        for (size_t s = 0; s <= pos; ++s) {
          for (size_t i = 0; i < d; ++i) att[h * d + i] += scores[s] / sum * vs[s][kvh * d + i];
        }
      }
      Vec& x = xs[pos];
      const Vec o = matvec(t(p + "wo"), att, c.dim);
      for (int i = 0; i < c.dim; ++i) x[i] += o[i];
      const Vec xb = rmsnorm(x, t(p + "ffn_norm"), c.norm_eps);
      const Vec g = matvec(t(p + "w1"), xb, c.hidden_dim);
      const Vec u = matvec(t(p + "w3"), xb, c.hidden_dim);
      Vec h(c.hidden_dim);
      for (int i = 0; i < c.hidden_dim; ++i) h[i] = g[i] / (1 + std::exp(-g[i])) * u[i];  // SwiGLU
      const Vec down = matvec(t(p + "w2"), h, c.dim);
      for (int i = 0; i < c.dim; ++i) x[i] += down[i];
    }
  }
  const Vec last = rmsnorm(xs.back(), t("norm"), c.norm_eps);
  return matvec(c.tied_embeddings ? t("tok_embeddings") : t("output"), last, c.vocab_size);
}

}  // namespace cmtest
