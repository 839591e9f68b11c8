// sde: the reverse-time VP-SDE by Euler–Maruyama on the grid t_i = 1 − iΔt (see vp_samplers.hpp),
// started from the prior N(0, I) at t = 1.
#include "vp_samplers.hpp"

namespace scorematch::samplers {

namespace {
class ReverseSde final : public VpGridSampler {
 public:
  using VpGridSampler::VpGridSampler;
  std::string name() const override { return "sde"; }
  void transition(ChainBlock& b, Index step) const override {
    const bool last = is_last(step);
    const Matrix xi = last ? Matrix() : normals(b, step);
    reverse_sde_step(score_, b.x, grid_.t(step), grid_.dt, last ? nullptr : &xi);
  }
};
}  // namespace

static std::unique_ptr<Sampler> make_reverse_sde(const SamplerSettings& s,
                                                 const ScoreSource& source) {
  return std::make_unique<ReverseSde>(s, require_vpsde(source, "sde"));
}

SamplerDescriptor reverse_sde() {
  return {"sde",
          "Euler-Maruyama on the reverse-time VP-SDE (Song et al. 2021)",
          SamplerInput::time_noised,
          {"t_eps", "beta_min", "beta_max"},
          /*posterior=*/false,
          nullptr,
          make_reverse_sde};
}

}  // namespace scorematch::samplers
