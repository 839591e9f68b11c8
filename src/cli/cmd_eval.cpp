// scorematch eval: a model's score, energy and score divergence on data, plus the ISM objective
//   J = mean_i [ ∇·s(x_i) + ½‖s(x_i)‖² ]   (Hyvärinen 2005; equals the Fisher divergence up to a
// data-only constant) with its Monte-Carlo standard error. Rows are sharded over ranks; the output
// arrays are written collectively (each rank its own rows).
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>

#include "command.hpp"
#include "data_shard.hpp"
#include "score_source.hpp"
#include "scorematch/core/error.hpp"
#include "scorematch/dist/collective_write.hpp"

namespace scorematch::cli {

namespace {

struct EvalOptions {
  std::string model, target, data, out;
};

}  // namespace

Command add_eval(CLI::App& root) {
  auto o = std::make_shared<EvalOptions>();
  CLI::App* app =
      root.add_subcommand("eval", "Evaluate a model's score, energy and divergence on data");
  app->footer(
      "Writes score.npy (n x d), energy.npy (n; -log p up to a constant), laplacian.npy (n; the\n"
      "divergence of the score, = Laplacian of log p) and metrics.json (ISM objective).\n"
      "Example: build/scorematch eval --model out/poly4 --data data/faithful.csv --out out/eval");
  auto* model_opt = app->add_option("--model", o->model, "Model directory written by fit");
  auto* target_opt = app->add_option("--target", o->target,
                                     "Or an analytic target: gaussian | gmm | banana | rings");
  model_opt->excludes(target_opt);
  app->add_option("--data", o->data, "Data file (.csv or .npy)")->required();
  app->add_option("--out", o->out, "Output directory")->required();
  auto run = [o](const dist::Comm& comm) {
    if (o->model.empty() == o->target.empty()) {
      dist::run_collectively(
          comm, [] { throw Error("eval needs exactly one of --model DIR or --target NAME"); });
    }
    std::unique_ptr<ScoreModel> model;
    nlohmann::json source;
    const Shard shard = read_shard(comm, o->data);
    dist::run_collectively(comm, [&] {
      LoadedScore loaded = load_score_source(o->model, o->target, shard.info.cols());
      model = std::move(loaded.model);
      source = loaded.description;
      if (model->dim() != shard.info.cols())
        throw Error("dimension mismatch: the model has dimension " + std::to_string(model->dim()) +
                    " but '" + o->data + "' has " + std::to_string(shard.info.cols()) + " columns");
    });

    const Matrix score = model->score(shard.rows);
    const bool has_energy = model->has_energy();
    const Vector energy = has_energy ? model->energy(shard.rows) : Vector();
    const Vector divergence = model->score_divergence(shard.rows);
    const Vector ism = divergence + 0.5 * score.rowwise().squaredNorm();
    std::vector<double> sums{static_cast<double>(ism.size()), ism.sum(), ism.squaredNorm()};
    comm.allreduce_sum(sums);
    const double n = sums[0], mean = sums[1] / n;
    const double se = n > 1 ? std::sqrt(std::max(0.0, sums[2] / n - mean * mean) / (n - 1)) : 0.0;

    CollectiveOutput output(comm, o->out);
    const std::string& staged = output.staged;
    dist::write_npy_collective(comm, staged + "score.npy", score, false);
    if (has_energy) dist::write_npy_collective(comm, staged + "energy.npy", energy, true);
    dist::write_npy_collective(comm, staged + "laplacian.npy", divergence, true);
    const nlohmann::json metrics = {
        {"data", o->data},
        {"rows", static_cast<Index>(n)},
        {"source", source},
        {"ism_objective", mean},
        {"ism_objective_se", se},
        {"energy_normalised", model->energy_is_normalised()},
        {"laplacian", "divergence of the score = Laplacian of log p (= -Laplacian of the energy)"}};
    output.commit(comm, {{"metrics.json", metrics.dump(2) + "\n"}});
    say(comm, "ISM objective on " + std::to_string(static_cast<Index>(n)) +
                  " rows: " + std::to_string(mean) + " +- " + std::to_string(se) + "\nwrote " +
                  o->out + "/ (score.npy " + (has_energy ? "energy.npy " : "") +
                  "laplacian.npy metrics.json)\n");
  };
  return {app, run};
}

}  // namespace scorematch::cli
