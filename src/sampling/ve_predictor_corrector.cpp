// ve-pc: predictor–corrector sampling of the variance-exploding SDE (Song et al. 2021, Alg. 2 and
// 4; score_sde's ReverseDiffusionPredictor + LangevinCorrector), in the noised score's coordinates.
// Grid σ_0 = σ_max > … > σ_{N−1} = σ_min, geometric with N = steps points. Transition i:
//   corrector (M times)  g = s(z; σ_i), ε = 2 (r ‖ξ‖ / ‖g‖)², z ← z + ε g + √(2ε) ξ
//                        (snr_corrector.hpp)
//   predictor            z ← z + (σ_i² − σ_{i+1}²) s(z; σ_i) + √(σ_i² − σ_{i+1}²) ξ
// (reverse diffusion: the Euler–Maruyama step of dz = −d[σ²] s(z; σ) + √(d[σ²]) dw̄), and after the
// last one, with denoise on, Tweedie's z + σ_min² s(z; σ_min). As in pc the norms of the
// corrector's step are root-mean-squares over the fixed global 64-chain block, so paths do not
// depend on ranks or threads.
//
// Posterior sampling (--obs) with a coordinate-selecting A (identity, mask) uses imputation
// (score_sde's controllable generation, Song et al. 2021 App. I.2; sampling/noised_score.hpp
// Imputation) instead of the likelihood term: the predictor and corrector run on the prior's score
// and after each move the observed coordinates are set to y + √(σ² − σ_y²) ξ while σ ≥ σ_y. The
// grid gets σ_y as an extra point, so at σ_y they are y itself and below it the predictor follows
// the reverse process alone, while the corrector targets p(x_σ | y), whose score adds the bridge
// term Aᵀ(y − A x)/(σ_y² − σ²) (a corrector on p_σ alone would forget y: it hurt by 2 dB). With A =
// I this is the reverse process started at x_σy = y: it samples p(x | y) exactly (up to
// discretisation) and the levels above σ_y are skipped (every coordinate would be replaced). Other
// operators (blur, dense), or any operator under `--guidance widened` or `pigdm`, run the predictor
// and corrector on the posterior's guided score (inverse/posterior_noised.hpp): the widened
// likelihood s(z; σ) + Aᵀ(y − A x)/(σ_y² + σ²) (Jalal et al. 2021) or ΠGDM's likelihood of
// Tweedie's denoised estimate (Song et al. 2023). For a mask with correlated pixels imputation is
// not exact (above σ_y the missing pixels see a noised copy of the observation, not y); neither is
// pigdm beyond a Gaussian prior. docs/OPTDIGITS.md (round 4) measures both against the exact
// posterior mean of a GMM prior run on its exact noised score.
#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "scorematch/core/error.hpp"
#include "scorematch/models/noise_process.hpp"
#include "scorematch/sampling/sampler.hpp"
#include "snr_corrector.hpp"

namespace scorematch::samplers {

namespace {
class VePredictorCorrector final : public Sampler {
 public:
  VePredictorCorrector(const SamplerSettings& s, const NoisedScore& score)
      : Sampler(s), score_(score), imputation_(score.imputation()) {
    for (Index i = 0; i < s.steps; ++i)
      grid_.push_back(NoiseProcess::ladder_sigma(s.sigma_max, s.sigma_min, s.steps, i));
    if (imputation_ != nullptr) {
      const double level = imputation_->level();
      // Imputation couples y with the process at σ_y (noised_score.hpp), so the grid must cross
      // σ_y: a process that starts below it has no level to impute at, and one that stops above
      // it adds noise to the observation (the posterior of a noisier y).
      if (!(level < s.sigma_max))
        throw SettingError(
            "ve-pc imputation needs a grid that starts above the observation's noise: " +
            setting("sigma_max") + " " + number_text(s.sigma_max) + " must exceed sigma_y " +
            number_text(level) + " (in the model's units); raise it, or use --guidance widened");
      if (!(level >= s.sigma_min))
        throw SettingError("ve-pc imputation needs a grid that reaches the observation's noise: " +
                           setting("sigma_min") + " " + number_text(s.sigma_min) +
                           " must not exceed sigma_y " + number_text(level) +
                           " (in the model's units); lower it, or use --guidance widened");
      if (level > s.sigma_min && std::find(grid_.begin(), grid_.end(), level) == grid_.end()) {
        grid_.push_back(level);
        std::sort(grid_.begin(), grid_.end(), std::greater<>());
      }
    }
  }
  std::string name() const override { return "ve-pc"; }
  Index dim() const override { return score_.dim(); }
  Index num_transitions() const override { return static_cast<Index>(grid_.size()) - 1; }
  Index draws_per_chain() const override { return 1; }
  Index draw_slot(Index step) const override { return step + 1 == num_transitions() ? 0 : -1; }
  bool uses_model_coordinates() const override { return true; }
  double prior_scale() const override { return settings_.sigma_max; }
  double divergence_bound() const override { return kNoisedDivergenceFactor * prior_scale(); }

  void transition(ChainBlock& b, Index step) const override {
    const Index d = dim(), m = settings_.corrector_steps;
    const double s_i = sigma(step), s_next = sigma(step + 1);
    // Standard normals of this (chain, step), in slots of d: without imputation 0 … m − 1 the
    // corrector and m the predictor; with it, slot 0 the start's imputation, 1 … m the corrector,
    // m + 1 … 2m its imputations, 2m + 1 the predictor, 2m + 2 its imputation.
    const bool imputing = imputation_ != nullptr;
    const Matrix all = normals(b, step, (imputing ? 2 * m + 3 : m + 1) * d);
    const auto xi = [&](Index slot) { return all.middleCols(slot * d, d); };
    const Index corrector0 = imputing ? 1 : 0, predictor = imputing ? 2 * m + 1 : m;
    if (imputing && imputation_->observes_all() && s_next >= imputation_->level()) {
      imputation_->impute(b.x, s_next, b.first_chain, xi(2 * m + 2));  // the moves would be undone
      return;
    }
    if (step == 0) impute(b, s_i, xi, 0);
    // With A = I at σ_y every coordinate is y: a corrector move would be undone.
    const bool fixed = imputing && imputation_->observes_all() && s_i >= imputation_->level();
    for (Index c = 0; c < (fixed ? 0 : m); ++c) {
      snr_langevin_step(b.x, corrector_score(b, s_i), xi(corrector0 + c), settings_.snr);
      impute(b, s_i, xi, m + 1 + c);
    }
    const double dv = s_i * s_i - s_next * s_next;
    b.x += dv * score(b, s_i) + std::sqrt(dv) * xi(predictor);
    impute(b, s_next, xi, 2 * m + 2);
    if (settings_.denoise && step + 1 == num_transitions())
      b.x += s_next * s_next * score(b, s_next);
  }

 private:
  double sigma(Index i) const { return grid_[static_cast<std::size_t>(i)]; }
  Matrix score(const ChainBlock& b, double level) const {
    return imputation_ ? imputation_->prior().score(b.x, level)
                       : score_.score_at(b.x, level, b.first_chain);
  }
  // The corrector's target at σ: p_σ while σ ≥ σ_y (imputation follows), p(x_σ | y) below.
  Matrix corrector_score(const ChainBlock& b, double level) const {
    if (imputation_ && level < imputation_->level())
      return imputation_->conditional_score(b.x, level, b.first_chain);
    return score(b, level);
  }
  // Imputes at `level` with the normals of `slot` (drawn only when imputing).
  template <class Normals>
  void impute(ChainBlock& b, double level, const Normals& xi, Index slot) const {
    if (imputation_ && level >= imputation_->level())
      imputation_->impute(b.x, level, b.first_chain, xi(slot));
  }

  const NoisedScore& score_;
  const Imputation* imputation_;
  std::vector<double> grid_;  // σ_0 > σ_1 > … (σ_y inserted when imputing)
};
}  // namespace

static std::unique_ptr<Sampler> make_ve_pc(const SamplerSettings& s, const ScoreSource& source) {
  if (source.noised == nullptr || source.noised->scheme() != NoiseScheme::sigma)
    throw Error("ve-pc needs the score of the noised law at every σ: a σ-conditioned model (fit " +
                setting("objective") + " dsm " + setting("noise") +
                " vesde or ladder) or a target whose noised score is closed-form (gaussian, gmm)");
  if (!(s.sigma_max > s.sigma_min && s.sigma_min > 0))
    throw SettingError("ve-pc needs 0 < " + setting("sigma_min") + " < " + setting("sigma_max"));
  if (s.steps < 2)
    throw InvalidSetting("steps", "be ≥ 2 (grid points from sigma_max to sigma_min)");
  if (s.corrector_steps < 0) throw InvalidSetting("corrector_steps", "be ≥ 0");
  if (!(s.snr > 0)) throw InvalidSetting("snr", "be positive");
  return std::make_unique<VePredictorCorrector>(s, *source.noised);
}

SamplerDescriptor ve_predictor_corrector() {
  SamplerDescriptor d{
      "ve-pc",
      "predictor-corrector on the VE SDE: reverse-diffusion step + Langevin corrector; "
      "posteriors by imputation (masks, denoising; Song et al. 2021) or a guided score",
      SamplerInput::sigma_noised,
      {"sigma_max", "sigma_min", "snr", "corrector_steps", "denoise"},
      /*posterior=*/true,
      nullptr,
      make_ve_pc};
  d.imputes = true;
  return d;
}

}  // namespace scorematch::samplers
