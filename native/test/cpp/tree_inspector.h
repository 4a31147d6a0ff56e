#pragma once
// Looks inside a PrefixTree (a friend of it) to check the invariants its
// header states on the real nodes, rather than on what the public API
// happens to expose.
#include <array>
#include <cstdint>
#include <set>
#include <string>

#include "kv/prefix_tree.h"

namespace chunkmesh {

class PrefixTreeInspector {
 public:
  // Fails the test naming the first invariant of prefix_tree.h that does not hold.
  static void check(const PrefixTree& tree);
  // The tree's whole state as text: unchanged exactly when nothing changed.
  static std::string digest(const PrefixTree& tree);
  // The first line in which two digests differ, before and after ("" when equal).
  static std::string difference(const std::string& before, const std::string& after);
  // The chunk key of a live node.
  static uint64_t key_of(const PrefixTree& tree, uint32_t node) { return tree.nodes_.at(node).key; }
  // The tree's own listing (PrefixTree::resident_keys) as multisets, for the checks that replay events against it.
  static std::array<std::multiset<uint64_t>, kTierCount> resident_keys(const PrefixTree& tree);
};

}  // namespace chunkmesh
