// make_decoder ROOT K D N SEED: test fixtures for `scorematch latent`. Writes
//   ROOT/mlp/     an mlp-decoder directory (K -> 16 -> 16 -> D, tanh), LeCun-initialised from SEED;
//   ROOT/linear/  a linear-decoder directory (W [D, K], b) with noise_sd.npy = 0.1;
//   ROOT/x.npy    N rows f_mlp(z) + 0.05 ε, z ~ N(0, I);   ROOT/x_linear.npy  N rows W z + b + 0.1
//   ε.
// All draws come from Philox streams (testing::normal_matrix, stream SEED + i), so the fixtures
// are reproducible.
#include <filesystem>
#include <iostream>
#include <string>

#include "mlp_testing.hpp"
#include "scorematch/inverse/decoder.hpp"
#include "scorematch/io/model_dir.hpp"
#include "scorematch/io/npy.hpp"

using namespace scorematch;

int main(int argc, char** argv) {
  if (argc != 6) {
    std::cerr << "usage: make_decoder ROOT K D N SEED\n";
    return 2;
  }
  const std::string root = argv[1];
  const Index k = std::stol(argv[2]), d = std::stol(argv[3]), n = std::stol(argv[4]);
  const std::uint64_t seed = std::stoull(argv[5]);
  std::filesystem::create_directories(root);
  MlpSpec spec;
  spec.dim = k;
  spec.out_dim = d;
  spec.output = MlpOutput::decoder;
  spec.hidden = {16, 16};
  spec.activation = Activation::tanh;
  const auto mlp = inverse::make_mlp_decoder(spec, init_mlp_parameters(spec, seed));
  const auto linear = inverse::make_linear_decoder(testing::normal_matrix(d, k, seed + 1),
                                                   testing::normal_matrix(d, 1, seed + 2).col(0));
  {
    io::OutputDir out(root + "/mlp");
    io::stage_decoder(out, *mlp, {{"mlp", io::mlp_meta(spec, 0.0)}});
    out.commit();
  }
  {
    io::OutputDir out(root + "/linear");
    io::stage_decoder(out, *linear, nlohmann::json::object(),
                      {{"noise_sd", Array::from(Vector(Vector::Constant(d, 0.1)))}});
    out.commit();
  }
  const Matrix z = testing::normal_matrix(n, k, seed + 3);
  io::write_npy(
      root + "/x.npy",
      Array::from(Matrix(mlp->decode(z) + 0.05 * testing::normal_matrix(n, d, seed + 4))));
  io::write_npy(
      root + "/x_linear.npy",
      Array::from(Matrix(linear->decode(z) + 0.1 * testing::normal_matrix(n, d, seed + 5))));
  return 0;
}
