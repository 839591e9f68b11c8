// scorematch diag: convergence diagnostics (split rank-normalised R-hat, bulk/tail ESS, MCSE) of
// sampler output, the kernel Stein discrepancy against a model's score, and energy distance / MMD
// against reference draws. Prints a table and writes a JSON report (atomically).
#include <filesystem>
#include <fstream>

#include "command.hpp"
#include "diagnose.hpp"
#include "score_source.hpp"
#include "scorematch/core/error.hpp"
#include "scorematch/io/dataset.hpp"
#include "scorematch/io/output_dir.hpp"

namespace scorematch::cli {

namespace {
struct DiagOptions {
  std::string samples, model, target, reference, out;
  Index chains = 0, ksd_rows = 4000;
};

// sampler.json next to the samples (chain count and column names), or null.
nlohmann::json sampler_info(const DiagOptions& o) {
  std::ifstream in(std::filesystem::path(o.samples).parent_path() / "sampler.json");
  if (!in) return nullptr;
  try {
    return nlohmann::json::parse(in);
  } catch (const std::exception&) {
    return nullptr;
  }
}
}  // namespace

Command add_diag(CLI::App& root) {
  auto o = std::make_shared<DiagOptions>();
  CLI::App* app = root.add_subcommand("diag", "Convergence diagnostics and KSD of samples");
  app->footer(
      "Samples are (chains x draws) x d, chain-major (as written by sample).\n"
      "Example: build/scorematch diag --samples out/mala/samples.npy --model out/poly4 "
      "--out report.json");
  app->add_option("--samples", o->samples, "Samples file (.npy or .csv)")->required();
  app->add_option("--chains", o->chains, "Number of chains (default: from sampler.json)");
  auto* model_opt = app->add_option("--model", o->model, "Model directory (for the KSD)");
  auto* target_opt = app->add_option("--target", o->target, "Or an analytic target (for the KSD)");
  model_opt->excludes(target_opt);
  app->add_option("--reference", o->reference, "Reference draws: energy distance and MMD");
  app->add_option("--ksd-rows", o->ksd_rows, "Draws used (evenly thinned) for KSD and MMD");
  app->add_option("--out", o->out, "Report file (JSON)")->required();
  auto run = [o](const dist::Comm& comm) {
    std::unique_ptr<ScoreModel> model;
    DiagRequest request;
    dist::run_collectively(comm, [&] {
      request.samples = o->samples;
      const nlohmann::json info = sampler_info(*o);
      request.chains = o->chains > 0      ? o->chains
                       : info.is_object() ? info.value("chains", Index{0})
                                          : 0;
      if (request.chains < 1)
        throw Error("diag needs --chains (no sampler.json next to '" + o->samples +
                    "' to take it from)");
      if (info.is_object()) request.columns = info.value("columns", std::vector<std::string>{});
      if (!o->model.empty() || !o->target.empty())
        model = load_score_source(o->model, o->target, io::probe_data(o->samples).cols()).model;
    });
    request.model = model.get();
    request.reference = o->reference;
    request.max_pairs_rows = o->ksd_rows;
    nlohmann::json report = run_diagnostics(comm, request);
    if (!o->model.empty()) report["model"] = o->model;
    if (!o->target.empty()) report["target"] = o->target;
    dist::run_collectively(comm, [&] {
      if (comm.is_root()) io::write_file_atomic(o->out, report.dump(2) + "\n");
    });
    say(comm, format_report(report) + "wrote " + o->out + "\n");
  };
  return {app, run, /*file_output=*/true};
}

}  // namespace scorematch::cli
