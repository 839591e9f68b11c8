// The interface every density model offers to eval, samplers and diagnostics.
// Conventions: energy φ(x) with p(x) ∝ e^{−φ(x)}, score s(x) = ∇ₓ log p(x) = −∇φ(x), and the
// divergence of the score ∇·s(x) = Δ log p(x) = −Δφ(x). All methods work on a batch (n × d rows)
// so implementations can use GEMMs; there is no per-sample virtual call.
#pragma once
#include <optional>
#include <string>

#include "scorematch/core/array.hpp"
#include "scorematch/core/types.hpp"

namespace scorematch {

// A Gaussian density N(mean, precision⁻¹) in closed form.
struct GaussianParameters {
  Vector mean;
  Matrix precision;
};

class ScoreModel {
 public:
  virtual ~ScoreModel() = default;
  virtual std::string kind() const = 0;
  virtual Index dim() const = 0;
  // −log p(x) up to an additive constant (exact when energy_is_normalised()).
  virtual Vector energy(const Matrix& x) const = 0;
  virtual Matrix score(const Matrix& x) const = 0;
  virtual Vector score_divergence(const Matrix& x) const = 0;
  virtual bool energy_is_normalised() const { return false; }
  // False for models of the score alone (e.g. an MLP score network): energy() then throws.
  virtual bool has_energy() const { return true; }
  // Both at once (models that share work between them override this, e.g. one network sweep).
  virtual void energy_and_score(const Matrix& x, Vector& e, Matrix& s) const {
    e = energy(x);
    s = score(x);
  }
  // Per-row densities: a posterior p(x | y_c) has one observation per chain. Samplers call these
  // with the global index of x's first row (chain); models of a single density ignore it.
  virtual Matrix score_at(const Matrix& x, Index /*first_row*/) const { return score(x); }
  virtual void energy_and_score_at(const Matrix& x, Index /*first_row*/, Vector& e,
                                   Matrix& s) const {
    energy_and_score(x, e, s);
  }
  // The density's closed form when it is a Gaussian (fitted gaussian models, the gaussian target),
  // for exact posteriors; empty otherwise.
  virtual std::optional<GaussianParameters> gaussian() const { return std::nullopt; }
  // Models fitted in standardised coordinates z = (x − shift)/scale (networks): the per-column
  // scale, in data units; empty for the others. Samplers use it as a preconditioner.
  virtual Vector standardisation_scale() const { return Vector(); }
  // The arrays that, with kind(), reconstruct the model (see io/model_dir.hpp).
  virtual NamedArrays arrays() const = 0;
};

}  // namespace scorematch
