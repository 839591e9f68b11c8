// Inverted dropout of hidden units in training steps (Srivastava, Hinton, Krizhevsky, Sutskever &
// Salakhutdinov 2014, "Dropout: a simple way to prevent neural networks from overfitting", JMLR
// 15:1929): in a training step each hidden unit of each row is kept with probability 1 − p and
// its value multiplied by m = 1/(1 − p) (dropped: m = 0), so E[m] = 1 and the trained network is
// evaluated unchanged — no dropout in validation losses, sampling or MAP. Karras et al. 2022
// (EDM, Table 7: 0.13 on CIFAR-10) and Ho et al. 2020 (0.1) use it against overfitting of
// diffusion models trained on small data sets.
//
// Draws: the masks of row b come from RandomStream(derive_seed(seed, kDropoutTag), stream[b],
// step), one 32-bit word per hidden unit, hidden layer 0 first, units in order; a unit is dropped
// iff its word u < ⌊p·2³²⌋. They are independent of the row's ε and noise-level draws (another
// key) and of how rows are split over ranks and threads (stream = the row's global slot).
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "scorematch/core/random_stream.hpp"
#include "scorematch/jets/mlp_jet.hpp"

namespace scorematch {

inline constexpr std::uint64_t kDropoutTag = 71;
// Largest accepted rate: above it almost every unit is dropped and 1/(1 − p) explodes.
inline constexpr double kMaxDropout = 0.95;

// The word threshold ⌊p·2³²⌋ of rate p ∈ [0, 1).
inline std::uint64_t dropout_threshold(double rate) {
  return static_cast<std::uint64_t>(std::floor(rate * 4294967296.0));
}

// Per hidden layer l (spec.num_layers() − 1 of them), the B × layer_out(l) multipliers
// m ∈ {0, 1/(1 − rate)} of the rows with stream indices streams[0 … B−1] at `step`; `seed` is the
// objective's seed (the key is derived from it). Shapes as JetRequest::dropout expects.
template <class T>
std::vector<MatrixT<T>> dropout_masks(const MlpSpec& spec, double rate, std::uint64_t seed,
                                      const std::uint64_t* streams, Index B, std::uint32_t step) {
  const Index hidden = spec.num_layers() - 1;
  std::vector<MatrixT<T>> masks(static_cast<std::size_t>(hidden));
  for (Index l = 0; l < hidden; ++l)
    masks[static_cast<std::size_t>(l)].resize(B, spec.layer_out(l));
  const std::uint64_t threshold = dropout_threshold(rate), key = derive_seed(seed, kDropoutTag);
  const T keep = static_cast<T>(1.0 / (1.0 - rate));
  for (Index b = 0; b < B; ++b) {
    RandomStream rng(key, streams[b], step);
    for (MatrixT<T>& m : masks)
      for (Index j = 0; j < m.cols(); ++j) m(b, j) = rng.next_u32() < threshold ? T(0) : keep;
  }
  return masks;
}

}  // namespace scorematch
