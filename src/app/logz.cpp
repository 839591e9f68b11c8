#include "logz.hpp"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "data_shard.hpp"
#include "gaussian_reference.hpp"
#include "report.hpp"
#include "score_source.hpp"
#include "scorematch/core/error.hpp"
#include "scorematch/core/parallel.hpp"
#include "scorematch/dist/collective_write.hpp"
#include "scorematch/dist/column_stats.hpp"
#include "scorematch/io/json_field.hpp"
#include "scorematch/io/output_guard.hpp"
#include "scorematch/models/targets.hpp"

namespace scorematch::app {

namespace {
nlohmann::json number(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
}

nlohmann::json vector_json(const Vector& v) {
  return std::vector<double>(v.begin(), v.end());
}

// The Gaussian base q₀ (app/gaussian_reference.hpp), widened by --base-scale.
DiagonalGaussian choose_base(const dist::Comm& comm, const LogzJob& o, const LoadedScore& src,
                             std::string& from) {
  DiagonalGaussian base = gaussian_reference(comm, src, o.data, from);
  base.sd *= o.base_scale;
  return base;
}
}  // namespace

namespace {
const LogzJob::Given* find_given(const LogzJob& o, const std::string& key) {
  for (const LogzJob::Given& g : o.ais_given)
    if (g.key == key) return &g;
  return nullptr;
}

// A setting the run never reads would be ignored silently (and recorded as if used), so it is
// refused. Exact log Z reads no AIS setting: under --method auto (exact where known, else AIS) a
// job file may carry AIS settings for the models that need them, so there only a setting typed
// on the command line is refused (as map's --method auto does). With one temperature AIS is a
// single importance-sampling step from the base (no MALA moves between temperatures, so nothing
// to tune); with two, the one intermediate beta is 1/2 under every schedule.
void refuse_unread(const LogzJob& o, const ScoreModel& model, bool exact) {
  for (const LogzJob::Given& g : o.ais_given) {
    if (exact && (g.typed || o.method == "exact"))
      throw SettingError(g.name + " applies to AIS, but this " + model.kind() +
                         " model's log Z is exact (its energy is normalised); use " +
                         setting("method") + " ais to check it by AIS");
    if (exact) continue;
    const bool mala = g.key == "steps_per_temp" || g.key == "tune_chains" ||
                      g.key == "initial_step" || g.key == "target_accept";
    if (o.ais.temps == 1 && mala)
      throw SettingError(g.name + " sets the MALA moves between temperatures, of which " +
                         setting("temps") + " 1 has none");
    if (o.ais.temps <= 2 && g.key == "schedule")
      throw SettingError(g.name + " spaces the intermediate temperatures, of which " +
                         setting("temps") + " " + std::to_string(o.ais.temps) +
                         " has at most one (beta 1/2 under every schedule)");
  }
  if (const LogzJob::Given* g = find_given(o, "target_accept");
      !exact && g != nullptr && o.ais.tune_chains == 0)
    throw SettingError(g->name + " sets the goal of the step tuning, which " +
                       setting("tune_chains") + " 0 turns off");
}
}  // namespace

void run_logz(const dist::Comm& comm, LogzJob& job) {
  const LogzJob& o = job;
  const auto start = std::chrono::steady_clock::now();
  LoadedScore src;
  bool exact = false;
  dist::run_collectively(comm, [&] {
    if (o.method != "auto" && o.method != "ais" && o.method != "exact")
      throw InvalidSetting("method", "be auto, ais or exact", o.method);
    src = load_score_source(o.model, o.target, o.dim);
    const bool normalised = src.model->energy_is_normalised();
    if (o.method == "exact" && !normalised)
      throw SettingError("log Z of this " + src.model->kind() + " model has no closed form; use " +
                         setting("method") + " ais");
    exact = normalised && o.method != "ais";
    refuse_unread(o, *src.model, exact);
    if (!o.dim_given.empty() && !o.model.empty())
      throw SettingError(o.dim_given + " applies to a --target (a model has its own dimension)");
    if (const std::string problem = src.model->normalisability_problem(); !problem.empty())
      throw Error("log Z of this " + src.model->kind() + " model is infinite: " + problem);
    if (!exact && !src.model->has_energy())
      throw Error("this " + src.model->kind() +
                  " model has only a score: it defines no energy to normalise (fit an energy "
                  "model: gaussian, poly:K or mlp-energy)");
  });
  nlohmann::json out = {{"source", src.description}, {"dim", src.model->dim()}};
  // The model's identity by content, so that loglik and compare refuse this log Z for another.
  std::vector<std::pair<std::string, std::string>> files;
  CollectiveOutput output(comm, o.out);
  if (exact) {
    out["method"] = "exact";
    out["log_z"] = 0.0;
    out["se"] = 0.0;
    out["note"] = "the model's energy is normalised (-log p): log Z = 0";
    say(comm, "log Z = 0 (exact: the " + src.model->kind() + " model's energy is normalised)\n");
  } else {
    std::string from;
    const DiagonalGaussian base = choose_base(comm, o, src, from);
    AisResult r;
    dist::run_collectively(comm, [&] { r = ais_log_z(comm, *src.model, base, o.ais); });
    const double seconds = seconds_since(start);
    out["method"] = "ais";
    out["log_z"] = number(r.log_z.log_mean);
    out["se"] = number(r.log_z.se);
    out["ess"] = number(r.log_z.ess);
    if (!r.log_z.undefined.empty()) out["undefined"] = {{"se", r.log_z.undefined}};
    // A few chains carrying all the weight: the delta-method SE is not to be trusted.
    const bool degenerate =
        std::isfinite(r.log_z.ess) && r.log_z.ess < 0.1 * static_cast<double>(o.ais.chains);
    if (degenerate)
      out["warning"] = "the weights' ESS (" + fmt("%.1f", r.log_z.ess) + " of " +
                       std::to_string(o.ais.chains) +
                       " chains) is small: the estimate and its SE are unreliable; use more "
                       "temperatures (--temps) or a wider base (--base-scale)";
    out["bound"] =
        "E[log Z_hat] <= log Z (Jensen): a stochastic lower bound, tight when the ESS is near "
        "the number of chains";
    out["settings"] = {{"chains", o.ais.chains},
                       {"temps", o.ais.temps},
                       {"steps_per_temp", o.ais.steps_per_temp},
                       {"schedule", o.ais.schedule},
                       {"tune_chains", o.ais.tune_chains},
                       {"initial_step", o.ais.initial_step},
                       {"target_accept", o.ais.target_accept},
                       {"seed", o.ais.seed},
                       {"base_scale", o.base_scale},
                       {"transition", "mala"}};
    out["base"] = {{"mean", vector_json(base.mean)}, {"sd", vector_json(base.sd)}, {"from", from}};
    const Vector& acc = r.acceptance;
    if (acc.size() > 0)
      out["acceptance"] = {{"mean", acc.mean()}, {"min", acc.minCoeff()}, {"max", acc.maxCoeff()}};
    if (r.step_size.size() > 0)
      out["step_size"] = {{"min", r.step_size.minCoeff()}, {"max", r.step_size.maxCoeff()}};
    out["ranks"] = comm.size();
    out["threads_per_rank"] = parallel::num_threads();
    out["seconds"] = seconds;
    if (comm.is_root()) output.dir->write_array("log_weights.npy", Array::from(r.log_weights));
    say(comm, "log Z = " + fmt("%.6f", r.log_z.log_mean) +
                  (std::isfinite(r.log_z.se) ? " +- " + fmt("%.2g", r.log_z.se)
                                             : " (SE undefined: " + r.log_z.undefined + ")") +
                  "  (AIS, " + std::to_string(o.ais.chains) + " chains x " +
                  std::to_string(o.ais.temps) + " temperatures; weight ESS " +
                  fmt("%.1f", r.log_z.ess) + "; " + fmt("%.2f", seconds) + " s)\n" +
                  (out.contains("warning") ? "warning: " + out["warning"].get<std::string>() + "\n"
                                           : ""));
  }
  files.push_back({"logz.json", out.dump(2) + "\n"});
  output.commit(comm, files);
  say(comm, "wrote " + o.out + "/ (logz.json" + (exact ? "" : ", log_weights.npy") + ")\n");
}

LogZEstimate read_logz(const std::string& path) {
  std::string file = path;
  if (std::filesystem::is_directory(path)) file = path + "/logz.json";
  std::ifstream in(file);
  if (!in) throw Error("cannot read '" + file + "' (a logz.json written by `scorematch logz`)");
  io::note_input(file);  // read: no output of this run may replace it
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    throw Error("'" + file + "' is not valid JSON: " + e.what());
  }
  const std::string where = "'" + file + "': ";
  // A value of another type is a hand edit, named; null is logz's own "undefined".
  for (const char* key : {"log_z", "se"})
    if (j.contains(key) && !j[key].is_null()) io::required_field<double>(j, where, key);
  if (!j.contains("log_z") || !j["log_z"].is_number())
    throw Error("'" + file + "' has no numeric \"log_z\" (it is undefined: " +
                (j.contains("undefined") ? j["undefined"].dump() : std::string("no reason")) + ")");
  LogZEstimate e;
  e.log_z = j["log_z"].get<double>();
  e.se = j.contains("se") && j["se"].is_number() ? j["se"].get<double>() : std::nan("");
  if (!std::isfinite(e.log_z) || e.se < 0)
    throw Error("'" + file + "': \"log_z\" must be finite and \"se\" null or >= 0");
  if (j.contains("source") && j["source"].is_object()) {
    const nlohmann::json& source = j["source"];
    e.kind = io::optional_field<std::string>(source, where + "source.", "kind", "");
    e.fingerprint = io::optional_field<std::string>(source, where + "source.", "fingerprint", "");
    e.model = io::optional_field<std::string>(source, where + "source.", "model", "");
    // logz records the fingerprint of every model directory: without it the check that the
    // estimate belongs to the model would be skipped.
    if (!e.model.empty() && e.fingerprint.empty())
      throw Error(where +
                  "source.fingerprint is missing (logz records it for a model; estimate "
                  "this model's log Z again with scorematch logz)");
  } else if (j.contains("source")) {
    throw Error(where + "source must be an object, got " + j["source"].dump());
  }
  e.dim = io::optional_field<Index>(j, where, "dim", 0);
  if (j.contains("dim") && e.dim < 1)
    throw Error(where + "dim must be a positive integer, got " + std::to_string(e.dim));
  e.method = io::optional_field<std::string>(j, where, "method", "unknown");
  e.source = file;
  return e;
}

}  // namespace scorematch::app
