// A noise-conditioned MLP as a NoisedScore: the network's own score in standardised coordinates
// at level σ (conditioning sigma) or t (conditioning time, VP-SDE with the network's β(t)).
#include "scorematch/core/error.hpp"
#include "scorematch/sampling/noised_score.hpp"

namespace scorematch {

namespace {
class NoisedMlp final : public NoisedScore {
 public:
  explicit NoisedMlp(const MlpModel& model) : m_(model) {
    if (model.spec().conditioning == Conditioning::none)
      throw SettingError("this sampler needs a noise-conditioned model (fit with " +
                         setting("objective") + " dsm " + setting("noise") +
                         " ladder or vpsde); this " + model.kind() +
                         " model is not conditioned on a noise level");
  }
  Index dim() const override { return m_.dim(); }
  NoiseScheme scheme() const override {
    return m_.spec().conditioning == Conditioning::sigma ? NoiseScheme::sigma : NoiseScheme::vpsde;
  }
  VpSde sde() const override { return m_.spec().sde; }
  Matrix score(const Matrix& z, double level) const override { return m_.network_score(z, level); }
  Vector divergence(const Matrix& z, double level) const override {
    return m_.network_divergence(z, level);
  }
  Matrix probe_quadratic(const Matrix& z, double level, const Matrix& probes,
                         Index K) const override {
    return m_.network_probe_quadratic(z, level, probes, K);
  }
  Matrix jacobian_product(const Matrix& z, double level, const Matrix& v) const override {
    return m_.network_jacobian_product(z, level, v);
  }
  Vector shift() const override { return m_.shift(); }
  Vector scale() const override { return m_.scale(); }

 private:
  MlpModel m_;
};
}  // namespace

std::unique_ptr<NoisedScore> make_noised_mlp(const MlpModel& model) {
  return std::make_unique<NoisedMlp>(model);
}

}  // namespace scorematch
