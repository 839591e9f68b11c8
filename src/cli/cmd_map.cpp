// scorematch map: MAP estimates of x from y = A x + ε, ε ~ N(0, σ_y² I), one observation per row of
// --obs, under a score prior (a fitted model or an analytic target). Learned priors: Adam ascent on
// log p(x | y) (posterior score s(x) + Aᵀ(y − A x)/σ_y²); a Gaussian prior: the exact posterior
// mean
// (= MAP). Rows are sharded over ranks; x_map.npy is written collectively.
#include <nlohmann/json.hpp>
#include <optional>

#include "command.hpp"
#include "data_shard.hpp"
#include "score_source.hpp"
#include "scorematch/core/error.hpp"
#include "scorematch/dist/collective_write.hpp"
#include "scorematch/inverse/posterior.hpp"
#include "scorematch/io/dataset.hpp"

namespace scorematch::cli {

namespace {

struct MapOptions {
  std::string model, target, obs, out, op = "identity", mask, kernel, image, boundary = "zero",
                                       matrix, method = "auto", init = "adjoint";
  double sigma_y = 0;
  Index dim = 0;
  inverse::MapSettings adam;
};

Matrix read_small(const std::string& path, const std::string& what) {
  if (path.empty()) throw Error("--operator needs " + what);
  const io::DataInfo info = io::probe_data(path);
  return io::read_data_rows(info, {0, info.rows});
}

std::unique_ptr<inverse::LinearOperator> make_operator(const MapOptions& o, Index d,
                                                       Index observations) {
  if (o.op == "identity") return inverse::make_identity(d);
  if (o.op == "mask") {
    Matrix masks =
        read_small(o.mask, "--mask FILE (0/1, one row per observation or one shared row)");
    if (masks.cols() != d)
      throw Error("'" + o.mask + "': mask rows have " + std::to_string(masks.cols()) +
                  " entries but the model has dimension " + std::to_string(d));
    if (masks.rows() != 1 && masks.rows() != observations)
      throw Error("'" + o.mask + "': " + std::to_string(masks.rows()) + " mask rows for " +
                  std::to_string(observations) +
                  " observations (expected 1 shared row or one per observation)");
    return inverse::make_mask(std::move(masks));
  }
  if (o.op == "blur") {
    Index h = 0, w = 0;
    if (std::sscanf(o.image.c_str(), "%ldx%ld", &h, &w) != 2 || h * w != d)
      throw Error("--image must be HxW with H*W = " + std::to_string(d) + " (got '" + o.image +
                  "')");
    return inverse::make_blur(h, w, read_small(o.kernel, "--kernel FILE (odd height and width)"),
                              o.boundary);
  }
  if (o.op == "dense") {
    Matrix a = read_small(o.matrix, "--matrix FILE (m x d)");
    if (a.cols() != d)
      throw Error("'" + o.matrix + "' has " + std::to_string(a.cols()) +
                  " columns but the model has dimension " + std::to_string(d));
    return inverse::make_dense(std::move(a));
  }
  throw Error("--operator must be identity | mask | blur | dense, not '" + o.op + "'");
}

}  // namespace

Command add_map(CLI::App& root) {
  auto o = std::make_shared<MapOptions>();
  CLI::App* app = root.add_subcommand(
      "map", "MAP estimates for y = A x + noise under a score prior (inverse problems)");
  app->footer(
      "Writes x_map.npy (one row per observation) and map.json.\n"
      "Example: build/scorematch map --model out/prior --obs y.npy --operator mask --mask m.npy\n"
      "  --sigma-y 0.2 --out out/map");
  auto* model_opt = app->add_option("--model", o->model, "Prior: model directory written by fit");
  auto* target_opt = app->add_option("--target", o->target, "Or an analytic target (gen names)");
  model_opt->excludes(target_opt);
  app->add_option("--dim", o->dim, "Dimension of --target (default: the observations' width)");
  app->add_option("--obs", o->obs, "Observations y (.csv or .npy), one per row")->required();
  app->add_option("--operator", o->op, "identity | mask | blur | dense");
  app->add_option("--mask", o->mask, "mask: 0/1 file, one row per observation or one shared row");
  app->add_option("--kernel", o->kernel, "blur: kernel file (odd height and width)");
  app->add_option("--image", o->image, "blur: image size HxW (row-major pixels)");
  app->add_option("--boundary", o->boundary, "blur: zero | reflect");
  app->add_option("--matrix", o->matrix, "dense: the m x d matrix A");
  app->add_option("--sigma-y", o->sigma_y, "Observation noise sd (> 0)")->required();
  app->add_option("--method", o->method,
                  "auto (exact for a Gaussian prior, else adam) | adam | exact");
  app->add_option("--init", o->init, "adam start: adjoint (A^T y) | zero");
  app->add_option("--steps", o->adam.steps, "adam: steps");
  app->add_option("--lr", o->adam.lr, "adam: peak step size (cosine decay)");
  app->add_option("--out", o->out, "Output directory")->required();
  auto run = [o](const dist::Comm& comm) {
    const Shard shard = read_shard(comm, o->obs);
    std::unique_ptr<ScoreModel> prior;
    std::unique_ptr<inverse::LinearOperator> a;
    nlohmann::json source;
    std::string method = o->method;
    dist::run_collectively(comm, [&] {
      if (o->model.empty() == o->target.empty())
        throw Error("map needs exactly one of --model DIR or --target NAME (the prior)");
      if (!(o->sigma_y > 0)) throw Error("--sigma-y must be > 0");
      if (o->adam.steps < 1 || !(o->adam.lr > 0)) throw Error("--steps and --lr must be > 0");
      if (o->init != "adjoint" && o->init != "zero") throw Error("--init must be adjoint | zero");
      LoadedScore loaded =
          load_score_source(o->model, o->target, o->dim > 0 ? o->dim : shard.info.cols());
      prior = std::move(loaded.model);
      source = loaded.description;
      a = make_operator(*o, prior->dim(), shard.info.rows);
      if (a->out_dim() != shard.info.cols())
        throw Error("'" + o->obs + "': observations have " + std::to_string(shard.info.cols()) +
                    " values per row but the " + a->name() + " operator produces " +
                    std::to_string(a->out_dim()));
      const bool gaussian = prior->kind() == "gaussian";
      if (method == "auto") method = gaussian ? "exact" : "adam";
      if (method == "exact" && !gaussian)
        throw Error(
            "--method exact needs a Gaussian prior (fit --model gaussian); this prior is '" +
            prior->kind() + "': use --method adam");
      if (method != "exact" && method != "adam")
        throw Error("--method must be auto | adam | exact, not '" + method + "'");
    });

    const Index first = shard.range.begin;
    Matrix x;
    dist::run_collectively(comm, [&] {
      if (method == "exact") {
        const NamedArrays arrays = prior->arrays();
        const Array& mean = require_array(arrays, "mean", "gaussian prior");
        const Array& precision = require_array(arrays, "precision", "gaussian prior");
        const Index d = prior->dim();
        x = inverse::gaussian_posterior_mean(
            Eigen::Map<const Vector>(mean.values.data(), d),
            Eigen::Map<const Matrix>(precision.values.data(), d, d), *a, shard.rows, o->sigma_y,
            first);
      } else {
        Matrix x0 = o->init == "adjoint" ? a->adjoint(shard.rows, first)
                                         : Matrix::Zero(shard.rows.rows(), prior->dim());
        x = inverse::map_adam(*prior, *a, shard.rows, o->sigma_y, std::move(x0), first, o->adam);
      }
    });

    CollectiveOutput output(comm, o->out);
    dist::write_npy_collective(comm, output.staged + "x_map.npy", x, false);
    const nlohmann::json info = {{"observations", o->obs},
                                 {"rows", shard.info.rows},
                                 {"prior", source},
                                 {"operator", a->name()},
                                 {"sigma_y", o->sigma_y},
                                 {"method", method},
                                 {"steps", method == "adam" ? o->adam.steps : 0},
                                 {"lr", o->adam.lr},
                                 {"init", o->init},
                                 {"ranks", comm.size()}};
    output.commit(comm, {{"map.json", info.dump(2) + "\n"}});
    say(comm, "MAP (" + method + ", " + a->name() + " operator, sigma_y " + fmt("%g", o->sigma_y) +
                  ") of " + std::to_string(shard.info.rows) + " observations\nwrote " + o->out +
                  "/ (x_map.npy map.json)\n");
  };
  return {app, run};
}

}  // namespace scorematch::cli
