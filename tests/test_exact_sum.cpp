// Exact sums (core/long_accumulator.hpp): exact where naive summation is not, the same bits for
// any order and split over "ranks" (limbs round-trip); and the output guard's rules.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

#include "scorematch/core/error.hpp"
#include "scorematch/core/long_accumulator.hpp"
#include "scorematch/io/output_guard.hpp"

using namespace scorematch;

namespace {
std::vector<double> values(std::size_t n, double magnitude, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.3, 1.0);
  std::vector<double> v(n);
  for (double& x : v) x = magnitude * normal(rng) * std::exp(4.0 * normal(rng));
  return v;
}
}  // namespace

TEST(OutputGuard, PathWithinComparesWholeComponents) {
  EXPECT_TRUE(io::path_within("/a/b", "/a/b"));
  EXPECT_TRUE(io::path_within("/a/b/c.npy", "/a/b"));
  EXPECT_FALSE(io::path_within("/a/b.ckpt", "/a/b"));
  EXPECT_FALSE(io::path_within("/a", "/a/b"));
}

TEST(LongAccumulator, ExactWhereNaiveSummationIsNot) {
  auto sum = [](std::initializer_list<double> v) {
    LongAccumulator a;
    for (double x : v) a.add(x);
    return a.value();
  };
  const double two53 = 9007199254740992.0;
  EXPECT_EQ(sum({two53, 1.0, 1.0}), two53 + 2.0);  // naive: 2^53
  EXPECT_EQ(sum({1e308, 1e308, -1e308, -1e308, 3.5}), 3.5);
  EXPECT_EQ(sum({1e300, 1.0, -1e300}), 1.0);
  EXPECT_EQ(sum({4.9e-324, 4.9e-324, 4.9e-324, 4.9e-324}), 4 * 4.9e-324);  // subnormals
  EXPECT_EQ(sum({-2.5, 1.25, -0.75}), -2.0);
  EXPECT_EQ(sum({}), 0.0);
  EXPECT_EQ(sum({0.1, 0.2}), 0.1 + 0.2);  // one addition: the correctly rounded sum
}

TEST(LongAccumulator, SameBitsForAnyOrderAndRankSplit) {
  const std::vector<double> v = values(20000, 1e3, 4);
  ExactVectorSum whole(2);
  for (double x : v) whole.add(std::vector<double>{x, -3 * x});
  std::vector<double> shuffled = v;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937_64(5));
  std::vector<double> limb_sums;
  for (auto [b, e] : {std::pair{0, 1}, std::pair{1, 12345}, std::pair{12345, 20000}}) {
    ExactVectorSum part(2);
    for (int i = b; i < e; ++i) {
      const double x = shuffled[static_cast<std::size_t>(i)];
      part.add(std::vector<double>{x, -3 * x});
    }
    const std::vector<double> l = part.limbs();
    if (limb_sums.empty()) limb_sums.assign(l.size(), 0.0);
    for (std::size_t k = 0; k < l.size(); ++k) limb_sums[k] += l[k];
  }
  ExactVectorSum merged(2);
  merged.set_from_limb_sums(limb_sums);
  EXPECT_EQ(whole.values(), merged.values());  // bitwise
  long double reference = 0;
  for (double x : v) reference += static_cast<long double>(x);
  EXPECT_NEAR(whole.values()[0], static_cast<double>(reference),
              1e-12 * std::fabs(static_cast<double>(reference)) + 1e-9);
}

// Replacing an output directory: a manifest-listed or legacy (pre-manifest) scorematch output may
// be replaced; any file scorematch did not write (or would not write) makes it refuse.
TEST(OutputGuard, ReplacesOnlyWhatScorematchWrote) {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / ("sm_guard_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "legacy");
  std::ofstream(root / "legacy" / "meta.json") << "{}";
  std::ofstream(root / "legacy" / "mean.npy") << "x";
  EXPECT_NO_THROW(io::check_replaceable((root / "legacy").string()));
  std::ofstream(root / "legacy" / "notes.txt") << "mine";
  EXPECT_THROW(io::check_replaceable((root / "legacy").string()), Error);
  fs::create_directories(root / "listed");
  std::ofstream(root / "listed" / "a.npy") << "x";
  io::write_manifest((root / "listed").string());
  EXPECT_NO_THROW(io::check_replaceable((root / "listed").string()));
  std::ofstream(root / "listed" / "b.npy") << "y";  // not in the manifest
  EXPECT_THROW(io::check_replaceable((root / "listed").string()), Error);
  fs::create_directories(root / "ck");
  std::ofstream(root / "ck" / "ckpt-00000003.bin") << "x";
  std::ofstream(root / "ck" / "metrics.jsonl") << "{}";
  EXPECT_NO_THROW(io::check_checkpoint_dir((root / "ck").string()));
  std::ofstream(root / "ck" / "notes.txt") << "mine";
  EXPECT_THROW(io::check_checkpoint_dir((root / "ck").string()), Error);
  fs::remove_all(root);
}
