#include "score_source.hpp"

#include "scorematch/core/error.hpp"
#include "scorematch/io/model_dir.hpp"
#include "scorematch/models/mlp_model.hpp"
#include "scorematch/models/targets.hpp"

namespace scorematch::app {

LoadedScore load_score_source(const std::string& model_dir, const std::string& target, Index dim,
                              NoiseScheme scheme, VpSde sde, const io::LoadOptions& options) {
  if (model_dir.empty() == target.empty())
    throw Error("needs exactly one of --model DIR or --target NAME");
  LoadedScore src;
  if (!model_dir.empty()) {
    io::LoadedModel loaded = io::load_model(model_dir, options);
    src.model = std::move(loaded.model);
    src.noised = std::move(loaded.noised);
    src.meta = loaded.meta;
    src.noise = loaded.noise;
    src.description = {{"model", model_dir}, {"kind", src.model->kind()}};
  } else {
    src.model = make_target(target, dim);
    src.description = {{"target", target}, {"dim", dim}};
    if (const auto mixture = target_mixture(target, dim))
      src.noised = make_noised_mixture(*mixture, scheme, sde);
  }
  return src;
}

}  // namespace scorematch::app
