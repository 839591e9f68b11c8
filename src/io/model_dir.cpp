#include "scorematch/io/model_dir.hpp"

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include "scorematch/core/error.hpp"
#include "scorematch/io/npy.hpp"
#include "scorematch/models/gaussian_model.hpp"
#include "scorematch/models/mlp_model.hpp"
#include "scorematch/models/polynomial_model.hpp"

namespace scorematch::io {

namespace {
using Loader =
    std::function<std::unique_ptr<ScoreModel>(const nlohmann::json&, const NamedArrays&)>;

template <class Model>
Loader loader() {
  return [](const nlohmann::json&, const NamedArrays& a) {
    return std::make_unique<Model>(Model::from_arrays(a));
  };
}

std::unique_ptr<ScoreModel> load_mlp(const nlohmann::json& meta, const NamedArrays& a) {
  if (!meta.contains("mlp")) throw Error("meta.json has no 'mlp' section");
  const auto [spec, noise_level] = parse_mlp_meta(meta.at("mlp"), meta.value("dim", Index{0}));
  if (spec.kind() != meta.value("kind", ""))
    throw Error("meta.json kind does not match its mlp section");
  return std::make_unique<MlpModel>(MlpModel::from_arrays(spec, a, noise_level));
}

const std::map<std::string, Loader>& loaders() {
  static const std::map<std::string, Loader> table{
      {"gaussian", loader<GaussianModel>()},
      {"polynomial", loader<PolynomialModel>()},
      {"mlp-energy", load_mlp},
      {"mlp-score", load_mlp},
  };
  return table;
}
}  // namespace

nlohmann::json mlp_meta(const MlpSpec& spec, double noise_level) {
  nlohmann::json j = {{"hidden", spec.hidden},
                      {"activation", activation_name(spec.activation)},
                      {"output", spec.output == MlpOutput::energy ? "energy" : "score"},
                      {"conditioning", conditioning_name(spec.conditioning)},
                      {"layout",
                       "hidden y = act(W x + b) with W [out, in]; last layer linear; "
                       "input standardised by (x - shift) / scale"}};
  if (spec.conditioning != Conditioning::none) {
    j["noise_level"] = noise_level;
    j["conditioning_input"] = spec.conditioning == Conditioning::sigma ? "log sigma" : "t";
    j["output_multiplier"] = "1 / sigma";
  }
  if (spec.conditioning == Conditioning::time)
    j["vpsde"] = {{"beta_min", spec.sde.beta_min}, {"beta_max", spec.sde.beta_max}};
  return j;
}

std::pair<MlpSpec, double> parse_mlp_meta(const nlohmann::json& j, Index dim) {
  MlpSpec spec;
  spec.dim = dim;
  spec.hidden = j.at("hidden").get<std::vector<Index>>();
  spec.activation = parse_activation(j.at("activation").get<std::string>());
  const std::string output = j.at("output").get<std::string>();
  if (output != "energy" && output != "score")
    throw Error("mlp output must be 'energy' or 'score', got '" + output + "'");
  spec.output = output == "energy" ? MlpOutput::energy : MlpOutput::score;
  spec.conditioning = parse_conditioning(j.value("conditioning", "none"));
  if (j.contains("vpsde")) {
    spec.sde.beta_min = j["vpsde"].at("beta_min").get<double>();
    spec.sde.beta_max = j["vpsde"].at("beta_max").get<double>();
  }
  spec.validate();
  return {spec, j.value("noise_level", 0.0)};
}

void stage_model(OutputDir& out, const ScoreModel& model, nlohmann::json meta,
                 const NamedArrays& extra) {
  meta["format"] = "scorematch-model";
  meta["format_version"] = kModelFormatVersion;
  meta["kind"] = model.kind();
  meta["dim"] = model.dim();
  nlohmann::json files = nlohmann::json::object();
  auto stage = [&](const NamedArrays& arrays) {
    for (const auto& [name, array] : arrays) {
      out.write_array(name + ".npy", array);
      files[name] = name + ".npy";
    }
  };
  stage(model.arrays());
  stage(extra);
  meta["arrays"] = files;
  out.write_text("meta.json", meta.dump(2) + "\n");
}

LoadedModel load_model(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path meta_path = fs::path(dir) / "meta.json";
  if (!fs::is_directory(dir)) throw Error("model directory '" + dir + "' does not exist");
  std::ifstream in(meta_path);
  if (!in) throw Error("'" + meta_path.string() + "' is missing: not a scorematch model directory");
  LoadedModel loaded;
  try {
    loaded.meta = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error("'" + meta_path.string() + "': invalid JSON: " + e.what());
  }
  const auto& meta = loaded.meta;
  if (meta.value("format", "") != "scorematch-model")
    throw Error("'" + meta_path.string() + "': not a scorematch model (format field missing)");
  if (meta.value("format_version", 0) > kModelFormatVersion)
    throw Error("'" + meta_path.string() + "': model format version " +
                std::to_string(meta.value("format_version", 0)) + " is newer than this build (" +
                std::to_string(kModelFormatVersion) + ")");
  const std::string kind = meta.value("kind", "");
  auto it = loaders().find(kind);
  if (it == loaders().end())
    throw Error("'" + meta_path.string() + "': unknown model kind '" + kind + "'");
  NamedArrays arrays;
  for (const auto& [name, file] : meta.at("arrays").items())
    arrays[name] = read_npy_array((fs::path(dir) / file.get<std::string>()).string());
  try {
    loaded.model = it->second(meta, arrays);
  } catch (const nlohmann::json::exception& e) {
    throw Error("'" + meta_path.string() + "': " + e.what());
  } catch (const Error& e) {
    throw Error("'" + dir + "': " + e.what());
  }
  return loaded;
}

}  // namespace scorematch::io
