// Hamiltonian Monte Carlo with a diagonal mass matrix (Duane, Kennedy, Pendleton & Roweth 1987;
// Neal 2011, "MCMC using Hamiltonian dynamics"), adapted in Stan's windowed warm-up (Stan
// Reference Manual, "HMC algorithm parameters": step size by dual averaging, Hoffman & Gelman
// 2014, Alg. 5; the inverse metric from the variance of the draws of expanding slow windows).
//
// Transition of one chain, with inverse metric m = diag(M⁻¹) and step ε:
//   p ~ N(0, M) (p = ξ ⊘ √m),   H(x, p) = φ(x) + ½ Σ_j m_j p_j²,
//   L leapfrog steps: p ← p + ε/2 s(x);  x ← x + ε m ⊙ p;  p ← p + ε/2 s(x)   (s = −∇φ),
//   accept (x', p') with probability min(1, exp(H(x, p) − H(x', p'))); NaN rejects.
// ε is jittered uniformly by ±10% each transition (Neal 2011, §4.2: avoids periodic
// trajectories). Each leapfrog step costs one energy+score evaluation (the score at the start is
// cached), and all chains of a block step in lockstep, so an evaluation is one batched call.
//
// Warm-up (per chain, so chains stay independent and the output bitwise for any ranks ×
// threads): W warm-up transitions are cut as Stan does — an initial fast window (15% of W, at most
// 75), slow windows of 25, 50, 100, … transitions (the last one stretched to the end of the slow
// phase), and a final fast window (10% of W, at most 50); with W < 20 only ε adapts. At the end
// of each slow window the inverse metric becomes the regularised variance of that window's
// states, (n/(n + 5)) var + 10⁻³ (5/(n + 5)), and dual averaging restarts from the current ε.
#include <cmath>
#include <vector>

#include "scorematch/core/error.hpp"
#include "scorematch/sampling/dual_averaging.hpp"
#include "scorematch/sampling/sampler.hpp"

namespace scorematch::samplers {

namespace {
// Aux columns: scalars, then the d-wide blocks score, inverse metric, window mean, window M2.
enum : Index {
  kLogStep,
  kLogStepBar,
  kHBar,
  kAdaptIter,   // dual-averaging iterations since its last restart
  kAdaptStart,  // the ε dual averaging restarted from (μ = log 10ε)
  kAccepted,    // post-warm-up
  kProposed,    // post-warm-up
  kGradients,   // energy+score evaluations, warm-up included
  kEnergy,
  kWindowCount,  // states in the current slow window
  kScalars
};

// Stan's warm-up windows for W transitions: the slow phase [slow_begin, slow_end) and the steps
// after which a slow window ends.
struct Windows {
  Index slow_begin = 0, slow_end = 0;
  std::vector<Index> ends;  // last step (0-based) of each slow window
};
Windows plan_windows(Index warmup) {
  Windows w;
  if (warmup < 20) return w;  // step size only
  Index init = 75, term = 50, base = 25;
  if (init + term + base > warmup) {
    init = static_cast<Index>(0.15 * static_cast<double>(warmup));
    term = static_cast<Index>(0.1 * static_cast<double>(warmup));
    base = warmup - init - term;
  }
  w.slow_begin = init;
  w.slow_end = warmup - term;
  Index start = init, size = base;
  while (start < w.slow_end) {
    Index end = start + size;
    // The last window runs to the end of the slow phase when the next would not fit.
    if (end + 2 * size > w.slow_end) end = w.slow_end;
    w.ends.push_back(end - 1);
    start = end;
    size *= 2;
  }
  return w;
}

class Hmc final : public McmcSampler {
 public:
  Hmc(const SamplerSettings& s, const ChainTarget& model)
      : McmcSampler(s, model), windows_(s.adapt ? plan_windows(s.warmup) : Windows{}) {}
  std::string name() const override { return "hmc"; }
  std::vector<std::string> aux_names() const override {
    std::vector<std::string> names{"log_step",    "log_step_bar", "h_bar",    "adapt_iter",
                                   "adapt_start", "accepted",     "proposed", "gradients",
                                   "energy",      "window_count"};
    for (const char* block : {"score_", "inv_metric_", "window_mean_", "window_m2_"})
      for (Index j = 0; j < dim(); ++j) names.push_back(block + std::to_string(j));
    return names;
  }
  void start(ChainBlock& b) const override {
    const Index n = b.x.rows(), d = dim();
    b.aux = Matrix::Zero(n, kScalars + 4 * d);
    Vector e;
    Matrix s;
    model_.energy_and_score_at(b.x, b.first_chain, e, s);
    b.aux.col(kEnergy) = e;
    b.aux.middleCols(kScalars, d) = s;
    b.aux.middleCols(kScalars + d, d) = c2_.transpose().replicate(n, 1);  // initial M⁻¹
    b.aux.col(kLogStep).setConstant(std::log(settings_.step_size));
    b.aux.col(kLogStepBar).setConstant(std::log(settings_.step_size));
    b.aux.col(kAdaptStart).setConstant(settings_.step_size);
    b.aux.col(kGradients).setConstant(1.0);
  }

  void transition(ChainBlock& b, Index step) const override {
    const Index n = b.x.rows(), d = dim(), L = settings_.leapfrog_steps;
    const bool adapting = settings_.adapt && step < settings_.warmup;
    const bool frozen = settings_.adapt && step >= settings_.warmup;
    auto score = b.aux.middleCols(kScalars, d);
    auto inv_metric = b.aux.middleCols(kScalars + d, d);
    const Matrix xi = normals(b, step);
    Vector eps(n), log_u(n);
    for (Index r = 0; r < n; ++r) {
      RandomStream rng = stream(b, r, step);
      rng.seek(static_cast<std::uint32_t>((d + 1) / 2));
      const double jitter = 1.0 + 0.2 * (rng.uniform() - 0.5);
      log_u[r] = std::log(rng.uniform());
      eps[r] = jitter * std::exp(frozen ? b.aux(r, kLogStepBar) : b.aux(r, kLogStep));
    }
    const Matrix m = inv_metric;
    Matrix p = xi.cwiseQuotient(m.cwiseSqrt());
    const Vector h0 = b.aux.col(kEnergy) + 0.5 * (m.cwiseProduct(p.cwiseAbs2())).rowwise().sum();
    Matrix x = b.x, s = score;
    Vector e;
    for (Index l = 0; l < L; ++l) {
      p += 0.5 * (eps.asDiagonal() * s);
      x += eps.asDiagonal() * m.cwiseProduct(p);
      model_.energy_and_score_at(x, b.first_chain, e, s);
      p += 0.5 * (eps.asDiagonal() * s);
    }
    const Vector h1 = e + 0.5 * (m.cwiseProduct(p.cwiseAbs2())).rowwise().sum();
    for (Index r = 0; r < n; ++r) {
      const double log_ratio = h0[r] - h1[r];
      const double accept_prob = std::isnan(log_ratio) ? 0.0 : std::min(1.0, std::exp(log_ratio));
      const bool take = log_u[r] < log_ratio;
      if (take) {
        b.x.row(r) = x.row(r);
        b.aux(r, kEnergy) = e[r];
        score.row(r) = s.row(r);
      }
      b.aux(r, kGradients) += static_cast<double>(L);
      if (adapting) {
        adapt(b, r, step, accept_prob);
      } else if (step >= settings_.warmup) {
        b.aux(r, kAccepted) += take ? 1.0 : 0.0;
        b.aux(r, kProposed) += 1.0;
      }
    }
  }

  std::vector<std::pair<std::string, Vector>> chain_report(const Matrix& aux) const override {
    const Vector proposed = aux.col(kProposed).cwiseMax(1.0);
    const Vector step = settings_.adapt ? Vector(aux.col(kLogStepBar).array().exp())
                                        : Vector(aux.col(kLogStep).array().exp());
    return {{"acceptance_rate", aux.col(kAccepted).cwiseQuotient(proposed)},
            {"step_size", step},
            {"gradient_evaluations", aux.col(kGradients)}};
  }

 private:
  // Warm-up step `step` of chain r: dual averaging of ε, and the windowed metric estimate.
  void adapt(ChainBlock& b, Index r, Index step, double accept_prob) const {
    const Index d = dim();
    DualAveraging da{b.aux(r, kLogStep), b.aux(r, kLogStepBar), b.aux(r, kHBar)};
    b.aux(r, kAdaptIter) += 1.0;
    da.update(b.aux(r, kAdaptIter), accept_prob, settings_.target_accept, b.aux(r, kAdaptStart));
    b.aux(r, kLogStep) = da.log_step;
    b.aux(r, kLogStepBar) = da.log_step_bar;
    b.aux(r, kHBar) = da.h_bar;
    if (step < windows_.slow_begin || step >= windows_.slow_end) return;
    // Welford's update of the window's mean and M2 with the chain's state after this step.
    double& count = b.aux(r, kWindowCount);
    count += 1.0;
    auto mean = b.aux.block(r, kScalars + 2 * d, 1, d);
    auto m2 = b.aux.block(r, kScalars + 3 * d, 1, d);
    const Eigen::RowVectorXd delta = b.x.row(r) - mean;
    mean += delta / count;
    m2 += delta.cwiseProduct(b.x.row(r) - mean);
    if (std::find(windows_.ends.begin(), windows_.ends.end(), step) == windows_.ends.end()) return;
    // End of a slow window: the regularised variance becomes M⁻¹; restart dual averaging.
    if (count > 2) {
      const double w = count / (count + 5.0);
      b.aux.block(r, kScalars + d, 1, d) =
          (w * (m2 / (count - 1.0))).array() + 1e-3 * (5.0 / (count + 5.0));
    }
    count = 0;
    mean.setZero();
    m2.setZero();
    const double current = std::exp(b.aux(r, kLogStep));
    b.aux(r, kAdaptStart) = current;
    b.aux(r, kAdaptIter) = 0;
    b.aux(r, kHBar) = 0;
    b.aux(r, kLogStepBar) = std::log(current);
  }

  Windows windows_;
};
}  // namespace

static std::unique_ptr<Sampler> make_hmc(const SamplerSettings& s, const ScoreSource& source) {
  if (source.model == nullptr)
    throw SettingError("hmc needs a model with an energy (" + setting("model") + " DIR or " +
                       setting("target") + " NAME)");
  if (!source.model->has_energy())
    throw Error("hmc needs the energy for its Metropolis test, but this " + source.model->kind() +
                " model has only a score; use ula, or fit an energy model (mlp-energy, "
                "gaussian, poly:K)");
  check_metric(s, source.model->dim());
  if (!(s.target_accept > 0 && s.target_accept < 1))
    throw InvalidSetting("target_accept", "lie in (0, 1)");
  if (s.leapfrog_steps < 1)
    throw InvalidSetting("leapfrog_steps", "be at least 1", std::to_string(s.leapfrog_steps));
  return std::make_unique<Hmc>(s, *source.model);
}

SamplerDescriptor hmc() {
  return {"hmc",
          "Hamiltonian Monte Carlo, L leapfrog steps, step size by dual averaging and a diagonal "
          "mass matrix from Stan's windowed warm-up (Neal 2011; Hoffman & Gelman 2014)",
          SamplerInput::energy,
          {"warmup", "thin", "step_size", "metric", "adapt", "target_accept", "leapfrog_steps"},
          /*posterior=*/true,
          [](const SamplerSettings&) { return 0.1; },
          make_hmc,
          /*default_target_accept=*/0.8};
}

}  // namespace scorematch::samplers
