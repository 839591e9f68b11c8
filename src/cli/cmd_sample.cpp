// scorematch sample: Langevin-type sampling of a fitted model or an analytic target, with chains
// sharded over ranks (whole blocks of 64 chains each) and threads (blocks), then diagnostics.
// Output: samples.npy ((chains × draws) × d, chain-major, written collectively), sampler.json,
// report.json. Long runs checkpoint on SIGTERM/SIGUSR1 and every --checkpoint-every steps.
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <optional>

#include "command.hpp"
#include "data_shard.hpp"
#include "diagnose.hpp"
#include "inverse_options.hpp"
#include "progress.hpp"
#include "sample_checkpoint.hpp"
#include "score_source.hpp"
#include "scorematch/core/error.hpp"
#include "scorematch/core/parallel.hpp"
#include "scorematch/dist/collective_write.hpp"
#include "scorematch/dist/column_stats.hpp"
#include "scorematch/inverse/posterior_model.hpp"
#include "scorematch/inverse/posterior_noised.hpp"
#include "scorematch/io/checkpoint.hpp"
#include "scorematch/io/dataset.hpp"
#include "scorematch/io/model_dir.hpp"
#include "scorematch/models/mlp_model.hpp"
#include "scorematch/models/targets.hpp"
#include "scorematch/sampling/chain_runner.hpp"
#include "stop_signals.hpp"
#include "trace_plot.hpp"

namespace scorematch::cli {

namespace {

struct SampleOptions {
  std::string model, target, out, init = "auto", metric = "auto", dtype = "float64", data,
                                  init_file, reference, checkpoint_dir, resume;
  Index dim = 2, chains = 64, checkpoint_every = 0, progress_every = 0, ksd_rows = 4000;
  double beta_min = 0.1, beta_max = 20.0;
  bool no_adapt = false, no_denoise = false, no_diag = false, timings = false, quiet = false;
  std::vector<Index> trace_dims;  // non-empty: render trace.png for these dimensions
  int preempt_exit_code = 75;     // EX_TEMPFAIL: "stopped, checkpoint written, no output yet"
  SamplerSettings s;
  InverseOptions inv;  // posterior sampling when inv.obs is set
  Index chains_per_obs = 1;
};

bool needs_noised(const std::string& sampler) {
  return sampler != "ula" && sampler != "mala";
}

// Annealed ladder defaults: the ladder the model was trained on, else [0.01, 10].
void fill_ladder_defaults(SamplerSettings& s, const nlohmann::json& meta) {
  // meta.fit.config.objective of a network trained by dsm --noise ladder (null elsewhere).
  const auto pointer = "/fit/config/objective"_json_pointer;
  const nlohmann::json objective =
      meta.is_object() && meta.contains(pointer) && meta.at(pointer).is_object()
          ? meta.at(pointer)
          : nlohmann::json::object();
  if (s.sigma_max <= 0) s.sigma_max = objective.value("sigma_max", 10.0);
  if (s.sigma_min <= 0) s.sigma_min = objective.value("sigma_min", 0.01);
}

// Per-coordinate preconditioner scales for ula/mala (empty: identity).
Vector choose_metric(const dist::Comm& comm, const SampleOptions& o, const ScoreModel& model) {
  Vector metric;
  bool from_data = false;
  dist::run_collectively(comm, [&] {
    std::string kind = o.metric;
    const auto* mlp = dynamic_cast<const MlpModel*>(&model);
    if (kind == "auto") kind = mlp != nullptr ? "model" : (o.data.empty() ? "identity" : "data");
    if (kind == "model") {
      if (mlp == nullptr)
        throw Error("--metric model needs a network model (it uses its standardisation scale)");
      metric = mlp->scale();
    } else if (kind == "data") {
      if (o.data.empty()) throw Error("--metric data needs --data FILE");
      from_data = true;
    } else if (kind != "identity") {
      throw Error("--metric must be auto, identity, data or model, got '" + kind + "'");
    }
  });
  if (!from_data) return metric;
  // The data's column standard deviations, from every rank's shard (bitwise for any ranks).
  const Shard shard = read_shard(comm, o.data, model.dim());
  metric = dist::column_stats(comm, shard.rows, shard.info.rows, shard.info.columns, o.data).sd;
  dist::run_collectively(comm, [&] {
    if (!(metric.array() > 0).all())
      throw Error("'" + o.data + "' has a constant column: cannot use --metric data");
  });
  return metric;
}

// Starting states of this rank's chains in the sampler's coordinates.
Matrix initial_states(const SampleOptions& o, const Sampler& sampler, RowRange chains) {
  std::string init = o.init;
  if (init == "auto") init = needs_noised(o.s.name) || o.data.empty() ? "prior" : "data";
  if (init == "prior") return prior_states(sampler, chains);
  if (needs_noised(o.s.name))
    throw Error(o.s.name + " starts from its prior (noise at the largest level); --init " + init +
                " applies to ula and mala only");
  if (init != "data" && init != "file")
    throw Error("--init must be auto, prior, data or file, got '" + init + "'");
  const std::string path = init == "data" ? o.data : o.init_file;
  if (path.empty())
    throw Error("--init " + init + " needs " +
                (init == "data" ? "--data FILE" : "--init-file FILE"));
  const io::DataInfo info = io::probe_data(path);
  if (info.cols() != sampler.dim())
    throw Error("dimension mismatch: the model has dimension " + std::to_string(sampler.dim()) +
                " but '" + path + "' has " + std::to_string(info.cols()) + " columns");
  if (info.rows < 1) throw Error("'" + path + "' has no rows");
  if (init == "file" && info.rows < o.chains)
    throw Error("'" + path + "' has " + std::to_string(info.rows) + " rows but --chains is " +
                std::to_string(o.chains) + " (one starting row per chain)");
  // Chain c starts at row c (file) or row c mod n (data).
  std::vector<Index> rows;
  for (Index c = chains.begin; c < chains.end; ++c) rows.push_back(c % info.rows);
  std::vector<Index> sorted = rows;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  const Matrix unique_rows = io::read_selected_rows(info, sorted);
  Matrix x(chains.size(), info.cols());
  for (Index r = 0; r < x.rows(); ++r)
    x.row(r) = unique_rows.row(
        std::lower_bound(sorted.begin(), sorted.end(), rows[static_cast<std::size_t>(r)]) -
        sorted.begin());
  if (!x.allFinite()) throw Error("'" + path + "' has NaN or Inf starting values");
  return x;
}

nlohmann::json settings_json(const SampleOptions& o, const LoadedScore& src) {
  const SamplerSettings& s = o.s;
  nlohmann::json j = {{"dtype", o.dtype},   {"sampler", s.name},        {"source", src.description},
                      {"chains", o.chains}, {"steps", s.steps},         {"warmup", s.warmup},
                      {"thin", s.thin},     {"step_size", s.step_size}, {"seed", s.seed},
                      {"init", o.init},     {"data", o.data},           {"init_file", o.init_file}};
  if (!needs_noised(s.name))
    j["metric"] = s.metric.size() > 0
                      ? std::vector<double>(s.metric.data(), s.metric.data() + s.metric.size())
                      : std::vector<double>{};
  if (!o.inv.obs.empty())
    j["posterior"] = {
        {"obs", o.inv.obs},       {"operator", o.inv.op},     {"mask", o.inv.mask},
        {"kernel", o.inv.kernel}, {"image", o.inv.image},     {"boundary", o.inv.boundary},
        {"matrix", o.inv.matrix}, {"sigma_y", o.inv.sigma_y}, {"chains_per_obs", o.chains_per_obs}};
  if (s.name == "mala") {
    j["adapt"] = s.adapt;
    j["target_accept"] = s.target_accept;
  }
  if (s.name == "annealed") {
    j["sigma_max"] = s.sigma_max;
    j["sigma_min"] = s.sigma_min;
    j["levels"] = s.levels;
    j["denoise"] = s.denoise;
  }
  if (needs_noised(s.name) && s.name != "annealed") {
    j["t_eps"] = s.t_eps;
    j["beta_min"] = src.noised ? src.noised->sde().beta_min : o.beta_min;
    j["beta_max"] = src.noised ? src.noised->sde().beta_max : o.beta_max;
  }
  if (s.name == "pc") {
    j["snr"] = s.snr;
    j["corrector_steps"] = s.corrector_steps;
  }
  return j;
}

// Per-chain report vectors (this rank's chains) → full vectors on every rank (zero-padded sum).
Vector gather_chains(const dist::Comm& comm, const Vector& local, RowRange chains, Index total) {
  std::vector<double> all(static_cast<std::size_t>(total), 0.0);
  for (Index c = 0; c < local.size(); ++c)
    all[static_cast<std::size_t>(chains.begin + c)] = local[c];
  comm.allreduce_sum(all);
  return Eigen::Map<Vector>(all.data(), total);
}

}  // namespace

Command add_sample(CLI::App& root) {
  auto o = std::make_shared<SampleOptions>();
  CLI::App* app = root.add_subcommand("sample", "Langevin sampling of a model or target");
  app->footer(
      "Samplers: ula, mala (energy models), annealed (sigma-conditioned model or gaussian/gmm\n"
      "target), sde, ode, pc (time-conditioned model or gaussian/gmm target).\n"
      "Writes samples.npy ((chains x draws) x d, chain-major), sampler.json and report.json.\n"
      "Example: mpirun -np 2 build/scorematch sample --model out/poly4 --sampler mala \\\n"
      "           --data data/faithful.csv --chains 256 --steps 2000 --warmup 1000 --out out/mala");
  auto* model_opt = app->add_option("--model", o->model, "Model directory written by fit");
  auto* target_opt = app->add_option("--target", o->target,
                                     "Or an analytic target: gaussian | gmm | banana | rings");
  model_opt->excludes(target_opt);
  app->add_option("--dim", o->dim, "Dimension of --target")->check(at_least(1));
  app->add_option("--sampler", o->s.name, "ula | mala | annealed | sde | ode | pc");
  app->add_option("--chains", o->chains, "Number of chains")->check(at_least(1));
  app->add_option("--steps", o->s.steps,
                  "ula/mala: kept-phase steps; annealed: steps per level; sde/ode/pc: time steps");
  app->add_option("--warmup", o->s.warmup, "ula/mala: warm-up steps (MALA adapts its step size)");
  app->add_option("--thin", o->s.thin, "Keep every k-th draw");
  app->add_option("--step-size", o->s.step_size,
                  "ula/mala: alpha (default 0.01); annealed: epsilon, the step at sigma_min "
                  "(default 0.2 sigma_min^2)");
  app->add_option("--target-accept", o->s.target_accept, "mala: target acceptance rate");
  app->add_flag("--no-adapt", o->no_adapt, "mala: keep --step-size fixed during warm-up");
  app->add_option("--sigma-max", o->s.sigma_max, "annealed: largest sigma (default: the model's)");
  app->add_option("--sigma-min", o->s.sigma_min, "annealed: smallest sigma (default: the model's)");
  app->add_option("--levels", o->s.levels, "annealed: number of geometric sigma levels");
  app->add_flag("--no-denoise", o->no_denoise, "annealed: skip the final Tweedie step");
  app->add_option("--snr", o->s.snr, "pc: corrector signal-to-noise ratio");
  app->add_option("--corrector-steps", o->s.corrector_steps, "pc: Langevin steps per time");
  app->add_option("--t-eps", o->s.t_eps, "sde/ode/pc: final time");
  app->add_option("--beta-min", o->beta_min, "sde/ode/pc with a target: beta(0)");
  app->add_option("--beta-max", o->beta_max, "sde/ode/pc with a target: beta(1)");
  app->add_option("--dtype", o->dtype,
                  "float64 | float32: precision of a network's energy and score evaluations");
  app->add_option("--metric", o->metric,
                  "ula/mala preconditioner: auto (model: a network's standardisation scale, else "
                  "--data's column sd) | identity | data | model");
  app->add_option("--init", o->init, "auto | prior | data (--data rows) | file (--init-file)");
  app->add_option("--data", o->data, "Data file for --init data (chain c starts at row c mod n)");
  app->add_option("--init-file", o->init_file, "Starting states, one row per chain");
  app->add_option("--seed", o->s.seed, "Seed of the initial states and the transition noise");
  app->add_option("--out", o->out, "Output directory")->required();
  app->add_flag("--no-diag", o->no_diag, "Skip the diagnostics at the end");
  app->add_option("--trace-dims", o->trace_dims,
                  "Render trace.png: traces and autocorrelations of these dimensions (0-based)");
  app->add_option("--reference", o->reference, "Reference draws for energy distance / MMD");
  app->add_option("--ksd-rows", o->ksd_rows, "Draws used (evenly thinned) for KSD and MMD");
  app->add_option("--checkpoint-every", o->checkpoint_every,
                  "Checkpoint every N steps (0: only on signal)");
  app->add_option("--checkpoint-dir", o->checkpoint_dir,
                  "Checkpoint directory (default <out>.ckpt)");
  app->add_option("--resume", o->resume, "Continue from this checkpoint directory");
  app->add_option("--preempt-exit-code", o->preempt_exit_code,
                  "Exit status after a SIGTERM/SIGUSR1 checkpoint (default 75, EX_TEMPFAIL: "
                  "the run stopped without writing its output, so 'sample && next' stops too)");
  app->add_option("--progress-every", o->progress_every, "Status line every N steps (non-TTY)");
  app->add_flag("--quiet", o->quiet, "No progress line");
  app->add_flag("--timings", o->timings, "Print the compute / io / diagnostics split");
  const std::string posterior_group =
      "Posterior sampling (ula, mala, annealed): p(x | y), y = A x + noise";
  add_inverse_options(app, o->inv, posterior_group);
  app->add_option("--chains-per-obs", o->chains_per_obs,
                  "Chains per observation (a divisor of 64); --chains becomes rows(y) x this")
      ->group(posterior_group);

  auto run = [o](const dist::Comm& comm) {
    const auto start = std::chrono::steady_clock::now();
    o->s.adapt = !o->no_adapt;
    o->s.denoise = !o->no_denoise;
    LoadedScore src;
    std::unique_ptr<Sampler> sampler;
    dist::run_collectively(comm, [&] {
      src = load_score_source(o->model, o->target, o->dim,
                              o->s.name == "annealed" ? NoiseScheme::sigma : NoiseScheme::vpsde,
                              VpSde{o->beta_min, o->beta_max}, o->dtype == "float32");
      if (o->dtype != "float64" && o->dtype != "float32")
        throw Error("--dtype must be float64 or float32, got '" + o->dtype + "'");
      if (src.noised && needs_noised(o->s.name) &&
          src.noised->scheme() !=
              (o->s.name == "annealed" ? NoiseScheme::sigma : NoiseScheme::vpsde))
        throw Error(
            o->s.name + " needs a model conditioned on " +
            (o->s.name == "annealed" ? "sigma (dsm --noise ladder)" : "time (dsm --noise vpsde)") +
            ", but '" + o->model + "' is conditioned on the other noise scheme");
      if (o->s.name == "annealed") fill_ladder_defaults(o->s, src.meta);
      o->s = resolve_step_size(o->s);  // recorded in sampler.json and the checkpoint config
    });
    // Collective itself (reads --data), so outside the block above.
    if (!needs_noised(o->s.name)) o->s.metric = choose_metric(comm, *o, *src.model);
    // Posterior sampling: chain c samples p(x | y_o), o = c / K; this rank holds only the
    // observations of its chains (K divides the 64-chain block, so no observation is split).
    std::unique_ptr<inverse::LinearOperator> op;
    std::unique_ptr<inverse::PosteriorModel> posterior_model;
    std::unique_ptr<inverse::PosteriorNoisedScore> posterior_noised;
    const bool posterior = !o->inv.obs.empty();
    dist::run_collectively(comm, [&] {
      if (!posterior) return;
      if (needs_noised(o->s.name) && o->s.name != "annealed")
        throw Error("posterior sampling (--obs) runs ula, mala or annealed, not " + o->s.name);
      if (o->chains_per_obs < 1 || kChainBlock % o->chains_per_obs != 0)
        throw Error("--chains-per-obs must divide " + std::to_string(kChainBlock));
      const io::DataInfo info = io::probe_data(o->inv.obs);
      op = make_operator(o->inv, src.model->dim(), info.rows, info.cols());
      o->chains = info.rows * o->chains_per_obs;
      const RowRange mine = chain_shard(o->chains, comm.rank(), comm.size());
      const RowRange obs{mine.begin / o->chains_per_obs, mine.end / o->chains_per_obs};
      const Matrix y = io::read_data_rows(info, obs);
      if (o->s.name == "annealed" && !src.noised)
        throw Error(
            "annealed posterior sampling needs the prior's score at every noise level: a "
            "sigma-conditioned model (fit --objective dsm --noise ladder) or a gaussian/gmm "
            "target");
      if (o->s.name == "annealed")  // annealed: the noised prior + the σ-widened likelihood
        posterior_noised = std::make_unique<inverse::PosteriorNoisedScore>(
            *src.noised, *op, y, obs.begin, o->inv.sigma_y, o->chains_per_obs);
      else
        posterior_model = std::make_unique<inverse::PosteriorModel>(
            *src.model, *op, y, obs.begin, o->inv.sigma_y, o->chains_per_obs);
      o->no_diag = true;  // chains target different posteriors: R-hat/KSD across them are moot
    });
    dist::run_collectively(comm, [&] {
      sampler = make_sampler(o->s, {posterior_model ? posterior_model.get() : src.model.get(),
                                    posterior_noised ? posterior_noised.get() : src.noised.get()});
      if (sampler->num_transitions() >= (Index{1} << 32))
        throw Error("too many steps for the 32-bit step counter of the noise streams");
    });
    const RowRange chains = chain_shard(o->chains, comm.rank(), comm.size());
    Vector shift = Vector::Zero(sampler->dim()), scale = Vector::Ones(sampler->dim());
    if (sampler->uses_model_coordinates()) {
      shift = src.noised->shift();
      scale = src.noised->scale();
    }
    std::optional<ChainRunner> runner;
    dist::run_collectively(comm, [&] {
      runner.emplace(*sampler, chains, initial_states(*o, *sampler, chains), shift, scale);
    });
    const nlohmann::json config = settings_json(*o, src);
    const std::string ck_dir = o->checkpoint_dir.empty() ? o->out + ".ckpt" : o->checkpoint_dir;
    if (!o->resume.empty()) read_sample_checkpoint(comm, o->resume, config, *runner);

    // Transitions in segments; between segments the ranks agree on a stop signal.
    say(comm, std::string(o->resume.empty() ? "sampling" : "resuming") + " with " + o->s.name +
                  ": " + std::to_string(o->chains) + " chains x " +
                  std::to_string(sampler->num_transitions()) + " transitions" +
                  (o->resume.empty() ? "" : " from step " + std::to_string(runner->step())) + "; " +
                  std::to_string(comm.size()) + " rank(s) x " +
                  std::to_string(parallel::num_threads()) + " thread(s)\n");
    const char* term_hook = std::getenv("SCOREMATCH_TEST_SIGTERM_AT_STEP");
    bool hook_fired = false;
    const Index total = sampler->num_transitions();
    const Index every = o->progress_every > 0 ? o->progress_every : std::max<Index>(1, total / 4);
    Index segment = std::max<Index>(1, std::min<Index>(every, 50));
    if (o->checkpoint_every > 0) segment = std::min(segment, o->checkpoint_every);
    Progress progress(comm.is_root() && !o->quiet, static_cast<long>(every));
    double compute = 0, io_seconds = 0;
    const Index resumed_at = runner->step();
    const auto sampling_start = std::chrono::steady_clock::now();
    while (runner->step() < total) {
      Index until = std::min(total, runner->step() + segment);
      if (o->checkpoint_every > 0)
        until = std::min(until, (runner->step() / o->checkpoint_every + 1) * o->checkpoint_every);
      const auto t0 = std::chrono::steady_clock::now();
      dist::run_collectively(comm, [&] { runner->advance(until); });
      compute += seconds_since(t0);
      if (term_hook && !hook_fired && runner->step() >= std::atol(term_hook)) {
        hook_fired = true;  // test hook: a signal arriving mid-run
        std::raise(SIGTERM);
      }
      const double stop = comm.allreduce_max(stop_signal() != 0 ? 1.0 : 0.0);
      const double elapsed = seconds_since(sampling_start);
      const double rate = static_cast<double>(o->chains) *
                          static_cast<double>(runner->step() - resumed_at) /
                          std::max(elapsed, 1e-9);
      progress.update(static_cast<long>(runner->step()), static_cast<long>(total),
                      "step " + std::to_string(runner->step()) + "/" + std::to_string(total) +
                          "  " + fmt("%.3g", rate) + " chain-steps/s  ETA " +
                          fmt("%.0f", static_cast<double>(total - runner->step()) *
                                          static_cast<double>(o->chains) / std::max(rate, 1e-9)) +
                          " s");
      const bool periodic = o->checkpoint_every > 0 && runner->step() % o->checkpoint_every == 0 &&
                            runner->step() < total;
      if (stop > 0 || periodic) {
        const auto t1 = std::chrono::steady_clock::now();
        write_sample_checkpoint(comm, ck_dir, config, *runner);
        io_seconds += seconds_since(t1);
      }
      if (stop > 0) {
        progress.finish();
        say(comm, "stop signal: checkpoint at step " + std::to_string(runner->step()) + " in " +
                      ck_dir + "/ (continue with --resume " + ck_dir + ")\n");
        throw ExitRequest{o->preempt_exit_code};
      }
    }
    progress.finish();
    const double sampling_seconds = seconds_since(sampling_start);

    // Per-chain figures and the run summary.
    nlohmann::json info = config;
    const std::vector<std::string> columns =
        src.meta.is_object() ? src.meta.value("columns", std::vector<std::string>{})
                             : std::vector<std::string>{};
    info["columns"] = columns;
    info["dim"] = sampler->dim();
    info["draws_per_chain"] = sampler->draws_per_chain();
    info["transitions"] = total;
    info["ranks"] = comm.size();
    info["threads_per_rank"] = parallel::num_threads();
    info["thread_backend"] = parallel::backend_name();
    info["sampling_seconds"] = sampling_seconds;
    info["chain_steps_per_second"] = static_cast<double>(o->chains) *
                                     static_cast<double>(total - resumed_at) /
                                     std::max(sampling_seconds, 1e-9);
    info["coordinates"] =
        sampler->uses_model_coordinates()
            ? "sampled in the model's standardised coordinates, written in data units"
            : "data units";
    std::string summary;
    for (const auto& [name, local] : sampler->chain_report(runner->aux())) {
      const Vector all = gather_chains(comm, local, chains, o->chains);
      info["per_chain"][name] = std::vector<double>(all.data(), all.data() + all.size());
      info[name + "_mean"] = all.mean();
      info[name + "_min"] = all.minCoeff();
      info[name + "_max"] = all.maxCoeff();
      summary += "  " + name + " mean " + fmt("%.4g", all.mean()) + " (min " +
                 fmt("%.4g", all.minCoeff()) + ", max " + fmt("%.4g", all.maxCoeff()) + ")\n";
    }

    CollectiveOutput output(comm, o->out);
    const std::string& staged = output.staged;
    const auto t_io = std::chrono::steady_clock::now();
    dist::write_npy_collective(comm, staged + "samples.npy", runner->draws(), false);
    if (posterior) {
      // Posterior mean per observation: the average over its K chains' draws.
      const Index per = o->chains_per_obs * sampler->draws_per_chain();
      const Matrix& draws = runner->draws();
      Matrix means(draws.rows() / std::max<Index>(per, 1), draws.cols());
      for (Index i = 0; i < means.rows(); ++i)
        means.row(i) = draws.middleRows(i * per, per).colwise().mean();
      dist::write_npy_collective(comm, staged + "posterior_mean.npy", means, false);
    }
    io_seconds += seconds_since(t_io);
    if (!o->trace_dims.empty()) {
      dist::run_collectively(comm, [&] {
        if (!comm.is_root()) return;
        TracePicture pic;
        pic.samples = staged + "samples.npy";
        pic.chains = o->chains;
        pic.dims = o->trace_dims;
        for (Index j : o->trace_dims)
          pic.labels.push_back(j >= 0 && j < static_cast<Index>(columns.size())
                                   ? columns[static_cast<std::size_t>(j)]
                                   : "");
        pic.title = o->s.name + ": " + o->out;
        render_trace(pic, staged + "trace.png");
      });
    }

    nlohmann::json report;
    double diag_seconds = 0;
    if (!o->no_diag) {
      const auto t_diag = std::chrono::steady_clock::now();
      DiagRequest request{staged + "samples.npy", o->chains,   src.model.get(),
                          o->reference,           o->ksd_rows, columns};
      report = run_diagnostics(comm, request);
      report["samples"] = o->out + "/samples.npy";
      diag_seconds = seconds_since(t_diag);
    }
    info["wall_seconds"] = seconds_since(start);
    std::vector<std::pair<std::string, std::string>> files{{"sampler.json", info.dump(2) + "\n"}};
    if (!o->no_diag) files.emplace_back("report.json", report.dump(2) + "\n");
    output.commit(comm, files);
    say(comm, o->s.name + ": " + std::to_string(o->chains) + " chains x " +
                  std::to_string(sampler->draws_per_chain()) + " draws, " +
                  fmt("%.3g", info["chain_steps_per_second"].get<double>()) + " chain-steps/s on " +
                  std::to_string(comm.size()) + " rank(s)\n" + summary);
    if (!o->no_diag) say(comm, format_report(report));
    say(comm, "wrote " + o->out + "/ (samples.npy, " + (posterior ? "posterior_mean.npy, " : "") +
                  "sampler.json" + (o->no_diag ? "" : ", report.json") +
                  (o->trace_dims.empty() ? "" : ", trace.png") + ")\n");
    if (o->timings)
      print_timings(comm, {"compute", "io", "diagnostics"}, {compute, io_seconds, diag_seconds});
  };
  return {app, run};
}

}  // namespace scorematch::cli
