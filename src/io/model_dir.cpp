#include "scorematch/io/model_dir.hpp"

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include "scorematch/core/error.hpp"
#include "scorematch/io/npy.hpp"
#include "scorematch/models/gaussian_model.hpp"
#include "scorematch/models/polynomial_model.hpp"

namespace scorematch::io {

namespace {
using Loader = std::function<std::unique_ptr<ScoreModel>(const NamedArrays&)>;

template <class Model>
Loader loader() {
  return [](const NamedArrays& a) { return std::make_unique<Model>(Model::from_arrays(a)); };
}

const std::map<std::string, Loader>& loaders() {
  static const std::map<std::string, Loader> table{
      {"gaussian", loader<GaussianModel>()},
      {"polynomial", loader<PolynomialModel>()},
  };
  return table;
}
}  // namespace

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
    loaded.model = it->second(arrays);
  } catch (const Error& e) {
    throw Error("'" + dir + "': " + e.what());
  }
  return loaded;
}

}  // namespace scorematch::io
