// Samplers: stationary laws and bias (seeded; tolerances from the effective sample size or the
// binomial standard error of the number of chains), decomposition independence (bitwise), and the
// closed-form noised scores they run on.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "fd.hpp"
#include "mlp_testing.hpp"
#include "sampling_testing.hpp"
#include "scorematch/core/parallel.hpp"
#include "scorematch/models/gaussian_model.hpp"
#include "scorematch/models/mlp_model.hpp"
#include "scorematch/models/targets.hpp"

using namespace scorematch;
using namespace scorematch::testing;

namespace {

// A 10-D Gaussian with a random dense covariance Σ = AAᵀ/10 + ½I and mean (1, −1, 1, …).
struct DenseGaussian {
  Matrix sigma, precision;
  Vector mean;
  DenseGaussian() {
    const Index d = 10;
    Matrix a(d, d);
    RandomStream rng(99, 0);
    for (Index i = 0; i < d; ++i)
      for (Index j = 0; j < d; ++j) a(i, j) = rng.normal();
    sigma = a * a.transpose() / 10.0 + 0.5 * Matrix::Identity(d, d);
    precision = sigma.inverse();
    mean = Vector::NullaryExpr(d, [](Index i) { return i % 2 == 0 ? 1.0 : -1.0; });
  }
  double max_precision_eigenvalue() const {
    return Eigen::SelfAdjointEigenSolver<Matrix>(precision).eigenvalues().maxCoeff();
  }
};

std::vector<diagnostics::ConvergenceSummary> summaries(const Matrix& draws, Index chains) {
  std::vector<diagnostics::ConvergenceSummary> out;
  for (Index j = 0; j < draws.cols(); ++j)
    out.push_back(diagnostics::summarize(chain_matrix(draws, chains, j)));
  return out;
}

// Min over dimensions of the bulk ESS.
double min_ess(const std::vector<diagnostics::ConvergenceSummary>& s) {
  double ess = 1e300;
  for (const auto& x : s) ess = std::min(ess, x.ess_bulk);
  return ess;
}

// Largest |Σ̂_jk − Σ_jk| / SE_jk, SE_jk = √((Σ_jj Σ_kk + Σ_jk²)/ESS) (the Gaussian SE of a
// sample covariance with ESS effective draws).
double max_covariance_z(const Matrix& draws, const Matrix& sigma, double ess) {
  const Matrix cov = sample_covariance(draws);
  double z = 0;
  for (Index j = 0; j < sigma.rows(); ++j)
    for (Index k = 0; k < sigma.cols(); ++k) {
      const double se = std::sqrt((sigma(j, j) * sigma(k, k) + sigma(j, k) * sigma(j, k)) / ess);
      z = std::max(z, std::abs(cov(j, k) - sigma(j, k)) / se);
    }
  return z;
}

double max_mean_z(const std::vector<diagnostics::ConvergenceSummary>& s, const Vector& mean) {
  double z = 0;
  for (std::size_t j = 0; j < s.size(); ++j)
    z = std::max(z, std::abs(s[j].mean - mean[static_cast<Index>(j)]) / s[j].mcse_mean);
  return z;
}

SamplerSettings langevin(const std::string& name, double step, Index steps, Index warmup) {
  SamplerSettings s;
  s.name = name;
  s.step_size = step;
  s.steps = steps;
  s.warmup = warmup;
  s.seed = 3;
  return s;
}

// Fraction of draws nearest to each GMM mode, and the binomial SE bound.
Vector mode_fractions(const Matrix& draws) {
  const auto mix = gmm_target_mixture(2);
  Vector counts = Vector::Zero(3);
  for (Index r = 0; r < draws.rows(); ++r) {
    Index best = 0;
    (mix.means.rowwise() - draws.row(r)).rowwise().squaredNorm().minCoeff(&best);
    counts[best] += 1;
  }
  return counts / static_cast<double>(draws.rows());
}

}  // namespace

// ULA's stationary covariance on N(μ, Σ) is Σ(I − αP/2)⁻¹ (P = Σ⁻¹): the O(α) bias shows up at a
// large step, shrinks with α, and MALA at the same initial step removes it.
TEST(Samplers, UlaBiasShowsAndShrinksMalaRemovesIt) {
  const DenseGaussian g;
  const GaussianModel model(g.mean, g.precision);
  const double alpha = 0.5 / g.max_precision_eigenvalue();
  const Index chains = 256;
  const Matrix init = Matrix::Zero(chains, 10);

  const Matrix ula =
      run_chains(langevin("ula", alpha, 1000, 300), {&model, nullptr}, chains, 1, &init);
  const auto ula_summary = summaries(ula, chains);
  const double ess = min_ess(ula_summary);
  const Matrix biased = g.sigma * (Matrix::Identity(10, 10) - 0.5 * alpha * g.precision).inverse();
  EXPECT_LT(max_covariance_z(ula, biased, ess), 5.0) << "ULA matches its own biased law";
  EXPECT_GT(max_covariance_z(ula, g.sigma, ess), 8.0) << "ULA bias visible at alpha " << alpha;
  EXPECT_LT(max_mean_z(ula_summary, g.mean), 5.0);

  const Matrix ula_small =
      run_chains(langevin("ula", alpha / 4, 2000, 600), {&model, nullptr}, chains, 1, &init);
  const double bias_big = (sample_covariance(ula) - g.sigma).norm();
  const double bias_small = (sample_covariance(ula_small) - g.sigma).norm();
  EXPECT_LT(bias_small, 0.5 * bias_big) << "ULA bias shrinks with alpha";

  const Matrix mala =
      run_chains(langevin("mala", alpha, 1000, 300), {&model, nullptr}, chains, 1, &init);
  const auto mala_summary = summaries(mala, chains);
  EXPECT_LT(max_covariance_z(mala, g.sigma, min_ess(mala_summary)), 5.0) << "MALA is unbiased";
  EXPECT_LT(max_mean_z(mala_summary, g.mean), 5.0);
}

TEST(Samplers, MalaAdaptsTowardTargetAcceptance) {
  const DenseGaussian g;
  const GaussianModel model(g.mean, g.precision);
  auto s = langevin("mala", 1e-3, 500, 500);
  const auto sampler = make_sampler(s, {&model, nullptr});
  ChainRunner runner(*sampler, {0, 64}, Matrix::Zero(64, 10), Vector::Zero(10), Vector::Ones(10));
  runner.advance(sampler->num_transitions());
  const auto report = sampler->chain_report(runner.aux());
  const Vector& accept = report[0].second;
  EXPECT_EQ(report[0].first, "acceptance_rate");
  // 500 post-warm-up proposals per chain: binomial SE ≈ 0.022 per chain, 0.003 for the mean.
  EXPECT_NEAR(accept.mean(), 0.574, 0.05);
  EXPECT_GT(report[1].second.minCoeff(), 10 * 1e-3) << "step size grew from a too-small start";
}

// Banana: x₁ ~ N(0, 1), x₂ = z₂ + x₁² − 1, so E x₂ = 0, Var x₂ = 1 + Var x₁² = 3.
TEST(Samplers, MalaRecoversBananaMoments) {
  const auto target = make_target("banana", 2);
  const Index chains = 256;
  const Matrix draws =
      run_chains(langevin("mala", 0.1, 2000, 1000), {target.get(), nullptr}, chains);
  const Vector exact_mean = Vector::Zero(2);
  EXPECT_LT(max_mean_z(summaries(draws, chains), exact_mean), 5.0);
  // Second moments: E x₁² = 1, E x₂² = 3, each within 5 MCSE of its own chains.
  const Matrix squares = draws.array().square().matrix();
  for (Index j = 0; j < 2; ++j) {
    const auto s = diagnostics::summarize(chain_matrix(squares, chains, j));
    EXPECT_NEAR(s.mean, j == 0 ? 1.0 : 3.0, 5 * s.mcse_mean) << "E x" << j + 1 << "^2";
  }
}

// Annealed, sde, ode and pc on the 2-D GMM (closed-form noised scores) recover the mode weights
// (0.5, 0.3, 0.2): 4096 independent chains, binomial SE ≤ 0.0078; tolerance 4 SE.
class NoisedSamplers : public ::testing::TestWithParam<std::string> {};

TEST_P(NoisedSamplers, RecoverGmmModeWeights) {
  const std::string name = GetParam();
  const auto mix = gmm_target_mixture(2);
  const bool sigma_scheme = name == "annealed" || name == "ve-pc";
  const auto noised =
      make_noised_mixture(mix, sigma_scheme ? NoiseScheme::sigma : NoiseScheme::vpsde, VpSde{});
  SamplerSettings s;
  s.name = name;
  s.seed = 8;
  if (name == "annealed") {
    s.sigma_max = 6;
    s.sigma_min = 0.05;
    s.levels = 10;
    s.steps = 100;
    s.step_size = 0.002;
  } else if (name == "ve-pc") {  // prior sampling: no imputation, one corrector step
    s.sigma_max = 6;
    s.sigma_min = 0.01;
    s.steps = 300;
    s.corrector_steps = 1;
  } else {
    s.steps = name == "pc" ? 300 : 500;
  }
  const Index chains = 4096;
  const Matrix draws = run_chains(s, {nullptr, noised.get()}, chains);
  const Vector w = mode_fractions(draws);
  const Vector exact = mix.weights;
  for (Index k = 0; k < 3; ++k) {
    const double se = std::sqrt(exact[k] * (1 - exact[k]) / static_cast<double>(chains));
    EXPECT_NEAR(w[k], exact[k], 4 * se) << name << " mode " << k;
  }
  // Within-mode spread ≈ 0.6 (a sampler stuck in its noised law would be wider).
  const Matrix centred = draws - Matrix::Zero(draws.rows(), 2);
  double within = 0;
  for (Index r = 0; r < draws.rows(); ++r)
    within += (mix.means.rowwise() - draws.row(r)).rowwise().squaredNorm().minCoeff();
  EXPECT_NEAR(std::sqrt(within / (2.0 * static_cast<double>(draws.rows()))), 0.6, 0.05) << name;
}

INSTANTIATE_TEST_SUITE_P(All, NoisedSamplers,
                         ::testing::Values("annealed", "sde", "ode", "pc", "ve-pc"));

// The same chains give bitwise-identical draws for 1, 2 or 3 "ranks" and 1 or 2 threads.
TEST(Samplers, DrawsAreBitwiseIndependentOfDecomposition) {
  const auto target = make_target("gmm", 3);
  const auto mix = gmm_target_mixture(3);
  const auto vp = make_noised_mixture(mix, NoiseScheme::vpsde);
  for (const std::string name : {"ula", "mala", "pc"}) {
    SamplerSettings s = langevin(name, 0.05, 40, 10);
    const ScoreSource source{target.get(), vp.get()};
    parallel::set_num_threads(1);
    const Matrix reference = run_chains(s, source, 200, 1);
    for (int threads : {1, 2}) {
      parallel::set_num_threads(threads);
      for (int ranks : {1, 2, 3}) {
        const Matrix other = run_chains(s, source, 200, ranks);
        ASSERT_EQ(other.rows(), reference.rows());
        EXPECT_EQ(std::memcmp(other.data(), reference.data(),
                              static_cast<std::size_t>(other.size()) * sizeof(double)),
                  0)
            << name << " ranks " << ranks << " threads " << threads;
      }
    }
    parallel::set_num_threads(0);
  }
}

TEST(Samplers, ChainShardsAreWholeBlocks) {
  for (int ranks : {1, 2, 3, 7}) {
    Index next = 0;
    for (int r = 0; r < ranks; ++r) {
      const RowRange c = chain_shard(1000, r, ranks);
      EXPECT_EQ(c.begin, next);
      EXPECT_TRUE(c.begin % kChainBlock == 0 || c.size() == 0);
      next = c.end;
    }
    EXPECT_EQ(next, 1000);
  }
}

TEST(Samplers, ClearErrorsForMissingPieces) {
  const auto target = make_target("banana", 2);
  SamplerSettings s;
  s.name = "annealed";
  EXPECT_THROW(make_sampler(s, {target.get(), nullptr}), Error);
  s.name = "bogus";
  EXPECT_THROW(make_sampler(s, {target.get(), nullptr}), Error);
  s.name = "ula";
  s.step_size = 1e3;  // explodes: the runner names the chain and step
  const auto sampler = make_sampler(s, {target.get(), nullptr});
  ChainRunner runner(*sampler, {0, 4}, Matrix::Zero(4, 2), Vector::Zero(2), Vector::Ones(2));
  try {
    runner.advance(sampler->num_transitions());
    FAIL() << "expected a NaN/Inf error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("became NaN/Inf at step"), std::string::npos);
  }
}

// A sampler whose states grow tenfold per step, finite for 300 steps.
class Growing final : public Sampler {
 public:
  explicit Growing(double bound) : Sampler(SamplerSettings{}), bound_(bound) {}
  std::string name() const override { return "growing"; }
  Index dim() const override { return 2; }
  Index num_transitions() const override { return 100; }
  Index draws_per_chain() const override { return 1; }
  Index draw_slot(Index step) const override { return step == 99 ? 0 : -1; }
  double divergence_bound() const override { return bound_; }
  void transition(ChainBlock& b, Index) const override { b.x *= 10.0; }

 private:
  double bound_;
};

// A finite but exploding draw is an error when beyond the sampler's divergence bound (the one
// draw, after step 99, is 1e100), not a draw; with no bound (the MCMC samplers) the same run
// completes.
TEST(Samplers, StatesBeyondTheDivergenceBoundAreAnError) {
  const Growing bounded(1e6), unbounded(std::numeric_limits<double>::infinity());
  ChainRunner runner(bounded, {0, 3}, Matrix::Ones(3, 2), Vector::Zero(2), Vector::Ones(2));
  try {
    runner.advance(bounded.num_transitions());
    FAIL() << "expected a divergence error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "chain 0 diverged: its draw at step 99 has a coordinate of 1e+100"),
              std::string::npos)
        << e.what();
  }
  ChainRunner free_runner(unbounded, {0, 3}, Matrix::Ones(3, 2), Vector::Zero(2), Vector::Ones(2));
  free_runner.advance(unbounded.num_transitions());
  EXPECT_DOUBLE_EQ(free_runner.draws()(0, 0), 1e100);
}

// A noised "score" of the wrong sign, s(z; σ) = z: finite everywhere, but the reverse process
// runs away from the data, by ∏(1 + σ_i² − σ_{i+1}²) ≈ e^(σ_max²) ≈ 7e10 for σ_max = 5.
class Repulsive final : public NoisedScore {
 public:
  Index dim() const override { return 2; }
  NoiseScheme scheme() const override { return NoiseScheme::sigma; }
  Matrix score(const Matrix& z, double) const override { return z; }
  Vector divergence(const Matrix& z, double) const override {
    return Vector::Constant(z.rows(), 2.0);
  }
  Matrix probe_quadratic(const Matrix& z, double, const Matrix& probes, Index k) const override {
    Matrix out(z.rows(), k);  // ∇s = I: vᵀv
    for (Index i = 0; i < z.rows(); ++i)
      for (Index j = 0; j < k; ++j) out(i, j) = probes.row(i * k + j).squaredNorm();
    return out;
  }
};

// The noised samplers bound their draws at 10^6 prior scales, the MCMC samplers not at all; ve-pc
// on a score that pushes every chain out ends (after its last transition, step 98 of a 100-point
// grid) with finite draws far beyond 5e6 and stops with the divergence error instead of writing
// them.
TEST(Samplers, NoisedSamplersStopWhenTheirChainsDiverge) {
  const auto mix = gmm_target_mixture(2);
  const auto sig = make_noised_mixture(mix, NoiseScheme::sigma);
  const auto vp = make_noised_mixture(mix, NoiseScheme::vpsde);
  const auto target = make_target("gmm", 2);
  SamplerSettings s;
  s.sigma_max = 5;
  s.sigma_min = 0.05;
  s.levels = 10;
  s.steps = 100;
  for (const std::string name : {"annealed", "ve-pc", "sde", "ode", "pc", "ula", "mala"}) {
    s.name = name;
    const bool noised = name != "ula" && name != "mala";
    const bool ve = name == "annealed" || name == "ve-pc";
    const auto sampler =
        make_sampler(s, {target.get(), noised ? (ve ? sig.get() : vp.get()) : nullptr});
    const double expected = noised ? kNoisedDivergenceFactor * (ve ? 5.0 : 1.0)
                                   : std::numeric_limits<double>::infinity();
    EXPECT_EQ(sampler->divergence_bound(), expected) << name;
  }
  s.name = "ve-pc";
  const Repulsive repulsive;
  const auto vepc = make_sampler(s, {nullptr, &repulsive});
  ChainRunner runner(*vepc, {0, 4}, prior_states(*vepc, {0, 4}), Vector::Zero(2), Vector::Ones(2));
  try {
    runner.advance(vepc->num_transitions());
    FAIL() << "expected a divergence error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(" diverged: its draw at step 98 has a coordinate of "),
              std::string::npos)
        << e.what();
  }
}

// Closed-form noised mixture: at σ → 0 it is the gmm target; its divergence and probe quadratic
// forms match finite differences of its score; the VP marginal at t has the stated moments.
TEST(NoisedMixture, ScoresMatchTargetAndFiniteDifferences) {
  const auto target = make_target("gmm", 3);
  const auto mix = gmm_target_mixture(3);
  const auto sig = make_noised_mixture(mix, NoiseScheme::sigma);
  const auto vp = make_noised_mixture(mix, NoiseScheme::vpsde);
  const Matrix x = draw_rows(*target, 4, {0, 10});
  EXPECT_LT((sig->score(x, 1e-9) - target->score(x)).norm(), 1e-8 * target->score(x).norm());
  for (const NoisedScore* n : {sig.get(), vp.get()}) {
    const double level = 0.4;
    for (Index r = 0; r < x.rows(); ++r) {
      const Vector xr = x.row(r).transpose();
      auto field = [&](const Vector& y) {
        return Vector(n->score(Matrix(y.transpose()), level).row(0).transpose());
      };
      EXPECT_NEAR(n->divergence(Matrix(xr.transpose()), level)[0], fd_divergence(field, xr), 1e-6);
      Matrix v(2, 3);
      v << 1, -1, 1, -1, -1, 1;
      const Matrix q = n->probe_quadratic(Matrix(xr.transpose()), level, v, 2);
      for (Index k = 0; k < 2; ++k) {
        const Vector vk = v.row(k).transpose();
        const double h = 1e-5;
        const double fd = vk.dot(field(xr + h * vk) - field(xr - h * vk)) / (2 * h);  // vᵀJv
        EXPECT_NEAR(q(0, k), fd, 1e-6);
        const Vector jv =  // J v
            n->jacobian_product(Matrix(xr.transpose()), level, Matrix(vk.transpose()))
                .row(0)
                .transpose();
        EXPECT_LT((jv - (field(xr + h * vk) - field(xr - h * vk)) / (2 * h)).norm(), 1e-6);
      }
    }
  }
}

// A σ/t-conditioned MLP as a NoisedScore: divergence and Hutchinson quadratic forms against finite
// differences of its score; energy_and_score equals energy() and score(); MALA refuses a
// score-only network with a reason.
TEST(NoisedMlp, DerivativesMatchFiniteDifferences) {
  for (MlpOutput output : {MlpOutput::energy, MlpOutput::score}) {
    for (Conditioning cond : {Conditioning::sigma, Conditioning::time}) {
      const MlpSpec spec = make_spec(3, output, Activation::tanh, {8, 8}, cond);
      const MlpModel model(spec, test_parameters(spec, 2), Vector::Constant(3, 0.5),
                           Vector::Constant(3, 2.0), 0.3);
      const auto noised = make_noised_mlp(model);
      const Matrix z = normal_matrix(5, 3, 1);
      const double level = 0.3;
      const Vector div = noised->divergence(z, level);
      Matrix probes(5 * 2, 3);
      for (Index i = 0; i < probes.size(); ++i) probes.data()[i] = (i * 7) % 3 == 0 ? 1.0 : -1.0;
      const Matrix q = noised->probe_quadratic(z, level, probes, 2);
      for (Index r = 0; r < 5; ++r) {
        const Vector zr = z.row(r).transpose();
        auto field = [&](const Vector& y) {
          return Vector(noised->score(Matrix(y.transpose()), level).row(0).transpose());
        };
        EXPECT_NEAR(div[r], fd_divergence(field, zr), 1e-6);
        for (Index k = 0; k < 2; ++k) {
          const Vector v = probes.row(r * 2 + k).transpose();
          const double h = 1e-5;
          EXPECT_NEAR(q(r, k), v.dot(field(zr + h * v) - field(zr - h * v)) / (2 * h), 1e-6);
        }
      }
      // Jacobian-vector products: score networks only (an energy's would need a reverse sweep).
      const Matrix dirs = probes.topRows(5);
      if (output == MlpOutput::score) {
        const Matrix jv = noised->jacobian_product(z, level, dirs);
        for (Index r = 0; r < 5; ++r) {
          const Vector zr = z.row(r).transpose(), v = dirs.row(r).transpose();
          const double h = 1e-5;
          const Vector fd = (noised->score(Matrix((zr + h * v).transpose()), level) -
                             noised->score(Matrix((zr - h * v).transpose()), level))
                                .row(0)
                                .transpose() /
                            (2 * h);
          EXPECT_LT((jv.row(r).transpose() - fd).norm(), 1e-6 * (1 + fd.norm()));
        }
      } else {
        EXPECT_THROW(noised->jacobian_product(z, level, dirs), Error);
      }
      if (output == MlpOutput::energy) {
        Vector e;
        Matrix s;
        const Matrix x = normal_matrix(70, 3, 4);
        model.energy_and_score(x, e, s);
        EXPECT_EQ((e - model.energy(x)).norm(), 0.0);
        EXPECT_EQ((s - model.score(x)).norm(), 0.0);
        // float32 evaluation: single-precision rounding only (~1e-7 relative per operation).
        MlpModel single = model;
        single.use_float32(true);
        EXPECT_LT((single.score(x) - s).norm(), 1e-5 * s.norm());
        EXPECT_LT((single.energy(x) - e).norm(), 1e-5 * e.norm());
        EXPECT_GT((single.score(x) - s).norm(), 0.0) << "float32 path really used";
      } else {
        SamplerSettings settings;
        settings.name = "mala";
        try {
          make_sampler(settings, {&model, nullptr});
          FAIL() << "mala accepted a score-only model";
        } catch (const Error& e) {
          EXPECT_NE(std::string(e.what()).find("has only a score"), std::string::npos);
        }
      }
    }
  }
}
