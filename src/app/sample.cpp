#include "sample.hpp"

#include "memory_budget.hpp"

#include "gaussian_reference.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

#include "data_shard.hpp"
#include "diagnose.hpp"
#include "report.hpp"
#include "run_control.hpp"
#include "sample_checkpoint.hpp"
#include "score_source.hpp"
#include "scorematch/core/error.hpp"
#include "scorematch/core/parallel.hpp"
#include "scorematch/dist/collective_write.hpp"
#include "scorematch/dist/column_stats.hpp"
#include "scorematch/inverse/posterior_model.hpp"
#include "scorematch/inverse/posterior_noised.hpp"
#include "scorematch/io/dataset.hpp"
#include "scorematch/models/mlp_model.hpp"
#include "scorematch/sampling/chain_runner.hpp"
#include "trace_plot.hpp"

namespace scorematch::app {

namespace {
// "a, b or c" of the registered samplers with a property (for messages).
template <class Predicate>
std::string sampler_list(Predicate keep) {
  const std::vector<std::string> names = sampler_names_if(keep);
  std::string text;
  for (std::size_t i = 0; i < names.size(); ++i)
    text += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  return text;
}

// Ladder defaults of a σ-noised sampler: the VE ladder or VE SDE the model was trained on (its
// σ_max, σ_min, and a ladder's number of levels), else [0.01, 10] over 10 levels.
void fill_ladder_defaults(SamplerSettings& s, const std::optional<NoiseProcess>& trained,
                          bool levels_given) {
  const bool ve = trained && trained->conditioning() == Conditioning::sigma;
  const bool ladder = trained && trained->kind == NoiseKind::ve_ladder;
  if (s.sigma_max <= 0) s.sigma_max = ve ? trained->sigma_max : 10.0;
  if (s.sigma_min <= 0) s.sigma_min = ve ? trained->sigma_min : 0.01;
  if (ladder && !levels_given) s.levels = trained->levels;
}

// --metric as resolved: auto is the network's standardisation scale, else the data's sd when
// --data is given, else identity.
std::string metric_kind(const SampleJob& o, const ScoreModel& model) {
  if (o.metric != "auto") return o.metric;
  if (model.standardisation_scale().size() > 0) return "model";
  return o.data.empty() ? "identity" : "data";
}

// --init as resolved: auto starts a noised sampler from its prior, another from --data when given.
std::string init_kind(const SampleJob& o, const SamplerDescriptor& kind) {
  if (o.init != "auto") return o.init;
  return kind.noised() || o.data.empty() ? "prior" : "data";
}

// --data is read for --init data, --metric data and pt's Gaussian reference; given to a run
// that reads it for none of them, it would be recorded as if used.
void refuse_unread_data(const SampleJob& o, const SamplerDescriptor& kind,
                        const ScoreModel& model) {
  if (o.data.empty() || init_kind(o, kind) == "data" || kind.uses("reference") ||
      (kind.uses("metric") && metric_kind(o, model) == "data"))
    return;
  throw SettingError(
      setting("data") + " is not read by this run: " + kind.name + " reads it for " +
      setting("init") + " data" +
      (kind.uses("metric") ? " or " + setting("metric") + " data" : "") +
      ", and starts here from " + init_kind(o, kind) +
      (kind.uses("metric") ? " with " + setting("metric") + " " + metric_kind(o, model) : ""));
}

// Per-coordinate preconditioner scales for ula/mala (empty: identity).
Vector choose_metric(const dist::Comm& comm, const SampleJob& o, const ScoreModel& model) {
  Vector metric;
  bool from_data = false;
  dist::run_collectively(comm, [&] {
    const std::string kind = metric_kind(o, model);
    const Vector scale = model.standardisation_scale();
    const bool network = scale.size() > 0;
    if (kind == "model") {
      if (!network)
        throw SettingError(setting("metric") +
                           " model needs a network model (it uses its standardisation scale)");
      metric = scale;
    } else if (kind == "data") {
      if (o.data.empty()) throw SettingError(setting("metric") + " data needs --data FILE");
      from_data = true;
    } else if (kind != "identity") {
      throw SettingError(setting("metric") + " must be auto, identity, data or model, got '" +
                         kind + "'");
    }
  });
  if (!from_data) return metric;
  // The data's column standard deviations, from every rank's shard (bitwise for any ranks).
  const Shard shard = read_shard(comm, o.data, model.dim());
  metric = dist::column_stats(comm, shard.rows, shard.info.rows, shard.info.columns, o.data).sd;
  dist::run_collectively(comm, [&] {
    if (!(metric.array() > 0).all())
      throw Error("'" + o.data + "' has a constant column: cannot use " + setting("metric") +
                  " data");
  });
  return metric;
}

// Starting states of this rank's chains in the sampler's coordinates.
// The chain whose start chain c shares: the first chain of its superchain (itself without them).
Index start_index(const SampleJob& o, Index c) {
  if (o.superchains <= 0) return c;
  const Index per = o.chains / o.superchains;
  return c / per * per;
}

Matrix initial_states(const SampleJob& o, const SamplerDescriptor& kind, const Sampler& sampler,
                      const LoadedScore& src, RowRange chains) {
  const std::string init = init_kind(o, kind);
  if (init == "prior") {
    if (o.superchains <= 0) return prior_states(sampler, chains);
    Matrix x(chains.size(), sampler.dim());
    for (Index c = chains.begin; c < chains.end; ++c) {
      const Index s = start_index(o, c);
      x.row(c - chains.begin) = prior_states(sampler, {s, s + 1}).row(0);
    }
    return x;
  }
  if (kind.noised()) {
    std::string on_p = sampler_list([](const SamplerDescriptor& d) { return !d.noised(); });
    for (std::size_t at; (at = on_p.find(" or ")) != std::string::npos;)
      on_p.replace(at, 4, " and ");
    throw SettingError(o.s.name + " starts from its prior (noise at the largest level); --init " +
                       init + " applies to " + on_p + " only");
  }
  if (init != "data" && init != "file")
    throw SettingError(setting("init") + " must be auto, prior, data or file, got '" + init + "'");
  const std::string path = init == "data" ? o.data : o.init_file;
  if (path.empty())
    throw SettingError(setting("init") + " " + init + " needs " +
                       (init == "data" ? "--data FILE" : "--init-file FILE"));
  const io::DataInfo info = io::probe_data(path);
  check_data_fits_model(src, info, path);  // its dimension, and its columns' order
  if (info.rows < 1) throw Error("'" + path + "' has no rows");
  if (init == "file" && info.rows < o.chains)
    throw Error("'" + path + "' has " + std::to_string(info.rows) + " rows but " +
                setting("chains") + " is " + std::to_string(o.chains) +
                " (one starting row per chain)");
  // Chain c starts at row c (file) or row c mod n (data).
  std::vector<Index> rows;
  for (Index c = chains.begin; c < chains.end; ++c) rows.push_back(start_index(o, c) % info.rows);
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

// The sampler's own settings as recorded in sampler.json (and checked on --resume).
nlohmann::json setting_json(const std::string& key, const SampleJob& o, const LoadedScore& src) {
  const SamplerSettings& s = o.s;
  if (key == "metric")
    return s.metric.size() > 0
               ? std::vector<double>(s.metric.data(), s.metric.data() + s.metric.size())
               : std::vector<double>{};
  // Step-size (and PT's schedule) adaptation runs in warm-up only: with --warmup 0 none ran.
  if (key == "adapt") return s.adapt && s.warmup > 0;
  if (key == "target_accept") return s.target_accept;
  if (key == "leapfrog_steps") return s.leapfrog_steps;
  if (key == "replicas") return s.replicas;
  if (key == "reference")
    return {{"mean", std::vector<double>(s.reference_mean.begin(), s.reference_mean.end())},
            {"sd", std::vector<double>(s.reference_sd.begin(), s.reference_sd.end())}};
  if (key == "sigma_max") return s.sigma_max;
  if (key == "sigma_min") return s.sigma_min;
  if (key == "levels") return s.levels;
  if (key == "denoise") return s.denoise;
  if (key == "t_eps") return s.t_eps;
  if (key == "beta_min") return src.noised ? src.noised->sde().beta_min : o.beta_min;
  if (key == "beta_max") return src.noised ? src.noised->sde().beta_max : o.beta_max;
  if (key == "snr") return s.snr;
  if (key == "corrector_steps") return s.corrector_steps;
  return nullptr;  // "warmup" and the other common settings are recorded for every sampler
}

nlohmann::json settings_json(const SampleJob& o, const SamplerDescriptor& kind,
                             const LoadedScore& src) {
  const SamplerSettings& s = o.s;
  nlohmann::json j = {{"dtype", o.dtype},   {"sampler", s.name},        {"source", src.description},
                      {"chains", o.chains}, {"steps", s.steps},         {"warmup", s.warmup},
                      {"thin", s.thin},     {"step_size", s.step_size}, {"seed", s.seed},
                      {"init", o.init},     {"data", o.data},           {"init_file", o.init_file}};
  for (const std::string& key : kind.settings)
    if (nlohmann::json value = setting_json(key, o, src); !value.is_null()) j[key] = value;
  if (o.superchains > 0) j["superchains"] = o.superchains;
  if (!o.inv.obs.empty())
    j["posterior"] = {
        {"obs", o.inv.obs},       {"operator", o.inv.op},     {"mask", o.inv.mask},
        {"kernel", o.inv.kernel}, {"image", o.inv.image},     {"boundary", o.inv.boundary},
        {"matrix", o.inv.matrix}, {"sigma_y", o.inv.sigma_y}, {"chains_per_obs", o.chains_per_obs}};
  if (o.guidance_recorded) {
    j["posterior"]["guidance"] = o.guidance;
    if (o.guidance == "pigdm") j["posterior"]["sigma_data"] = o.sigma_data;
  }
  return j;
}

std::vector<std::string> columns_of(const LoadedScore& src) {
  return src.meta.is_object() ? src.meta.value("columns", std::vector<std::string>{})
                              : std::vector<std::string>{};
}

// What the phases of a sampling run share.
struct SampleRun {
  const SamplerDescriptor* kind = nullptr;
  LoadedScore src;
  std::unique_ptr<inverse::LinearOperator> op;
  std::unique_ptr<inverse::PosteriorModel> posterior_model;
  std::unique_ptr<inverse::PosteriorNoisedScore> posterior_noised;
  std::unique_ptr<Sampler> sampler;
  RowRange chains;
  Index chain_group = kChainBlock;  // chain_shard's group: whole observations with --obs
  double gaussian_sigma_data = 0;   // a Gaussian prior's √(tr C / d) (pigdm's default), else 0
  std::optional<ChainRunner> runner;
  nlohmann::json config;
  std::optional<SampleCheckpoints> checkpoints;
  double compute = 0, io = 0, seconds = 0;
};

// The model (or target) and the sampler's settings, defaults resolved.
void load_source(const dist::Comm& comm, SampleJob& o, SampleRun& run) {
  dist::run_collectively(comm, [&] {
    run.kind = &find_sampler(o.s.name);
    const SamplerDescriptor& kind = *run.kind;
    std::string levels_given, t_eps_given;
    for (const auto& [key, name] : o.given) {
      if (!kind.uses(key))
        throw SettingError(name + " does not apply to " + o.s.name + " (it is read by " +
                           sampler_list([&](const SamplerDescriptor& d) { return d.uses(key); }) +
                           ")");
      if ((key == "beta_min" || key == "beta_max") && !o.model.empty())
        throw SettingError(
            name + " applies to a --target (a time-conditioned model keeps its own beta(t))");
      if (key == "target_accept" && o.no_adapt)
        throw SettingError(
            name + " sets the goal of the step-size adaptation, which --no-adapt turns off");
      if (key == "target_accept" && o.s.warmup == 0)
        throw SettingError(name + " sets the goal of the step-size adaptation, which runs in " +
                           setting("warmup") + " only (0 here)");
      if (key == "snr" && o.s.corrector_steps == 0)
        throw SettingError(name + " sets the corrector's step size, which " +
                           setting("corrector_steps") + " 0 turns off");
      if (key == "levels") levels_given = name;
      if (key == "t_eps") t_eps_given = name;
    }
    if (!o.posterior_given.empty() && o.inv.obs.empty())
      throw SettingError(o.posterior_given + " applies to posterior sampling (--obs Y)");
    if (!o.dim_given.empty() && !o.model.empty())
      throw SettingError(o.dim_given + " applies to a --target (a model has its own dimension)");
    if (!o.init_file.empty() && o.init != "file")
      throw SettingError(setting("init-file") +
                         " needs --init file (it holds one starting row per chain)");
    run.src = load_score_source(o.model, o.target, o.dim, kind.noise_scheme(),
                                VpSde{o.beta_min, o.beta_max}, {o.dtype == "float32", 0.0});
    if (kind.input == SamplerInput::sigma_noised) {  // a Gaussian prior's VE laws are closed-form
      const GaussianNoisedDefaults d = attach_gaussian_noised(run.src);
      if (d.sigma_max > 0 && o.s.sigma_max <= 0) o.s.sigma_max = d.sigma_max;
      if (d.sigma_min > 0 && o.s.sigma_min <= 0) o.s.sigma_min = d.sigma_min;
      run.gaussian_sigma_data = d.sigma_data;
    }
    if (o.dtype != "float64" && o.dtype != "float32")
      throw SettingError(setting("dtype") + " must be float64 or float32, got '" + o.dtype + "'");
    if (run.src.noised && kind.noised() && run.src.noised->scheme() != kind.noise_scheme())
      throw SettingError(o.s.name + " needs a model conditioned on " +
                         (kind.noise_scheme() == NoiseScheme::sigma
                              ? "sigma (dsm --noise ladder or vesde)"
                              : "time (dsm --noise vpsde)") +
                         ", but '" + o.model + "' is conditioned on the other noise scheme");
    if (kind.input == SamplerInput::sigma_noised) {
      fill_ladder_defaults(o.s, run.src.noise, !levels_given.empty());
      check_trained_level(run.src.noise, o.s.sigma_max, setting("sigma-max"));
      check_trained_level(run.src.noise, o.s.sigma_min, setting("sigma-min"));
    }
    if (kind.input == SamplerInput::time_noised) {
      // The reverse time runs down to the t_eps the network was trained to, unless given.
      if (t_eps_given.empty() && run.src.noise &&
          run.src.noise->conditioning() == Conditioning::time)
        o.s.t_eps = run.src.noise->t_eps;
      check_trained_level(run.src.noise, o.s.t_eps, setting("t-eps"));
    }
    o.s = resolve_step_size(o.s);  // recorded in sampler.json and the checkpoint config
    refuse_unread_data(o, *run.kind, *run.src.model);
  });
  // Collective itself (reads --data), so outside the block above.
  if (run.kind->uses("metric")) o.s.metric = choose_metric(comm, o, *run.src.model);
  if (run.kind->uses("reference")) {
    std::string from;
    const DiagonalGaussian reference = gaussian_reference(comm, run.src, o.data, from);
    o.s.reference_mean = reference.mean;
    o.s.reference_sd = reference.sd;
  }
}

// sample --guidance (SampleJob) resolved for a noised sampler and operator, in place;
// gaussian_sigma_data: a Gaussian prior's √(tr C / d) (load_source), else 0.
inverse::GuidanceSettings resolve_guidance(SampleJob& o, const SamplerDescriptor& kind,
                                           const inverse::LinearOperator& op,
                                           const ScoreModel& prior, double gaussian_sigma_data) {
  const inverse::Guidance automatic = kind.imputes && op.selects_coordinates()
                                          ? inverse::Guidance::imputation
                                          : inverse::Guidance::widened;
  inverse::GuidanceSettings g{
      o.guidance == "auto" ? automatic : inverse::parse_guidance(o.guidance), 0.0};
  if (g.kind == inverse::Guidance::imputation && !kind.imputes)
    throw SettingError(setting("guidance") + " imputation applies to " +
                       sampler_list([](const SamplerDescriptor& d) { return d.imputes; }) +
                       ", not " + kind.name + " (use widened or pigdm)");
  if (g.kind == inverse::Guidance::imputation && !op.selects_coordinates())
    throw SettingError(setting("guidance") + " imputation needs --operator identity or mask, not " +
                       o.inv.op);
  if (g.kind != inverse::Guidance::pigdm && o.sigma_data_given)
    throw SettingError(setting("sigma-data") + " applies to --guidance pigdm");
  if (g.kind == inverse::Guidance::pigdm) {
    const auto* mlp = dynamic_cast<const MlpModel*>(&prior);
    if (mlp != nullptr && mlp->has_energy())
      throw SettingError(setting("guidance") +
                         " pigdm needs the Jacobian of the prior's score, implemented for "
                         "mlp-score networks and analytic targets, not for this mlp-energy model");
    if (o.sigma_data_given && !(o.sigma_data > 0 && std::isfinite(o.sigma_data)))
      throw SettingError(setting("sigma-data") + " must be positive and finite, got " +
                         number_text(o.sigma_data));
    if (!o.sigma_data_given && mlp != nullptr && mlp->spec().sigma_data > 0)
      o.sigma_data = mlp->spec().sigma_data;
    // A Gaussian prior N(μ, Σ) knows its spread: edm's σ_d, the root-mean-square sd per
    // coordinate about the mean, is √(tr Σ / d) (its noised laws are centred at μ, unscaled),
    // computed with those laws (attach_gaussian_noised).
    if (!o.sigma_data_given && !(o.sigma_data > 0)) o.sigma_data = gaussian_sigma_data;
    if (!(o.sigma_data > 0))
      throw SettingError(setting("guidance") + " pigdm needs " + setting("sigma-data") +
                         " (the data's sd per coordinate in the model's units): this prior does "
                         "not record one (edm networks and Gaussian priors do)");
    g.sigma_data = o.sigma_data;
  }
  o.guidance = inverse::guidance_name(g.kind);
  o.guidance_recorded = g.kind != automatic;
  return g;
}

// Posterior sampling: chain c samples p(x | y_o), o = c / K; this rank holds only the
// observations of its chains (ranks own whole groups of lcm(64, K) chains, so no observation is
// split).
void setup_posterior(const dist::Comm& comm, SampleJob& o, SampleRun& run) {
  dist::run_collectively(comm, [&] {
    const SamplerDescriptor& kind = *run.kind;
    if (!kind.posterior)
      throw SettingError("posterior sampling (--obs) runs " +
                         sampler_list([](const SamplerDescriptor& d) { return d.posterior; }) +
                         ", not " + o.s.name);
    const io::DataInfo info = io::probe_data(o.inv.obs);
    run.op = make_operator(o.inv, run.src.model->dim(), info.rows, info.cols());
    o.chains = chains_for_units(info.rows, o.chains_per_obs, "chains-per-obs");
    run.chain_group = chain_group(o.chains_per_obs);
    const RowRange mine = chain_shard(o.chains, comm.rank(), comm.size(), run.chain_group);
    const RowRange obs{mine.begin / o.chains_per_obs, mine.end / o.chains_per_obs};
    const Matrix y = io::read_data_rows(info, obs);
    const bool noised = kind.input == SamplerInput::sigma_noised;
    if (noised && !run.src.noised)
      throw SettingError(
          o.s.name +
          " posterior sampling needs the prior's score at every noise level: a "
          "sigma-conditioned model (fit --objective dsm --noise ladder or vesde), a Gaussian "
          "prior (fit --model gaussian; ve-pc and annealed) or a gaussian/gmm target");
    if (!noised && (o.guidance_given || o.sigma_data_given))
      throw SettingError(std::string(o.guidance_given ? "--guidance" : "--sigma-data") +
                         " applies to the noised samplers (" +
                         sampler_list([](const SamplerDescriptor& d) {
                           return d.posterior && d.input == SamplerInput::sigma_noised;
                         }) +
                         "), not " + o.s.name);
    if (noised)  // the noised prior + the observation by the chosen guidance
      run.posterior_noised = std::make_unique<inverse::PosteriorNoisedScore>(
          *run.src.noised, *run.op, y, obs.begin, o.inv.sigma_y, o.chains_per_obs,
          resolve_guidance(o, kind, *run.op, *run.src.model, run.gaussian_sigma_data));
    else
      run.posterior_model = std::make_unique<inverse::PosteriorModel>(
          *run.src.model, *run.op, y, obs.begin, o.inv.sigma_y, o.chains_per_obs);
    o.no_diag = true;  // chains target different posteriors: R-hat/KSD across them are moot
  });
}

// The sampler and this rank's chains at their starting states (or the checkpoint's).
void start_chains(const dist::Comm& comm, const SampleJob& o, SampleRun& run) {
  dist::run_collectively(comm, [&] {
    const ChainTarget* target = run.src.model.get();
    if (run.posterior_model) target = run.posterior_model.get();
    const NoisedScore* noised = run.src.noised.get();
    if (run.posterior_noised) noised = run.posterior_noised.get();
    if (o.superchains != 0 && !o.inv.obs.empty())
      throw SettingError(setting("superchains") +
                         " does not apply to posterior sampling (--obs): its "
                         "chains sample different posteriors");
    if (o.superchains != 0 && (o.superchains < 2 || o.chains % o.superchains != 0))
      throw SettingError(setting("superchains") + " must be at least 2 and divide the " +
                         std::to_string(o.chains) + " chains, got " +
                         std::to_string(o.superchains));
    run.sampler = make_sampler(o.s, {target, noised});
    if (run.sampler->num_transitions() >= (Index{1} << 32))
      throw SettingError(std::to_string(run.sampler->num_transitions()) + " transitions (from " +
                         setting("steps") + ", " + setting("warmup") + ", " + setting("levels") +
                         ") are too many for the 32-bit step counter of the noise streams (at "
                         "most 4294967295)");
    // --trace-dims is checked now, not after the run that it would otherwise fail at the end of.
    check_plot_dims(o.trace_dims, run.sampler->dim(), setting("trace_dims"));
    require_draws_memory(std::ceil(static_cast<double>(o.chains) / comm.size()),
                         run.sampler->draws_per_chain(), run.sampler->dim(),
                         setting("chains") + " " + std::to_string(o.chains));
  });
  const Sampler& sampler = *run.sampler;
  run.chains = chain_shard(o.chains, comm.rank(), comm.size(), run.chain_group);
  Vector shift = Vector::Zero(sampler.dim()), scale = Vector::Ones(sampler.dim());
  if (sampler.uses_model_coordinates()) {
    shift = run.src.noised->shift();
    scale = run.src.noised->scale();
  }
  dist::run_collectively(comm, [&] {
    run.runner.emplace(sampler, run.chains,
                       initial_states(o, *run.kind, sampler, run.src, run.chains), shift, scale);
  });
  run.config = settings_json(o, *run.kind, run.src);
  run.checkpoints.emplace(comm, o.checkpoint_dir.empty() ? o.out + ".ckpt" : o.checkpoint_dir,
                          run.config);
  if (!o.resume.empty()) run.checkpoints->resume(o.resume, *run.runner);
}

// Transitions in segments; between segments the ranks agree on a stop signal (RunControl).
void run_chains(const dist::Comm& comm, const SampleJob& o, SampleRun& run) {
  ChainRunner& runner = *run.runner;
  const Index total = run.sampler->num_transitions();
  const Index every = o.progress_every > 0 ? o.progress_every : std::max<Index>(1, total / 4);
  Index segment = std::max<Index>(1, std::min<Index>(every, 50));
  if (o.checkpoint_every > 0) segment = std::min(segment, o.checkpoint_every);
  RunControl control(comm, {total, o.checkpoint_every, every, !o.quiet, o.preempt_exit_code});
  const std::string& ck_dir = run.checkpoints->dir();
  const Index resumed_at = runner.step();
  const auto start = std::chrono::steady_clock::now();
  while (runner.step() < total) {
    const Index from = runner.step();
    const auto t0 = std::chrono::steady_clock::now();
    dist::run_collectively(comm, [&] {
      try {
        runner.advance(control.segment_end(from, segment));
      } catch (const Error& e) {
        // pigdm's guidance variance r² = σ²σ_d²/(σ² + σ_d²) shrinks with σ_d: a σ_d well below the
        // data's spread makes its likelihood step stiff (seen as chains that blow up).
        if (o.guidance != "pigdm" || !o.sigma_data_given) throw;
        throw Error(std::string(e.what()) + "; " + setting("sigma-data") + " " +
                    number_text(o.sigma_data) +
                    " may be too small for this prior (a value well below the data's sd per "
                    "coordinate makes pigdm's guidance stiff): try the default or a larger value");
      }
    });
    run.compute += seconds_since(t0);
    control.signal_hook(from, runner.step());
    const bool stop = control.stop_requested();
    const double rate = static_cast<double>(o.chains) *
                        static_cast<double>(runner.step() - resumed_at) /
                        std::max(seconds_since(start), 1e-9);
    control.progress(runner.step(),
                     "step " + std::to_string(runner.step()) + "/" + std::to_string(total) + "  " +
                         fmt("%.3g", rate) + " chain-steps/s  ETA " +
                         fmt("%.0f", static_cast<double>(total - runner.step()) *
                                         static_cast<double>(o.chains) / std::max(rate, 1e-9)) +
                         " s");
    if (stop || control.checkpoint_due(runner.step())) {
      const auto t1 = std::chrono::steady_clock::now();
      run.checkpoints->write(runner);
      run.io += seconds_since(t1);
    }
    if (stop)
      control.stop("stop signal: checkpoint at step " + std::to_string(runner.step()) + " in " +
                   ck_dir + "/ (continue with --resume " + ck_dir + ")\n");
  }
  control.finish();
  run.seconds = seconds_since(start);
}

// sampler.json: the settings, the run's figures and the per-chain reports; `summary` gets the
// printed lines of the per-chain reports.
nlohmann::json run_info(const dist::Comm& comm, const SampleJob& o, const SampleRun& run,
                        Index resumed_at, std::string& summary) {
  const Sampler& sampler = *run.sampler;
  const Index total = sampler.num_transitions();
  nlohmann::json info = run.config;
  info["columns"] = columns_of(run.src);
  if (run.posterior_noised) {  // what ran, also when auto chose it (the config omits the default)
    info["posterior"]["guidance"] = o.guidance;
    if (o.guidance == "pigdm") info["posterior"]["sigma_data"] = o.sigma_data;
  }
  info["dim"] = sampler.dim();
  info["draws_per_chain"] = sampler.draws_per_chain();
  info["transitions"] = total;
  info["ranks"] = comm.size();
  info["threads_per_rank"] = parallel::num_threads();
  info["thread_backend"] = parallel::backend_name();
  info["sampling_seconds"] = run.seconds;
  info["chain_steps_per_second"] = static_cast<double>(o.chains) *
                                   static_cast<double>(total - resumed_at) /
                                   std::max(run.seconds, 1e-9);
  info["coordinates"] =
      sampler.uses_model_coordinates()
          ? "sampled in the model's coordinates z = (x - shift) / scale (standardised for a "
            "network, centred for a Gaussian fit), written in data units"
          : "data units";
  for (const auto& [name, local] : sampler.chain_report(run.runner->aux())) {
    const Vector all = gather_by_index(comm, local, run.chains.begin, o.chains);
    info["per_chain"][name] = std::vector<double>(all.data(), all.data() + all.size());
    if (!all.allFinite()) {  // undefined is not zero (nor the inf that JSON cannot hold)
      for (const char* stat : {"_mean", "_min", "_max"}) info[name + stat] = nullptr;
      info[name + "_undefined"] = non_finite_chain_report;
      summary += "  " + name + " undefined: " + non_finite_chain_report + "\n";
      continue;
    }
    // Of values up to 1.8e308 the mean is finite, their sum need not be.
    const double mean = std::isfinite(all.mean())
                            ? all.mean()
                            : (all.array() / static_cast<double>(all.size())).sum();
    info[name + "_mean"] = mean;
    info[name + "_min"] = all.minCoeff();
    info[name + "_max"] = all.maxCoeff();
    summary += "  " + name + " mean " + fmt("%.4g", mean) + " (min " + fmt("%.4g", all.minCoeff()) +
               ", max " + fmt("%.4g", all.maxCoeff()) + ")\n";
  }
  return info;
}

// samples.npy (and posterior_mean.npy) written collectively into the staged output.
void write_draws(const dist::Comm& comm, const SampleJob& o, SampleRun& run,
                 const std::string& staged) {
  const auto t_io = std::chrono::steady_clock::now();
  const Matrix& draws = run.runner->draws();
  dist::write_npy_collective(comm, staged + "samples.npy", draws, false);
  if (!o.inv.obs.empty()) {
    // Posterior mean per observation: the average over its K chains' draws.
    const Index per = o.chains_per_obs * run.sampler->draws_per_chain();
    Matrix means(draws.rows() / std::max<Index>(per, 1), draws.cols());
    for (Index i = 0; i < means.rows(); ++i)
      means.row(i) = draws.middleRows(i * per, per).colwise().mean();
    dist::write_npy_collective(comm, staged + "posterior_mean.npy", means, false);
  }
  run.io += seconds_since(t_io);
}

void render_traces(const dist::Comm& comm, const SampleJob& o, const SampleRun& run,
                   const std::string& staged) {
  if (o.trace_dims.empty()) return;
  const std::vector<std::string> columns = columns_of(run.src);
  dist::run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    TracePicture pic;
    pic.samples = staged + "samples.npy";
    pic.chains = o.chains;
    pic.dims = o.trace_dims;
    pic.dims_option = setting("trace_dims");
    for (Index j : o.trace_dims)
      pic.labels.push_back(j >= 0 && j < static_cast<Index>(columns.size())
                               ? columns[static_cast<std::size_t>(j)]
                               : "");
    pic.title = o.s.name + ": " + o.out;
    render_trace(pic, staged + "trace.png");
  });
}
}  // namespace

void run_sample(const dist::Comm& comm, SampleJob& o) {
  const auto start = std::chrono::steady_clock::now();
  o.s.adapt = !o.no_adapt;
  o.s.denoise = !o.no_denoise;
  SampleRun run;
  load_source(comm, o, run);
  if (!o.inv.obs.empty()) setup_posterior(comm, o, run);
  start_chains(comm, o, run);
  const Index resumed_at = run.runner->step();
  say(comm, std::string(o.resume.empty() ? "sampling" : "resuming") + " with " + o.s.name + ": " +
                std::to_string(o.chains) + " chains x " +
                std::to_string(run.sampler->num_transitions()) + " transitions" +
                (o.resume.empty() ? "" : " from step " + std::to_string(resumed_at)) + "; " +
                std::to_string(comm.size()) + " rank(s) x " +
                std::to_string(parallel::num_threads()) + " thread(s)\n");
  run_chains(comm, o, run);

  std::string summary;
  nlohmann::json info = run_info(comm, o, run, resumed_at, summary);
  CollectiveOutput output(comm, o.out);
  write_draws(comm, o, run, output.staged);
  render_traces(comm, o, run, output.staged);
  nlohmann::json report;
  double diag_seconds = 0;
  if (!o.no_diag) {
    const auto t_diag = std::chrono::steady_clock::now();
    DiagRequest request{output.staged + "samples.npy",
                        o.chains,
                        run.src.model.get(),
                        o.reference,
                        o.ksd_rows,
                        columns_of(run.src)};
    request.superchains = o.superchains;
    report = run_diagnostics(comm, request);
    report["samples"] = o.out + "/samples.npy";
    diag_seconds = seconds_since(t_diag);
  }
  info["wall_seconds"] = seconds_since(start);
  std::vector<std::pair<std::string, std::string>> files{{"sampler.json", info.dump(2) + "\n"}};
  if (!o.no_diag) files.emplace_back("report.json", report.dump(2) + "\n");
  output.commit(comm, files);
  say(comm, o.s.name + ": " + std::to_string(o.chains) + " chains x " +
                std::to_string(run.sampler->draws_per_chain()) + " draws, " +
                fmt("%.3g", info["chain_steps_per_second"].get<double>()) + " chain-steps/s on " +
                std::to_string(comm.size()) + " rank(s)\n" + summary);
  if (!o.no_diag) say(comm, format_report(report));
  say(comm, "wrote " + o.out + "/ (samples.npy, " +
                (o.inv.obs.empty() ? "" : "posterior_mean.npy, ") + "sampler.json" +
                (o.no_diag ? "" : ", report.json") + (o.trace_dims.empty() ? "" : ", trace.png") +
                ")\n");
  if (o.timings)
    print_timings(comm, {"compute", "io", "diagnostics"}, {run.compute, run.io, diag_seconds});
}

}  // namespace scorematch::app
