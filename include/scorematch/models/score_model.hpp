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

// The affine map z = (x − shift) ⊘ scale a model was fitted in (its data's column means and
// standard deviations, or shift 0 and scale 1): in data units, the location and spread of the
// training data.
struct Standardisation {
  Vector shift, scale;
};

// What the Markov chains on p itself (ula, mala) run on: one density per chain, evaluated for a
// block of consecutive chains whose first global index is first_row. Every ScoreModel is one (a
// single density: the index is ignored); a posterior p(x | y_c), which has no density without its
// chain's observation, is one without being a ScoreModel.
class ChainTarget {
 public:
  virtual ~ChainTarget() = default;
  virtual std::string kind() const = 0;
  virtual Index dim() const = 0;
  // False for targets of the score alone: energy_and_score_at() then throws.
  virtual bool has_energy() const { return true; }
  virtual Matrix score_at(const Matrix& x, Index first_row) const = 0;
  virtual void energy_and_score_at(const Matrix& x, Index first_row, Vector& e,
                                   Matrix& s) const = 0;
};

class ScoreModel : public ChainTarget {
 public:
  // −log p(x) up to an additive constant (exact when energy_is_normalised()).
  virtual Vector energy(const Matrix& x) const = 0;
  virtual Matrix score(const Matrix& x) const = 0;
  virtual Vector score_divergence(const Matrix& x) const = 0;
  virtual bool energy_is_normalised() const { return false; }
  // has_energy() is false for models of the score alone (e.g. an MLP score network): energy()
  // then throws.
  // Both at once (models that share work between them override this, e.g. one network sweep).
  virtual void energy_and_score(const Matrix& x, Vector& e, Matrix& s) const {
    e = energy(x);
    s = score(x);
  }
  // A single density: the chain index is ignored.
  Matrix score_at(const Matrix& x, Index /*first_row*/) const override { return score(x); }
  void energy_and_score_at(const Matrix& x, Index /*first_row*/, Vector& e,
                           Matrix& s) const override {
    energy_and_score(x, e, s);
  }
  // The density's closed form when it is a Gaussian (fitted gaussian models, the gaussian target),
  // for exact posteriors; empty otherwise.
  virtual std::optional<GaussianParameters> gaussian() const { return std::nullopt; }
  // Models fitted in standardised coordinates z = (x − shift)/scale (networks): the per-column
  // scale, in data units; empty for the others. Samplers use it as a preconditioner.
  virtual Vector standardisation_scale() const { return Vector(); }
  // The standardisation of a model fitted in standardised coordinates (networks, polynomial
  // families), e.g. for the Gaussian base of annealed importance sampling; empty otherwise.
  virtual std::optional<Standardisation> standardisation() const { return std::nullopt; }
  // Why ∫ e^{−φ} dx is infinite, when the model can tell (a polynomial family whose leading form
  // is not negative definite); empty when it is finite or the model cannot tell.
  virtual std::string normalisability_problem() const { return {}; }
  // The arrays that, with kind(), reconstruct the model (see io/model_dir.hpp).
  virtual NamedArrays arrays() const = 0;
};

}  // namespace scorematch
