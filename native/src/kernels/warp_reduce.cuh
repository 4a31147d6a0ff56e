#pragma once
// Butterfly reductions over a warp: every lane ends with the result.
#include "kernels/portable.h"

namespace chunkmesh::kern {

CM_DEVICE float warp_max(float v) {
  for (int m = 16; m > 0; m >>= 1) v = fmaxf(v, shfl_xor(v, m));
  return v;
}

CM_DEVICE float warp_sum(float v) {
  for (int m = 16; m > 0; m >>= 1) v += shfl_xor(v, m);
  return v;
}

}  // namespace chunkmesh::kern
