// MlpModel in data units: score = −∇energy and divergence = ∇·score by finite differences, with
// non-trivial standardisation; score models; save/load round trip through a model directory.
#include <gtest/gtest.h>

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

TEST(MlpModel, ModelDirectoryRoundTrip) {
  namespace fs = std::filesystem;
  const std::string dir =
      (fs::temp_directory_path() / ("sm_mlp_" + std::to_string(::getpid()))).string();
  for (auto [out, cond] : {std::pair{MlpOutput::energy, Conditioning::none},
                           std::pair{MlpOutput::score, Conditioning::time}}) {
    const MlpModel model = make_model(out, cond);
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
    fs::remove_all(dir);
  }
}

}  // namespace
}  // namespace scorematch
