// Linear operators of inverse problems (adjoint identity) and the posterior: the Gaussian-prior
// closed form is the oracle for the Adam MAP (for a Gaussian posterior, MAP = mean).
#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <random>
#include <string>

#include "sampling_testing.hpp"
#include "scorematch/inverse/linear_operator.hpp"
#include "scorematch/inverse/map_lbfgs.hpp"
#include "scorematch/inverse/posterior.hpp"
#include "scorematch/inverse/posterior_model.hpp"
#include "scorematch/inverse/posterior_noised.hpp"
#include "scorematch/models/gaussian_model.hpp"
#include "scorematch/sampling/noised_score.hpp"

namespace scorematch::inverse {
namespace {

Matrix random_matrix(Index r, Index c, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n;
  Matrix m(r, c);
  for (Index i = 0; i < m.size(); ++i) m.data()[i] = n(rng);
  return m;
}

// A Gaussian prior with a random mean (seed + 1) and a random dense precision L Lᵀ/d + I (seed).
struct RandomGaussian {
  Vector mean;
  Matrix precision;
};
RandomGaussian random_gaussian(Index d, unsigned seed) {
  const Matrix l = random_matrix(d, d, seed);
  return {random_matrix(d, 1, seed + 1).col(0),
          l * l.transpose() / static_cast<double>(d) + Matrix::Identity(d, d)};
}

Matrix random_masks(Index r, Index c, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution b(0.5);
  Matrix m(r, c);
  for (Index i = 0; i < m.size(); ++i) m.data()[i] = b(rng) ? 1.0 : 0.0;
  return m;
}

// ⟨A x, y⟩ = ⟨x, Aᵀ y⟩ row by row, to rounding (relative 1e-12 of the terms' scale), and the
// operator's AᵀA equals the one built from its columns.
void expect_adjoint(const LinearOperator& a, Index first_row = 0) {
  const Index n = 5;
  const Matrix x = random_matrix(n, a.in_dim(), 1), y = random_matrix(n, a.out_dim(), 2);
  const Matrix ax = a.apply(x, first_row), aty = a.adjoint(y, first_row);
  ASSERT_EQ(ax.cols(), a.out_dim());
  ASSERT_EQ(aty.cols(), a.in_dim());
  for (Index i = 0; i < n; ++i) {
    const double lhs = ax.row(i).dot(y.row(i)), rhs = x.row(i).dot(aty.row(i));
    const double scale = ax.row(i).norm() * y.row(i).norm() + 1e-300;
    EXPECT_NEAR(lhs, rhs, 1e-12 * scale) << a.name() << " row " << i;
  }
  const Matrix gram = a.gram(first_row);
  const Matrix generic = a.LinearOperator::gram(first_row);
  EXPECT_LT((gram - generic).norm(), 1e-12 * (generic.norm() + 1)) << a.name();
}

TEST(Operators, AdjointsMatch) {
  expect_adjoint(*make_identity(7));
  const auto mask = make_mask(random_masks(9, 7, 3));
  expect_adjoint(*mask, 0);
  expect_adjoint(*mask, 4);  // a later block of rows picks later masks
  expect_adjoint(*make_dense(random_matrix(4, 7, 4)));
  const Matrix kernel = random_matrix(3, 5, 5);  // not symmetric: a wrong adjoint would show
  expect_adjoint(*make_blur(6, 7, kernel, "zero"));
  expect_adjoint(*make_blur(6, 7, kernel, "reflect"));
}

TEST(Operators, BlurMatchesADirectConvolution) {
  // 3×3 image, kernel with a single off-centre tap: a shift; zero boundary drops the edge.
  Matrix kernel = Matrix::Zero(3, 3);
  kernel(1, 2) = 1.0;  // y[r, c] = x[r, c + 1]
  Matrix x(1, 9);
  x << 1, 2, 3, 4, 5, 6, 7, 8, 9;
  Matrix expect_zero(1, 9), expect_reflect(1, 9);
  expect_zero << 2, 3, 0, 5, 6, 0, 8, 9, 0;
  expect_reflect << 2, 3, 2, 5, 6, 5, 8, 9, 8;  // x[r, 3] mirrors to x[r, 1]
  EXPECT_EQ(make_blur(3, 3, kernel, "zero")->apply(x), expect_zero);
  EXPECT_EQ(make_blur(3, 3, kernel, "reflect")->apply(x), expect_reflect);
}

TEST(Operators, BadSettingsAreRefused) {
  EXPECT_THROW(make_blur(4, 4, Matrix::Ones(2, 3), "zero"), Error);
  EXPECT_THROW(make_blur(4, 4, Matrix::Ones(3, 3), "wrap"), Error);
  EXPECT_THROW(make_mask(Matrix::Constant(2, 3, 0.5)), Error);
  const auto mask = make_mask(random_masks(2, 3, 1));
  EXPECT_THROW(mask->apply(Matrix::Ones(1, 3), 2), Error);  // no mask for observation 3
}

// Gaussian prior with a random dense precision; the Adam MAP must reach the exact posterior mean
// (a strictly concave log posterior: the MAP is unique), and the posterior score vanishes there.
void expect_map_matches_closed_form(const LinearOperator& a, double sigma_y) {
  const Index d = a.in_dim();
  const auto [mean, precision] = random_gaussian(d, 11);
  const GaussianModel prior(mean, precision);
  const Matrix y =
      a.apply(random_matrix(6, d, 13), 2) + sigma_y * random_matrix(6, a.out_dim(), 14);
  const Matrix exact = gaussian_posterior_mean(mean, precision, a, y, sigma_y, 2);
  EXPECT_LT(posterior_score(prior, a, exact, y, sigma_y, 2).norm(),
            1e-9 * static_cast<double>(exact.size()))
      << a.name();
  MapSettings s;
  s.steps = 20000;
  s.lr = 0.05;
  const Matrix map = map_adam(prior, a, y, sigma_y, Matrix::Zero(6, d), 2, s);
  EXPECT_LT((map - exact).cwiseAbs().maxCoeff(), 1e-6) << a.name();
}

TEST(Posterior, AdamMapEqualsTheGaussianClosedForm) {
  expect_map_matches_closed_form(*make_identity(5), 0.5);
  expect_map_matches_closed_form(*make_mask(random_masks(8, 5, 7)), 0.3);
  expect_map_matches_closed_form(*make_dense(random_matrix(3, 5, 8)), 0.2);
  Matrix kernel = Matrix::Constant(3, 3, 1.0 / 9.0);
  expect_map_matches_closed_form(*make_blur(2, 3, kernel, "reflect"), 0.1);
}

// Denoising with a Gaussian prior: the posterior mean is the textbook shrinkage
// (P + I/σ²)⁻¹(Pμ + y/σ²); with P = I/τ² it is (τ² y + σ² μ)/(τ² + σ²).
TEST(Posterior, DenoisingShrinkage) {
  const double tau = 2.0, sigma = 0.5;
  const Vector mu = Vector::Constant(3, 1.0);
  const Matrix y = random_matrix(4, 3, 9);
  const Matrix got = gaussian_posterior_mean(mu, Matrix::Identity(3, 3) / (tau * tau),
                                             *make_identity(3), y, sigma, 0);
  const Matrix want =
      ((tau * tau * y).rowwise() + sigma * sigma * mu.transpose()) / (tau * tau + sigma * sigma);
  EXPECT_LT((got - want).norm(), 1e-12);
}

// Posterior sampling: MALA on PosteriorModel (two observations with different masks, 128 chains
// each) must have, per observation, the exact Gaussian posterior mean. Chains are independent, so
// the Monte-Carlo standard error of the pooled mean is the spread of the 128 per-chain means /
// √128; each coordinate must lie within 4.5 MCSE (all 6 coordinates pass by chance with p >
// 0.9999).
TEST(Posterior, MalaPosteriorMeanMatchesTheClosedForm) {
  const Index d = 3, per_obs = 128;
  const auto [mean, precision] = random_gaussian(d, 21);
  const GaussianModel prior(mean, precision);
  Matrix masks(2, d);
  masks << 1, 0, 1, 0, 1, 1;
  const auto a = make_mask(masks);
  const double sigma_y = 0.4;
  const Matrix y = random_matrix(2, d, 23);
  const Matrix exact = gaussian_posterior_mean(mean, precision, *a, a->apply(y), sigma_y, 0);
  const PosteriorModel posterior(prior, *a, a->apply(y), 0, sigma_y, per_obs);

  SamplerSettings s;
  s.name = "mala";
  s.warmup = 500;
  s.steps = 2000;
  s.thin = 2;
  s.step_size = 0.1;
  s.seed = 5;
  const Index chains = 2 * per_obs;
  const Matrix draws = testing::run_chains(s, {&posterior, nullptr}, chains);
  const Index per_chain = draws.rows() / chains;
  for (Index o = 0; o < 2; ++o) {
    const auto [pooled, mcse] =
        testing::mean_and_mcse(testing::chain_means(draws, per_chain, o * per_obs, per_obs));
    for (Index j = 0; j < d; ++j)
      EXPECT_LT(std::abs(pooled[j] - exact(o, j)), 4.5 * mcse[j])
          << "observation " << o << " coordinate " << j << ": " << pooled[j] << " vs exact "
          << exact(o, j) << " (MCSE " << mcse[j] << ")";
  }
  // Two ranks' worth of chains see the same observations: bitwise equal draws.
  EXPECT_EQ(testing::run_chains(s, {&posterior, nullptr}, chains, 2), draws);
}

}  // namespace
}  // namespace scorematch::inverse

namespace scorematch::inverse {
namespace {

// Annealed posterior score at level σ for a Gaussian prior N(μ, C) and a mask operator: the
// noised prior score −(C + σ²I)⁻¹(x − μ) plus Aᵀ(y − Ax)/(σ_y² + σ²), per observation.
TEST(PosteriorNoised, ScoreIsTheNoisedPriorPlusTheWidenedLikelihood) {
  const Index d = 3;
  SharedCovarianceMixture mix;
  mix.weights = Vector::Ones(1);
  mix.means = random_matrix(1, d, 41);
  const Matrix l = random_matrix(d, d, 42);
  mix.covariance = l * l.transpose() / 3.0 + 0.5 * Matrix::Identity(d, d);
  const auto noised = make_noised_mixture(mix, NoiseScheme::sigma);
  Matrix masks(2, d);
  masks << 1, 0, 1, 1, 1, 0;
  const auto a = make_mask(masks);
  const Matrix y = a->apply(random_matrix(2, d, 43));
  const double sigma_y = 0.3, sigma = 0.2;
  const PosteriorNoisedScore post(*noised, *a, y, 0, sigma_y, 2);  // 2 chains per observation
  const Matrix x = random_matrix(4, d, 44);
  const Matrix s = post.score_at(x, sigma, 0);
  const Matrix cs = mix.covariance + sigma * sigma * Matrix::Identity(d, d);
  for (Index i = 0; i < 4; ++i) {
    const Index o = i / 2;
    const Vector m = masks.row(o).transpose();
    const Vector expected =
        -cs.ldlt().solve(x.row(i).transpose() - mix.means.row(0).transpose()) +
        m.cwiseProduct(y.row(o).transpose() - m.cwiseProduct(x.row(i).transpose())) /
            (sigma_y * sigma_y + sigma * sigma);
    EXPECT_LT((s.row(i).transpose() - expected).norm(), 1e-12 * (1 + expected.norm())) << i;
  }
  EXPECT_THROW(post.score(x, sigma), Error);
}

// At a single level the annealed sampler is ULA on that score, whose stationary mean for this
// Gaussian problem is exact (linear drift): m = P⁻¹((C + σ²I)⁻¹μ + Aᵀy/(σ_y² + σ²)). 128 chains per
// observation; every coordinate within 4.5 MCSE.
TEST(PosteriorNoised, AnnealedDrawsMatchTheLevelsGaussianPosterior) {
  const Index d = 3, per_obs = 128;
  SharedCovarianceMixture mix;
  mix.weights = Vector::Ones(1);
  mix.means = random_matrix(1, d, 51);
  mix.covariance = Matrix::Identity(d, d) * 0.8;
  mix.covariance(0, 1) = mix.covariance(1, 0) = 0.3;
  const auto noised = make_noised_mixture(mix, NoiseScheme::sigma);
  const auto a = make_identity(d);
  const Matrix y = random_matrix(2, d, 52);
  const double sigma_y = 0.4, sigma = 0.1;
  const PosteriorNoisedScore post(*noised, *a, y, 0, sigma_y, per_obs);
  SamplerSettings s;
  s.name = "annealed";
  s.levels = 1;
  s.sigma_max = 1.0;
  s.sigma_min = sigma;
  s.steps = 3000;
  s.step_size = 0.02;
  s.denoise = false;
  s.seed = 9;
  const Index chains = 2 * per_obs;
  const Matrix draws = testing::run_chains(s, {nullptr, &post}, chains);
  ASSERT_EQ(draws.rows(), chains);  // one draw per chain: the final state
  const Matrix cs = mix.covariance + sigma * sigma * Matrix::Identity(d, d);
  const double w = 1.0 / (sigma_y * sigma_y + sigma * sigma);
  const Matrix p = cs.inverse() + w * Matrix::Identity(d, d);
  for (Index o = 0; o < 2; ++o) {
    const Vector exact =
        p.ldlt().solve(cs.ldlt().solve(mix.means.row(0).transpose()) + w * y.row(o).transpose());
    const auto [mean, mcse] = testing::mean_and_mcse(draws.middleRows(o * per_obs, per_obs));
    for (Index j = 0; j < d; ++j)
      EXPECT_LT(std::abs(mean[j] - exact[j]), 4.5 * mcse[j]) << "obs " << o << " coord " << j;
  }
}

// ve-pc with imputation on a Gaussian prior N(μ, C) (closed-form noised score), 512 chains per
// observation. Identity operator: the reverse process from x_σy = y samples the posterior
// N(m, P⁻¹), P = C⁻¹ + I/σ_y², m = P⁻¹(C⁻¹μ + y/σ_y²), exactly up to discretisation; a diagonal C
// with a mask: observed coordinates follow their 1-D posterior, the others their prior (imputation
// is exact when they are independent). Means within 4.5 MCSE, variances within 4.5 of their
// relative standard error √(2/n); the same draws from 2 ranks' worth of chains.
struct GaussianCase {
  SharedCovarianceMixture mix;
  Matrix masks;  // one row per observation (all ones: the identity)
  Matrix dense;  // when set: this dense operator instead of the masks (masks give the row count)
};
void expect_ve_pc_matches_the_posterior(const GaussianCase& c, Index per_obs,
                                        std::optional<GuidanceSettings> guidance = {}) {
  const Index d = c.mix.means.cols(), n_obs = c.masks.rows();
  const auto noised = make_noised_mixture(c.mix, NoiseScheme::sigma);
  const bool identity = (c.masks.array() == 1.0).all();
  const auto a = c.dense.size() > 0 ? make_dense(c.dense)
                 : identity         ? make_identity(d)
                                    : make_mask(c.masks);
  const double sigma_y = 0.3;
  const Matrix y = a->apply(random_matrix(n_obs, d, 71)) * 1.5;
  const PosteriorNoisedScore post(*noised, *a, y, 0, sigma_y, per_obs, guidance);
  ASSERT_EQ(post.imputation() != nullptr, !guidance || guidance->kind == Guidance::imputation);
  SamplerSettings s;
  s.name = "ve-pc";
  s.sigma_max = 5.0;
  s.sigma_min = 1e-3;
  s.steps = 400;
  s.corrector_steps = 1;
  s.seed = 3;
  const Index chains = n_obs * per_obs;
  const Matrix draws = testing::run_chains(s, {nullptr, &post}, chains);
  const Matrix ci = c.mix.covariance.inverse();
  const double n = static_cast<double>(per_obs);
  for (Index o = 0; o < n_obs; ++o) {
    // N(m, P⁻¹), P = C⁻¹ + AᵀA/σ_y², m = P⁻¹(C⁻¹μ + Aᵀy/σ_y²).
    const Matrix p = ci + a->gram(o) / (sigma_y * sigma_y);
    const Matrix cov = p.inverse();
    const Vector exact = cov * (ci * c.mix.means.row(0).transpose() +
                                a->adjoint(y.row(o), o).row(0).transpose() / (sigma_y * sigma_y));
    const Matrix block = draws.middleRows(o * per_obs, per_obs);
    const auto [mean, mcse] = testing::mean_and_mcse(block);
    for (Index j = 0; j < d; ++j) {
      EXPECT_LT(std::abs(mean[j] - exact[j]), 4.5 * mcse[j]) << "obs " << o << " coord " << j;
      const double var = (block.col(j).array() - mean[j]).square().sum() / (n - 1);
      EXPECT_LT(std::abs(var / cov(j, j) - 1.0), 4.5 * std::sqrt(2.0 / n))
          << "obs " << o << " coord " << j << ": variance " << var << " vs " << cov(j, j);
    }
  }
  EXPECT_EQ(testing::run_chains(s, {nullptr, &post}, chains, 2), draws);
}

TEST(PosteriorNoised, VePcImputationSamplesTheDenoisingPosterior) {
  GaussianCase c;
  const Index d = 3;
  c.mix.weights = Vector::Ones(1);
  c.mix.means = random_matrix(1, d, 72);
  c.mix.covariance = Matrix::Identity(d, d) * 0.8;
  c.mix.covariance(0, 1) = c.mix.covariance(1, 0) = 0.3;
  c.masks = Matrix::Ones(2, d);
  expect_ve_pc_matches_the_posterior(c, 512);
}

// pigdm guidance is exact for a Gaussian prior N(μ, σ_d² I): x₀ | x_σ is Gaussian with mean
// μ + c (x − μ), c = σ_d²/(σ_d² + σ²), and covariance r² I, r² = σ²σ_d²/(σ² + σ_d²), so
//   ∇ log p_σ(x | y) = −(x − μ)/(σ_d² + σ²) + c Aᵀ (σ_y² I + r² AAᵀ)⁻¹ (y − A(μ + c (x − μ))),
// here with A as a dense matrix; for mask, identity and dense operators, at small and large σ.
TEST(PosteriorNoised, PigdmScoreIsTheExactPosteriorScoreOfAnIsotropicGaussian) {
  const Index d = 4, per_obs = 2;
  const double sd = 0.7, sigma_y = 0.2;
  SharedCovarianceMixture mix;
  mix.weights = Vector::Ones(1);
  mix.means = random_matrix(1, d, 81);
  mix.covariance = sd * sd * Matrix::Identity(d, d);
  const auto noised = make_noised_mixture(mix, NoiseScheme::sigma);
  Matrix masks(2, d);
  masks << 1, 0, 1, 1, 0, 1, 1, 0;
  const Matrix dense = random_matrix(3, d, 82);
  for (const std::string kind : {"mask", "identity", "dense"}) {
    const auto a = kind == "mask"    ? make_mask(masks)
                   : kind == "dense" ? make_dense(dense)
                                     : make_identity(d);
    const Matrix y = a->apply(random_matrix(2, d, 83));
    const PosteriorNoisedScore post(*noised, *a, y, 0, sigma_y, per_obs,
                                    GuidanceSettings{Guidance::pigdm, sd});
    EXPECT_EQ(post.imputation(), nullptr);
    const Matrix x = random_matrix(4, d, 84);
    for (const double sigma : {0.05, 0.8, 3.0}) {
      const Matrix got = post.score_at(x, sigma, 0);
      const double c = sd * sd / (sd * sd + sigma * sigma);
      const double r2 = sigma * sigma * sd * sd / (sigma * sigma + sd * sd);
      for (Index i = 0; i < x.rows(); ++i) {
        const Index o = i / per_obs;
        Matrix am = kind == "dense" ? dense : Matrix::Identity(d, d);
        if (kind == "mask") am = Matrix(masks.row(o).transpose().asDiagonal());
        const Vector dx = x.row(i).transpose() - mix.means.row(0).transpose();
        const Vector denoised = mix.means.row(0).transpose() + c * dx;
        const Matrix cov =
            sigma_y * sigma_y * Matrix::Identity(am.rows(), am.rows()) + r2 * am * am.transpose();
        const Vector expected =
            -dx / (sd * sd + sigma * sigma) +
            c * am.transpose() * cov.ldlt().solve(y.row(o).transpose() - am * denoised);
        EXPECT_LT((got.row(i).transpose() - expected).norm(), 1e-10 * (1 + expected.norm()))
            << kind << " sigma " << sigma << " row " << i;
      }
    }
  }
  // Settings that cannot work are refused.
  const auto dense_op = make_dense(dense);
  const Matrix y = dense_op->apply(random_matrix(2, d, 85));
  EXPECT_THROW(PosteriorNoisedScore(*noised, *dense_op, y, 0, sigma_y, per_obs,
                                    GuidanceSettings{Guidance::imputation, 0.0}),
               Error);
  EXPECT_THROW(PosteriorNoisedScore(*noised, *dense_op, y, 0, sigma_y, per_obs,
                                    GuidanceSettings{Guidance::pigdm, 0.0}),
               Error);
  EXPECT_EQ(parse_guidance("pigdm"), Guidance::pigdm);
  EXPECT_THROW(parse_guidance("dps"), Error);
}

// ve-pc on pigdm guidance samples the posterior of an isotropic Gaussian prior, where the guided
// score is exact at every σ: a mask, and a dense 2 × 3 operator that couples the coordinates
// (imputation does not apply to it; the widened likelihood is not exact for it).
TEST(PosteriorNoised, VePcPigdmSamplesThePosteriorOfAnIsotropicGaussian) {
  GaussianCase c;
  const Index d = 3;
  c.mix.weights = Vector::Ones(1);
  c.mix.means = random_matrix(1, d, 74);
  c.mix.covariance = 0.64 * Matrix::Identity(d, d);
  c.masks.resize(2, d);
  c.masks << 1, 0, 1, 0, 1, 1;
  expect_ve_pc_matches_the_posterior(c, 512, GuidanceSettings{Guidance::pigdm, 0.8});
  c.dense = random_matrix(2, d, 75);
  expect_ve_pc_matches_the_posterior(c, 512, GuidanceSettings{Guidance::pigdm, 0.8});
}

TEST(PosteriorNoised, VePcImputationSamplesAMaskedPosteriorOfIndependentCoordinates) {
  GaussianCase c;
  const Index d = 3;
  c.mix.weights = Vector::Ones(1);
  c.mix.means = random_matrix(1, d, 73);
  c.mix.covariance = Vector(Eigen::Vector3d(0.5, 1.0, 2.0)).asDiagonal();
  c.masks.resize(2, d);
  c.masks << 1, 0, 1, 0, 1, 1;
  expect_ve_pc_matches_the_posterior(c, 512);
}

}  // namespace
}  // namespace scorematch::inverse

namespace scorematch::inverse {
namespace {

// L-BFGS on the posterior energy with a Gaussian prior reaches the exact posterior mean (= MAP)
// for every operator, to 1e-8 relative (tolerance 1e-12 on the gradient); a score-only prior is
// refused.
TEST(PosteriorLbfgs, MapEqualsTheGaussianClosedForm) {
  const Index d = 4, n = 6;
  const auto [mean, precision] = random_gaussian(d, 61);
  const GaussianModel prior(mean, precision);
  Matrix kernel(3, 3);
  kernel << 0.1, 0.2, 0.1, 0.2, 0.4, 0.2, 0.0, 0.1, 0.0;
  std::vector<std::unique_ptr<LinearOperator>> ops;
  ops.push_back(make_identity(d));
  ops.push_back(make_mask(random_masks(n, d, 63)));
  ops.push_back(make_blur(2, 2, kernel, "reflect"));
  ops.push_back(make_dense(random_matrix(3, d, 64)));
  for (const auto& a : ops) {
    const Matrix y =
        a->apply(random_matrix(n, d, 65), 0) + 0.1 * random_matrix(n, a->out_dim(), 66);
    const Matrix exact = gaussian_posterior_mean(mean, precision, *a, y, 0.3, 0);
    LbfgsSettings s;
    s.tolerance = 1e-12;
    const LbfgsResult r = map_lbfgs(prior, *a, y, 0.3, Matrix::Zero(n, d), 0, s);
    EXPECT_LT((r.x - exact).cwiseAbs().maxCoeff(), 1e-8 * (1 + exact.cwiseAbs().maxCoeff()))
        << a->name();
    EXPECT_EQ(r.converged, n) << a->name();
  }
}

}  // namespace
}  // namespace scorematch::inverse
