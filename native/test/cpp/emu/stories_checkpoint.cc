#include "stories_checkpoint.h"

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace cmtest {

Checkpoint load_stories260k() {
  const char* dir = std::getenv("CHUNKMESH_FIXTURES_DIR");
  const std::string path = std::string(dir ? dir : CHUNKMESH_FIXTURES_DIR) + "/stories260K/stories260K.bin";
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path);
  int32_t h[7];
  f.read(reinterpret_cast<char*>(h), sizeof h);
  Checkpoint ck;
  chunkmesh::ModelConfig& c = ck.config;
  c.dim = h[0];
  c.hidden_dim = h[1];
  c.layers = h[2];
  c.heads = h[3];
  c.kv_heads = h[4];
  c.vocab_size = std::abs(h[5]);
  c.tied_embeddings = h[5] > 0;
  c.max_seq_len = static_cast<size_t>(h[6]);
  c.head_dim = c.dim / c.heads;
  c.rope_layout = chunkmesh::RopeLayout::kPairs;
  const size_t d = c.dim, hid = c.hidden_dim, q = c.q_width(), kv = c.kv_width(), v = c.vocab_size;
  const auto read = [&](size_t n) {
    std::vector<float> t(n);
    f.read(reinterpret_cast<char*>(t.data()), static_cast<std::streamsize>(n * sizeof(float)));
    if (!f) throw std::runtime_error(path + " is truncated");
    return t;
  };
  // llama2.c order: each weight kind for all layers at once
  ck.tensors["tok_embeddings"] = read(v * d);
  const auto per_layer = [&](const char* name, size_t n) {
    const std::vector<float> all = read(c.layers * n);
    for (int l = 0; l < c.layers; ++l) {
      ck.tensors["layers." + std::to_string(l) + "." + name].assign(all.begin() + l * n, all.begin() + (l + 1) * n);
    }
  };
  per_layer("attention_norm", d);
  per_layer("wq", q * d);
  per_layer("wk", kv * d);
  per_layer("wv", kv * d);
  per_layer("wo", d * q);
  per_layer("ffn_norm", d);
  per_layer("w1", hid * d);
  per_layer("w2", d * hid);
  per_layer("w3", hid * d);
  ck.tensors["norm"] = read(d);
  return ck;
}

}  // namespace cmtest
