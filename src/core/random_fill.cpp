#include "scorematch/core/random_fill.hpp"

#include <algorithm>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "scorematch/core/box_muller.hpp"
#include "scorematch/core/philox.hpp"

namespace scorematch {

namespace {

constexpr Index kTile = 256;  // Box–Muller pairs per tile: a few KiB of stack, L1-resident

constexpr std::uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
constexpr std::uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;

// Philox4x32-10 (core/philox.hpp) on the counters (block[j], step, lo[j], hi[j]) with one key,
// j in [begin, m): a plain loop over SoA arrays that the compiler vectorises where it can.
void philox_words_plain(const std::uint32_t* block, std::uint32_t step, const std::uint32_t* lo,
                        const std::uint32_t* hi, PhiloxKey key, Index begin, Index m,
                        std::uint32_t (*w)[kTile]) {
  for (Index j = begin; j < m; ++j) {
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
    w[0][j] = c0;
    w[1][j] = c1;
    w[2][j] = c2;
    w[3][j] = c3;
  }
}

#if defined(__AVX512F__)
// The 32×32→64-bit products of 16 lanes: vpmuludq on the even lanes and on the odd lanes shifted
// down, recombined by blends. gcc's own vectorisation of the plain loop widened to 64-bit lanes
// (4–8 counters per instruction and permutes between the layouts); this runs 16 counters per
// instruction. Integer arithmetic, so the words are bitwise those of the plain loop.
inline void mul_hi_lo(__m512i a, __m512i m, __m512i& hi, __m512i& lo) {
  const __m512i even = _mm512_mul_epu32(a, m);
  const __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);
  constexpr __mmask16 kOdd = 0xAAAA;
  hi = _mm512_mask_blend_epi32(kOdd, _mm512_srli_epi64(even, 32), odd);
  lo = _mm512_mask_blend_epi32(kOdd, even, _mm512_slli_epi64(odd, 32));
}

Index philox_words_avx512(const std::uint32_t* block, std::uint32_t step, const std::uint32_t* lo,
                          const std::uint32_t* hi, PhiloxKey key, Index m,
                          std::uint32_t (*w)[kTile]) {
  const __m512i mul0 = _mm512_set1_epi32(static_cast<int>(kMul0));
  const __m512i mul1 = _mm512_set1_epi32(static_cast<int>(kMul1));
  __m512i k0[10], k1[10];  // the key schedule is the same for every lane
  for (std::uint32_t round = 0, a = key[0], b = key[1]; round < 10;
       ++round, a += kWeyl0, b += kWeyl1) {
    k0[round] = _mm512_set1_epi32(static_cast<int>(a));
    k1[round] = _mm512_set1_epi32(static_cast<int>(b));
  }
  Index j = 0;
  for (; j + 16 <= m; j += 16) {
    __m512i c0 = _mm512_loadu_si512(block + j), c1 = _mm512_set1_epi32(static_cast<int>(step));
    __m512i c2 = _mm512_loadu_si512(lo + j), c3 = _mm512_loadu_si512(hi + j);
    for (int round = 0; round < 10; ++round) {
      __m512i hi0, lo0, hi1, lo1;
      mul_hi_lo(c0, mul0, hi0, lo0);
      mul_hi_lo(c2, mul1, hi1, lo1);
      c0 = _mm512_xor_si512(_mm512_xor_si512(hi1, c1), k0[round]);
      c1 = lo1;
      c2 = _mm512_xor_si512(_mm512_xor_si512(hi0, c3), k1[round]);
      c3 = lo0;
    }
    _mm512_storeu_si512(w[0] + j, c0);
    _mm512_storeu_si512(w[1] + j, c1);
    _mm512_storeu_si512(w[2] + j, c2);
    _mm512_storeu_si512(w[3] + j, c3);
  }
  return j;
}
#endif

// Philox on the tile's counters: SIMD where the machine has it, the plain loop for the rest.
void philox_words(const std::uint32_t* block, std::uint32_t step, const std::uint32_t* lo,
                  const std::uint32_t* hi, PhiloxKey key, Index m, std::uint32_t (*w)[kTile]) {
  Index done = 0;
#if defined(__AVX512F__)
  done = philox_words_avx512(block, step, lo, hi, key, m, w);
#endif
  philox_words_plain(block, step, lo, hi, key, done, m, w);
}

// Philox on the tile's counters, then the two uniforms of RandomStream::uniform() from words
// (0, 1) and (2, 3).
void philox_uniforms(const std::uint32_t* block, std::uint32_t step, const std::uint32_t* lo,
                     const std::uint32_t* hi, PhiloxKey key, Index m, double* u1, double* u2) {
  alignas(64) std::uint32_t w[4][kTile];
  philox_words(block, step, lo, hi, key, m, w);
  for (Index j = 0; j < m; ++j) {
    // As RandomStream::uniform(): (k + 0.5)/2⁵³ with 27 + 26 random bits.
    const std::uint64_t a = (std::uint64_t{w[0][j] >> 5} << 26) | (w[1][j] >> 6);
    const std::uint64_t b = (std::uint64_t{w[2][j] >> 5} << 26) | (w[3][j] >> 6);
    u1[j] = (static_cast<double>(static_cast<std::int64_t>(a)) + 0.5) * 0x1.0p-53;
    u2[j] = (static_cast<double>(static_cast<std::int64_t>(b)) + 0.5) * 0x1.0p-53;
  }
}

// The counters of a tile of m items, item = Philox block `pos` of row `row`'s stream, rows of
// per_row blocks each, starting at (row, pos). A tile is a few runs of consecutive blocks of one
// row (one stream); looping over runs (not items) keeps this and the callers' scatters vector
// loops.
void tile_counters(const std::uint64_t* streams, std::uint64_t first_stream, Index row, Index pos,
                   Index per_row, Index m, std::uint32_t* block, std::uint32_t* lo,
                   std::uint32_t* hi) {
  const auto stream = [&](Index r) {
    return streams ? streams[r] : first_stream + static_cast<std::uint64_t>(r);
  };
  if (per_row == 1) {  // runs of one
    for (Index j = 0; j < m; ++j) {
      const std::uint64_t s = stream(row + j);
      block[j] = 0;
      lo[j] = static_cast<std::uint32_t>(s);
      hi[j] = static_cast<std::uint32_t>(s >> 32);
    }
    return;
  }
  for (Index j = 0, r = row, i = pos; j < m;) {
    const Index run = std::min(m - j, per_row - i);
    const std::uint64_t s = stream(r);
    const auto s_lo = static_cast<std::uint32_t>(s), s_hi = static_cast<std::uint32_t>(s >> 32);
    for (Index k = 0; k < run; ++k) {
      block[j + k] = static_cast<std::uint32_t>(i + k);
      lo[j + k] = s_lo;
      hi[j + k] = s_hi;
    }
    j += run;
    if ((i += run) == per_row) i = 0, ++r;
  }
}

template <class T>
void fill_rows(std::uint64_t seed, const std::uint64_t* streams, std::uint64_t first_stream,
               std::uint32_t step, Index rows, Index d, T* out, Index ld) {
  const Index pairs = (d + 1) / 2, total = rows * pairs;
  const PhiloxKey key{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)};
  std::uint32_t block[kTile], lo[kTile], hi[kTile];
  double u1[kTile], u2[kTile];
  T v1[kTile], v2[kTile], z0[kTile], z1[kTile];
  Index row = 0, pair = 0;  // of the tile's first item
  for (Index first = 0; first < total; first += kTile) {
    const Index m = std::min(kTile, total - first);
    tile_counters(streams, first_stream, row, pair, pairs, m, block, lo, hi);
    philox_uniforms(block, step, lo, hi, key, m, u1, u2);
    // float draws run the single-precision transform on the uniforms rounded to float.
    for (Index j = 0; j < m; ++j) {
      v1[j] = static_cast<T>(u1[j]);
      v2[j] = static_cast<T>(u2[j]);
    }
    for (Index j = 0; j < m; ++j) box_muller::transform(v1[j], v2[j], z0[j], z1[j]);
    // Pair p of a row holds elements 2p and 2p + 1; an odd d drops the last pair's second draw.
    if (pairs == 1) {
      for (Index j = 0; j < m; ++j) out[(row + j) * ld] = z0[j];
      if (d == 2)
        for (Index j = 0; j < m; ++j) out[(row + j) * ld + 1] = z1[j];
      row += m;
      continue;
    }
    for (Index j = 0; j < m;) {
      const Index run = std::min(m - j, pairs - pair);
      const Index whole = 2 * (pair + run) <= d ? run : run - 1;
      T* dst = out + row * ld + 2 * pair;
      for (Index k = 0; k < whole; ++k) {
        dst[2 * k] = z0[j + k];
        dst[2 * k + 1] = z1[j + k];
      }
      if (whole < run) dst[2 * whole] = z0[j + whole];
      j += run;
      if ((pair += run) == pairs) pair = 0, ++row;
    }
  }
}

// As RandomStream::rademacher() called n times per row: draw j is bit j mod 32 (lowest first) of
// word j / 32 of the stream, i.e. of lane (j / 32) mod 4 of Philox block j / 128.
template <class T>
void fill_signs(std::uint64_t seed, const std::uint64_t* streams, std::uint64_t first_stream,
                std::uint32_t step, Index rows, Index n, T* out, Index ld) {
  constexpr Index kPerBlock = 128;
  // 2·bit − 1 in integers, then converted: branch-free, so a whole block vectorises.
  const auto sign = [](std::uint32_t word, Index bit) {
    return static_cast<T>(static_cast<int>((word >> bit) & 1u) * 2 - 1);
  };
  const Index per_row = (n + kPerBlock - 1) / kPerBlock, total = rows * per_row;
  const PhiloxKey key{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)};
  std::uint32_t block[kTile], lo[kTile], hi[kTile];
  alignas(64) std::uint32_t w[4][kTile];
  Index row = 0, pos = 0;  // of the tile's first item
  for (Index first = 0; first < total; first += kTile) {
    const Index m = std::min(kTile, total - first);
    tile_counters(streams, first_stream, row, pos, per_row, m, block, lo, hi);
    philox_words(block, step, lo, hi, key, m, w);
    for (Index j = 0; j < m; ++j) {
      T* dst = out + row * ld + pos * kPerBlock;
      const Index count = std::min(kPerBlock, n - pos * kPerBlock);
      if (count == kPerBlock) {
        for (Index lane = 0; lane < 4; ++lane) {
          const std::uint32_t word = w[lane][j];
          for (Index bit = 0; bit < 32; ++bit) dst[lane * 32 + bit] = sign(word, bit);
        }
      } else {
        for (Index q = 0; q < count; ++q) dst[q] = sign(w[q / 32][j], q % 32);
      }
      if (++pos == per_row) pos = 0, ++row;
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

void fill_rademacher_rows(std::uint64_t seed, const std::uint64_t* streams,
                          std::uint64_t first_stream, std::uint32_t step, Index rows, Index n,
                          double* out, Index ld) {
  fill_signs(seed, streams, first_stream, step, rows, n, out, ld);
}

void fill_rademacher_rows(std::uint64_t seed, const std::uint64_t* streams,
                          std::uint64_t first_stream, std::uint32_t step, Index rows, Index n,
                          float* out, Index ld) {
  fill_signs(seed, streams, first_stream, step, rows, n, out, ld);
}

}  // namespace scorematch
