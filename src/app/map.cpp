#include "map.hpp"

#include <algorithm>

#include "report.hpp"
#include "scorematch/io/dataset.hpp"
#include "scorematch/models/noise_process.hpp"

namespace scorematch::app {

namespace {
// What a MAP method works with.
struct MapContext {
  const MapJob& job;
  const ScoreModel& prior;
  const NoisedScore* noised;  // σ-conditioned: a network, or the noised target
  const inverse::LinearOperator& a;
  double final_level = 0;  // σ-conditioned: the level the prior is evaluated at (--prior-level)
  const Matrix* init = nullptr;  // --init file: this rank's starting points,
  Index init_begin = 0;          // the first of which is observation init_begin
};

Matrix start_point(const MapContext& c, const Matrix& y, Index first) {
  if (c.init != nullptr) return c.init->middleRows(first - c.init_begin, y.rows());
  return c.job.init == "adjoint" ? c.a.adjoint(y, first) : Matrix::Zero(y.rows(), c.prior.dim());
}

// --init file: the starting points of this rank's observations `range`, one row per observation
// of --obs (rows × d); the reader refuses NaN/Inf, naming the row.
Matrix read_start_points(const MapJob& job, RowRange range, Index rows, Index dim) {
  const io::DataInfo info = io::probe_data(job.init_file);
  if (info.rows != rows || info.cols() != dim)
    throw Error(setting("init-file") + " '" + job.init_file + "' is " + std::to_string(info.rows) +
                " x " + std::to_string(info.cols()) +
                "; expected one starting point per observation: " + std::to_string(rows) + " x " +
                std::to_string(dim));
  return io::read_data_rows(info, range);
}

void check_tweedie(const MapContext& c) {
  if (!c.noised || c.noised->scheme() != NoiseScheme::sigma)
    throw SettingError(setting("method") +
                       " tweedie needs a sigma-conditioned prior (fit --noise ladder or vesde, a "
                       "Gaussian prior: fit --model gaussian, or the gaussian/gmm target)");
  if (!c.a.is_identity())
    throw SettingError(setting("method") +
                       " tweedie is the posterior mean for denoising: --operator identity");
  const Vector scale = c.noised->scale();
  if ((scale.array() != scale[0]).any())
    throw SettingError(setting("method") +
                       " tweedie needs the same scale in every column (fit with "
                       "--no-standardize, or data whose columns share one scale)");
}

// Denoising y = x + σ_y ε under a σ-conditioned prior: the posterior mean is exactly
// E[x | y] = y + σ_y² ∇ log p_σy(y) (Tweedie's formula; Robbins 1956, Efron 2011), one
// evaluation of the noised score at σ = σ_y (in model units z = (y − shift)/s, σ_y/s).
Matrix solve_tweedie(const MapContext& c, const Matrix& y, Index) {
  const double sigma_y = c.job.inv.sigma_y, s0 = c.noised->scale()[0];
  const Matrix z = (y.rowwise() - c.noised->shift().transpose()) / s0;
  return y + (sigma_y * sigma_y / s0) * c.noised->score(z, sigma_y / s0);
}

void check_exact(const MapContext& c) {
  if (!c.prior.gaussian())
    throw SettingError(
        "--method exact needs a Gaussian prior (fit --model gaussian); this prior is '" +
        c.prior.kind() + "': use --method adam");
}

Matrix solve_exact(const MapContext& c, const Matrix& y, Index first) {
  const GaussianParameters g = *c.prior.gaussian();
  return inverse::gaussian_posterior_mean(g.mean, g.precision, c.a, y, c.job.inv.sigma_y, first);
}

void check_lbfgs(const MapContext& c) {
  if (!c.prior.has_energy())
    throw SettingError(setting("method") + " lbfgs needs a prior with an energy; this " +
                       c.prior.kind() + " model has only a score: use --method adam");
}

Matrix solve_lbfgs(const MapContext& c, const Matrix& y, Index first) {
  inverse::LbfgsSettings lb;
  lb.max_iterations = c.job.adam.steps;
  return inverse::map_lbfgs(c.prior, c.a, y, c.job.inv.sigma_y, start_point(c, y, first), first, lb)
      .x;
}

// Adam, or with --anneal-from σ_0 MAP by continuation (graduated optimisation; the annealing of
// Song & Ermon 2019 without the noise): J stages at the geometric levels σ_0 > … > σ_{J−1} = the
// prior's level, each steps/J Adam steps on log p_σj(x) + log N(y; A x, σ_y² I) started where the
// last one stopped. The smooth p_σ0 has few modes, so the iterate follows the mode it selects
// down instead of the nearest mode of the sharp prior from the starting point.
Matrix solve_adam(const MapContext& c, const Matrix& y, Index first) {
  const MapJob& job = c.job;
  if (job.anneal_from <= 0)
    return inverse::map_adam(c.prior, c.a, y, job.inv.sigma_y, start_point(c, y, first), first,
                             job.adam);
  const Vector shift = c.noised->shift(), scale = c.noised->scale();
  Matrix x = start_point(c, y, first);
  inverse::MapSettings stage = job.adam;
  stage.steps = std::max<Index>(1, job.adam.steps / job.anneal_stages);
  for (Index j = 0; j < job.anneal_stages; ++j) {
    const double level =
        NoiseProcess::ladder_sigma(job.anneal_from, c.final_level, job.anneal_stages, j);
    // The noised score in x: ∇ₓ log p_σ(x) = s(z; σ) ⊘ scale, z = (x − shift) ⊘ scale.
    const auto prior_score = [&](const Matrix& xs) {
      const Matrix z =
          ((xs.rowwise() - shift.transpose()).array().rowwise() / scale.transpose().array())
              .matrix();
      return Matrix(c.noised->score(z, level).array().rowwise() / scale.transpose().array());
    };
    x = inverse::map_adam(prior_score, c.a, y, job.inv.sigma_y, std::move(x), first, stage);
  }
  return x;
}

void check_adam(const MapContext& c) {
  if (c.job.anneal_from <= 0) return;
  if (!c.noised || c.noised->scheme() != NoiseScheme::sigma)
    throw SettingError(
        "--anneal-from needs a sigma-conditioned prior (fit --noise ladder or vesde)");
  if (!(c.final_level > 0))
    throw SettingError(setting("anneal-from") +
                       " needs --prior-level (the last stage's level) for this prior");
  if (!(c.job.anneal_from > c.final_level))
    throw SettingError(
        setting("anneal-from") + " " + number_text(c.job.anneal_from) +
        " must exceed the prior's level " + number_text(c.final_level) + " (" +
        (c.job.prior_level > 0 ? setting("prior-level") : std::string("the model's own")) + ")");
  if (c.job.anneal_stages < 2) throw SettingError(setting("anneal-stages") + " must be at least 2");
  // The Adam steps are split evenly over the stages: each needs one.
  if (c.job.anneal_stages > c.job.adam.steps)
    throw SettingError(setting("anneal-stages") + " " + std::to_string(c.job.anneal_stages) +
                       " exceeds " + setting("steps") + " " + std::to_string(c.job.adam.steps) +
                       " (the steps are split evenly over the stages)");
}

// The MAP methods: a new one is a check, a solver and one line here.
struct MapMethod {
  const char* name;
  const char* reads;  // the method-specific settings it reads (MapJob::given keys), space-separated
  void (*check)(const MapContext&);  // throws when the prior or operator does not allow it
  Matrix (*solve)(const MapContext&, const Matrix& y, Index first);
  bool records_steps;  // map.json "steps": the Adam iterations (0 for the others)
};
const MapMethod kMapMethods[] = {
    {"adam", " init init_file steps lr prior_level anneal_from anneal_stages ", check_adam,
     solve_adam, true},
    {"lbfgs", " init init_file steps prior_level ", check_lbfgs, solve_lbfgs, false},
    {"exact", " ", check_exact, solve_exact, false},
    {"tweedie", " ", check_tweedie, solve_tweedie, false},
};

// auto: the exact posterior mean for a Gaussian prior, else Adam.
const MapMethod& find_method(const std::string& name, const ScoreModel& prior) {
  const std::string wanted = name == "auto" ? (prior.gaussian() ? "exact" : "adam") : name;
  for (const MapMethod& m : kMapMethods)
    if (wanted == m.name) return m;
  std::string known = "auto";
  for (const MapMethod& m : kMapMethods) known += std::string(" | ") + m.name;
  throw SettingError(setting("method") + " must be " + known + ", not '" + name + "'");
}

bool reads(const MapMethod& m, const std::string& key) {
  return std::string(m.reads).find(" " + key + " ") != std::string::npos;
}

// A setting the chosen method never reads would be ignored silently (and recorded as if used).
// Under --method auto (exact for a Gaussian prior, else adam) a job file may carry adam's settings
// for the priors that need them, so there only a setting typed on the command line is refused;
// a job file's setting the method does not read is set back to its default (neither read, nor
// checked, nor recorded). --prior-level is read when the prior is loaded, before the method is
// known, so it is not among them.
void refuse_unread(MapJob& job, const MapMethod& method) {
  const bool stages = std::any_of(job.given.begin(), job.given.end(),
                                  [](const auto& g) { return g.key == "anneal_stages"; });
  if (stages && job.anneal_from <= 0)
    throw SettingError(setting("anneal-stages") + " applies with " + setting("anneal-from"));
  const bool automatic = job.method == "auto";
  const MapJob defaults;
  for (const MapJob::Given& g : job.given) {
    if (reads(method, g.key)) continue;
    if (automatic && !g.typed) {
      if (g.key == "init") job.init = defaults.init;
      if (g.key == "init_file") job.init_file = defaults.init_file;
      if (g.key == "anneal_from") job.anneal_from = defaults.anneal_from;
      if (g.key == "anneal_stages") job.anneal_stages = defaults.anneal_stages;
      continue;
    }
    std::string readers;
    for (const MapMethod& m : kMapMethods)
      if (reads(m, g.key)) readers += std::string(readers.empty() ? "" : " or ") + m.name;
    throw SettingError(g.name + " does not apply to --method " + method.name +
                       (automatic ? ", which --method auto chose for this prior" : "") +
                       " (it is read by --method " + readers + ")");
  }
}
}  // namespace

void run_map(const dist::Comm& comm, MapJob& job) {
  MapJob* const o = &job;
  const Shard shard = read_block_shard(comm, o->inv.obs);
  std::unique_ptr<ScoreModel> prior;
  std::unique_ptr<NoisedScore> noised;
  std::unique_ptr<inverse::LinearOperator> a;
  nlohmann::json source;
  const MapMethod* method = nullptr;
  double final_level = 0;
  std::optional<NoiseProcess> loaded_noise;  // a network's training noise (its levels' range)
  Matrix init;
  dist::run_collectively(comm, [&] {
    if (o->model.empty() == o->target.empty())
      throw SettingError("map needs exactly one of --model DIR or --target NAME (the prior)");
    if (o->adam.steps < 1) throw InvalidSetting("steps", "be >= 1", std::to_string(o->adam.steps));
    if (!(o->adam.lr > 0) || !std::isfinite(o->adam.lr))
      throw InvalidSetting("lr", "be positive and finite", number_text(o->adam.lr));
    if (o->init != "adjoint" && o->init != "zero" && o->init != "file")
      throw SettingError(setting("init") + " must be adjoint | zero | file, not '" + o->init + "'");
    if ((o->init == "file") != !o->init_file.empty())
      throw SettingError(o->init == "file"
                             ? setting("init") + " file needs " + setting("init-file")
                             : setting("init-file") + " applies to " + setting("init") + " file");
    // --prior-level: a σ-conditioned network prior evaluated at another level (io::LoadOptions).
    if (o->prior_level != 0 && !o->target.empty())
      throw SettingError(setting("prior-level") + " needs a noise-conditioned network prior");
    io::LoadOptions options;
    options.noise_level = o->prior_level;
    LoadedScore loaded =
        load_score_source(o->model, o->target, o->dim > 0 ? o->dim : shard.info.cols(),
                          NoiseScheme::sigma, VpSde{}, options);
    attach_gaussian_noised(loaded);  // Tweedie's formula on a Gaussian prior
    prior = std::move(loaded.model);
    method = &find_method(o->method, *prior);
    refuse_unread(*o, *method);
    noised = std::move(loaded.noised);
    source = loaded.description;
    loaded_noise = loaded.noise;
    if (o->prior_level != 0) source["prior_level"] = o->prior_level;
    final_level = o->prior_level != 0 ? o->prior_level
                  : loaded.noise      ? loaded.noise->smallest_level()
                                      : 0.0;
    if (o->anneal_from > 0) source["anneal_from"] = o->anneal_from;
    a = make_operator(o->inv, prior->dim(), shard.info.rows, shard.info.cols());
    if (o->prior_level > 0)
      check_trained_level(loaded_noise, o->prior_level, setting("prior-level"));
    if (o->anneal_from > 0)
      check_trained_level(loaded_noise, o->anneal_from, setting("anneal-from"));
    if (method->solve == solve_tweedie && noised && noised->scheme() == NoiseScheme::sigma)
      check_trained_level(
          loaded_noise, o->inv.sigma_y / noised->scale()[0],
          setting("sigma-y") + (noised->scale()[0] != 1 ? " / the model's scale" : std::string()));
    if (o->anneal_from > 0 && method->solve != solve_adam)
      throw SettingError(setting("anneal-from") + " applies to --method adam");
    if (method->check != nullptr) method->check({*o, *prior, noised.get(), *a, final_level});
    if (!o->init_file.empty() && method->solve != solve_adam && method->solve != solve_lbfgs)
      throw SettingError(setting("init") + " file applies to --method adam or lbfgs");
    if (!o->init_file.empty())
      init = read_start_points(*o, shard.range, shard.info.rows, prior->dim());
  });
  // Block by block (64 global rows each), so the rows are the same on any number of ranks.
  const MapContext context{*o,
                           *prior,
                           noised.get(),
                           *a,
                           final_level,
                           o->init_file.empty() ? nullptr : &init,
                           shard.range.begin};
  Matrix x(shard.rows.rows(), prior->dim());
  dist::run_collectively(comm, [&] {
    for_each_block(shard.range, [&](RowRange block, Index offset) {
      x.middleRows(offset, block.size()) =
          method->solve(context, shard.rows.middleRows(offset, block.size()), block.begin);
    });
  });
  const std::string name = method->name;
  CollectiveOutput output(comm, o->out);
  dist::write_npy_collective(comm, output.staged + "x_map.npy", x, false);
  const nlohmann::json info = {
      {"observations", o->inv.obs},
      {"rows", shard.info.rows},
      {"prior", source},
      {"operator", a->name()},
      {"sigma_y", o->inv.sigma_y},
      {"method", name},
      {"steps", method->records_steps ? o->adam.steps : 0},
      {"lr", reads(*method, "lr") ? nlohmann::json(o->adam.lr) : nlohmann::json()},
      {"init", reads(*method, "init") ? nlohmann::json(o->init) : nlohmann::json()},
      {"init_file", o->init_file.empty() ? nlohmann::json() : nlohmann::json(o->init_file)},
      {"ranks", comm.size()}};
  output.commit(comm, {{"map.json", info.dump(2) + "\n"}});
  say(comm, "MAP (" + name + ", " + a->name() + " operator, sigma_y " + fmt("%g", o->inv.sigma_y) +
                ") of " + std::to_string(shard.info.rows) + " observations\nwrote " + o->out +
                "/ (x_map.npy map.json)\n");
}

}  // namespace scorematch::app
