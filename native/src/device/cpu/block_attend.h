#pragma once
// The inner kernel every attention path shares: R query rows against one block
// of n keys/values (fp32, [n][d] row-major), folded into the rows' running
// softmax states. Rows are pre-scaled by 1/sqrt(d).
#include <cstddef>
#include <vector>

namespace chunkmesh {

struct BlockScratch {
  std::vector<float> scores;  // R x n16
  std::vector<float> kt;      // d x n16 (keys transposed, for many rows)
  void reserve(int rows, int n, int d);
};

// q: R x d; k, v: n x d; m, l: R; o: R x d.
// row_keys: when non-null, row r sees only keys [0, row_keys[r]) (causal edge).
void attend_block(const float* q, int rows, int d, const float* k, const float* v, int n, const int* row_keys, float* m,
                  float* l, float* o, BlockScratch& scratch);

// Floating-point operations attend_block performs for R rows and n keys.
inline double attend_block_flops(int rows, int d, int n) { return 4.0 * rows * n * d; }

}  // namespace chunkmesh
