#include "scorematch/core/random_fill.hpp"

#include <algorithm>

#include "scorematch/core/box_muller.hpp"
#include "scorematch/core/philox.hpp"

namespace scorematch {

namespace {

constexpr Index kTile = 256;  // Box–Muller pairs per tile: a few KiB of stack, L1-resident

// Philox4x32-10 on the counters (block[j], step, lo[j], hi[j]) and one key, then the two
// uniforms of RandomStream::uniform() from words (0, 1) and (2, 3). A plain loop over SoA arrays,
// so that the compiler vectorises the 32×32→64-bit products (vpmuludq) across j.
void philox_uniforms(const std::uint32_t* block, std::uint32_t step, const std::uint32_t* lo,
                     const std::uint32_t* hi, PhiloxKey key, Index m, double* u1, double* u2) {
  constexpr std::uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  constexpr std::uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  for (Index j = 0; j < m; ++j) {
    std::uint32_t c0 = block[j], c1 = step, c2 = lo[j], c3 = hi[j];
    std::uint32_t k0 = key[0], k1 = key[1];
#pragma GCC unroll 10
    for (int round = 0; round < 10; ++round) {
      const std::uint64_t p0 = std::uint64_t{kMul0} * c0;
      const std::uint64_t p1 = std::uint64_t{kMul1} * c2;
      const auto hi0 = static_cast<std::uint32_t>(p0 >> 32), lo0 = static_cast<std::uint32_t>(p0);
      const auto hi1 = static_cast<std::uint32_t>(p1 >> 32), lo1 = static_cast<std::uint32_t>(p1);
      c0 = hi1 ^ c1 ^ k0;
      c1 = lo1;
      c2 = hi0 ^ c3 ^ k1;
      c3 = lo0;
      k0 += kWeyl0;
      k1 += kWeyl1;
    }
    // As RandomStream::uniform(): (k + 0.5)/2⁵³ with 27 + 26 random bits.
    const std::uint64_t a = (std::uint64_t{c0 >> 5} << 26) | (c1 >> 6);
    const std::uint64_t b = (std::uint64_t{c2 >> 5} << 26) | (c3 >> 6);
    u1[j] = (static_cast<double>(static_cast<std::int64_t>(a)) + 0.5) * 0x1.0p-53;
    u2[j] = (static_cast<double>(static_cast<std::int64_t>(b)) + 0.5) * 0x1.0p-53;
  }
}

template <class T>
void fill_rows(std::uint64_t seed, const std::uint64_t* streams, std::uint64_t first_stream,
               std::uint32_t step, Index rows, Index d, T* out, Index ld) {
  const Index pairs = (d + 1) / 2, total = rows * pairs;
  const PhiloxKey key{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)};
  std::uint32_t block[kTile], lo[kTile], hi[kTile];
  double u1[kTile], u2[kTile], z0[kTile], z1[kTile];
  Index row = 0, pair = 0;  // of the tile's first item
  for (Index first = 0; first < total; first += kTile) {
    const Index m = std::min(kTile, total - first);
    for (Index j = 0, r = row, i = pair; j < m; ++j) {
      const std::uint64_t s = streams ? streams[r] : first_stream + static_cast<std::uint64_t>(r);
      block[j] = static_cast<std::uint32_t>(i);
      lo[j] = static_cast<std::uint32_t>(s);
      hi[j] = static_cast<std::uint32_t>(s >> 32);
      if (++i == pairs) i = 0, ++r;
    }
    philox_uniforms(block, step, lo, hi, key, m, u1, u2);
    for (Index j = 0; j < m; ++j) box_muller::transform(u1[j], u2[j], z0[j], z1[j]);
    for (Index j = 0; j < m; ++j) {
      T* dst = out + row * ld + 2 * pair;
      dst[0] = static_cast<T>(z0[j]);
      if (2 * pair + 1 < d) dst[1] = static_cast<T>(z1[j]);
      if (++pair == pairs) pair = 0, ++row;
    }
  }
}

}  // namespace

void fill_normal_rows(std::uint64_t seed, const std::uint64_t* streams, std::uint64_t first_stream,
                      std::uint32_t step, Index rows, Index d, double* out, Index ld) {
  fill_rows(seed, streams, first_stream, step, rows, d, out, ld);
}

void fill_normal_rows(std::uint64_t seed, const std::uint64_t* streams, std::uint64_t first_stream,
                      std::uint32_t step, Index rows, Index d, float* out, Index ld) {
  fill_rows(seed, streams, first_stream, step, rows, d, out, ld);
}

}  // namespace scorematch
