#include "map.hpp"

#include "report.hpp"

namespace scorematch::app {

void run_map(const dist::Comm& comm, MapJob& job) {
  MapJob* const o = &job;
  const Shard shard = read_block_shard(comm, o->inv.obs);
  std::unique_ptr<ScoreModel> prior;
  std::unique_ptr<NoisedScore> noised;  // σ-conditioned: a network, or the noised target
  std::unique_ptr<inverse::LinearOperator> a;
  nlohmann::json source;
  std::string method = o->method;
  dist::run_collectively(comm, [&] {
    if (o->model.empty() == o->target.empty())
      throw Error("map needs exactly one of --model DIR or --target NAME (the prior)");
    if (o->adam.steps < 1 || !(o->adam.lr > 0)) throw Error("--steps and --lr must be > 0");
    if (o->init != "adjoint" && o->init != "zero") throw Error("--init must be adjoint | zero");
    // --prior-level: a σ-conditioned network prior evaluated at another level (io::LoadOptions).
    if (o->prior_level != 0 && !o->target.empty())
      throw Error("--prior-level needs a noise-conditioned network prior");
    io::LoadOptions options;
    options.noise_level = o->prior_level;
    LoadedScore loaded =
        load_score_source(o->model, o->target, o->dim > 0 ? o->dim : shard.info.cols(),
                          NoiseScheme::sigma, VpSde{}, options);
    prior = std::move(loaded.model);
    noised = std::move(loaded.noised);
    source = loaded.description;
    if (o->prior_level != 0) source["prior_level"] = o->prior_level;
    a = make_operator(o->inv, prior->dim(), shard.info.rows, shard.info.cols());
    const bool gaussian = prior->gaussian().has_value();
    if (method == "auto") method = gaussian ? "exact" : "adam";
    if (method == "tweedie") {
      if (!noised || noised->scheme() != NoiseScheme::sigma)
        throw Error(
            "--method tweedie needs a sigma-conditioned prior (fit --noise ladder, or the "
            "gaussian/gmm target)");
      if (!a->is_identity())
        throw Error("--method tweedie is the posterior mean for denoising: --operator identity");
      const Vector scale = noised->scale();
      if ((scale.array() != scale[0]).any())
        throw Error(
            "--method tweedie needs the same scale in every column (fit with "
            "--no-standardize, or data whose columns share one scale)");
    }
    if (method == "exact" && !gaussian)
      throw Error("--method exact needs a Gaussian prior (fit --model gaussian); this prior is '" +
                  prior->kind() + "': use --method adam");
    if (method != "exact" && method != "adam" && method != "tweedie" && method != "lbfgs")
      throw Error("--method must be auto | adam | lbfgs | exact | tweedie, not '" + method + "'");
    if (method == "lbfgs" && !prior->has_energy())
      throw Error("--method lbfgs needs a prior with an energy; this " + prior->kind() +
                  " model has only a score: use --method adam");
  });

  auto map_rows = [&](const Matrix& y, Index first) -> Matrix {
    if (method == "exact") {
      const GaussianParameters g = *prior->gaussian();
      return inverse::gaussian_posterior_mean(g.mean, g.precision, *a, y, o->inv.sigma_y, first);
    } else if (method == "tweedie") {
      // Denoising y = x + σ_y ε under a σ-conditioned prior: the posterior mean is exactly
      // E[x | y] = y + σ_y² ∇ log p_σy(y) (Tweedie's formula; Robbins 1956, Efron 2011), one
      // evaluation of the noised score at σ = σ_y (in model units z = (y − shift)/s, σ_y/s).
      const double sigma_y = o->inv.sigma_y, s0 = noised->scale()[0];
      const Matrix z = (y.rowwise() - noised->shift().transpose()) / s0;
      return y + (sigma_y * sigma_y / s0) * noised->score(z, sigma_y / s0);
    } else if (method == "lbfgs") {
      Matrix x0 =
          o->init == "adjoint" ? a->adjoint(y, first) : Matrix::Zero(y.rows(), prior->dim());
      inverse::LbfgsSettings lb;
      lb.max_iterations = o->adam.steps;
      return inverse::map_lbfgs(*prior, *a, y, o->inv.sigma_y, std::move(x0), first, lb).x;
    } else {
      Matrix x0 =
          o->init == "adjoint" ? a->adjoint(y, first) : Matrix::Zero(y.rows(), prior->dim());
      return inverse::map_adam(*prior, *a, y, o->inv.sigma_y, std::move(x0), first, o->adam);
    }
  };
  // Block by block (64 global rows each), so the rows are the same on any number of ranks.
  Matrix x(shard.rows.rows(), prior->dim());
  dist::run_collectively(comm, [&] {
    for_each_block(shard.range, [&](RowRange block, Index offset) {
      x.middleRows(offset, block.size()) =
          map_rows(shard.rows.middleRows(offset, block.size()), block.begin);
    });
  });

  CollectiveOutput output(comm, o->out);
  dist::write_npy_collective(comm, output.staged + "x_map.npy", x, false);
  const nlohmann::json info = {{"observations", o->inv.obs},
                               {"rows", shard.info.rows},
                               {"prior", source},
                               {"operator", a->name()},
                               {"sigma_y", o->inv.sigma_y},
                               {"method", method},
                               {"steps", method == "adam" ? o->adam.steps : 0},
                               {"lr", o->adam.lr},
                               {"init", o->init},
                               {"ranks", comm.size()}};
  output.commit(comm, {{"map.json", info.dump(2) + "\n"}});
  say(comm, "MAP (" + method + ", " + a->name() + " operator, sigma_y " +
                fmt("%g", o->inv.sigma_y) + ") of " + std::to_string(shard.info.rows) +
                " observations\nwrote " + o->out + "/ (x_map.npy map.json)\n");
}

}  // namespace scorematch::app
