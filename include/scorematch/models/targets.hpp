// Analytic target distributions: exact samplers and exact scores, the ground truth for tests and
// the `gen` subcommand. Each draws row i from RandomStream(seed, i), so generated data do not
// depend on how rows are split over ranks or threads.
//   gaussian  N(μ, Σ), μ_j = j, Σ_jk = 0.5^|j−k|                      (d ≥ 1)
//   gmm       Σ_k w_k N(μ_k, 0.6² I), w = (0.5, 0.3, 0.2), μ_k at radius 3 and angles
//             90°, 210°, 330° in the first two coordinates, 0 elsewhere   (d ≥ 2)
//   banana    x₁ = z₁, x₂ = z₂ + (x₁² − 1), x_j = z_j, z ~ N(0, I)       (d ≥ 2)
//   rings     three rings of radii 1, 2, 3 (weights ⅓) and radial width 0.1 in the first two
//             coordinates, p_k(x) ∝ exp(−(‖x‖ − R_k)²/2·0.1²); N(0, 1) in the others (d ≥ 2)
// energy() is the exact −log p for all four.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scorematch/core/random_stream.hpp"
#include "scorematch/models/score_model.hpp"

namespace scorematch {

class Target : public ScoreModel {
 public:
  bool energy_is_normalised() const override { return true; }
  // One exact draw into row (length dim()).
  virtual void draw(RandomStream& rng, double* row) const = 0;
  NamedArrays arrays() const override { return {}; }
  // A stand-in standardisation for tempering references: the mean and standard deviation of 4096
  // exact draws (seed 0).
  std::optional<Standardisation> standardisation() const override;
};

std::unique_ptr<Target> make_gaussian_target(Index dim);
std::unique_ptr<Target> make_gmm_target(Index dim);
std::unique_ptr<Target> make_banana_target(Index dim);
std::unique_ptr<Target> make_rings_target(Index dim);

// gaussian and gmm are mixtures Σ_k w_k N(μ_k, C) with one shared covariance C; their noised
// laws (scaled by a, convolved with N(0, s²I)) stay in closed form, which annealed and reverse-SDE
// samplers and the ODE log-likelihood use as exact references.
struct SharedCovarianceMixture {
  Vector weights;     // K
  Matrix means;       // K × d
  Matrix covariance;  // d × d
};
SharedCovarianceMixture gaussian_target_mixture(Index dim);
SharedCovarianceMixture gmm_target_mixture(Index dim);
// The mixture form of target `name`, or nothing for targets that are not such mixtures.
std::optional<SharedCovarianceMixture> target_mixture(const std::string& name, Index dim);

// Registry: name → target. Throws Error listing the known names for an unknown one.
std::unique_ptr<Target> make_target(const std::string& name, Index dim);
std::vector<std::string> target_names();

// Rows [begin, end) of a sample of `target`: row i comes from RandomStream(seed, i).
Matrix draw_rows(const Target& target, std::uint64_t seed, RowRange rows);

}  // namespace scorematch
