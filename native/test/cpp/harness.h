#pragma once
// The native tests' harness: a registry of test functions, checks that end
// the test with a message naming the file, line and seed, and seeded
// randomness. A failing case prints its seed; CHUNKMESH_TEST_SEED=<seed> and
// the test's name on the command line rerun exactly that case. No framework is
// installed on the CI machine, and this is all the tests need.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/error.h"

namespace cmtest {

// Thrown by a failed check: ends the test that made it.
struct Failure {
  std::string message;
};

void register_test(const char* name, void (*fn)());
[[noreturn]] void fail(const char* file, int line, const std::string& what);

// The seeds a property test runs: CHUNKMESH_TEST_SEED alone when set, else
// `count` fixed ones. body(seed) runs for each, and a failure names its seed.
void for_each_seed(int count, const std::function<void(uint64_t seed)>& body);

// CHUNKMESH_TEST_SCALE (default 1) multiplies the sizes of the random tests,
// for longer runs than CI's.
int scale();

template <typename A, typename B>
std::string describe_pair(const char* expr, const A& a, const B& b) {
  std::ostringstream os;
  os << expr << ": " << a << " vs " << b;
  return os.str();
}

// SplitMix64: small, fast, and the same sequence on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next();
  // Uniform in [lo, hi].
  int range(int lo, int hi) { return lo + static_cast<int>(next() % static_cast<uint64_t>(hi - lo + 1)); }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return uniform() < p; }
  // Uniform in [-1, 1).
  float symmetric() { return static_cast<float>(uniform() * 2.0 - 1.0); }
  std::vector<float> floats(size_t n);
  std::vector<int32_t> tokens(size_t n, int vocab);
  template <typename T>
  const T& pick(const std::vector<T>& xs) {
    return xs[next() % xs.size()];
  }

 private:
  uint64_t state_;
};

}  // namespace cmtest

#define CM_TEST(name)                                                                  \
  static void name();                                                                  \
  static const bool name##_registered = (::cmtest::register_test(#name, &name), true); \
  static void name()

#define CHECK(cond)                                                      \
  do {                                                                   \
    if (!(cond)) ::cmtest::fail(__FILE__, __LINE__, "CHECK(" #cond ")"); \
  } while (0)

#define CHECK_MSG(cond, msg)                                                   \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::ostringstream cm_os_;                                               \
      cm_os_ << msg;                                                           \
      ::cmtest::fail(__FILE__, __LINE__, "CHECK(" #cond "): " + cm_os_.str()); \
    }                                                                          \
  } while (0)

#define CHECK_EQ(a, b)                                                                                       \
  do {                                                                                                       \
    const auto& cm_a_ = (a);                                                                                 \
    const auto& cm_b_ = (b);                                                                                 \
    if (!(cm_a_ == cm_b_)) {                                                                                 \
      ::cmtest::fail(__FILE__, __LINE__, ::cmtest::describe_pair("CHECK_EQ(" #a ", " #b ")", cm_a_, cm_b_)); \
    }                                                                                                        \
  } while (0)

// expr must throw chunkmesh::Error with this code.
#define CHECK_THROWS(expr, error_code)                                                           \
  do {                                                                                           \
    bool cm_threw_ = false;                                                                      \
    try {                                                                                        \
      expr;                                                                                      \
    } catch (const ::chunkmesh::Error& cm_e_) {                                                  \
      cm_threw_ = true;                                                                          \
      CHECK_MSG(cm_e_.code() == (error_code), #expr " threw the wrong error: " << cm_e_.what()); \
    }                                                                                            \
    CHECK_MSG(cm_threw_, #expr " did not throw");                                                \
  } while (0)
