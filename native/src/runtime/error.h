#pragma once
// Typed errors of the native core. The addon turns each code into a distinct
// JavaScript error class, so callers branch on type, not on message text.
#include <stdexcept>
#include <string>

namespace chunkmesh {

enum class ErrorCode {
  kInvalidArgument,    // wrong shape, bad option, token outside the vocabulary, use after dispose
  kUnknownSequence,    // a sequence id that was never created or was released
  kCapacityExhausted,  // the chunk pool is full and every chunk is pinned; out of device memory
  kDeviceUnavailable,  // the device asked for cannot be used here (not built, no GPU, no driver)
  kChunkMismatch       // an imported chunk's key or checksum is not what its tokens and bytes give
};

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

[[noreturn]] inline void throw_invalid(const std::string& message) {
  throw Error(ErrorCode::kInvalidArgument, message);
}

}  // namespace chunkmesh
