#include "harness.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

namespace cmtest {
namespace {

struct Test {
  const char* name;
  void (*fn)();
};

std::vector<Test>& registry() {
  static std::vector<Test> tests;
  return tests;
}

// The seed being run, for the rerun line of a failure.
std::string current_seed;

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : nullptr;
}

}  // namespace

void register_test(const char* name, void (*fn)()) { registry().push_back(Test{name, fn}); }

void fail(const char* file, int line, const std::string& what) {
  std::string where = file;
  const size_t slash = where.rfind('/');
  if (slash != std::string::npos) where = where.substr(slash + 1);
  throw Failure{where + ":" + std::to_string(line) + ": " + what};
}

void for_each_seed(int count, const std::function<void(uint64_t)>& body) {
  std::vector<uint64_t> seeds;
  if (const char* fixed = env("CHUNKMESH_TEST_SEED")) {
    seeds.push_back(std::strtoull(fixed, nullptr, 10));
  } else {
    for (int i = 0; i < count; ++i) seeds.push_back(1000 + i);
  }
  for (uint64_t seed : seeds) {
    current_seed = std::to_string(seed);
    body(seed);
  }
  current_seed.clear();
}

int scale() {
  const char* s = env("CHUNKMESH_TEST_SCALE");
  const int n = s != nullptr ? std::atoi(s) : 1;
  return n > 0 ? n : 1;
}

uint64_t Rng::next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::vector<float> Rng::floats(size_t n) {
  std::vector<float> out(n);
  for (float& x : out) x = symmetric();
  return out;
}

std::vector<int32_t> Rng::tokens(size_t n, int vocab) {
  std::vector<int32_t> out(n);
  for (int32_t& t : out) t = range(0, vocab - 1);
  return out;
}

}  // namespace cmtest

// Usage: chunkmesh_native_tests [--list] [SUBSTRING ...]
// Runs every test whose name contains one of the substrings (all without any).
int main(int argc, char** argv) {
  using namespace cmtest;
  std::vector<std::string> filters;
  bool list = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--list") {
      list = true;
    } else if (a == "--help" || a == "-h") {
      std::printf(
          "usage: %s [--list] [SUBSTRING ...]\n  env: CHUNKMESH_TEST_SEED=N (one seed), CHUNKMESH_TEST_SCALE=N\n",
          argv[0]);
      return 0;
    } else {
      filters.push_back(a);
    }
  }
  int passed = 0, failed = 0;
  for (const Test& t : registry()) {
    bool wanted = filters.empty();
    for (const std::string& f : filters) wanted = wanted || std::string(t.name).find(f) != std::string::npos;
    if (!wanted) continue;
    if (list) {
      std::printf("%s\n", t.name);
      continue;
    }
    const auto start = std::chrono::steady_clock::now();
    std::string error;
    try {
      t.fn();
    } catch (const Failure& f) {
      error = f.message;
    } catch (const std::exception& e) {
      error = std::string("unexpected exception: ") + e.what();
    }
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    if (error.empty()) {
      ++passed;
      std::printf("ok   %s (%lld ms)\n", t.name, static_cast<long long>(ms));
    } else {
      ++failed;
      std::printf("FAIL %s (%lld ms)\n  %s\n", t.name, static_cast<long long>(ms), error.c_str());
      if (!current_seed.empty()) {
        std::printf("  rerun: CHUNKMESH_TEST_SEED=%s %s %s\n", current_seed.c_str(), argv[0], t.name);
      }
    }
    current_seed.clear();
    std::fflush(stdout);
  }
  if (list) return 0;
  if (passed + failed == 0) {
    std::printf("no test matched\n");
    return 1;
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
