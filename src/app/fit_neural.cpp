// Neural score matching from the CLI: reads this rank's rows, standardises them with global
// column statistics, and runs Trainer steps whose fused gradient allreduce also carries the
// stop-signal flag. Checkpoints (rank 0) go to --checkpoint-dir (default <out>.ckpt) together
// with metrics.jsonl; the model (EMA weights) is written atomically to --out at the end.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>

#include "data_shard.hpp"
#include "fit_neural.hpp"
#include "report.hpp"
#include "run_control.hpp"
#include "scorematch/core/error.hpp"
#include "scorematch/core/parallel.hpp"
#include "scorematch/core/random_stream.hpp"
#include "scorematch/dist/column_stats.hpp"
#include "scorematch/io/checkpoint.hpp"
#include "scorematch/io/metrics_log.hpp"
#include "scorematch/io/model_dir.hpp"
#include "scorematch/io/npy_row_reader.hpp"
#include "scorematch/models/mlp_model.hpp"
#include "scorematch/models/targets.hpp"
#include "scorematch/training/divergence.hpp"
#include "scorematch/training/trainer.hpp"

namespace scorematch::app {

namespace {}  // namespace

void check_given_settings(const NeuralOptions& o, const Objective& objective) {
  for (const NeuralOptions::Given& g : o.given) {
    if (g.component == "objective" && !objective.uses(g.key))
      throw Error(g.name + " does not apply to " + objective.description());
    if (g.component == "optimizer" && !o.optimizer.uses(g.key))
      throw Error(g.name + " does not apply to the " + o.optimizer.name + " optimizer");
  }
}

namespace {

MlpSpec make_spec(const FitInputs& in, const NeuralOptions& o, const Objective& objective,
                  Index d) {
  MlpSpec spec;
  spec.dim = d;
  spec.hidden = o.hidden;
  spec.output = in.output;
  spec.activation = parse_activation(o.activation);
  std::string cond = o.conditioning;
  // auto: what the objective's noise process needs (none without one).
  const std::optional<NoiseProcess> noise = objective.noise();
  spec.conditioning = cond == "auto" ? (noise ? noise->conditioning() : Conditioning::none)
                                     : parse_conditioning(cond);
  spec.sde.beta_min = o.beta_min;
  spec.sde.beta_max = o.beta_max;
  // The parameters, their EMA and two optimiser moments (4 copies of float64), before anything is
  // allocated: an absurd --hidden is an error naming the option and the size, not bad_alloc.
  double params = 0, width = static_cast<double>(d) + 1;
  for (Index h : o.hidden) {
    if (h < 1) throw Error("--hidden widths must be >= 1, got " + std::to_string(h));
    params += width * static_cast<double>(h);
    width = static_cast<double>(h) + 1;
  }
  params += width * static_cast<double>(spec.output == MlpOutput::energy ? 1 : d);
  const double bytes = 4 * 8 * params;
  const double memory = static_cast<double>(::sysconf(_SC_PHYS_PAGES)) *
                        static_cast<double>(::sysconf(_SC_PAGE_SIZE));
  if (bytes > memory)
    throw Error("--hidden asks for " + fmt("%.3g", params) + " parameters (" +
                fmt("%.3g", bytes / 1073741824.0) +
                " GiB with the optimiser state), more than this " + "machine's " +
                fmt("%.3g", memory / 1073741824.0) + " GiB of memory");
  spec.validate();
  return spec;
}

// The settings a checkpoint must agree with to be resumed.
nlohmann::json training_config(const FitInputs& in, const NeuralOptions& o, const MlpSpec& spec,
                               Index rows) {
  const auto& s = o.objective;
  const auto& p = o.optimizer;
  return {{"data", in.data},
          {"rows", rows},
          {"model", in.model},
          {"standardize", in.standardize},
          {"mlp", io::mlp_meta(spec, 0.0)},
          {"dtype", o.dtype},
          {"objective",
           {{"name", s.name},
            {"projections", s.projections},
            {"probe", s.probe},
            {"variance_reduced", s.variance_reduced},
            {"noise", s.noise},
            {"sigma", s.sigma},
            {"sigma_min", s.sigma_min},
            {"sigma_max", s.sigma_max},
            {"levels", s.levels},
            {"t_eps", s.t_eps},
            {"target", o.target}}},
          {"optimizer",
           {{"name", p.name},
            {"lr", p.lr},
            {"lr_min", p.lr_min},
            {"schedule", p.schedule},
            {"warmup", p.warmup},
            {"weight_decay", p.weight_decay},
            {"momentum", p.momentum},
            {"clip", p.clip_norm},
            {"ema", p.ema_decay},
            {"beta1", p.beta1},
            {"beta2", p.beta2}}},
          {"steps", o.steps},
          {"batch", o.batch},
          {"seed", o.seed},
          {"val_fraction", o.val_fraction}};
}

// Column means and standard deviations over all ranks' rows, by the one deterministic routine
// (dist/column_stats.hpp): the in-memory and the streaming paths, and any rank count, agree
// bitwise.
using RangeReader = std::function<Matrix(RowRange)>;

std::pair<Vector, Vector> column_standardisation(const dist::Comm& comm, const RangeReader& read,
                                                 RowRange range, Index d, Index total,
                                                 const std::string& data,
                                                 const std::vector<std::string>& columns) {
  const dist::ColumnStats stats = dist::column_stats(comm, read, range, d, total, columns, data);
  dist::run_collectively(comm, [&] {
    for (Index j = 0; j < d; ++j)
      if (!(stats.sd[j] > 0))
        throw Error("'" + data + "': column " + std::to_string(j + 1) +
                    " is constant; cannot standardise it (use --no-standardize)");
  });
  return {stats.mean, stats.sd};
}

struct RunState {
  Vector theta;
  OptimizerState opt;
  Index step = 0;
  double loss = std::nan(""), val_loss = std::nan("");  // of the last step taken (NaN: none)
};

io::Checkpoint make_checkpoint(const nlohmann::json& config, const RunState& st,
                               const Vector& shift, const Vector& scale, double seconds) {
  io::Checkpoint ck;
  ck.config = config;
  ck.step = st.step;
  ck.info = {
      {"rng", {{"seed", config.at("seed")}, {"next_step", st.step + 1}}},
      {"optimizer_step", st.opt.step},
      {"loss", std::isfinite(st.loss) ? nlohmann::json(st.loss) : nlohmann::json()},
      {"val_loss", std::isfinite(st.val_loss) ? nlohmann::json(st.val_loss) : nlohmann::json()},
      {"seconds", seconds}};
  ck.arrays = {{"theta", st.theta},
               {"ema", st.opt.ema},
               {"m", st.opt.m},
               {"shift", shift},
               {"scale", scale}};
  if (st.opt.v.size() > 0) ck.arrays["v"] = st.opt.v;
  return ck;
}

RunState restore(const std::string& resume, const nlohmann::json& config, const Vector& shift,
                 const Vector& scale, Index P) {
  const std::string path = io::resolve_checkpoint(resume);
  const io::Checkpoint ck = io::read_checkpoint(path);
  const std::string diff = io::config_difference(ck.config, config);
  if (!diff.empty())
    throw Error("checkpoint '" + path + "' was written by a different training setup: " + diff);
  auto get = [&](const std::string& name) -> const Vector& {
    auto it = ck.arrays.find(name);
    if (it == ck.arrays.end()) throw Error("checkpoint '" + path + "' lacks array '" + name + "'");
    return it->second;
  };
  if (get("theta").size() != P || get("shift") != shift || get("scale") != scale)
    throw Error("checkpoint '" + path +
                "' does not match this model or data (parameters or "
                "standardisation differ)");
  RunState st;
  st.theta = get("theta");
  st.opt.ema = get("ema");
  st.opt.m = get("m");
  if (ck.arrays.count("v")) st.opt.v = get("v");
  st.opt.step = ck.info.value("optimizer_step", ck.step);
  st.step = ck.step;
  // The losses of the checkpointed step (absent in checkpoints of older versions: NaN = unknown).
  auto number = [&](const char* key) {
    return ck.info.contains(key) && ck.info[key].is_number() ? ck.info[key].get<double>()
                                                             : std::nan("");
  };
  st.loss = number("loss");
  st.val_loss = number("val_loss");
  return st;
}

}  // namespace

void fit_neural(const dist::Comm& comm, const FitInputs& in, const NeuralOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  const Shard shard = read_shard(comm, in.data, in.dim, !o.stream);
  const Index d = shard.info.cols(), total = shard.info.rows;

  MlpSpec spec;
  std::unique_ptr<Objective> objective;
  std::unique_ptr<Target> target;
  OptimizerSettings opt_settings = o.optimizer;
  opt_settings.total_steps = o.steps;
  std::optional<Optimizer> optimizer;
  dist::run_collectively(comm, [&] {
    objective = make_objective(o.objective);
    check_given_settings(o, *objective);
    spec = make_spec(in, o, *objective, d);
    objective->check(spec);
    optimizer.emplace(opt_settings);
    if (!(o.val_fraction >= 0 && o.val_fraction < 1))
      throw Error("--val-fraction must lie in [0, 1)");
    if (objective->needs_target_score()) {
      if (o.target.empty()) throw Error("--objective esm needs --target NAME (its true score)");
      target = make_target(o.target, d);
    }
    if (o.steps > 0xfffffffeLL) throw Error("--steps is too large");
  });

  // Streaming: rows come from the file per minibatch (NPY: random access by row).
  std::optional<io::NpyRowReader> reader;
  dist::run_collectively(comm, [&] {
    if (!o.stream) return;
    if (shard.info.format != io::DataInfo::Format::npy)
      throw Error("--stream needs an .npy data file (random access by row); '" + in.data +
                  "' is CSV (convert it, e.g. with numpy, or drop --stream)");
    reader.emplace(in.data);
  });
  const RangeReader read_range = [&](RowRange r) -> Matrix {
    if (reader) return io::read_data_rows(shard.info, r);
    return shard.rows.middleRows(r.begin - shard.range.begin, r.size());
  };
  const auto [shift, scale] = in.standardize
                                  ? column_standardisation(comm, read_range, shard.range, d, total,
                                                           in.data, shard.info.columns)
                                  : std::pair{Vector(Vector::Zero(d)), Vector(Vector::Ones(d))};
  // Rows in model units z = (x − shift)/scale; ESM targets in model units: ∇_z = scale ⊙ ∇_x.
  auto to_model = [&](const Matrix& x) {
    LocalRows g;
    g.x =
        ((x.rowwise() - shift.transpose()).array().rowwise() / scale.transpose().array()).matrix();
    if (target)
      g.target = (target->score(x).array().rowwise() * scale.transpose().array()).matrix();
    return g;
  };
  LocalRows resident;
  LocalData local;
  double stream_read_seconds = 0;  // inside the trainer's compute time; reported as I/O
  if (reader) {
    local = {shard.range, [&](const std::vector<Index>& rows) {
               std::vector<Index> global(rows);
               for (Index& r : global) r += shard.range.begin;
               // A read error here is this rank's alone: it propagates as a local failure
               // (main ends the job with MPI_Abort naming the rank), never a collective hang.
               const auto t0 = std::chrono::steady_clock::now();
               Matrix x = reader->read(global);
               stream_read_seconds += seconds_since(t0);
               return to_model(x);
             }};
  } else {
    resident = to_model(shard.rows);
    local = in_memory_rows(&resident.x, shard.range, target ? &resident.target : nullptr);
  }

  const DataSplit split{total, o.val_fraction, o.seed};
  TrainSettings ts{o.batch, o.seed, o.dtype == "float32"};
  Trainer trainer(spec, *objective, ts, split);
  const Reduce reduce = [&](std::vector<double>& buffer) { comm.allreduce_sum(buffer); };
  const nlohmann::json config = training_config(in, o, spec, total);
  const std::string ckdir = o.checkpoint_dir.empty() ? in.out + ".ckpt" : o.checkpoint_dir;

  RunState st;
  dist::run_collectively(comm, [&] {
    if (!o.resume.empty()) {
      st = restore(o.resume, config, shift, scale, spec.num_parameters());
    } else {
      st.theta = init_mlp_parameters(spec, derive_seed(o.seed, kInitTag));
      st.opt = optimizer->init(st.theta);
    }
  });
  const Index first = st.step + 1;
  const Index log_every = o.log_every > 0 ? o.log_every : std::max<Index>(1, o.steps / 100);
  const Index val_every = o.val_every > 0 ? o.val_every : std::max<Index>(1, o.steps / 10);
  const Index ck_every =
      o.checkpoint_every > 0 ? o.checkpoint_every : std::max<Index>(1, o.steps / 10);

  std::optional<io::MetricsLog> log;
  dist::run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    std::filesystem::create_directories(ckdir);
    log.emplace(ckdir + "/metrics.jsonl", o.resume.empty() ? -1 : st.step);
  });
  say(comm, std::string(o.resume.empty() ? "training " : "resuming ") + spec.kind() + " (" +
                std::to_string(spec.num_parameters()) + " parameters, " + o.dtype + ") by " +
                objective->name() + " on " + std::to_string(total) + " rows x " +
                std::to_string(d) + " columns; " + std::to_string(comm.size()) + " rank(s) x " +
                std::to_string(parallel::num_threads()) + " thread(s)" +
                (o.resume.empty() ? "" : "; from step " + std::to_string(st.step)) + "\n");

  RunControl control(
      comm, {o.steps, ck_every, std::max(log_every, o.steps / 20), true, o.preempt_exit_code});
  double compute = 0, allreduce = 0, io_seconds = 0;
  double& loss = st.loss;
  double& last_val = st.val_loss;
  std::string last_checkpoint;  // written by this process, or resumed from
  if (!o.resume.empty()) last_checkpoint = io::resolve_checkpoint(o.resume);
  DivergenceMonitor divergence(st.theta);
  Index samples = 0;
  const auto loop_start = std::chrono::steady_clock::now();
  auto write_ck = [&] {
    const auto t0 = std::chrono::steady_clock::now();
    std::string path;
    dist::run_collectively(comm, [&] {
      if (comm.is_root())
        path = io::write_checkpoint(
            ckdir, make_checkpoint(config, st, shift, scale, seconds_since(start)), o.keep);
    });
    io_seconds += seconds_since(t0);
    comm.broadcast(path);
    last_checkpoint = path;
    return path;
  };
  auto last_good = [&] {
    return last_checkpoint.empty()
               ? std::string("no checkpoint was written before it (the first is due at step ") +
                     std::to_string(first - 1 + ck_every - (first - 1) % ck_every) + ")"
               : "the last good checkpoint is '" + last_checkpoint + "'";
  };

  // A stop signal that arrived during start-up or while --resume loaded: stop before the first
  // step. A fresh run writes its initial state (step 0), so that --resume always finds a
  // checkpoint; a resumed one still has the checkpoint it started from.
  if (control.stop_requested()) {
    const std::string path = o.resume.empty() ? write_ck() : last_checkpoint;
    control.stop("stop signal received before the first step: checkpoint " + path +
                 "; continue with --resume " + (o.resume.empty() ? ckdir : o.resume) + "\n");
  }

  for (Index step = first; step <= o.steps; ++step) {
    control.signal_hook(step - 1, step);
    const StepResult r = trainer.step(static_cast<std::uint32_t>(step), st.theta, *optimizer,
                                      st.opt, local, reduce, {RunControl::local_stop_flag()});
    compute += r.compute_seconds;
    allreduce += r.reduce_seconds;
    const std::string diverged =
        r.finite ? divergence.check(r.loss, st.theta) : "the loss or gradient is not finite";
    if (!diverged.empty()) {
      control.finish();
      dist::run_collectively(comm, [&] {
        throw Error("training diverged at step " + std::to_string(step) + ": " + diverged +
                    "; nothing was written for this step; " + last_good() +
                    " (try a smaller --lr or --clip)");
      });
    }
    st.step = step;
    loss = r.loss;
    samples += o.batch;
    const double elapsed = seconds_since(loop_start);
    const double rate = static_cast<double>(samples) / std::max(elapsed, 1e-9);
    const bool validate = split.val_fraction > 0 && (step % val_every == 0 || step == o.steps);
    if (validate) {
      const auto t0 = std::chrono::steady_clock::now();
      last_val = trainer.validation_loss(st.opt.ema, local, reduce);
      compute += seconds_since(t0);  // validation is compute (its reads are moved to io below)
    }
    if (step % log_every == 0 || step == o.steps || validate) {
      const auto t0 = std::chrono::steady_clock::now();
      nlohmann::json record = {
          {"step", step},      {"loss", loss},          {"grad_norm", r.update.grad_norm},
          {"lr", r.update.lr}, {"samples_per_s", rate}, {"seconds", seconds_since(start)}};
      if (validate) record["val_loss"] = last_val;
      if (log) log->append(record);
      io_seconds += seconds_since(t0);
    }
    const double eta = static_cast<double>(o.steps - step) * static_cast<double>(o.batch) / rate;
    control.progress(step, "step " + std::to_string(step) + "/" + std::to_string(o.steps) +
                               "  loss " + fmt("%.6g", loss) +
                               (std::isnan(last_val) ? "" : "  val " + fmt("%.6g", last_val)) +
                               "  " + fmt("%.0f", rate) + " samples/s  ETA " + fmt("%.0f", eta) +
                               " s");
    const bool stop = !r.extras.empty() && r.extras[0] > 0;
    if (step % ck_every == 0 || stop) {
      const std::string path = write_ck();
      if (stop)
        control.stop("stop signal received: finished step " + std::to_string(step) +
                     ", checkpoint written to " + path + "; continue with --resume " + ckdir +
                     "\n");
    }
    control.after_step(step);
  }
  control.finish();
  if (st.step % ck_every != 0) write_ck();

  // The saved model is the EMA of the weights.
  // A conditioned network is evaluated, as a plain score model, at its smallest training level.
  std::optional<NoiseProcess> noise = objective->noise();
  if (noise) noise->sde = spec.sde;
  const MlpModel model(
      spec, st.opt.ema, shift, scale,
      spec.conditioning != Conditioning::none && noise ? noise->smallest_level() : 0.0);
  const double seconds = seconds_since(start);
  nlohmann::json meta = {{"columns", shard.info.columns},
                         {"mlp", io::mlp_meta(spec, model.noise_level())},
                         {"fit",
                          {{"method", "neural score matching"},
                           {"config", config},
                           {"final_loss", loss},
                           {"val_loss", last_val},
                           {"weights", o.optimizer.ema_decay > 0 ? "ema" : "raw"},
                           {"ranks", comm.size()},
                           {"threads_per_rank", parallel::num_threads()},
                           {"thread_backend", parallel::backend_name()},
                           {"seconds", seconds}}}};
  if (noise) meta["noise"] = io::noise_meta(*noise);
  dist::run_collectively(comm, [&] {
    if (!comm.is_root()) return;
    io::OutputDir dir(in.out);
    io::stage_model(dir, model, meta);
    std::ifstream metrics(ckdir + "/metrics.jsonl");
    std::stringstream text;
    text << metrics.rdbuf();
    dir.write_text("metrics.jsonl", text.str());
    dir.commit();
  });
  say(comm, "final loss " + fmt("%.6g", loss) +
                (std::isnan(last_val) ? "" : ", validation loss " + fmt("%.6g", last_val)) +
                " after " + std::to_string(o.steps) + " steps (" + fmt("%.1f", seconds) +
                " s)\nwrote " + in.out +
                "/ (meta.json, W*.npy, b*.npy, shift.npy, scale.npy, "
                "metrics.jsonl)\n");
  if (o.timings)
    print_timings(comm, {"compute", "allreduce", "io"},
                  {compute - stream_read_seconds, allreduce, io_seconds + stream_read_seconds});
}

}  // namespace scorematch::app
