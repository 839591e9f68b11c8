// MlpModel in data units: score = −∇energy and divergence = ∇·score by finite differences, with
// non-trivial standardisation; score models; edm preconditioning against the paper's denoiser
// form; save/load round trip through a model directory.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "fd.hpp"
#include "mlp_testing.hpp"
#include "scorematch/io/model_dir.hpp"
#include "scorematch/io/output_guard.hpp"
#include "scorematch/models/mlp_model.hpp"

namespace scorematch {
namespace {

using testing::fd_divergence;
using testing::fd_gradient;
using testing::make_spec;
using testing::normal_matrix;
using testing::test_parameters;

MlpModel make_model(MlpOutput out, Conditioning cond = Conditioning::none) {
  const Index d = 3;
  const MlpSpec spec = make_spec(d, out, Activation::gelu, {8, 8}, cond);
  const Vector shift = (Vector(d) << 1.0, -2.0, 0.5).finished();
  const Vector scale = (Vector(d) << 0.5, 3.0, 1.5).finished();
  return MlpModel(spec, test_parameters(spec, 31), shift, scale, 0.2);
}

TEST(MlpModel, EnergyScoreAndDivergenceAreConsistentInDataUnits) {
  const MlpModel model = make_model(MlpOutput::energy);
  const Matrix x = normal_matrix(70, 3, 32, 2.0);  // > one row chunk
  const Matrix score = model.score(x);
  const Vector div = model.score_divergence(x);
  for (Index b = 0; b < x.rows(); b += 7) {
    const Vector xb = x.row(b).transpose();
    auto energy = [&](const Vector& y) { return model.energy(Matrix(y.transpose()))[0]; };
    auto field = [&](const Vector& y) -> Vector {
      return model.score(Matrix(y.transpose())).row(0).transpose();
    };
    const Vector g = fd_gradient(energy, xb);
    EXPECT_LT((score.row(b).transpose() + g).norm(), 1e-6 * (1 + g.norm()));
    const double fd_div = fd_divergence(field, xb);
    EXPECT_NEAR(div[b], fd_div, 1e-6 * (1 + std::abs(fd_div)));
  }
}

TEST(MlpModel, ScoreModelDivergenceAndNoEnergy) {
  const MlpModel model = make_model(MlpOutput::score, Conditioning::sigma);
  EXPECT_FALSE(model.has_energy());
  EXPECT_THROW(model.energy(normal_matrix(2, 3, 1)), Error);
  const Matrix x = normal_matrix(5, 3, 33);
  const Vector div = model.score_divergence(x);
  for (Index b = 0; b < x.rows(); ++b) {
    auto field = [&](const Vector& y) -> Vector {
      return model.score(Matrix(y.transpose())).row(0).transpose();
    };
    const double fd_div = fd_divergence(field, x.row(b).transpose());
    EXPECT_NEAR(div[b], fd_div, 1e-6 * (1 + std::abs(fd_div)));
  }
}

MlpModel make_edm_model(double level) {
  MlpSpec spec = make_spec(3, MlpOutput::score, Activation::silu, {8, 8}, Conditioning::sigma);
  spec.precondition = Precondition::edm;
  spec.sigma_data = 0.6;
  const Vector shift = (Vector(3) << 0.3, -1.0, 0.5).finished();
  const Vector scale = (Vector(3) << 0.5, 2.0, 1.5).finished();
  return MlpModel(spec, test_parameters(spec, 35), shift, scale, level);
}

// edm preconditioning against the paper's denoiser (Karras et al. 2022, Table 1), built from the
// same network without preconditioning (whose output is F/σ): s = (c_skip z + c_out F(c_in z) −
// z)/σ²; and its divergence and probe quadratic forms (the chain rule through c_in and the skip)
// against finite differences, at a small and a large σ.
TEST(MlpModel, EdmPreconditionedScoreMatchesTheDenoiserForm) {
  for (const double sigma : {0.05, 0.3, 4.0}) {
    const MlpModel model = make_edm_model(sigma);
    MlpSpec plain_spec = model.spec();
    plain_spec.precondition = Precondition::none;
    const MlpModel plain(plain_spec, model.theta(), model.shift(), model.scale(), sigma);
    const double sd = 0.6, v = sigma * sigma + sd * sd;
    const double c_in = 1 / std::sqrt(v), c_skip = sd * sd / v, c_out = sigma * sd / std::sqrt(v);
    const Matrix z = normal_matrix(70, 3, 36, 1.5);
    const Matrix f = sigma * plain.network_score(c_in * z, sigma);
    const Matrix expected = ((c_skip * z + c_out * f) - z) / (sigma * sigma);
    const Matrix got = model.network_score(z, sigma);
    EXPECT_LT((got - expected).cwiseAbs().maxCoeff(), 1e-12 * (1 + expected.cwiseAbs().maxCoeff()))
        << "sigma " << sigma;

    const Matrix x = normal_matrix(6, 3, 37, 2.0);
    const Vector div = model.score_divergence(x);
    const Matrix zx = model.standardise(x);
    const Vector zdiv = model.network_divergence(zx, sigma);
    const Matrix probes = normal_matrix(6 * 2, 3, 38);
    const Matrix quad = model.network_probe_quadratic(zx, sigma, probes, 2);
    for (Index b = 0; b < x.rows(); ++b) {
      auto field = [&](const Vector& y) -> Vector {
        return model.score(Matrix(y.transpose())).row(0).transpose();
      };
      auto zfield = [&](const Vector& y) -> Vector {
        return model.network_score(Matrix(y.transpose()), sigma).row(0).transpose();
      };
      const double fd_div = fd_divergence(field, x.row(b).transpose());
      EXPECT_NEAR(div[b], fd_div, 1e-6 * (1 + std::abs(fd_div))) << "sigma " << sigma;
      const double fd_zdiv = fd_divergence(zfield, zx.row(b).transpose());
      EXPECT_NEAR(zdiv[b], fd_zdiv, 1e-6 * (1 + std::abs(fd_zdiv))) << "sigma " << sigma;
      for (Index k = 0; k < 2; ++k) {
        const Vector p = probes.row(b * 2 + k).transpose(), z0 = zx.row(b).transpose();
        const double h = 1e-5;
        const double fd = p.dot(zfield(z0 + h * p) - zfield(z0 - h * p)) / (2 * h);
        EXPECT_NEAR(quad(b, k), fd, 1e-6 * (1 + std::abs(fd))) << "sigma " << sigma;
      }
    }
    // Jacobian-vector products ∇s̃(z) v (pigdm guidance) against central differences.
    const Matrix dirs = normal_matrix(6, 3, 39);
    const Matrix jv = model.network_jacobian_product(zx, sigma, dirs);
    for (Index b = 0; b < x.rows(); ++b) {
      const Vector p = dirs.row(b).transpose(), z0 = zx.row(b).transpose();
      const double h = 1e-5;
      const Vector fd = (model.network_score(Matrix((z0 + h * p).transpose()), sigma) -
                         model.network_score(Matrix((z0 - h * p).transpose()), sigma))
                            .row(0)
                            .transpose() /
                        (2 * h);
      EXPECT_LT((jv.row(b).transpose() - fd).norm(), 1e-6 * (1 + fd.norm())) << "sigma " << sigma;
    }
  }
}

TEST(MlpModel, ModelDirectoryRoundTrip) {
  namespace fs = std::filesystem;
  const std::string dir =
      (fs::temp_directory_path() / ("sm_mlp_" + std::to_string(::getpid()))).string();
  for (auto [out, cond] : {std::pair{MlpOutput::energy, Conditioning::none},
                           std::pair{MlpOutput::score, Conditioning::time},
                           std::pair{MlpOutput::score, Conditioning::sigma}}) {
    const MlpModel model =
        cond == Conditioning::sigma ? make_edm_model(0.4) : make_model(out, cond);
    {
      io::OutputDir staged(dir);
      io::stage_model(staged, model, {{"mlp", io::mlp_meta(model.spec(), model.noise_level())}});
      staged.commit();
    }
    const io::LoadedModel loaded = io::load_model(dir);
    io::clear_inputs();  // the next case writes the same directory again (a new job)
    EXPECT_EQ(loaded.model->kind(), model.kind());
    const Matrix x = normal_matrix(4, 3, 34);
    EXPECT_TRUE(loaded.model->score(x) == model.score(x));
    EXPECT_TRUE(loaded.model->score_divergence(x) == model.score_divergence(x));
    const auto* mlp = dynamic_cast<const MlpModel*>(loaded.model.get());
    ASSERT_NE(mlp, nullptr);
    EXPECT_TRUE(same_architecture(mlp->spec(), model.spec()));  // edm and σ_d survive
    fs::remove_all(dir);
  }
}

}  // namespace
}  // namespace scorematch
