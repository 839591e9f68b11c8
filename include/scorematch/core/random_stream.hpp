// Reproducible random draws addressed by (seed, stream, step).
//   key     = seed (64 bits)
//   counter = (block, step, stream_lo, stream_hi)
// A stream is e.g. a global sample or chain index and step an iteration number; the draws of one
// (seed, stream, step) are the Philox blocks 0, 1, 2, ... consumed in order. A RandomStream is a
// cheap local value (no shared engine): results never depend on how work is split over ranks
// or threads.
#pragma once
#include <cmath>
#include <cstdint>
#include <numbers>

#include "scorematch/core/box_muller.hpp"
#include "scorematch/core/philox.hpp"

namespace scorematch {

// Independent keys for the different random purposes of one run (minibatches, noise, splits):
// splitmix64 (Steele, Lea & Flood 2014) of the seed combined with a purpose tag.
inline std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t tag) {
  std::uint64_t z = seed + 0x9e3779b97f4a7c15ull * (tag + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

class RandomStream {
 public:
  RandomStream(std::uint64_t seed, std::uint64_t stream, std::uint32_t step = 0)
      : key_{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)},
        counter_{0u, step, static_cast<std::uint32_t>(stream),
                 static_cast<std::uint32_t>(stream >> 32)} {}

  std::uint32_t next_u32() {
    if (used_ == 4) {
      words_ = philox4x32_10(counter_, key_);
      ++counter_[0];
      used_ = 0;
    }
    return words_[used_++];
  }

  // Uniform on the open interval (0, 1) with 53 random bits: (k + 0.5) / 2^53.
  double uniform() {
    const std::uint64_t hi = next_u32() >> 5;  // 27 bits
    const std::uint64_t lo = next_u32() >> 6;  // 26 bits
    const auto k = static_cast<double>((hi << 26) | lo);
    return (k + 0.5) * 0x1.0p-53;
  }

  // Standard normal by Box–Muller (core/box_muller.hpp: one Philox block per pair); the second
  // value of each pair is kept for the next call. fill_normal_rows (core/random_fill.hpp) gives
  // the same values in bulk.
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = uniform();
    const double u2 = uniform();
    double z0;
    box_muller::transform(u1, u2, z0, spare_);
    has_spare_ = true;
    return z0;
  }
  // Positions the stream at the start of Philox block `block` (dropping any kept normal): e.g.
  // after fill_normal_rows drew d normals, seek((d + 1) / 2) continues where d calls to normal()
  // would have left uniform() and rademacher().
  void seek(std::uint32_t block) {
    counter_[0] = block;
    used_ = 4;
    has_spare_ = false;
    bits_left_ = 0;
  }
  // Rademacher ±1, one random bit per draw.
  double rademacher() {
    if (bits_left_ == 0) {
      bits_ = next_u32();
      bits_left_ = 32;
    }
    const bool bit = bits_ & 1u;
    bits_ >>= 1;
    --bits_left_;
    return bit ? 1.0 : -1.0;
  }

 private:
  PhiloxKey key_;
  PhiloxCounter counter_;
  PhiloxCounter words_{};
  int used_ = 4;
  double spare_ = 0.0;
  bool has_spare_ = false;
  std::uint32_t bits_ = 0;
  int bits_left_ = 0;
};

}  // namespace scorematch
