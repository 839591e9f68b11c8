// Standard normals in bulk, vectorised over Philox blocks, equal bitwise to RandomStream::normal()
// called in order on each row's stream (a test checks this): one Philox block gives the two
// uniforms of one Box–Muller pair, so the blocks of all rows of a tile are independent and run
// as SIMD lanes (the scalar path drew 2 libm calls and a Philox block per pair; bench/ measures
// both).
#pragma once
#include <cstdint>

#include "scorematch/core/types.hpp"

namespace scorematch {

// Row r of the rows × d row-major block at `out` (row stride ld) receives the first d normals of
// RandomStream(seed, stream_r, step), stream_r = streams[r], or first_stream + r when streams is
// null. Consumes Philox blocks 0 … ⌈d/2⌉ − 1 of each stream.
void fill_normal_rows(std::uint64_t seed, const std::uint64_t* streams, std::uint64_t first_stream,
                      std::uint32_t step, Index rows, Index d, double* out, Index ld);

// Same, into float: the same uniforms through the single-precision Box–Muller transform
// (core/box_muller.hpp), equal to the double draws within a few float ulps of the radius.
void fill_normal_rows(std::uint64_t seed, const std::uint64_t* streams, std::uint64_t first_stream,
                      std::uint32_t step, Index rows, Index d, float* out, Index ld);

// Row r receives the first n Rademacher signs (±1) of RandomStream(seed, stream_r, step), equal to
// n calls of RandomStream::rademacher() in order (a test checks this): 128 signs per Philox block,
// so blocks 0 … ⌈n/128⌉ − 1 of each stream (the per-call path spent its time in a bit loop).
void fill_rademacher_rows(std::uint64_t seed, const std::uint64_t* streams,
                          std::uint64_t first_stream, std::uint32_t step, Index rows, Index n,
                          double* out, Index ld);
void fill_rademacher_rows(std::uint64_t seed, const std::uint64_t* streams,
                          std::uint64_t first_stream, std::uint32_t step, Index rows, Index n,
                          float* out, Index ld);

}  // namespace scorematch
