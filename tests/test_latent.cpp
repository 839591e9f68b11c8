// Latent scores of decoders: J_f from the jets vs finite differences, the latent score vs finite
// differences of the latent energy, MAP codes against closed forms (linear decoder) and the
// stationarity condition J_fᵀ Σ⁻¹ r = 0 (MLP decoder), and Langevin draws of p(z | x).
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "mlp_testing.hpp"
#include "sampling_testing.hpp"
#include "scorematch/core/random_stream.hpp"
#include "scorematch/inverse/decoder.hpp"
#include "scorematch/inverse/latent.hpp"

namespace scorematch::inverse {
namespace {

std::unique_ptr<Decoder> mlp_decoder(Index k, Index d, Activation act, std::uint64_t seed) {
  MlpSpec spec;
  spec.dim = k;
  spec.out_dim = d;
  spec.output = MlpOutput::decoder;
  spec.hidden = {16, 16, 16};
  spec.activation = act;
  return make_mlp_decoder(spec, init_mlp_parameters(spec, seed));
}

// Central differences, step 1e-5 on O(1) inputs: truncation O(h²) ≈ 1e-10, round-off ≈ 1e-11.
TEST(Latent, MlpDecoderJacobianMatchesFiniteDifferences) {
  const Index k = 3, d = 5, n = 4;
  for (const auto& name : activation_names()) {
    const auto f = mlp_decoder(k, d, parse_activation(name), 7);
    const Matrix z = testing::normal_matrix(n, k, 1);
    Matrix fz, jac_t;
    f->decode_with_jacobian(z, fz, jac_t);
    EXPECT_LT((fz - f->decode(z)).norm(), 1e-14 * (1 + fz.norm())) << name;
    const double h = 1e-5;
    for (Index b = 0; b < n; ++b)
      for (Index j = 0; j < k; ++j) {
        Matrix zp = z.row(b), zm = z.row(b);
        zp(0, j) += h;
        zm(0, j) -= h;
        const Matrix fd = (f->decode(zp) - f->decode(zm)) / (2 * h);
        const Matrix jet = jac_t.row(b * k + j);
        EXPECT_LT((jet - fd).norm(), 1e-6 * (1 + fd.norm()))
            << name << " row " << b << " direction " << j;
      }
  }
}

TEST(Latent, ScoreMatchesFiniteDifferencesOfTheEnergy) {
  const Index k = 2, d = 6, n = 3;
  const auto f = mlp_decoder(k, d, Activation::tanh, 3);
  LatentModel m{
      f.get(),
      (testing::normal_matrix(1, d, 9).array().square() + 0.5).inverse().matrix().transpose(), 1.0};
  const Matrix z = testing::normal_matrix(n, k, 4), x = testing::normal_matrix(n, d, 5);
  Vector e;
  Matrix s;
  latent_energy_and_score(m, z, x, e, s);
  EXPECT_LT((e - latent_energy(m, z, x)).norm(), 1e-13 * (1 + e.norm()));
  const double h = 1e-5;
  for (Index j = 0; j < k; ++j) {
    Matrix zp = z, zm = z;
    zp.col(j).array() += h;
    zm.col(j).array() -= h;
    const Vector fd = (latent_energy(m, zp, x) - latent_energy(m, zm, x)) / (2 * h);
    // score = −∂energy/∂z
    EXPECT_LT((s.col(j) + fd).norm(), 1e-6 * (1 + fd.norm())) << "direction " << j;
  }
}

// The residual-curvature term Σ_i c_i ∇²f_i against central differences of Σ_i c_i ∇f_i (the
// jets' first derivatives, already checked above).
TEST(Latent, ContractedHessianMatchesFiniteDifferences) {
  const Index k = 3, d = 4, n = 3;
  for (const auto& name : activation_names()) {
    const auto f = mlp_decoder(k, d, parse_activation(name), 41);
    const Matrix z = testing::normal_matrix(n, k, 42), c = testing::normal_matrix(n, d, 43);
    const Matrix h = f->contracted_hessian(z, c);
    const double eps = 1e-5;
    for (Index l = 0; l < k; ++l) {
      Matrix zp = z, zm = z, fz, jp, jm;
      zp.col(l).array() += eps;
      zm.col(l).array() -= eps;
      f->decode_with_jacobian(zp, fz, jp);
      f->decode_with_jacobian(zm, fz, jm);
      for (Index b = 0; b < n; ++b) {
        const Vector fd =
            (jp.middleRows(b * k, k) - jm.middleRows(b * k, k)) * c.row(b).transpose() / (2 * eps);
        const Vector jet = h.block(b * k, l, k, 1);
        EXPECT_LT((jet - fd).norm(), 1e-6 * (1 + fd.norm())) << name << " row " << b;
      }
    }
  }
}

// x = W z + b + ε with Σ = diag(σ²): the flat-prior MAP is the weighted least-squares solution
// (WᵀΣ⁻¹W)⁻¹WᵀΣ⁻¹(x − b); with the N(0, I) prior it is (WᵀΣ⁻¹W + I)⁻¹WᵀΣ⁻¹(x − b), the
// probabilistic-PCA posterior mean. Both are one linear solve, so LM must reach them to ~1e-12.
TEST(Latent, LinearDecoderMapEqualsLeastSquares) {
  const Index k = 3, d = 8, n = 50;
  const Matrix w = testing::normal_matrix(d, k, 11);
  const Vector b = testing::normal_matrix(d, 1, 12).col(0);
  const Vector var = (testing::normal_matrix(1, d, 13).array().square() + 0.1).matrix().transpose();
  const auto f = make_linear_decoder(w, b);
  const Matrix x = testing::normal_matrix(n, d, 14);
  for (double lambda : {0.0, 1.0}) {
    LatentModel m{f.get(), var.cwiseInverse(), lambda};
    const LatentMapResult res = latent_map(m, x, Matrix::Zero(n, k), {});
    Matrix h = w.transpose() * m.inv_var.asDiagonal() * w;
    h.diagonal().array() += lambda;
    const Matrix exact = (h.ldlt().solve(w.transpose() * m.inv_var.asDiagonal() *
                                         (x.rowwise() - b.transpose()).transpose()))
                             .transpose();
    EXPECT_LT((res.z - exact).cwiseAbs().maxCoeff(), 1e-10 * (1 + exact.cwiseAbs().maxCoeff()))
        << "lambda " << lambda;
    EXPECT_EQ(res.converged, n);
    if (lambda == 0) {
      EXPECT_LT(res.orthogonality.maxCoeff(), 1e-10);
    }
  }
}

// A nonlinear decoder with a flat prior: at the MAP the residual is Σ⁻¹-orthogonal to J_f's
// columns, |J_fᵀ Σ⁻¹ r| / (‖Σ^{-½}J_f‖ ‖Σ^{-½}r‖) < 1e-8 (the criterion), for every row.
TEST(Latent, MlpDecoderMapResidualIsOrthogonalToTheJacobian) {
  const Index k = 2, d = 6, n = 40;
  const auto f = mlp_decoder(k, d, Activation::softplus, 21);
  const Matrix z_true = testing::normal_matrix(n, k, 22);
  const Matrix x = f->decode(z_true) + 0.05 * testing::normal_matrix(n, d, 23);
  LatentModel m{f.get(), Vector::Constant(d, 1.0 / (0.05 * 0.05)), 0.0};
  const LatentMapResult res = latent_map(m, x, Matrix::Zero(n, k), {});
  // Gauss–Newton alone converges linearly, exact Newton quadratically: from the same start, GN
  // needs over 1.5× the iterations in total (2.2× when this test was written).
  LatentMapSettings gn;
  gn.exact_hessian = false;
  const LatentMapResult slow = latent_map(m, x, Matrix::Zero(n, k), gn);
  const auto total = [](const std::vector<Index>& it) {
    return std::accumulate(it.begin(), it.end(), Index{0});
  };
  EXPECT_GT(2 * total(slow.iterations), 3 * total(res.iterations))
      << "Newton " << total(res.iterations) << ", Gauss-Newton " << total(slow.iterations);
  for (Index b = 0; b < n; ++b)
    EXPECT_LT(res.orthogonality[b], 1e-8)
        << "row " << b << " after " << res.iterations[static_cast<std::size_t>(b)]
        << " iterations, stationarity " << res.stationarity[b] << ", z " << res.z.row(b);
  EXPECT_EQ(res.converged, n);
  // The MAP fits at least as well as the codes that generated the data.
  EXPECT_TRUE((res.energy.array() <= latent_energy(m, z_true, x).array() + 1e-9).all());
}

// Linear decoder, N(0, I) prior: p(z | x) is Gaussian with mean = the PPCA posterior mean. MALA
// draws (128 chains per row) match it within 4.5 MCSE (MCSE from the spread of chain means).
TEST(Latent, MalaDrawsMatchTheLinearGaussianPosterior) {
  const Index k = 2, d = 5, rows = 2, per_row = 64;
  const Matrix w = testing::normal_matrix(d, k, 31);
  const auto f = make_linear_decoder(w, Vector::Zero(d));
  LatentModel m{f.get(), Vector::Constant(d, 4.0), 1.0};
  const Matrix x = testing::normal_matrix(rows, d, 32);
  const LatentMapResult exact = latent_map(m, x, Matrix::Zero(rows, k), {});
  const LatentPosteriorModel posterior(m, x, 0, per_row);
  SamplerSettings s;
  s.name = "mala";
  s.warmup = 300;
  s.steps = 1000;
  s.step_size = 0.05;
  s.seed = 3;
  const Matrix draws = testing::run_chains(s, {&posterior, nullptr}, rows * per_row);
  const Index per_chain = draws.rows() / (rows * per_row);
  for (Index o = 0; o < rows; ++o) {
    const auto [pooled, mcse] =
        testing::mean_and_mcse(testing::chain_means(draws, per_chain, o * per_row, per_row));
    for (Index j = 0; j < k; ++j)
      EXPECT_LT(std::abs(pooled[j] - exact.z(o, j)), 4.5 * mcse[j])
          << "row " << o << " coordinate " << j;
  }
}

TEST(Latent, BadInputIsAClearError) {
  const auto f = make_linear_decoder(Matrix::Ones(4, 2), Vector::Zero(4));
  LatentModel m{f.get(), Vector::Ones(3), 1.0};
  EXPECT_THROW(validate(m), Error);
  m.inv_var = Vector::Ones(4);
  EXPECT_THROW(latent_map(m, Matrix::Ones(3, 5), Matrix::Zero(3, 2), {}), Error);
  EXPECT_THROW(make_linear_decoder(Matrix::Ones(4, 2), Vector::Zero(3)), Error);
}

}  // namespace
}  // namespace scorematch::inverse
