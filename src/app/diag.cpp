#include "diag.hpp"

#include "report.hpp"
#include "scorematch/io/json_field.hpp"
#include "scorematch/io/output_guard.hpp"

namespace scorematch::app {

namespace {
// The path of sampler.json next to the samples.
std::string sampler_json(const DiagJob& o) {
  return (std::filesystem::path(o.samples).parent_path() / "sampler.json").string();
}

// sampler.json next to the samples (chain count and column names), or null.
nlohmann::json sampler_info(const DiagJob& o) {
  const std::string path = sampler_json(o);
  std::ifstream in(path);
  if (!in) return nullptr;
  io::note_input(path);  // read: no output of this run may replace it
  nlohmann::json info;
  try {
    info = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    throw Error("'" + path + "' is not valid JSON (" + e.what() +
                "); fix or remove it, or give --chains");
  }
  if (!info.is_object())
    throw Error("'" + path + "' must hold a JSON object (as sample writes it), got " +
                std::string(info.type_name()));
  return info;
}
}  // namespace

void run_diag(const dist::Comm& comm, DiagJob& job) {
  DiagJob* const o = &job;
  std::unique_ptr<ScoreModel> model;
  DiagRequest request;
  dist::run_collectively(comm, [&] {
    request.samples = o->samples;
    const nlohmann::json info = sampler_info(*o);
    io::check_not_input(o->out);  // e.g. --out over the sampler.json just read: before any work
    // sampler.json's fields by type: a hand-edited one of another type is named.
    const std::string where = "'" + sampler_json(*o) + "': ";
    request.chains =
        o->chains > 0 ? o->chains : io::optional_field<Index>(info, where, "chains", Index{0});
    if (o->chains <= 0 && info.is_object() && info.contains("chains")) {
      if (request.chains < 1)
        throw Error(where + "chains must be a positive integer, got " +
                    std::to_string(request.chains));
      request.chains_from = "the " + std::to_string(request.chains) + " chains of " + where;
      request.chains_from.resize(request.chains_from.size() - 2);  // without the ": "
    }
    if (request.chains < 1)
      throw SettingError("diag needs " + setting("chains") +
                         (info.is_object()
                              ? " ('" + sampler_json(*o) + "' has no chains field to take it from)"
                              : " (no sampler.json next to '" + o->samples + "' to take it from)"));
    request.columns = io::optional_field(info, where, "columns", std::vector<std::string>{});
    // A nested design written by `sample --superchains` is diagnosed as such by default.
    std::string superchains_from = setting("superchains") + " " + std::to_string(o->superchains);
    if (o->superchains == 0 && info.is_object() && info.contains("superchains")) {
      o->superchains = io::optional_field<Index>(info, where, "superchains", 0);
      if (o->superchains < 2)  // sample refuses fewer, as diag's own --superchains does
        throw Error(where + "superchains must be at least 2, got " +
                    std::to_string(o->superchains));
      superchains_from = where + "superchains " + std::to_string(o->superchains);
    }
    if (o->superchains != 0 && request.chains % o->superchains != 0)
      throw SettingError(superchains_from + " does not divide the " +
                         std::to_string(request.chains) + " chains" +
                         (request.chains_from.empty() ? "" : " (" + request.chains_from + ")"));
    if (o->superchains == 0 && !o->nested_options_given.empty())
      throw SettingError(o->nested_options_given.front() + " applies to " + setting("superchains") +
                         " only");
    if (!o->ksd_test && !o->test_options_given.empty())
      throw SettingError(o->test_options_given.front() + " applies to " + setting("ksd_test") +
                         " only");
    if (o->ksd_test && o->model.empty() && o->target.empty())
      throw SettingError(setting("ksd_test") + " needs the model's score: give " +
                         setting("model") + " DIR or " + setting("target") + " NAME");
    if (!o->model.empty() || !o->target.empty())
      model = load_score_source(o->model, o->target, io::probe_data(o->samples).cols()).model;
  });
  request.model = model.get();
  request.reference = o->reference;
  request.max_pairs_rows = o->ksd_rows;
  request.ksd_bootstrap = o->ksd_test ? o->bootstrap : 0;
  request.superchains = o->superchains;
  request.nested_threshold = o->nested_threshold;
  request.ksd_seed = o->seed;
  nlohmann::json report = run_diagnostics(comm, request);
  if (!o->model.empty()) report["model"] = o->model;
  if (!o->target.empty()) report["target"] = o->target;
  dist::run_collectively(comm, [&] {
    if (comm.is_root()) io::write_file_atomic(o->out, report.dump(2) + "\n");
  });
  say(comm, format_report(report) + "wrote " + o->out + "\n");
}

}  // namespace scorematch::app
