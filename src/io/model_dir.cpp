#include "scorematch/io/model_dir.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <vector>

#include "scorematch/core/error.hpp"
#include "scorematch/core/scoped_setting_namer.hpp"
#include "scorematch/inverse/decoder.hpp"
#include "scorematch/io/json_field.hpp"
#include "scorematch/io/npy.hpp"
#include "scorematch/io/output_guard.hpp"
#include "scorematch/models/gaussian_model.hpp"
#include "scorematch/models/mlp_model.hpp"
#include "scorematch/models/polynomial_model.hpp"
#include "scorematch/sampling/noised_score.hpp"

namespace scorematch::io {

namespace {
// A loader builds the model (and, for noise-conditioned networks, its noised score) from meta.json
// and the arrays, applying the load options.
struct Parts {
  std::unique_ptr<ScoreModel> model;
  MlpModel* network = nullptr;  // model, when it is a network (the load options apply to it)
};
using Loader = std::function<Parts(const nlohmann::json&, const NamedArrays&)>;

template <class Model>
Loader loader() {
  return [](const nlohmann::json&, const NamedArrays& a) {
    return Parts{std::make_unique<Model>(Model::from_arrays(a)), nullptr};
  };
}

Parts load_mlp(const nlohmann::json& meta, const NamedArrays& a) {
  if (!meta.contains("mlp")) throw Error("meta.json has no 'mlp' section");
  const Index dim = required_field<Index>(meta, "meta.json ", "dim");
  if (dim < 1) throw Error("meta.json dim must be at least 1, got " + std::to_string(dim));
  const auto [spec, noise_level] = parse_mlp_meta(meta.at("mlp"), dim);
  if (spec.kind() != optional_field<std::string>(meta, "meta.json ", "kind", ""))
    throw Error("meta.json kind does not match its mlp section");
  auto model = std::make_unique<MlpModel>(MlpModel::from_arrays(spec, a, noise_level));
  MlpModel* network = model.get();
  return Parts{std::move(model), network};
}

// meta.json's dim and columns describe the model its arrays hold (the commands label outputs and
// check data by them): a hand edit that disagrees with the arrays is refused, not trusted.
void check_dimension(const nlohmann::json& meta, const ScoreModel& model) {
  const Index dim = optional_field<Index>(meta, "meta.json ", "dim", model.dim());
  if (dim != model.dim())
    throw Error("meta.json dim is " + std::to_string(dim) +
                " but the arrays hold a model of dimension " + std::to_string(model.dim()));
  const auto columns = optional_field<std::vector<std::string>>(meta, "meta.json ", "columns", {});
  if (!columns.empty() && static_cast<Index>(columns.size()) != dim)
    throw Error("meta.json columns has " + std::to_string(columns.size()) +
                " names, expected one per dimension (" + std::to_string(dim) + ")");
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
                      {"output", spec.output == MlpOutput::energy  ? "energy"
                                 : spec.output == MlpOutput::score ? "score"
                                                                   : "decoder"},
                      {"conditioning", conditioning_name(spec.conditioning)},
                      {"layout",
                       "hidden y = act(W x + b) with W [out, in]; last layer linear; "
                       "input standardised by (x - shift) / scale"}};
  if (spec.conditioning != Conditioning::none) {
    j["noise_level"] = noise_level;
    j["conditioning_input"] = spec.conditioning == Conditioning::sigma ? "log sigma" : "t";
    j["output_multiplier"] = "1 / sigma";
  }
  if (spec.embedding > 0) {
    j["embedding"] = spec.embedding;
    j["embedding_input"] =
        "every hidden layer's W has cond columns last: (c, sin w_k c, cos w_k c), "
        "w_k = 0.25 * 64^(k / (K - 1))";
  }
  if (spec.residual) {
    j["residual"] = true;
    j["residual_form"] = "hidden layers after the first: y = x + act(W x + b)";
  }
  if (spec.precondition != Precondition::none) {
    j["precondition"] = precondition_name(spec.precondition);
    j["sigma_data"] = spec.sigma_data;
    j["output_multiplier"] = "sigma_data / (sigma sqrt(sigma^2 + sigma_data^2))";
    j["precondition_form"] =
        "score(z) = output_multiplier * net(z / sqrt(sigma^2 + sigma_data^2)) - z / (sigma^2 + "
        "sigma_data^2), z centred (Karras et al. 2022)";
  }
  if (spec.output == MlpOutput::decoder) j["out_dim"] = spec.out_dim;
  if (spec.conditioning == Conditioning::time)
    j["vpsde"] = {{"beta_min", spec.sde.beta_min}, {"beta_max", spec.sde.beta_max}};
  return j;
}

const std::vector<std::string>& mlp_prose_keys() {
  static const std::vector<std::string> keys{
      "layout",        "conditioning_input", "embedding_input",
      "residual_form", "output_multiplier",  "precondition_form"};
  return keys;
}

std::pair<MlpSpec, double> parse_mlp_meta(const nlohmann::json& j, Index dim) {
  const auto read = [&j](const char* key, auto fallback) {
    return optional_field<decltype(fallback)>(j, "meta.json mlp.", key, fallback);
  };
  MlpSpec spec;
  spec.dim = dim;
  spec.hidden = required_field<std::vector<Index>>(j, "meta.json mlp.", "hidden");
  spec.activation =
      parse_activation(required_field<std::string>(j, "meta.json mlp.", "activation"));
  const std::string output = required_field<std::string>(j, "meta.json mlp.", "output");
  if (output != "energy" && output != "score" && output != "decoder")
    throw Error("mlp output must be 'energy', 'score' or 'decoder', got '" + output + "'");
  spec.output = output == "energy"  ? MlpOutput::energy
                : output == "score" ? MlpOutput::score
                                    : MlpOutput::decoder;
  if (spec.output == MlpOutput::decoder)
    spec.out_dim = required_field<Index>(j, "meta.json mlp.", "out_dim");
  spec.conditioning = parse_conditioning(read("conditioning", std::string("none")));
  spec.embedding = read("embedding", Index{0});
  spec.precondition = parse_precondition(read("precondition", std::string("none")));
  spec.residual = read("residual", false);
  spec.sigma_data = read("sigma_data", 0.0);
  if (j.contains("vpsde")) {
    spec.sde.beta_min = required_field<double>(j.at("vpsde"), "meta.json mlp.vpsde.", "beta_min");
    spec.sde.beta_max = required_field<double>(j.at("vpsde"), "meta.json mlp.vpsde.", "beta_max");
  }
  spec.validate();
  return {spec, read("noise_level", 0.0)};
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

namespace {
// meta.json and the arrays it lists, with the format checks every model directory shares.
struct RawModelDir {
  std::string meta_path;
  nlohmann::json meta;
  NamedArrays arrays;
};

RawModelDir read_model_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  RawModelDir raw;
  note_input(dir);
  raw.meta_path = (fs::path(dir) / "meta.json").string();
  if (!fs::is_directory(dir)) throw Error("model directory '" + dir + "' does not exist");
  std::ifstream in(raw.meta_path);
  if (!in) throw Error("'" + raw.meta_path + "' is missing: not a scorematch model directory");
  try {
    raw.meta = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error("'" + raw.meta_path + "': invalid JSON: " + e.what());
  }
  const auto& meta = raw.meta;
  // The errors of the typed reads below name the directory, as load_model's do.
  const auto top = [&](const char* key, auto fallback) {
    try {
      return optional_field<decltype(fallback)>(meta, "meta.json ", key, fallback);
    } catch (const Error& e) {
      throw Error("'" + dir + "': " + e.what());
    }
  };
  const std::string format = top("format", std::string());
  if (format != "scorematch-model")
    throw Error(
        "'" + raw.meta_path + "': not a scorematch model (" +
        (meta.contains("format") ? "format is \"" + format + "\"" : "format field missing") +
        ", expected \"scorematch-model\")");
  const int version = top("format_version", 0);
  if (version < 0)
    throw Error("'" + dir + "': meta.json format_version must be at least 0, got " +
                std::to_string(version));
  if (version > kModelFormatVersion)
    throw Error("'" + raw.meta_path + "': model format version " + std::to_string(version) +
                " is newer than this build (" + std::to_string(kModelFormatVersion) + ")");
  // Read by the loaders and commands (sample, field, the data checks): their types checked once.
  top("kind", std::string());
  top("columns", std::vector<std::string>{});
  if (!meta.contains("arrays") || !meta.at("arrays").is_object())
    throw Error("'" + raw.meta_path + "': no 'arrays' object");
  const nlohmann::json& arrays = meta.at("arrays");
  for (auto it = arrays.begin(); it != arrays.end(); ++it) {
    const std::string& name = it.key();
    const auto path = required_field<std::string>(arrays, "'" + dir + "': meta.json arrays.", name);
    raw.arrays[name] = read_npy_array((fs::path(dir) / path).string());
  }
  return raw;
}
}  // namespace

std::string model_fingerprint(const std::string& dir) {
  namespace fs = std::filesystem;
  std::uint64_t h = 14695981039346656037ull;  // FNV-1a offset basis
  const auto add = [&h](const std::string& bytes) {
    for (const unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;  // FNV prime
  };
  const auto slurp = [&dir](const std::string& name) {
    const std::string path = (fs::path(dir) / name).string();
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error("cannot read '" + path + "'");
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
  };
  const std::string meta_text = slurp("meta.json");
  add(meta_text);
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(meta_text);
  } catch (const std::exception& e) {
    throw Error("'" + (fs::path(dir) / "meta.json").string() + "' is not valid JSON: " + e.what());
  }
  std::vector<std::string> arrays;
  if (meta.contains("arrays") && meta["arrays"].is_object())
    for (const auto& [name, file] : meta["arrays"].items())
      if (file.is_string()) arrays.push_back(file.get<std::string>());
  std::sort(arrays.begin(), arrays.end());
  for (const std::string& file : arrays) {
    add(file);
    add(slurp(file));
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

nlohmann::json noise_meta(const NoiseProcess& noise) {
  nlohmann::json j = {{"process", noise.name()}};
  if (noise.kind == NoiseKind::fixed) j["sigma"] = noise.sigma;
  if (noise.conditioning() == Conditioning::sigma) {
    j["sigma_min"] = noise.sigma_min;
    j["sigma_max"] = noise.sigma_max;
  }
  if (noise.kind == NoiseKind::ve_ladder) j["levels"] = noise.levels;
  if (noise.kind == NoiseKind::vp_sde) {
    j["beta_min"] = noise.sde.beta_min;
    j["beta_max"] = noise.sde.beta_max;
    j["t_eps"] = noise.t_eps;
  }
  return j;
}

namespace {
// A process read back from a file holds the invariants dsm held when it trained the network.
void check_noise(const NoiseProcess& p, const std::string& where) {
  if (!p.valid())
    throw Error(
        where + " (process " + p.name() + ") needs " + p.requirement() + ", got " +
        (p.kind == NoiseKind::fixed ? "sigma " + number_text(p.sigma)
         : p.kind == NoiseKind::vp_sde
             ? "t_eps " + number_text(p.t_eps) + ", beta_min " + number_text(p.sde.beta_min) +
                   ", beta_max " + number_text(p.sde.beta_max)
             : "sigma_min " + number_text(p.sigma_min) + ", sigma_max " + number_text(p.sigma_max) +
                   (p.kind == NoiseKind::ve_ladder ? ", levels " + std::to_string(p.levels) : "")));
}
}  // namespace

namespace {
// The noise section describes the network that was trained on it: its conditioning (σ, t or
// none), its VP SDE's β (mlp.vpsde), and the level it is read at as a plain score
// (mlp.noise_level; 0: the smallest trained), which lies in the trained range: σ in [σ_min,
// σ_max], t in [t_eps, 1].
void check_noise_matches(const MlpModel& network, const NoiseProcess& p) {
  const MlpSpec& spec = network.spec();
  if (spec.conditioning != p.conditioning())
    throw Error("meta.json noise.process " + p.name() + " does not match mlp.conditioning " +
                conditioning_name(spec.conditioning));
  if (p.conditioning() == Conditioning::time &&
      (p.sde.beta_min != spec.sde.beta_min || p.sde.beta_max != spec.sde.beta_max))
    throw Error("meta.json noise.beta_min/beta_max (" + number_text(p.sde.beta_min) + ", " +
                number_text(p.sde.beta_max) + ") differ from mlp.vpsde's (" +
                number_text(spec.sde.beta_min) + ", " + number_text(spec.sde.beta_max) + ")");
  const double level = network.noise_level();
  if (level == 0 || p.conditioning() == Conditioning::none) return;
  const bool time = p.conditioning() == Conditioning::time;
  const double lo = time ? p.t_eps : p.sigma_min, hi = time ? 1.0 : p.sigma_max;
  if (!(level >= lo && level <= hi))
    throw Error("meta.json mlp.noise_level " + number_text(level) +
                " is outside the levels of its noise section, [" + number_text(lo) + ", " +
                number_text(hi) + "]");
}
}  // namespace

std::optional<NoiseProcess> parse_noise_meta(const nlohmann::json& meta) {
  if (!meta.is_object()) return std::nullopt;
  NoiseProcess p;
  if (meta.contains("noise") && !meta["noise"].is_object())
    throw Error("meta.json noise must be an object, got " + meta["noise"].dump());
  if (meta.contains("noise")) {
    const nlohmann::json& j = meta["noise"];
    // The settings the process reads are required (noise_meta writes each): a default must not
    // stand in for a deleted one. Those it does not read keep their defaults.
    const auto read = [&j, &p](const char* key, auto fallback) {
      return p.uses(key) ? required_field<decltype(fallback)>(j, "meta.json noise.", key)
                         : optional_field<decltype(fallback)>(j, "meta.json noise.", key, fallback);
    };
    p.kind = parse_noise_kind(required_field<std::string>(j, "meta.json noise.", "process"));
    p.sigma = read("sigma", p.sigma);
    p.sigma_min = read("sigma_min", p.sigma_min);
    p.sigma_max = read("sigma_max", p.sigma_max);
    p.levels = read("levels", p.levels);
    p.sde.beta_min = read("beta_min", p.sde.beta_min);
    p.sde.beta_max = read("beta_max", p.sde.beta_max);
    p.t_eps = read("t_eps", p.t_eps);
    check_noise(p, "meta.json noise");
    return p;
  }
  // Directories of scorematch 0.1.0: the dsm settings of the training config.
  const auto pointer = "/fit/config/objective"_json_pointer;
  if (!meta.contains(pointer) || !meta.at(pointer).is_object()) return std::nullopt;
  const nlohmann::json& o = meta.at(pointer);
  const auto read = [&o](const char* key, auto fallback) {
    return optional_field<decltype(fallback)>(o, "meta.json fit.config.objective.", key, fallback);
  };
  if (read("name", std::string()) != "dsm") return std::nullopt;
  p.kind = parse_noise_kind(read("noise", std::string("single")));
  p.sigma = read("sigma", p.sigma);
  p.sigma_min = read("sigma_min", p.sigma_min);
  p.sigma_max = read("sigma_max", p.sigma_max);
  p.levels = read("levels", p.levels);
  p.t_eps = read("t_eps", p.t_eps);
  if (meta.contains("mlp") && meta["mlp"].contains("vpsde")) {
    const nlohmann::json& v = meta["mlp"]["vpsde"];
    p.sde.beta_min = optional_field<double>(v, "meta.json mlp.vpsde.", "beta_min", p.sde.beta_min);
    p.sde.beta_max = optional_field<double>(v, "meta.json mlp.vpsde.", "beta_max", p.sde.beta_max);
  }
  check_noise(p, "meta.json fit.config.objective");
  return p;
}

LoadedModel load_model(const std::string& dir, const LoadOptions& options) {
  RawModelDir raw = read_model_dir(dir);
  const std::string kind = optional_field<std::string>(raw.meta, "meta.json ", "kind", "");
  if (kind == "linear-decoder" || kind == "mlp-decoder")
    throw Error("'" + dir + "' is a decoder (" + kind +
                "), not a density model: use it with `scorematch latent " + setting("decoder") +
                "`");
  auto it = loaders().find(kind);
  if (it == loaders().end())
    throw Error("'" + raw.meta_path + "': unknown model kind '" + kind + "'");
  LoadedModel loaded;
  loaded.meta = raw.meta;
  Parts parts;
  try {
    // The model's settings come from its meta.json: a bad one is named as the file's field.
    const ScopedSettingNamer from_file(
        [](std::string_view key) { return "meta.json " + std::string(key); });
    parts = it->second(raw.meta, raw.arrays);
    check_dimension(raw.meta, *parts.model);
    loaded.noise = parse_noise_meta(raw.meta);
    if (parts.network != nullptr && loaded.noise)
      check_noise_matches(*parts.network, *loaded.noise);
  } catch (const nlohmann::json::exception& e) {
    throw Error("'" + raw.meta_path + "': " + e.what());
  } catch (const Error& e) {
    throw Error("'" + dir + "': " + e.what());
  }
  if (parts.network != nullptr) parts.network->use_float32(options.float32);
  if (options.noise_level != 0) {
    if (parts.network == nullptr)
      throw SettingError(setting("prior_level") + " needs a noise-conditioned network prior");
    parts.network->set_noise_level(options.noise_level);  // refuses an unconditioned network
  }
  if (parts.network != nullptr && parts.network->spec().conditioning != Conditioning::none)
    loaded.noised = make_noised_mlp(*parts.network);
  loaded.model = std::move(parts.model);
  return loaded;
}

void stage_decoder(OutputDir& out, const inverse::Decoder& decoder, nlohmann::json meta,
                   const NamedArrays& extra) {
  meta["format"] = "scorematch-model";
  meta["format_version"] = kModelFormatVersion;
  meta["kind"] = decoder.kind();
  meta["latent_dim"] = decoder.latent_dim();
  meta["data_dim"] = decoder.data_dim();
  nlohmann::json files = nlohmann::json::object();
  NamedArrays all = decoder.arrays();
  for (const auto& [name, array] : extra) all[name] = array;
  for (const auto& [name, array] : all) {
    out.write_array(name + ".npy", array);
    files[name] = name + ".npy";
  }
  meta["arrays"] = files;
  out.write_text("meta.json", meta.dump(2) + "\n");
}

LoadedDecoder load_decoder(const std::string& dir) {
  RawModelDir raw = read_model_dir(dir);
  const auto& meta = raw.meta;
  const std::string kind = optional_field<std::string>(meta, "meta.json ", "kind", "");
  LoadedDecoder loaded;
  loaded.meta = meta;
  try {
    const Index k = required_field<Index>(meta, "meta.json ", "latent_dim"),
                d = required_field<Index>(meta, "meta.json ", "data_dim");
    if (kind == "linear-decoder") {
      loaded.decoder =
          inverse::make_linear_decoder(require_array(raw.arrays, "W", kind).to_matrix("W"),
                                       require_array(raw.arrays, "b", kind).to_vector("b"));
    } else if (kind == "mlp-decoder") {
      if (!meta.contains("mlp")) throw Error("meta.json has no 'mlp' section");
      const MlpSpec spec = parse_mlp_meta(meta.at("mlp"), k).first;
      if (spec.output != MlpOutput::decoder || spec.out_dim != d)
        throw Error("the mlp section must have output 'decoder' and out_dim = data_dim");
      loaded.decoder = inverse::make_mlp_decoder(spec, mlp_theta_from_arrays(spec, raw.arrays));
    } else {
      throw Error("kind '" + kind + "' is not a decoder (expected linear-decoder or mlp-decoder)");
    }
    if (loaded.decoder->latent_dim() != k || loaded.decoder->data_dim() != d)
      throw Error("arrays do not match latent_dim " + std::to_string(k) + " and data_dim " +
                  std::to_string(d));
    if (raw.arrays.count("noise_sd")) {
      loaded.noise_sd = raw.arrays.at("noise_sd").to_vector("noise_sd");
      if (loaded.noise_sd.size() != d)
        throw Error("noise_sd has length " + std::to_string(loaded.noise_sd.size()) +
                    ", expected data_dim " + std::to_string(d));
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error("'" + raw.meta_path + "': " + e.what());
  } catch (const Error& e) {
    throw Error("'" + dir + "': " + e.what());
  }
  return loaded;
}

}  // namespace scorematch::io
