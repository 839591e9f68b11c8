#include "eval.hpp"

#include "report.hpp"

namespace scorematch::app {

void run_eval(const dist::Comm& comm, EvalJob& job) {
  EvalJob* const o = &job;
  if (o->model.empty() == o->target.empty()) {
    dist::run_collectively(
        comm, [] { throw SettingError("eval needs exactly one of --model DIR or --target NAME"); });
  }
  std::unique_ptr<ScoreModel> model;
  nlohmann::json source;
  const Shard shard = read_block_shard(comm, o->data);
  dist::run_collectively(comm, [&] {
    LoadedScore loaded = load_score_source(o->model, o->target, shard.info.cols());
    check_data_fits_model(loaded, shard.info, o->data);
    model = std::move(loaded.model);
    source = loaded.description;
  });

  // Block by block (64 global rows): a batched evaluation is bitwise only for identical batches.
  const Index local = shard.rows.rows(), d = shard.info.cols();
  const bool has_energy = model->has_energy();
  Matrix score(local, d);
  Vector energy(has_energy ? local : 0), divergence(local);
  dist::run_collectively(comm, [&] {
    for_each_block(shard.range, [&](RowRange block, Index offset) {
      const Matrix x = shard.rows.middleRows(offset, block.size());
      score.middleRows(offset, block.size()) = model->score(x);
      if (has_energy) energy.segment(offset, block.size()) = model->energy(x);
      divergence.segment(offset, block.size()) = model->score_divergence(x);
    });
    // Overflow (data near ±1e308, or a model that blows up) is an error, never inf in a file.
    auto check = [&](const Matrix& v, const char* what) {
      for (Index i = 0; i < v.rows(); ++i)
        if (!v.row(i).allFinite())
          throw Error("the " + std::string(what) + " overflows (is not finite) at row " +
                      std::to_string(shard.range.begin + i + 1) + " of '" + o->data + "'");
    };
    check(score, "score");
    if (has_energy) check(energy, "energy");
    check(divergence, "divergence of the score");
  });
  const Vector ism = divergence + 0.5 * score.rowwise().squaredNorm();
  const double n = static_cast<double>(shard.info.rows);
  const dist::ColumnStats stats =
      dist::column_stats(comm, Matrix(ism), shard.info.rows, {"ISM"}, o->data);
  const double mean = stats.mean[0];
  // SE of the mean: s/√n with the n − 1 sample variance s² = sd²·n/(n − 1); undefined for n = 1.
  const double se = n > 1 ? stats.sd[0] / std::sqrt(n - 1) : std::nan("");

  CollectiveOutput output(comm, o->out);
  const std::string& staged = output.staged;
  dist::write_npy_collective(comm, staged + "score.npy", score, false);
  if (has_energy) dist::write_npy_collective(comm, staged + "energy.npy", energy, true);
  dist::write_npy_collective(comm, staged + "laplacian.npy", divergence, true);
  nlohmann::json metrics = {
      {"data", o->data},
      {"rows", static_cast<Index>(n)},
      {"source", source},
      {"ism_objective", mean},
      {"ism_objective_se", std::isfinite(se) ? nlohmann::json(se) : nlohmann::json()},
      {"energy_normalised", model->energy_is_normalised()},
      {"laplacian", "divergence of the score = Laplacian of log p (= -Laplacian of the energy)"}};
  if (!std::isfinite(se))  // undefined is not zero: null, with the reason
    metrics["undefined"] = {{"ism_objective_se", "one row: no spread to estimate"}};
  output.commit(comm, {{"metrics.json", metrics.dump(2) + "\n"}});
  say(comm, "ISM objective on " + std::to_string(static_cast<Index>(n)) +
                " rows: " + std::to_string(mean) +
                (std::isfinite(se) ? " +- " + std::to_string(se)
                                   : " (standard error undefined: one row)") +
                "\nwrote " + o->out + "/ (score.npy " + (has_energy ? "energy.npy " : "") +
                "laplacian.npy metrics.json)\n");
}

}  // namespace scorematch::app
