#include "kv/kv_shape.h"

#include <string>

#include "runtime/error.h"

namespace chunkmesh {

KvShape validate_shape(const KvShape& s) {
  if (s.layers < 1) throw_invalid("layers must be >= 1");
  if (s.kv_heads < 1) throw_invalid("kvHeads must be >= 1");
  if (s.head_dim < 1 || s.head_dim > 1024) throw_invalid("headDim must be in [1, 1024]");
  if (s.chunk_tokens < 1 || s.chunk_tokens > 4096) throw_invalid("chunkTokens must be in [1, 4096]");
  return s;
}

}  // namespace chunkmesh
