#include "scorematch/core/exact_sum.hpp"

#include <cmath>
#include <string>

#include "scorematch/core/error.hpp"

namespace scorematch {

namespace {
constexpr int kFractionBits = 62;       // |x| < 2^e ⇒ |x / q| < 2^62: one addend fits an int64
constexpr double kLimb = 4294967296.0;  // 2^32

int128_t to_grid(double x, int e) {
  const double scaled = std::ldexp(x, kFractionBits - e);
  if (!(std::fabs(scaled) < 0x1p62))
    throw Error("fixed-point sum: addend " + std::to_string(x) + " outside its column's bound 2^" +
                std::to_string(e));
  return static_cast<int128_t>(std::llrint(scaled));
}

// Signed 128-bit integer to double (one rounding of the high part, one of the sum).
double to_double(int128_t v, int e) {
  const bool negative = v < 0;
  uint128_t u = negative ? -static_cast<uint128_t>(v) : static_cast<uint128_t>(v);
  const double hi = static_cast<double>(static_cast<unsigned long long>(u >> 64));
  const double lo = static_cast<double>(static_cast<unsigned long long>(u));
  const double magnitude =
      std::ldexp(hi, 64 + e - kFractionBits) + std::ldexp(lo, e - kFractionBits);
  return negative ? -magnitude : magnitude;
}
}  // namespace

int fixed_point_exponent(double max_abs) {
  if (!std::isfinite(max_abs)) throw Error("fixed-point sum: non-finite bound");
  if (max_abs == 0) return 0;
  int e = 0;
  std::frexp(max_abs, &e);  // max_abs = f · 2^e, f ∈ [0.5, 1): max_abs < 2^e
  return e;
}

FixedPointSums::FixedPointSums(std::vector<int> exponents)
    : exponents_(std::move(exponents)), sums_(exponents_.size(), 0) {}

void FixedPointSums::add(Index j, double x) {
  const auto k = static_cast<std::size_t>(j);
  sums_[k] += to_grid(x, exponents_[k]);
}

void FixedPointSums::add_rows(const Matrix& x) {
  if (x.cols() != size()) throw Error("fixed-point sum: column count mismatch");
  for (Index j = 0; j < x.cols(); ++j) {
    const int e = exponents_[static_cast<std::size_t>(j)];
    int128_t s = 0;
    for (Index i = 0; i < x.rows(); ++i) s += to_grid(x(i, j), e);
    sums_[static_cast<std::size_t>(j)] += s;
  }
}

void FixedPointSums::merge(const FixedPointSums& other) {
  if (other.exponents_ != exponents_) throw Error("fixed-point sum: merging different grids");
  for (std::size_t k = 0; k < sums_.size(); ++k) sums_[k] += other.sums_[k];
}

std::vector<double> FixedPointSums::limbs() const {
  std::vector<double> out;
  out.reserve(4 * sums_.size());
  for (int128_t s : sums_) {
    auto u = static_cast<uint128_t>(s);  // two's complement, mod 2^128
    for (int l = 0; l < 4; ++l) {
      out.push_back(static_cast<double>(static_cast<std::uint32_t>(u)));
      u >>= 32;
    }
  }
  return out;
}

std::vector<double> FixedPointSums::totals_from_limbs(const std::vector<double>& limb_sums) const {
  if (limb_sums.size() != 4 * sums_.size()) throw Error("fixed-point sum: limb count mismatch");
  std::vector<double> out(sums_.size());
  for (std::size_t k = 0; k < sums_.size(); ++k) {
    uint128_t u = 0;
    for (int l = 3; l >= 0; --l) {
      const double limb = limb_sums[4 * k + static_cast<std::size_t>(l)];
      if (!(limb >= 0 && limb < 0x1p53 && limb == std::floor(limb)))
        throw Error("fixed-point sum: corrupted limb");
      u = (u << 32) + static_cast<uint128_t>(static_cast<unsigned long long>(limb));
    }
    out[k] = to_double(static_cast<int128_t>(u), exponents_[k]);
  }
  return out;
}

}  // namespace scorematch
