// Reproducible sums: the same bits for any order of the addends, hence for any split of the rows
// over ranks and threads.
//
// Every addend x of column j is rounded once to the fixed-point grid q_j = 2^(e_j − 62), where
// |x| < 2^e_j bounds the column (e_j from the global maximum |x|, which every rank agrees on
// exactly), and accumulated as a 128-bit integer. Integer addition is associative, so the total
// does not depend on the order; it is exact up to the one rounding per addend, |error| ≤ n·q_j/2
// = n·2^(e_j − 63), i.e. the mean is within 2^−62 max|x| of the exact mean of the data (better
// than a naive double sum, whose error grows with n·ε·max|x|). Up to 2^65 addends fit.
//
// Partial sums of several ranks meet exactly in a floating-point allreduce: limbs() splits each
// 128-bit total into four 32-bit limbs held in doubles, and the limb sums stay integers below 2^53
// for fewer than 2^21 ranks; from_limbs() carries them back into one 128-bit integer (mod 2^128,
// the two's complement of a negative total). The idea is that of the "reproducible summation" of
// Demmel & Nguyen (2015), in its simplest form: one bin, 64 bits of headroom.
#pragma once
#include <vector>

#include "scorematch/core/types.hpp"

namespace scorematch {

// GCC/Clang's 128-bit integers (__extension__: not ISO C++, so -Wpedantic would object).
__extension__ typedef __int128 int128_t;
__extension__ typedef unsigned __int128 uint128_t;

// The exponent e with |x| < 2^e for every |x| ≤ max_abs (0 for max_abs = 0). max_abs finite.
int fixed_point_exponent(double max_abs);

class FixedPointSums {
 public:
  // One accumulator per column; exponents[j] is column j's e_j (fixed_point_exponent).
  explicit FixedPointSums(std::vector<int> exponents);
  Index size() const { return static_cast<Index>(exponents_.size()); }
  // Adds x to column j; requires |x| < 2^exponents[j] (checked: throws Error otherwise).
  void add(Index j, double x);
  // Adds every row of x (x.cols() == size()).
  void add_rows(const Matrix& x);
  void merge(const FixedPointSums& other);
  // 4 limbs per column, for an allreduce_sum of doubles; and the totals back as doubles.
  std::vector<double> limbs() const;
  // Totals from limb sums over ranks (the output of allreduce_sum of limbs()).
  std::vector<double> totals_from_limbs(const std::vector<double>& limb_sums) const;
  std::vector<double> totals() const { return totals_from_limbs(limbs()); }

 private:
  std::vector<int> exponents_;
  std::vector<int128_t> sums_;
};

}  // namespace scorematch
