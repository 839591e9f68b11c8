#include "scorematch/inverse/posterior_noised.hpp"

#include <Eigen/Eigenvalues>
#include <cmath>
#include <utility>

#include "scorematch/core/error.hpp"

namespace scorematch::inverse {

Guidance parse_guidance(const std::string& name) {
  if (name == "imputation") return Guidance::imputation;
  if (name == "widened") return Guidance::widened;
  if (name == "pigdm") return Guidance::pigdm;
  throw SettingError(setting("guidance") + ": unknown guidance '" + name +
                     "' (imputation | widened | pigdm)");
}

std::string guidance_name(Guidance g) {
  switch (g) {
    case Guidance::imputation:
      return "imputation";
    case Guidance::widened:
      return "widened";
    case Guidance::pigdm:
      return "pigdm";
  }
  return "?";
}

PosteriorNoisedScore::PosteriorNoisedScore(const NoisedScore& prior, const LinearOperator& a,
                                           Matrix y, Index first_obs, double sigma_y,
                                           Index chains_per_obs,
                                           std::optional<GuidanceSettings> guidance)
    : prior_(prior),
      obs_(a, std::move(y), first_obs, sigma_y, chains_per_obs),
      guidance_(guidance.value_or(GuidanceSettings{
          a.selects_coordinates() ? Guidance::imputation : Guidance::widened, 0.0})) {
  if (prior.scheme() != NoiseScheme::sigma)
    throw Error("noised posterior sampling needs a sigma-conditioned prior (fit " +
                setting("noise") + " ladder or vesde)");
  if (a.in_dim() != prior.dim())
    throw Error("posterior: operator, prior and observations disagree in dimension");
  rms_scale_ = std::sqrt(prior.scale().squaredNorm() / static_cast<double>(prior.dim()));
  if (guidance_.kind == Guidance::imputation && !a.selects_coordinates())
    throw Error(
        "imputation guidance needs an operator that selects coordinates (identity, mask), "
        "not " +
        a.name());
  if (guidance_.kind == Guidance::pigdm) {
    if (!(guidance_.sigma_data > 0) || !std::isfinite(guidance_.sigma_data))
      throw Error("pigdm guidance needs the data's standard deviation sigma_data > 0");
    if (!a.selects_coordinates()) {
      Eigen::SelfAdjointEigenSolver<Matrix> eig(a.gram(0));
      gram_values_ = eig.eigenvalues().cwiseMax(0.0);
      gram_vectors_ = eig.eigenvectors();
    }
  }
}

Matrix PosteriorNoisedScore::score_at(const Matrix& z, double level, Index first_chain) const {
  if (guidance_.kind == Guidance::pigdm) return pigdm_score(z, level, first_chain);
  const double sigma_x = level * rms_scale_;
  return with_likelihood(z, level, first_chain,
                         1.0 / (obs_.sigma_y() * obs_.sigma_y() + sigma_x * sigma_x));
}

Matrix PosteriorNoisedScore::conditional_score(const Matrix& z, double level,
                                               Index first_chain) const {
  const double sigma_x = level * rms_scale_,
               gap = obs_.sigma_y() * obs_.sigma_y() - sigma_x * sigma_x;
  if (!(gap > 0)) throw Error("posterior: the conditional score needs a level below sigma_y");
  return with_likelihood(z, level, first_chain, 1.0 / gap);
}

Matrix PosteriorNoisedScore::to_data(const Matrix& z) const {
  return (z.array().rowwise() * prior_.scale().transpose().array()).matrix().rowwise() +
         prior_.shift().transpose();
}

Matrix PosteriorNoisedScore::adjoint_residual(const Matrix& z, Index first_chain) const {
  return obs_.adjoint(obs_.residual(to_data(z), first_chain), first_chain);
}

Matrix PosteriorNoisedScore::with_likelihood(const Matrix& z, double level, Index first_chain,
                                             double w) const {
  const Matrix adj = adjoint_residual(z, first_chain);
  return prior_.score(z, level) +
         w * (adj.array().rowwise() * prior_.scale().transpose().array()).matrix();
}

// ΠGDM (header). In data units x = shift + scale ⊙ z a coordinate's posterior variance given x_σ
// is scale_i² r_σ² (r_σ from σ and σ_d in z units), exact per coordinate for a coordinate-selecting
// A (AᵀA diagonal); other operators use the root-mean-square scale.
Matrix PosteriorNoisedScore::pigdm_score(const Matrix& z, double level, Index first_chain) const {
  const Vector scale = prior_.scale();
  const double s2 = level * level, d2 = guidance_.sigma_data * guidance_.sigma_data;
  const double r2 = s2 * d2 / (s2 + d2), sy2 = obs_.sigma_y() * obs_.sigma_y();
  const Matrix s = prior_.score(z, level);
  // Aᵀ(y − A D) at Tweedie's denoised estimate D = E[z₀ | z_σ] = z + σ² s, in data units.
  const Matrix adj = adjoint_residual(z + s2 * s, first_chain);
  Matrix u;  // (r² AᵀA + σ_y² I)⁻¹ Aᵀ(y − A D), data units
  if (obs_.op().selects_coordinates()) {
    const Eigen::RowVectorXd inv =
        (sy2 + r2 * scale.array().square()).inverse().matrix().transpose();
    u = (adj.array().rowwise() * inv.array()).matrix();
  } else {
    const double r2x = r2 * rms_scale_ * rms_scale_;
    const Vector inv = (sy2 + r2x * gram_values_.array()).inverse().matrix();
    u = ((adj * gram_vectors_).array().rowwise() * inv.transpose().array()).matrix() *
        gram_vectors_.transpose();
  }
  u = (u.array().rowwise() * scale.transpose().array()).matrix();  // to z: ∂x/∂z = diag(scale)
  return s + u + s2 * prior_.jacobian_product(z, level, u);        // s + J_Dᵀ u
}

const Imputation* PosteriorNoisedScore::imputation() const {
  return guidance_.kind == Guidance::imputation ? this : nullptr;
}

// In data units x = shift + scale ⊙ z, at level σ coordinate i carries noise σ·scale_i:
//   x ← x + Aᵀ(y − A x) + AᵀA (sd ⊙ ξ),  sd_i = √max(0, (σ scale_i)² − σ_y²),
// which for A = diag(m) sets the observed x_i to y_i + sd_i ξ_i and leaves the others.
void PosteriorNoisedScore::impute(Matrix& z, double level, Index first_chain,
                                  const Matrix& xi) const {
  const Vector shift = prior_.shift(), scale = prior_.scale();
  const double sy2 = obs_.sigma_y() * obs_.sigma_y();
  const Eigen::RowVectorXd sd =
      ((level * level) * scale.array().square() - sy2).max(0.0).sqrt().matrix().transpose();
  Matrix x = to_data(z);
  const Matrix noise = (xi.array().rowwise() * sd.array()).matrix();
  x += obs_.adjoint(obs_.residual(x, first_chain), first_chain) +
       obs_.adjoint(obs_.apply(noise, first_chain), first_chain);
  z = ((x.rowwise() - shift.transpose()).array().rowwise() / scale.transpose().array()).matrix();
}

Matrix PosteriorNoisedScore::score(const Matrix&, double) const {
  throw Error("a posterior score needs the chain index (score_at)");
}
Vector PosteriorNoisedScore::divergence(const Matrix&, double) const {
  throw Error("the divergence of a posterior score is not implemented");
}
Matrix PosteriorNoisedScore::probe_quadratic(const Matrix&, double, const Matrix&, Index) const {
  throw Error("the divergence of a posterior score is not implemented");
}

}  // namespace scorematch::inverse
