// Forward jets and their reverse sweep against finite differences (relative 1e-6, float64):
// gradients, Jacobians, Laplacians (= trace of the FD Hessian), vᵀ∇²φ v, the one-hidden-layer
// closed form, input adjoints, conditioning, and float32 against float64.
#include <gtest/gtest.h>

#include <cmath>

#include "fd.hpp"
#include "mlp_testing.hpp"
#include "scorematch/core/flush_denormals.hpp"

namespace scorematch {
namespace {

using testing::fd_gradient;
using testing::make_spec;
using testing::mlp_value;
using testing::normal_matrix;
using testing::test_parameters;

// ∇φ at x by the reverse sweep (the code path independent of forward tangents).
Vector reverse_gradient(const MlpSpec& spec, const Vector& theta, const Vector& x) {
  MlpJet<double> jet(spec);
  const Matrix row = x.transpose();
  JetRequest<double> request;
  request.x = &row;
  jet.forward(theta.data(), request);
  Matrix g(1, spec.dim);
  jet.reverse(theta.data(), Matrix::Ones(1, 1), nullptr, &g);
  return g.row(0).transpose();
}

double rel_err(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  return (a - b).norm() / std::max(1e-12, b.norm());
}

class JetVsFd : public ::testing::TestWithParam<std::tuple<std::string, Index>> {};

TEST_P(JetVsFd, EnergyGradientLaplacianAndHessianForms) {
  const auto& [act_name, d] = GetParam();
  const MlpSpec spec = make_spec(d, MlpOutput::energy, parse_activation(act_name), {9, 8, 7});
  const Vector theta = test_parameters(spec, 5);
  const Matrix x = normal_matrix(3, d, 7);
  MlpJet<double> jet(spec);
  jet.forward(theta.data(), testing::identity_request(x, true));
  for (Index b = 0; b < x.rows(); ++b) {
    const Vector xb = x.row(b).transpose();
    auto phi = [&](const Vector& y) { return mlp_value(spec, theta, y)[0]; };
    const Vector grad_fd = fd_gradient(phi, xb);
    Vector grad_jet(d);
    for (Index k = 0; k < d; ++k) grad_jet[k] = jet.output()(jet.tangent_row(b, k), 0);
    EXPECT_LT(rel_err(grad_jet, grad_fd), 1e-6) << act_name << " d=" << d;
    EXPECT_LT(rel_err(reverse_gradient(spec, theta, xb), grad_fd), 1e-6);
    // Hessian by central differences of the (FD-verified) reverse gradient.
    Eigen::MatrixXd hessian(d, d);
    const double h = 1e-5;
    for (Index i = 0; i < d; ++i) {
      Vector up = xb, down = xb;
      up[i] += h;
      down[i] -= h;
      hessian.col(i) =
          (reverse_gradient(spec, theta, up) - reverse_gradient(spec, theta, down)) / (2 * h);
    }
    const double laplacian = jet.output()(jet.second_row(b), 0);
    EXPECT_NEAR(laplacian, hessian.trace(), 1e-6 * (1 + hessian.norm())) << act_name;

    // Random directions: tangent = vᵀ∇φ, second-order = vᵀ∇²φ v.
    const Matrix v = normal_matrix(2, d, 11 + static_cast<std::uint64_t>(b));
    const Matrix xrow = x.row(b);
    JetRequest<double> probe;
    probe.x = &xrow;
    probe.tangents = 2;
    probe.explicit_tangents = &v;
    probe.second_order = true;
    MlpJet<double> pj(spec);
    pj.forward(theta.data(), probe);
    double quad = 0;
    for (Index k = 0; k < 2; ++k) {
      EXPECT_NEAR(pj.output()(pj.tangent_row(0, k), 0), v.row(k).dot(grad_fd),
                  1e-6 * (1 + grad_fd.norm() * v.row(k).norm()));
      quad += v.row(k) * hessian * v.row(k).transpose();
    }
    EXPECT_NEAR(pj.output()(pj.second_row(0), 0), quad, 1e-6 * (1 + std::abs(quad)));
  }
}

TEST_P(JetVsFd, ScoreJacobianColumns) {
  const auto& [act_name, d] = GetParam();
  const MlpSpec spec = make_spec(d, MlpOutput::score, parse_activation(act_name), {9, 8, 7});
  const Vector theta = test_parameters(spec, 6);
  const Matrix x = normal_matrix(2, d, 8);
  MlpJet<double> jet(spec);
  jet.forward(theta.data(), testing::identity_request(x, false));
  for (Index b = 0; b < x.rows(); ++b) {
    const Vector xb = x.row(b).transpose();
    Eigen::MatrixXd jac_fd(d, d), jac(d, d);
    const double h = 1e-5;
    for (Index k = 0; k < d; ++k) {
      Vector up = xb, down = xb;
      up[k] += h;
      down[k] -= h;
      jac_fd.col(k) = (mlp_value(spec, theta, up) - mlp_value(spec, theta, down)) / (2 * h);
      jac.col(k) = jet.output().row(jet.tangent_row(b, k)).transpose();
    }
    EXPECT_LT(rel_err(jac, jac_fd), 1e-6) << act_name << " d=" << d;
  }
}

INSTANTIATE_TEST_SUITE_P(AllActivations, JetVsFd,
                         ::testing::Combine(::testing::Values("softplus", "tanh", "silu", "gelu"),
                                            ::testing::Values(1, 2, 7, 64)));

// φ(x) = w₂ᵀσ(W₁x + b₁) + b₂ ⇒ Δφ = Σⱼ w₂ⱼ σ''(aⱼ) ‖W₁ⱼ‖².
TEST(MlpJet, OneHiddenLayerLaplacianClosedForm) {
  const Index d = 5;
  const MlpSpec spec = make_spec(d, MlpOutput::energy, Activation::tanh, {11});
  const Vector theta = test_parameters(spec, 9);
  const Eigen::Map<const Matrix> W1(theta.data(), 11, d);
  const Eigen::Map<const Vector> b1(theta.data() + spec.bias_offset(0), 11);
  const Eigen::Map<const Vector> w2(theta.data() + spec.weight_offset(1), 11);
  const Matrix x = normal_matrix(4, d, 10);
  MlpJet<double> jet(spec);
  jet.forward(theta.data(), testing::identity_request(x, true));
  for (Index b = 0; b < 4; ++b) {
    const Vector a = W1 * x.row(b).transpose() + b1;
    double expected = 0;
    for (Index j = 0; j < 11; ++j) {
      double s2;
      activation_derivatives<double>(Activation::tanh, &a[j], 1, nullptr, nullptr, &s2, nullptr);
      expected += w2[j] * s2 * W1.row(j).squaredNorm();
    }
    EXPECT_NEAR(jet.output()(jet.second_row(b), 0), expected, 1e-12 * (1 + std::abs(expected)));
  }
}

// A σ-conditioned model: the extra input is log σ and the output is divided by σ.
TEST(MlpJet, ConditioningFeatureAndOutputScale) {
  const Index d = 3;
  const MlpSpec spec =
      make_spec(d, MlpOutput::score, Activation::silu, {6, 6}, Conditioning::sigma);
  EXPECT_EQ(spec.input_width(), d + 1);
  const Vector theta = test_parameters(spec, 12);
  const Matrix x = normal_matrix(2, d, 13);
  const double sigma = 0.3;
  const ConditioningValues c = conditioning_values(spec, sigma);
  const Vector feature = Vector::Constant(2, c.feature),
               scale = Vector::Constant(2, c.output_scale);
  MlpJet<double> jet(spec);
  JetRequest<double> request;
  request.x = &x;
  request.cond_feature = &feature;
  request.output_scale = &scale;
  jet.forward(theta.data(), request);
  // By hand: the same layers applied to (x, log σ), output divided by σ.
  Matrix xc(2, d + 1);
  xc << x, feature;
  for (Index b = 0; b < 2; ++b) {
    const Vector a0 = Eigen::Map<const Matrix>(theta.data(), 6, d + 1) * xc.row(b).transpose() +
                      Eigen::Map<const Vector>(theta.data() + spec.bias_offset(0), 6);
    Vector h(6);
    activation_derivatives<double>(Activation::silu, a0.data(), 6, h.data(), nullptr, nullptr,
                                   nullptr);
    const Vector a1 = Eigen::Map<const Matrix>(theta.data() + spec.weight_offset(1), 6, 6) * h +
                      Eigen::Map<const Vector>(theta.data() + spec.bias_offset(1), 6);
    Vector h1(6);
    activation_derivatives<double>(Activation::silu, a1.data(), 6, h1.data(), nullptr, nullptr,
                                   nullptr);
    const Vector y = Eigen::Map<const Matrix>(theta.data() + spec.weight_offset(2), d, 6) * h1 +
                     Eigen::Map<const Vector>(theta.data() + spec.bias_offset(2), d);
    EXPECT_LT(rel_err(jet.output().row(b).transpose(), y / sigma), 1e-14);
  }
}

// extend() after a value-only sweep (and the reverse sweep that ∇ₓφ needs in between) equals one
// forward() with the whole request: outputs and the θ-gradient of a reverse sweep, with explicit
// tangents, a second-order part, a conditioning feature and an output scale.
TEST(MlpJet, ExtendEqualsOneForwardSweep) {
  const Index d = 3, B = 5, K = 2;
  for (const auto& name : activation_names()) {
    const MlpSpec spec =
        make_spec(d, MlpOutput::energy, parse_activation(name), {7, 6, 5}, Conditioning::sigma);
    const Vector theta = test_parameters(spec, 31);
    const Matrix x = normal_matrix(B, d, 32), v = normal_matrix(B * K, d, 33);
    const Vector feature = normal_matrix(B, 1, 34).col(0),
                 scale = normal_matrix(B, 1, 35).col(0).array().exp().matrix();
    const Vector weights = Vector::LinSpaced(K, 0.5, 1.5);
    JetRequest<double> plain;
    plain.x = &x;
    plain.cond_feature = &feature;
    plain.output_scale = &scale;
    JetRequest<double> full = plain;
    full.tangents = K;
    full.explicit_tangents = &v;
    full.second_order = true;
    full.second_weights = &weights;

    MlpJet<double> one(spec);
    one.forward(theta.data(), full);
    MlpJet<double> two(spec);
    JetRequest<double> values = plain;
    values.keep_higher = true;
    two.forward(theta.data(), values);
    Matrix g(B, d);
    two.reverse(theta.data(), Matrix::Ones(B, 1), nullptr, &g);
    two.extend(theta.data(), full);
    ASSERT_EQ(two.output().rows(), one.output().rows());
    EXPECT_LT(rel_err(two.output(), one.output()), 1e-14) << name;

    const Matrix adj = normal_matrix(one.output().rows(), 1, 36);
    Vector grad_one = Vector::Zero(theta.size()), grad_two = Vector::Zero(theta.size());
    one.reverse(theta.data(), adj, grad_one.data());
    two.reverse(theta.data(), adj, grad_two.data());
    EXPECT_LT(rel_err(grad_two, grad_one), 1e-14) << name;
  }
  // Without keep_higher (or after a sweep with tangents) extend() refuses.
  const MlpSpec spec = make_spec(d, MlpOutput::energy, Activation::softplus);
  const Vector theta = test_parameters(spec, 37);
  const Matrix x = normal_matrix(B, d, 38);
  MlpJet<double> jet(spec);
  JetRequest<double> plain;
  plain.x = &x;
  jet.forward(theta.data(), plain);
  EXPECT_THROW(jet.extend(theta.data(), testing::identity_request(x, true)), Error);
}

// The θ-gradient of Σ_b u_bᵀ∇ₓφ(x_b) by double backpropagation equals the one from the tangent
// extension (forward over reverse, checked against finite differences through the objectives),
// for every activation, with conditioning and output multipliers; input_gradient() equals the
// generic reverse sweep; and it runs fewer GEMM flops (6 instead of 7 B-row GEMMs per layer).
TEST(MlpJet, DirectionalThetaGradientEqualsTheTangentExtension) {
  const Index d = 3, B = 6;
  for (const auto& name : activation_names())
    for (const bool conditioned : {false, true}) {
      const MlpSpec spec = make_spec(d, MlpOutput::energy, parse_activation(name), {7, 6, 5},
                                     conditioned ? Conditioning::sigma : Conditioning::none);
      const Vector theta = test_parameters(spec, 51);
      const Matrix x = normal_matrix(B, d, 52), u = normal_matrix(B, d, 53);
      const Vector feature = normal_matrix(B, 1, 54).col(0),
                   scale = normal_matrix(B, 1, 55).col(0).array().exp().matrix();
      JetRequest<double> plain;
      plain.x = &x;
      if (conditioned) {
        plain.cond_feature = &feature;
        plain.output_scale = &scale;
      }
      JetRequest<double> values = plain;
      values.keep_higher = true;

      MlpJet<double> generic(spec);
      generic.forward(theta.data(), values);
      Matrix g_generic(B, d);
      generic.reverse(theta.data(), Matrix::Ones(B, 1), nullptr, &g_generic);
      const double flops_before = generic.gemm_flops();
      JetRequest<double> tangent = plain;
      tangent.tangents = 1;
      tangent.explicit_tangents = &u;
      generic.extend(theta.data(), tangent);
      Matrix adj = Matrix::Zero(2 * B, 1);
      adj.bottomRows(B).setOnes();
      Vector want = Vector::Zero(theta.size());
      generic.reverse(theta.data(), adj, want.data());
      const double extension_flops = generic.gemm_flops() - flops_before;

      MlpJet<double> jet(spec);
      jet.forward(theta.data(), values);
      Matrix g(B, d);
      jet.input_gradient(theta.data(), g);
      EXPECT_LT(rel_err(g, g_generic), 1e-14) << name;
      const double before = jet.gemm_flops();
      Vector got = Vector::Zero(theta.size());
      jet.add_directional_theta_gradient(theta.data(), u, got.data());
      EXPECT_LT(rel_err(got, want), 1e-12) << name << " conditioned " << conditioned;
      EXPECT_LT(jet.gemm_flops() - before, extension_flops) << name;
    }
  // Without keep_higher it refuses …
  const MlpSpec spec = make_spec(d, MlpOutput::energy, Activation::softplus);
  const Vector theta = test_parameters(spec, 56);
  const Matrix x = normal_matrix(B, d, 57), u = normal_matrix(B, d, 58);
  Vector grad = Vector::Zero(theta.size());
  MlpJet<double> jet(spec);
  JetRequest<double> plain;
  plain.x = &x;
  jet.forward(theta.data(), plain);
  Matrix g(B, d);
  jet.input_gradient(theta.data(), g);
  EXPECT_THROW(jet.add_directional_theta_gradient(theta.data(), u, grad.data()), Error);
  // … and after a new forward() whose gradient sweep has not run.
  JetRequest<double> values = plain;
  values.keep_higher = true;
  jet.forward(theta.data(), values);
  jet.input_gradient(theta.data(), g);
  EXPECT_NO_THROW(jet.add_directional_theta_gradient(theta.data(), u, grad.data()));
  jet.forward(theta.data(), values);
  EXPECT_THROW(jet.add_directional_theta_gradient(theta.data(), u, grad.data()), Error);
}

// A dead softplus neuron (bias −90) makes σ' ≈ 1e-39 in float32; the float sweeps run with
// flush-to-zero (core/flush_denormals.hpp), so no subnormal reaches the θ-gradient, and the
// caller's floating-point mode is restored afterwards.
TEST(MlpJet, FloatSweepsFlushSubnormalsAndRestoreTheMode) {
  const Index d = 4, B = 8;
  const MlpSpec spec = make_spec(d, MlpOutput::energy, Activation::softplus, {16, 16});
  Vector theta = init_mlp_parameters(spec, 41);
  theta[spec.bias_offset(0)] = -90.0;
  const VectorT<float> thetaf = theta.cast<float>();
  const MatrixT<float> x = normal_matrix(B, d, 42).cast<float>();
  MlpJet<float> jet(spec);
#ifdef SCOREMATCH_HAS_MXCSR
  const unsigned mode = _mm_getcsr();
#endif
  jet.forward(thetaf.data(), testing::identity_request(x, true));
  VectorT<float> grad = VectorT<float>::Zero(thetaf.size());
  jet.reverse(thetaf.data(), MatrixT<float>::Ones(jet.output().rows(), 1), grad.data());
#ifdef SCOREMATCH_HAS_MXCSR
  EXPECT_EQ(_mm_getcsr(), mode);
#endif
  for (Index i = 0; i < grad.size(); ++i)
    EXPECT_NE(std::fpclassify(grad[i]), FP_SUBNORMAL) << "parameter " << i;
  EXPECT_TRUE(grad.allFinite());
}

TEST(MlpJet, FloatAgreesWithDouble) {
  const Index d = 16;
  const MlpSpec spec = make_spec(d, MlpOutput::energy, Activation::softplus, {32, 32, 32});
  const Vector theta = init_mlp_parameters(spec, 3);
  const Matrix x = normal_matrix(8, d, 14);
  MlpJet<double> jd(spec);
  MlpJet<float> jf(spec);
  jd.forward(theta.data(), testing::identity_request(x, true));
  const MatrixT<float> xf = x.cast<float>();
  const VectorT<float> thetaf = theta.cast<float>();
  jf.forward(thetaf.data(), testing::identity_request(xf, true));
  EXPECT_LT(rel_err(jf.output().cast<double>(), jd.output()), 1e-5);
}

}  // namespace
}  // namespace scorematch
