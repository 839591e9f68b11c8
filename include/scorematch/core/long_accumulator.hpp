// Exact sums of doubles (Kulisch's long accumulator): every finite double is an integer multiple
// of 2^−1074, so a sum of doubles is an integer multiple of 2^−1074 that fits a fixed-point number
// of ~2100 bits. LongAccumulator holds it in 32-bit digits (carry-save int64 words), adds a double
// exactly (no rounding at all), merges exactly, and rounds once, to nearest, when read. The total
// is therefore the same bits for any order and grouping of the addends: chunk partials summed by
// any number of threads and ranks give one answer (Kulisch & Miranker 1986; the technique behind
// ExBLAS, Collange et al. 2015, and reproducible BLAS).
//
// Across ranks, limbs() gives the digits as doubles in [0, 2^32) (the top one signed), whose sums
// over fewer than 2^20 ranks are exact in a floating-point allreduce; from_limb_sums() takes them
// back. ExactVectorSum is the same for a vector of m entries (a packed statistics buffer).
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "scorematch/core/types.hpp"

namespace scorematch {

class LongAccumulator {
 public:
  // 2^−1074 · 2^(32·kWords) covers every double (2^1024) with 2^60 of headroom for carries.
  static constexpr int kWords = 70;
  void add(double x);  // exact; throws Error for NaN or Inf
  void merge(const LongAccumulator& other);
  double value() const;  // the exact total, rounded to nearest (ties to even)
  void append_limbs(std::vector<double>& out) const;
  // Replaces the state by limbs[offset, offset + kWords) (sums of append_limbs over ranks).
  void set_from_limb_sums(const std::vector<double>& limbs, std::size_t offset);

 private:
  void normalise();
  std::array<std::int64_t, kWords> w_{};
  int pending_ = 0;  // adds since the last normalisation (each adds < 2^33 to a word)
};

class ExactVectorSum {
 public:
  explicit ExactVectorSum(std::size_t m) : entries_(m) {}
  std::size_t size() const { return entries_.size(); }
  void add(const std::vector<double>& v);  // v.size() == size()
  void add(const double* v, std::size_t m);
  void merge(const ExactVectorSum& other);
  std::vector<double> values() const;
  std::vector<double> limbs() const;  // size() · kWords doubles, for an allreduce_sum
  void set_from_limb_sums(const std::vector<double>& limbs);

 private:
  std::vector<LongAccumulator> entries_;
};

}  // namespace scorematch
