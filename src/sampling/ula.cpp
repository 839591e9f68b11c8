// Unadjusted Langevin algorithm (Roberts & Tweedie 1996):
//   x ← x + α s(x) + √(2α) ξ,  ξ ~ N(0, I)
// (with a diagonal preconditioner c: x ← x + α c² ⊙ s(x) + √(2α) c ⊙ ξ).
// Its stationary law differs from p by O(α) (for a Gaussian target N(μ, Σ) it is N(μ, Σ(I −
// αΣ⁻¹/2)⁻¹) exactly), which MALA removes.
#include <cmath>

#include "scorematch/core/error.hpp"
#include "scorematch/sampling/sampler.hpp"

namespace scorematch::samplers {

namespace {
class Ula final : public McmcSampler {
 public:
  using McmcSampler::McmcSampler;
  std::string name() const override { return "ula"; }
  void transition(ChainBlock& b, Index step) const override {
    const double alpha = settings_.step_size;
    b.x +=
        ((alpha * model_.score_at(b.x, b.first_chain)).array().rowwise() * c2_.transpose().array() +
         (std::sqrt(2.0 * alpha) * normals(b, step)).array().rowwise() * c_.transpose().array())
            .matrix();
  }
};
}  // namespace

static std::unique_ptr<Sampler> make_ula(const SamplerSettings& s, const ScoreSource& source) {
  if (source.model == nullptr)
    throw SettingError("ula needs a score model (" + setting("model") + " DIR or " +
                       setting("target") + " NAME)");
  check_metric(s, source.model->dim());
  return std::make_unique<Ula>(s, *source.model);
}

SamplerDescriptor ula() {
  return {
      "ula",
      "unadjusted Langevin algorithm, x <- x + a c^2 s(x) + sqrt(2a) c xi (Roberts & Tweedie 1996)",
      SamplerInput::score,
      {"warmup", "thin", "step_size", "metric"},
      /*posterior=*/true,
      nullptr,
      make_ula};
}

}  // namespace scorematch::samplers
