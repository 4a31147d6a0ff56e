// Request validation in Model::step: the whole request is checked before
// anything changes; on any failure every sequence the request named is
// released (model.h), the error propagates, and everything else (other
// sequences, cached chunks, the tree's invariants) is untouched.
#include <string>
#include <vector>

#include "harness.h"
#include "model_rig.h"
#include "tree_inspector.h"

namespace cmtest {
namespace {

using chunkmesh::ErrorCode;
using chunkmesh::PrefixTreeInspector;
using chunkmesh::StepEntry;
using chunkmesh::StepRequest;
using Tokens = std::vector<int32_t>;

constexpr uint32_t kUnknown = 1u << 30;

// maxSeqLen 12: easy to reach
chunkmesh::ModelConfig config() { return model_config(32, 24, 1, 2, 1, 16, 20, 12); }

StepRequest entries(std::vector<StepEntry> e, std::vector<uint32_t> release = {}) {
  StepRequest r;
  r.entries = std::move(e);
  r.release = std::move(release);
  r.token_budget = 64;
  return r;
}

std::string digest(ModelRig& rig) {
  return rig.cache->run([&] {
    PrefixTreeInspector::check(rig.cache->tree());
    return PrefixTreeInspector::digest(rig.cache->tree());
  });
}

// Two running sequences, x and y, each with one committed chunk.
struct Running {
  ModelRig rig{config(), 16, 9};
  StepChecker check{rig};
  uint32_t x = 0, y = 0;
  Running() {
    const chunkmesh::StepResult r = check.step(entries({admit({3, 4, 5, 6, 7}), admit({7, 8, 9, 10, 11})}));
    x = r.entries[0].seq_id;
    y = r.entries[1].seq_id;
    rig.cache->drain_events();
  }
  bool live(uint32_t id) {
    return rig.cache->run([&] { return rig.cache->tree().has_sequence(id); });
  }
};

CM_TEST(step_validation_refuses_requests_naming_no_sequence_and_changes_nothing) {
  Running s;
  const std::vector<std::pair<const char*, StepRequest>> bad = {
      {"token past the vocabulary", entries({admit({1, 20})})},
      {"negative token", entries({admit({-1, 2})})},
      {"empty admission", entries({admit({})})},
      {"admission past maxSeqLen", entries({admit(Tokens(13, 1))})},
      {"unknown release", entries({}, {kUnknown})},
      {"unknown decode", entries({decode(kUnknown, 1)})},
      {"unknown prefill", entries({prefill(kUnknown, {1, 2})})},
  };
  for (const auto& [what, request] : bad) {
    const std::string before = digest(s.rig);
    try {
      s.rig.step(request);
      fail(__FILE__, __LINE__, std::string(what) + ": the step did not fail");
    } catch (const chunkmesh::Error&) {
    }
    const std::string change = PrefixTreeInspector::difference(before, digest(s.rig));
    CHECK_MSG(change.empty(), what << ": the failed step changed the tree: " << change);
    CHECK_MSG(s.rig.cache->drain_events().empty(), what << ": the failed step published events");
  }
  CHECK(s.live(s.x) && s.live(s.y));
}

CM_TEST(step_validation_failure_releases_the_named_sequences_only) {
  struct Bad {
    const char* what;
    ErrorCode code;
    StepRequest (*make)(uint32_t x);
  };
  const std::vector<Bad> bad = {
      {"bad token", ErrorCode::kInvalidArgument, [](uint32_t x) { return entries({decode(x, 20)}); }},
      {"repeated entry", ErrorCode::kInvalidArgument,
       [](uint32_t x) {
         return entries({decode(x, 1), decode(x, 2)});
       }},
      {"released twice", ErrorCode::kInvalidArgument,
       [](uint32_t x) {
         return entries({}, {x, x});
       }},
      {"released and decoded", ErrorCode::kInvalidArgument, [](uint32_t x) { return entries({decode(x, 1)}, {x}); }},
      {"decode of two tokens", ErrorCode::kInvalidArgument,
       [](uint32_t x) {
         StepEntry e = decode(x, 1);
         e.tokens.push_back(2);
         return entries({e});
       }},
      {"prefill past maxSeqLen", ErrorCode::kInvalidArgument,
       [](uint32_t x) { return entries({prefill(x, Tokens(8, 1))}); }},
      {"with an unknown sequence", ErrorCode::kUnknownSequence,
       [](uint32_t x) {
         return entries({decode(x, 1), decode(kUnknown, 1)});
       }},
  };
  for (const Bad& b : bad) {
    Running s;
    CHECK_THROWS(s.rig.step(b.make(s.x)), b.code);
    CHECK_MSG(!s.live(s.x), b.what << ": the named sequence is still live");
    CHECK_MSG(s.live(s.y), b.what << ": a sequence the request did not name was released");
    digest(s.rig);  // the invariants hold
    // y runs on; x's committed chunk stays cached and is reused correctly
    s.check.step(entries({decode(s.y, 2)}));
    const chunkmesh::StepResult again = s.check.step(entries({admit({3, 4, 5, 6, 9})}));
    CHECK_MSG(again.entries[0].cached_tokens == 4, b.what << ": cached " << again.entries[0].cached_tokens);
  }
}

}  // namespace
}  // namespace cmtest
