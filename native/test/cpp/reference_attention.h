#pragma once
// The attention oracle: K/V as a real model would have them, and plain
// softmax attention in double, written for clarity rather than speed.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace cmtest {

struct KvGeometry {
  int layers = 0;
  int kv_heads = 0;
  int head_dim = 0;
};

// A running hash per position: hashes[p] names tokens[0..p], so equal prefixes
// get equal K/V (the tree may share them) and any earlier difference changes
// everything after it.
std::vector<uint32_t> prefix_hashes(const std::vector<int32_t>& tokens);

// K and V of positions [from, to) of one layer, [to - from][kv_heads][head_dim]
// each, in [-1, 1).
struct DenseKv {
  std::vector<float> k, v;
};
DenseKv synthetic_kv(const KvGeometry& g, const std::vector<uint32_t>& hashes, int layer, size_t from, size_t to);

// Attention of query rows q ([rows][n_heads][head_dim]) over k and v
// ([positions][kv_heads][head_dim]), row t seeing positions [0, visible(t)),
// scaled by 1/sqrt(head_dim). Returns [rows][n_heads][head_dim].
std::vector<double> reference_attention(const float* k, const float* v, const float* q, size_t rows, int n_heads,
                                        int kv_heads, int head_dim, const std::function<size_t(size_t)>& visible);

// Largest error per (row, head) vector relative to that vector's largest
// magnitude (softmax outputs are averages: entries near zero would make a
// per-element relative error meaningless). NaN counts as infinite.
double max_relative_error(const float* actual, const std::vector<double>& expected, int head_dim);

}  // namespace cmtest
