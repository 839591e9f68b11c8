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
// Only post-warm-up proposals count in the reported acceptance rate. The kernel (mala_step) is
// separate from the adaptation (DualAveraging) and works on a typed state (MalaState).
#include <cmath>
#include <vector>

#include "scorematch/core/error.hpp"
#include "scorematch/sampling/dual_averaging.hpp"
#include "scorematch/sampling/sampler.hpp"

namespace scorematch::samplers {

namespace {
// The state of a block of MALA chains, typed: positions, cached energies and scores (so a step
// costs one evaluation), and per-chain step-size adaptation and counters. It is stored in the
// block's aux columns in this order (the checkpoint layout); unpack/pack convert.
struct MalaState {
  Vector energy;                     // φ(x) per chain
  Matrix score;                      // s(x) per chain (n × d)
  std::vector<DualAveraging> steps;  // per-chain step size and its adaptation
  Vector accepted, proposed;         // post-warm-up counters
};
enum : Index { kLogStep, kLogStepBar, kHBar, kAccepted, kProposed, kEnergy, kScore };

MalaState unpack(const Matrix& aux, Index d) {
  MalaState s;
  s.energy = aux.col(kEnergy);
  s.score = aux.middleCols(kScore, d);
  s.accepted = aux.col(kAccepted);
  s.proposed = aux.col(kProposed);
  for (Index r = 0; r < aux.rows(); ++r)
    s.steps.push_back({aux(r, kLogStep), aux(r, kLogStepBar), aux(r, kHBar)});
  return s;
}

void pack(const MalaState& s, Matrix& aux) {
  const Index d = s.score.cols();
  aux.resize(s.energy.size(), kScore + d);
  aux.col(kEnergy) = s.energy;
  aux.middleCols(kScore, d) = s.score;
  aux.col(kAccepted) = s.accepted;
  aux.col(kProposed) = s.proposed;
  for (Index r = 0; r < aux.rows(); ++r) {
    const DualAveraging& a = s.steps[static_cast<std::size_t>(r)];
    aux(r, kLogStep) = a.log_step;
    aux(r, kLogStepBar) = a.log_step_bar;
    aux(r, kHBar) = a.h_bar;
  }
}

// What one transition did per chain.
struct MalaInfo {
  Vector accept_prob;          // min(1, r), 0 for a NaN ratio
  std::vector<char> accepted;  // the proposal was taken
};

// One MALA transition of every chain of the block with steps alpha (the kernel alone: no
// adaptation, no counters). xi: the proposal normals, log_u: log of the acceptance uniforms;
// c, c2: preconditioner scales and their squares.
MalaInfo mala_step(const ChainTarget& model, Index first_chain, Matrix& x, MalaState& state,
                   const Vector& alpha, const Matrix& xi, const Vector& log_u, const Vector& c,
                   const Vector& c2) {
  const Index n = x.rows();
  const Matrix proposal =
      x +
      ((state.score.array().colwise() * alpha.array()).rowwise() * c2.transpose().array())
          .matrix() +
      ((xi.array().colwise() * (2.0 * alpha.array()).sqrt()).rowwise() * c.transpose().array())
          .matrix();
  Vector e_new;
  Matrix s_new;
  model.energy_and_score_at(proposal, first_chain, e_new, s_new);
  MalaInfo info{Vector(n), std::vector<char>(static_cast<std::size_t>(n), 0)};
  for (Index r = 0; r < n; ++r) {
    const double back =
        ((x.row(r) - proposal.row(r) - alpha[r] * s_new.row(r).cwiseProduct(c2.transpose()))
             .cwiseQuotient(c.transpose()))
            .squaredNorm() /
        (4 * alpha[r]);
    const double log_ratio = state.energy[r] - e_new[r] - back + 0.5 * xi.row(r).squaredNorm();
    // A NaN ratio (non-finite energy at the proposal) rejects.
    info.accept_prob[r] = std::isnan(log_ratio) ? 0.0 : std::min(1.0, std::exp(log_ratio));
    if (log_u[r] < log_ratio) {
      info.accepted[static_cast<std::size_t>(r)] = 1;
      x.row(r) = proposal.row(r);
      state.energy[r] = e_new[r];
      state.score.row(r) = s_new.row(r);
    }
  }
  return info;
}

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
    MalaState s;
    const Index n = b.x.rows();
    model_.energy_and_score_at(b.x, b.first_chain, s.energy, s.score);
    s.steps.assign(static_cast<std::size_t>(n), DualAveraging::start(settings_.step_size));
    s.accepted = s.proposed = Vector::Zero(n);
    pack(s, b.aux);
  }

  void transition(ChainBlock& b, Index step) const override {
    const Index n = b.x.rows(), d = dim();
    const bool adapting = settings_.adapt && step < settings_.warmup;
    const bool frozen = settings_.adapt && step >= settings_.warmup;
    MalaState s = unpack(b.aux, d);
    Vector alpha(n);  // scalar exp per chain (the strided-column exp of earlier versions)
    for (Index r = 0; r < n; ++r) {
      const DualAveraging& a = s.steps[static_cast<std::size_t>(r)];
      alpha[r] = std::exp(frozen ? a.log_step_bar : a.log_step);
    }
    const Matrix xi = normals(b, step);
    Vector log_u(n);  // the acceptance uniform follows the d normals in the chain's stream
    for (Index r = 0; r < n; ++r) {
      RandomStream rng = stream(b, r, step);
      rng.seek(static_cast<std::uint32_t>((d + 1) / 2));
      log_u[r] = std::log(rng.uniform());
    }
    const MalaInfo info = mala_step(model_, b.first_chain, b.x, s, alpha, xi, log_u, c_, c2_);
    for (Index r = 0; r < n; ++r) {
      if (adapting) {
        s.steps[static_cast<std::size_t>(r)].update(static_cast<double>(step + 1),
                                                    info.accept_prob[r], settings_.target_accept,
                                                    settings_.step_size);
      } else if (step >= settings_.warmup) {
        s.accepted[r] += info.accepted[static_cast<std::size_t>(r)] ? 1.0 : 0.0;
        s.proposed[r] += 1.0;
      }
    }
    pack(s, b.aux);
  }

  std::vector<std::pair<std::string, Vector>> chain_report(const Matrix& aux) const override {
    const Vector proposed = aux.col(kProposed).cwiseMax(1.0);
    const Vector step = settings_.adapt ? Vector(aux.col(kLogStepBar).array().exp())
                                        : Vector(aux.col(kLogStep).array().exp());
    return {{"acceptance_rate", aux.col(kAccepted).cwiseQuotient(proposed)}, {"step_size", step}};
  }
};
}  // namespace

static std::unique_ptr<Sampler> make_mala(const SamplerSettings& s, const ScoreSource& source) {
  if (source.model == nullptr)
    throw SettingError("mala needs a model with an energy (" + setting("model") + " DIR or " +
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
          {"warmup", "thin", "step_size", "metric", "adapt", "target_accept"},
          /*posterior=*/true,
          nullptr,
          make_mala};
}

}  // namespace scorematch::samplers
