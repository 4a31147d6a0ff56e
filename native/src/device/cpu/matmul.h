#pragma once
// The projections of the forward pass: y = W x for a batch of tokens.
#include <cstddef>

#include "runtime/thread_pool.h"

namespace chunkmesh {

// y[t][o] = sum_i x[t][i] * w[o][i] (+ bias[o] when bias is non-null), for x
// [m][in], w [out][in] row-major and y [m][out]. Every output is summed in the
// same order whatever m and the tiling, so a token's result does not depend on
// which other tokens share the batch.
void matmul(const float* x, size_t m, size_t in, const float* w, const float* bias, size_t out, float* y,
            ThreadPool& threads);

}  // namespace chunkmesh
