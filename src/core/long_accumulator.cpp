#include "scorematch/core/long_accumulator.hpp"

#include <cmath>
#include <string>

#include "scorematch/core/error.hpp"

namespace scorematch {

namespace {
// GCC/Clang's 128-bit integers (__extension__: not ISO C++, so -Wpedantic would object).
__extension__ typedef unsigned __int128 uint128_t;
constexpr int kBias = 1074;  // bit 0 of word 0 weighs 2^−1074
constexpr std::int64_t kDigit = std::int64_t{1} << 32;
}  // namespace

void LongAccumulator::add(double x) {
  if (x == 0) return;
  if (!std::isfinite(x))
    throw Error(
        "a sum met a non-finite value (NaN, or an overflow beyond ±1.8e308): some setting or data "
        "value is too large for this computation");
  int e = 0;
  const double f = std::frexp(x, &e);  // x = f · 2^e, |f| ∈ [0.5, 1)
  // x = m · 2^(e − 53) with |m| < 2^53 an integer; subnormals are exact multiples of 2^−1074.
  int shift = e - 53 + kBias;
  auto m = static_cast<std::int64_t>(std::ldexp(f, 53));
  if (shift < 0) {  // subnormal: m has -shift trailing zero bits
    m >>= -shift;
    shift = 0;
  }
  const bool negative = m < 0;
  const auto magnitude = static_cast<uint128_t>(negative ? -m : m) << (shift % 32);
  const int k = shift / 32;
  for (int i = 0; i < 3 && k + i < kWords; ++i) {
    const auto digit = static_cast<std::int64_t>((magnitude >> (32 * i)) & 0xffffffffu);
    w_[static_cast<std::size_t>(k + i)] += negative ? -digit : digit;
  }
  if (++pending_ >= (1 << 28)) normalise();
}

void LongAccumulator::normalise() {
  for (int k = 0; k + 1 < kWords; ++k) {
    const std::int64_t carry = w_[static_cast<std::size_t>(k)] >> 32;  // floor division
    w_[static_cast<std::size_t>(k)] -= carry * kDigit;
    w_[static_cast<std::size_t>(k + 1)] += carry;
  }
  pending_ = 0;
}

void LongAccumulator::merge(const LongAccumulator& other) {
  LongAccumulator o = other;
  o.normalise();
  normalise();
  for (int k = 0; k < kWords; ++k)
    w_[static_cast<std::size_t>(k)] += o.w_[static_cast<std::size_t>(k)];
  pending_ = 1;
  normalise();
}

double LongAccumulator::value() const {
  LongAccumulator a = *this;
  a.normalise();  // digits 0..kWords−2 in [0, 2^32); the top word carries the sign
  const bool negative = a.w_[kWords - 1] < 0;
  if (negative) {
    for (auto& word : a.w_) word = -word;
    a.normalise();
  }
  int top = kWords - 1;
  while (top >= 0 && a.w_[static_cast<std::size_t>(top)] == 0) --top;
  if (top < 0) return 0.0;
  // The top three digits (≥ 65 significant bits) plus a sticky bit for everything below: one
  // correctly rounded conversion of a 128-bit integer.
  uint128_t h = 0;
  for (int k = top; k >= top - 2; --k)
    h = (h << 32) | static_cast<uint128_t>(k >= 0 ? a.w_[static_cast<std::size_t>(k)] : 0);
  bool sticky = false;
  for (int k = top - 3; k >= 0; --k) sticky = sticky || a.w_[static_cast<std::size_t>(k)] != 0;
  if (sticky) h |= 1;
  const double magnitude = std::ldexp(static_cast<double>(h), 32 * (top - 2) - kBias);
  return negative ? -magnitude : magnitude;
}

void LongAccumulator::append_limbs(std::vector<double>& out) const {
  LongAccumulator a = *this;
  a.normalise();
  for (std::int64_t word : a.w_) out.push_back(static_cast<double>(word));
}

void LongAccumulator::set_from_limb_sums(const std::vector<double>& limbs, std::size_t offset) {
  for (int k = 0; k < kWords; ++k) {
    const double limb = limbs[offset + static_cast<std::size_t>(k)];
    if (!(std::fabs(limb) < 0x1p53 && limb == std::floor(limb)))
      throw Error("exact sum: corrupted limb");
    w_[static_cast<std::size_t>(k)] = static_cast<std::int64_t>(limb);
  }
  pending_ = 1;
  normalise();
}

void ExactVectorSum::add(const double* v, std::size_t m) {
  if (m != entries_.size()) throw Error("exact sum: vector length mismatch");
  for (std::size_t i = 0; i < m; ++i) entries_[i].add(v[i]);
}

void ExactVectorSum::add(const std::vector<double>& v) {
  add(v.data(), v.size());
}

void ExactVectorSum::merge(const ExactVectorSum& other) {
  if (other.size() != size()) throw Error("exact sum: vector length mismatch");
  for (std::size_t i = 0; i < entries_.size(); ++i) entries_[i].merge(other.entries_[i]);
}

std::vector<double> ExactVectorSum::values() const {
  std::vector<double> out(entries_.size());
  for (std::size_t i = 0; i < entries_.size(); ++i) out[i] = entries_[i].value();
  return out;
}

std::vector<double> ExactVectorSum::limbs() const {
  std::vector<double> out;
  out.reserve(entries_.size() * LongAccumulator::kWords);
  for (const auto& e : entries_) e.append_limbs(out);
  return out;
}

void ExactVectorSum::set_from_limb_sums(const std::vector<double>& limbs) {
  if (limbs.size() != entries_.size() * LongAccumulator::kWords)
    throw Error("exact sum: limb count mismatch");
  for (std::size_t i = 0; i < entries_.size(); ++i)
    entries_[i].set_from_limb_sums(limbs, i * LongAccumulator::kWords);
}

}  // namespace scorematch
