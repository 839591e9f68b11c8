#include "scorematch/sampling/flow_likelihood.hpp"

#include <cmath>
#include <limits>
#include <numbers>

#include "scorematch/core/error.hpp"
#include "scorematch/core/parallel.hpp"
#include "scorematch/core/random_fill.hpp"
#include "scorematch/core/random_stream.hpp"

namespace scorematch {

namespace {
constexpr Index kRows = 64;
constexpr std::uint64_t kProbeTag = 13;

// ∇·f at (z, t) per row and probe (n × max(K, 1)).
Matrix drift_divergence(const NoisedScore& score, const Matrix& z, double t, const Matrix& probes,
                        Index K) {
  const double half_beta = 0.5 * score.sde().beta(t), d = static_cast<double>(z.cols());
  if (K == 0) return (-half_beta * (d + score.divergence(z, t).array())).matrix();
  return (-half_beta * (d + score.probe_quadratic(z, t, probes, K).array())).matrix();
}
}  // namespace

FlowLikelihood flow_log_likelihood(const NoisedScore& score, const Matrix& x, Index first_row,
                                   const FlowLikelihoodSettings& s) {
  if (score.scheme() != NoiseScheme::vpsde)
    throw Error("the ODE log-likelihood needs a time-conditioned (VP-SDE) score");
  if (s.steps < 1) throw InvalidSetting("steps", "be ≥ 1");
  if (!(s.t_eps > 0 && s.t_eps < 1)) throw InvalidSetting("t_eps", "lie in (0, 1)");
  if (s.probes < 0) throw InvalidSetting("probes", "be ≥ 0");
  if (x.cols() != score.dim())
    throw Error("dimension mismatch: the model has dimension " + std::to_string(score.dim()) +
                " but the data have " + std::to_string(x.cols()) + " columns");
  const Index n = x.rows(), d = x.cols(), K = s.probes, cols = std::max<Index>(K, 1);
  const Vector shift = score.shift(), scale = score.scale();
  FlowLikelihood out{Vector(n), Vector::Zero(n)};
  const double h = (1.0 - s.t_eps) / static_cast<double>(s.steps);
  const double log_det = scale.array().log().sum();
  parallel::for_each_chunk(n, kRows, [&](Index, Index begin, Index end) {
    const Index m = end - begin;
    Matrix z = ((x.middleRows(begin, m).rowwise() - shift.transpose()).array().rowwise() /
                scale.transpose().array())
                   .matrix();
    // Row r's K probes: the first K·d signs of RandomStream(seed', global row, 0), in bulk.
    Matrix probes(m * K, d);
    fill_rademacher_rows(derive_seed(s.seed, kProbeTag), nullptr,
                         static_cast<std::uint64_t>(first_row + begin), 0, m, K * d, probes.data(),
                         K * d);
    Matrix integral = Matrix::Zero(m, cols);
    auto f = [&](const Matrix& zz, double t) {
      return (-0.5 * score.sde().beta(t) * (zz + score.score(zz, t))).eval();
    };
    for (Index i = 0; i < s.steps; ++i) {
      const double t = s.t_eps + static_cast<double>(i) * h;
      const Matrix k1 = f(z, t);
      const Matrix z_pred = z + h * k1;
      const Matrix k2 = f(z_pred, t + h);
      integral += 0.5 * h *
                  (drift_divergence(score, z, t, probes, K) +
                   drift_divergence(score, z_pred, t + h, probes, K));
      z += 0.5 * h * (k1 + k2);
    }
    const Vector prior = (-0.5 * z.rowwise().squaredNorm().array() -
                          0.5 * static_cast<double>(d) * std::log(2.0 * std::numbers::pi))
                             .matrix();
    const Matrix per_probe = (integral.colwise() + prior).array() - log_det;
    out.log_density.segment(begin, m) = per_probe.rowwise().mean();
    if (K > 1) {
      const Vector mean = per_probe.rowwise().mean();
      const Vector var =
          (per_probe.colwise() - mean).rowwise().squaredNorm() / static_cast<double>(K - 1);
      out.standard_error.segment(begin, m) = (var / static_cast<double>(K)).cwiseSqrt();
    } else if (K == 1) {  // one probe cannot estimate its own spread: undefined, not 0
      out.standard_error.segment(begin, m).setConstant(std::numeric_limits<double>::quiet_NaN());
    }
  });
  return out;
}

}  // namespace scorematch
