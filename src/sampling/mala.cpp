// Metropolis-adjusted Langevin algorithm (Roberts & Tweedie 1996; Besag 1994).
// Proposal x' = x + α C s(x) + √(2α) C^{½} ξ with C = diag(c²) (c = 1 without a preconditioner),
// i.e. q(x'|x) = N(x + α C s(x), 2α C); accept with
//   log r = φ(x) − φ(x') − ‖C^{−½}(x − x' − α C s(x'))‖²/(4α) + ‖ξ‖²/2,
// which leaves p ∝ e^{−φ} exactly invariant. The energy and score at the current state are cached
// in aux, so a step costs one energy+score evaluation.
//
// Step size: during warm-up each chain adapts log α by dual averaging (Nesterov 2009; Hoffman &
// Gelman 2014, Alg. 5: γ = 0.05, t₀ = 10, κ = 0.75, μ = log 10α₀) toward the target acceptance
// (0.574, the optimal MALA rate of Roberts & Rosenthal 1998); afterwards α = exp(log ᾱ) is frozen.
// Only post-warm-up proposals count in the reported acceptance rate.
#include <cmath>

#include "scorematch/core/error.hpp"
#include "scorematch/sampling/sampler.hpp"

namespace scorematch::samplers {

namespace {
// aux columns
enum : Index { kLogStep, kLogStepBar, kHBar, kAccepted, kProposed, kEnergy, kScore };

class Mala final : public McmcSampler {
 public:
  using McmcSampler::McmcSampler;
  std::string name() const override { return "mala"; }
  std::vector<std::string> aux_names() const override {
    std::vector<std::string> names{"log_step", "log_step_bar", "h_bar",
                                   "accepted", "proposed",     "energy"};
    for (Index j = 0; j < dim(); ++j) names.push_back("score_" + std::to_string(j));
    return names;
  }
  void start(ChainBlock& b) const override {
    b.aux = Matrix::Zero(b.x.rows(), aux_columns());
    b.aux.col(kLogStep).setConstant(std::log(settings_.step_size));
    b.aux.col(kLogStepBar).setConstant(std::log(settings_.step_size));
    Vector e;
    Matrix s;
    model_.energy_and_score_at(b.x, b.first_chain, e, s);
    b.aux.col(kEnergy) = e;
    b.aux.rightCols(dim()) = s;
  }

  void transition(ChainBlock& b, Index step) const override {
    const Index n = b.x.rows(), d = dim();
    const bool adapting = settings_.adapt && step < settings_.warmup;
    const bool frozen = settings_.adapt && step >= settings_.warmup;
    const Vector alpha = (frozen ? b.aux.col(kLogStepBar) : b.aux.col(kLogStep)).array().exp();
    const Matrix xi = normals(b, step);
    Vector log_u(n);  // the acceptance uniform follows the d normals in the chain's stream
    for (Index r = 0; r < n; ++r) {
      RandomStream rng = stream(b, r, step);
      rng.seek(static_cast<std::uint32_t>((d + 1) / 2));
      log_u[r] = std::log(rng.uniform());
    }
    const Matrix s = b.aux.rightCols(d);
    const Matrix proposal =
        b.x + ((s.array().colwise() * alpha.array()).rowwise() * c2_.transpose().array()).matrix() +
        ((xi.array().colwise() * (2.0 * alpha.array()).sqrt()).rowwise() * c_.transpose().array())
            .matrix();
    Vector e_new;
    Matrix s_new;
    model_.energy_and_score_at(proposal, b.first_chain, e_new, s_new);
    for (Index r = 0; r < n; ++r) {
      const double back =
          ((b.x.row(r) - proposal.row(r) - alpha[r] * s_new.row(r).cwiseProduct(c2_.transpose()))
               .cwiseQuotient(c_.transpose()))
              .squaredNorm() /
          (4 * alpha[r]);
      const double log_ratio = b.aux(r, kEnergy) - e_new[r] - back + 0.5 * xi.row(r).squaredNorm();
      // A NaN ratio (non-finite energy at the proposal) rejects.
      const double accept_prob = std::isnan(log_ratio) ? 0.0 : std::min(1.0, std::exp(log_ratio));
      if (log_u[r] < log_ratio) {
        b.x.row(r) = proposal.row(r);
        b.aux(r, kEnergy) = e_new[r];
        b.aux.row(r).tail(d) = s_new.row(r);
      }
      if (adapting) {
        adapt(b.aux, r, static_cast<double>(step + 1), accept_prob);
      } else if (step >= settings_.warmup) {
        b.aux(r, kAccepted) += log_u[r] < log_ratio ? 1.0 : 0.0;
        b.aux(r, kProposed) += 1.0;
      }
    }
  }

  std::vector<std::pair<std::string, Vector>> chain_report(const Matrix& aux) const override {
    const Vector proposed = aux.col(kProposed).cwiseMax(1.0);
    const Vector step = settings_.adapt ? Vector(aux.col(kLogStepBar).array().exp())
                                        : Vector(aux.col(kLogStep).array().exp());
    return {{"acceptance_rate", aux.col(kAccepted).cwiseQuotient(proposed)}, {"step_size", step}};
  }

 private:
  // Dual averaging after warm-up iteration m (1-based) with acceptance probability a.
  void adapt(Matrix& aux, Index r, double m, double a) const {
    constexpr double gamma = 0.05, t0 = 10.0, kappa = 0.75;
    const double mu = std::log(10.0 * settings_.step_size);
    const double w = 1.0 / (m + t0);
    aux(r, kHBar) = (1.0 - w) * aux(r, kHBar) + w * (settings_.target_accept - a);
    aux(r, kLogStep) = mu - std::sqrt(m) / gamma * aux(r, kHBar);
    const double eta = std::pow(m, -kappa);
    aux(r, kLogStepBar) = eta * aux(r, kLogStep) + (1.0 - eta) * aux(r, kLogStepBar);
  }
};
}  // namespace

static std::unique_ptr<Sampler> make_mala(const SamplerSettings& s, const ScoreSource& source) {
  if (source.model == nullptr)
    throw Error("mala needs a model with an energy (" + setting("model") + " DIR or " +
                setting("target") + " NAME)");
  if (!source.model->has_energy())
    throw Error("mala needs the energy for its Metropolis-Hastings test, but this " +
                source.model->kind() +
                " model has only a score; use ula, or fit an energy model (mlp-energy, "
                "gaussian, poly:K)");
  check_metric(s, source.model->dim());
  if (!(s.target_accept > 0 && s.target_accept < 1))
    throw InvalidSetting("target_accept", "lie in (0, 1)");
  return std::make_unique<Mala>(s, *source.model);
}

SamplerDescriptor mala() {
  return {"mala",
          "Metropolis-adjusted Langevin with dual-averaging step adaptation (Roberts & Tweedie "
          "1996; Hoffman & Gelman 2014)",
          SamplerInput::energy,
          {"warmup", "metric", "adapt", "target_accept"},
          /*posterior=*/true,
          nullptr,
          make_mala};
}

}  // namespace scorematch::samplers
