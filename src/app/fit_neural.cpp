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
#include "memory_budget.hpp"
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
#include "scorematch/objectives/batch_gradient.hpp"
#include "scorematch/training/divergence.hpp"
#include "scorematch/training/trainer.hpp"

namespace scorematch::app {

namespace {}  // namespace

namespace {
// "ssm" or "dsm with noise 'ladder', dsm with noise 'vpsde'": the objectives (each with each noise
// process where it has one) that read a setting.
std::string objective_readers(const std::string& key) {
  std::string readers;
  auto add = [&](const ObjectiveSettings& s) {
    try {
      const std::unique_ptr<Objective> objective = make_objective(s);
      if (objective->uses(key)) readers += (readers.empty() ? "" : ", ") + objective->description();
    } catch (const Error&) {
    }
  };
  for (const std::string& name : objective_names()) {
    ObjectiveSettings s;
    s.name = name;
    const bool noised = make_objective(s)->noise().has_value();
    if (!noised) add(s);
    for (NoiseKind kind :
         {NoiseKind::fixed, NoiseKind::ve_ladder, NoiseKind::ve_sde, NoiseKind::vp_sde}) {
      if (!noised) break;
      NoiseProcess p;
      p.kind = kind;
      s.noise = p.name();
      add(s);
      if (kind != NoiseKind::ve_sde) continue;
      s.sigma_density = "lognormal";  // p_mean, p_std: read by this density only
      add(s);
      s.sigma_density = ObjectiveSettings{}.sigma_density;
    }
  }
  return readers;
}
}  // namespace

void check_given_settings(const NeuralOptions& o, const Objective& objective) {
  for (const NeuralOptions::Given& g : o.given) {
    if (g.component == "objective" && !objective.uses(g.key))
      throw SettingError(g.name + " does not apply to " + objective.description() +
                         " (it is read by " + objective_readers(g.key) + ")");
    // Settings read only while another one switches their feature on: given while it is off
    // (even at their defaults) they are unread, and refused like any other unread setting.
    const struct {
      const char* key;
      bool read;
      std::string needs;
    } dependents[] = {
        {"consistency_steps", o.objective.consistency > 0,
         setting("consistency") + " > 0 (it sets the consistency term's target)"},
        {"consistency_teacher", o.objective.consistency > 0,
         setting("consistency") + " > 0 (it sets the consistency term's target)"},
        {"lr_min", o.optimizer.schedule == "cosine",
         setting("schedule") + " cosine (the rate the cosine decays to)"},
        {"val_every", o.val_fraction > 0,
         setting("val_fraction") + " > 0 (validation rows to evaluate)"},
    };
    for (const auto& d : dependents)
      if (g.key == d.key && !d.read) throw SettingError(g.name + " needs " + d.needs);
    if (g.component == "optimizer" && !o.optimizer.uses(g.key)) {
      std::string readers;
      for (const std::string& name : optimizer_names()) {
        OptimizerSettings s;
        s.name = name;
        if (s.uses(g.key)) readers += (readers.empty() ? "" : ", ") + name;
      }
      throw SettingError(g.name + " does not apply to the " + o.optimizer.name +
                         " optimizer (it is read by " + readers + ")");
    }
  }
}

namespace {

MlpSpec make_spec(const FitInputs& in, const NeuralOptions& o, const Objective& objective,
                  Index d) {
  MlpSpec spec;
  spec.dim = d;
  spec.hidden = o.hidden;
  spec.embedding = o.embedding;
  spec.residual = o.residual;
  spec.precondition = parse_precondition(o.precondition);
  spec.sigma_data = 1.0;  // placeholder for validate(); measured on the data in open_data
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
    if (h < 1)
      throw SettingError(setting("hidden") + " widths must be >= 1, got " + std::to_string(h));
    params += width * static_cast<double>(h);
    width = static_cast<double>(h) + 1;
  }
  params += width * static_cast<double>(spec.output == MlpOutput::energy ? 1 : d);
  app::require_memory(4 * 8 * params, setting("hidden") + " (" + fmt("%.3g", params) +
                                          " parameters, with their EMA and the optimiser state)");
  spec.validate();
  return spec;
}

// The keys of training_config that name input files (compared by file, not by spelling).
const std::vector<std::string> kPathKeys{"data"};

// The settings a checkpoint must agree with to be resumed.
nlohmann::json training_config(const FitInputs& in, const NeuralOptions& o, const MlpSpec& spec,
                               Index rows) {
  const auto& s = o.objective;
  const auto& p = o.optimizer;
  nlohmann::json config = {{"data", in.data},
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
  // Only when on, so that checkpoints of runs without them still resume.
  if (o.early_stopping) config["early_stopping"] = {{"val_every", o.val_every}};
  if (s.dropout > 0) config["objective"]["dropout"] = s.dropout;
  if (s.consistency > 0) config["objective"]["consistency"] = s.consistency;
  if (s.consistency_steps != 1) config["objective"]["consistency_steps"] = s.consistency_steps;
  if (o.consistency_teacher != "ema")
    config["objective"]["consistency_teacher"] = o.consistency_teacher;
  // The starting model by content (not by path: a resume from another directory, or of a copy,
  // is the same run), so a resume with another one is refused.
  if (!o.init_from.empty())
    config["init_from"] = {{"fingerprint", io::model_fingerprint(o.init_from)}};
  if (s.sigma_density != "log-uniform") {
    config["objective"]["sigma_density"] = s.sigma_density;
    config["objective"]["p_mean"] = s.p_mean;
    config["objective"]["p_std"] = s.p_std;
  }
  return config;
}

// How a key of training_config (or of a network's mlp section, as "mlp.<key>") reads in a
// --resume or --init-from refusal: the option that sets it, as the user gave it (flag or job-file
// key), or what a derived value is — never a key the user cannot set.
std::string config_key_name(const std::string& path) {
  if (path == "rows") return "rows (the training data's row count)";
  if (path == "mlp.sigma_data")
    return "mlp.sigma_data (edm's sigma_d, derived from the data and their standardisation)";
  if (path == "mlp.output") return "mlp.output (set by " + setting("model") + ")";
  if (path == "init_from" || path == "init_from.fingerprint")
    return setting("init_from") + "'s model (compared by content)";
  if (path == "objective.name") return setting("objective");
  if (path == "optimizer.name") return setting("optimizer");
  if (path == "optimizer.clip") return setting("clip_norm");
  if (path == "optimizer.ema") return setting("ema_decay");
  // training_config keys every other setting by its option's own name; no option sets the
  // optimiser's betas or the level a network is read at.
  const std::string last = path.substr(path.rfind('.') + 1);
  return last == "beta1" || last == "beta2" || last == "noise_level" ? path : setting(last);
}

// Column means and standard deviations over all ranks' rows, by the one deterministic routine
// (dist/column_stats.hpp): the in-memory and the streaming paths, and any rank count, agree
// bitwise.
using RangeReader = std::function<Matrix(RowRange)>;

// Refuses constant columns for --standardize (their sd would divide by zero).
void check_standardisable(const dist::Comm& comm, const dist::ColumnStats& stats,
                          const std::string& data) {
  dist::run_collectively(comm, [&] {
    for (Index j = 0; j < stats.sd.size(); ++j)
      if (!(stats.sd[j] > 0))
        throw Error("'" + data + "': column " + std::to_string(j + 1) +
                    " is constant; cannot standardise it (use --no-standardize)");
  });
}

struct RunState {
  Vector theta;
  OptimizerState opt;
  Index step = 0;
  double loss = std::nan(""), val_loss = std::nan("");  // of the last step taken (NaN: none)
  // --early-stopping: the EMA weights at the lowest validation loss so far (empty: none yet).
  Vector best;
  Index best_step = 0;
  double best_val = std::nan("");
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
  if (st.best.size() > 0) {
    ck.arrays["best"] = st.best;
    ck.info["best_step"] = st.best_step;
    ck.info["best_val_loss"] = st.best_val;
  }
  return ck;
}

RunState restore(const std::string& resume, const nlohmann::json& config, const Vector& shift,
                 const Vector& scale, Index P) {
  const std::string path = io::resolve_checkpoint(resume);
  const io::Checkpoint ck = io::read_checkpoint(path);
  const std::string diff =
      io::config_difference(ck.config, config, io::mlp_prose_keys(), config_key_name);
  // A setting that differs from the checkpoint's is a usage error (exit 2), as --init-from's are.
  if (!diff.empty())
    throw SettingError("checkpoint '" + path +
                       "' was written by a different training setup: " + diff);
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
  if (ck.arrays.count("best")) {
    st.best = get("best");
    st.best_step = ck.info.value("best_step", Index{0});
    st.best_val = number("best_val_loss");
  }
  return st;
}

}  // namespace

namespace {

// One neural fit, in phases that share its state: set-up (objective, network, optimiser), the data
// (this rank's rows in model units, resident or streamed), the start (fresh or resumed), the
// training loop under the run control, and the model directory. Non-copyable: the data readers
// refer to its members.
class NeuralFit {
 public:
  NeuralFit(const dist::Comm& comm, const FitInputs& in, const NeuralOptions& o)
      : comm_(comm), in_(in), o_(o), start_(std::chrono::steady_clock::now()) {}
  NeuralFit(const NeuralFit&) = delete;
  NeuralFit& operator=(const NeuralFit&) = delete;

  void run() {
    shard_ = read_shard(comm_, in_.data, in_.dim, !o_.stream);
    set_up();
    open_data();
    start_state();
    train();
    write_model();
  }

 private:
  Index dim() const { return shard_.info.cols(); }
  Index rows() const { return shard_.info.rows; }

  void set_up() {
    OptimizerSettings opt_settings = o_.optimizer;
    opt_settings.total_steps = o_.steps;
    dist::run_collectively(comm_, [&] {
      objective_ = make_objective(o_.objective);
      // Before the given settings: "needs validation rows" says more than --val-every's refusal.
      if (!(o_.val_fraction >= 0 && o_.val_fraction < 1))
        throw SettingError(setting("val-fraction") + " must lie in [0, 1)");
      if (o_.early_stopping && !(o_.val_fraction > 0))
        throw SettingError(setting("early-stopping") + " needs validation rows (" +
                           setting("val-fraction") + " > 0)");
      check_given_settings(o_, *objective_);
      spec_ = make_spec(in_, o_, *objective_, dim());
      objective_->check(spec_);
      optimizer_.emplace(opt_settings);
      if (o_.consistency_teacher == "init" && o_.init_from.empty())
        throw SettingError(setting("consistency_teacher") + " init needs " + setting("init_from") +
                           " (the model held fixed as the teacher)");
      if (objective_->needs_target_score()) {
        if (o_.target.empty())
          throw SettingError(setting("objective") + " esm needs --target NAME (its true score)");
        target_ = app::make_sized_target(o_.target, dim());
      }
      if (o_.steps > 0xfffffffeLL) throw SettingError(setting("steps") + " is too large");
      check_step_memory();
    });
  }

  // What one training step holds on a rank, at least: its share of the batch's row indices and
  // inputs, and one gradient of all parameters per chunk of rows in flight (batch_gradient.cpp
  // sums the chunks' gradients in order, so the sum does not depend on the threads).
  void check_step_memory() const {
    const double share = std::ceil(static_cast<double>(o_.batch) / comm_.size());
    const Index real = o_.dtype == "float32" ? 4 : 8, grain = batch_grain(*objective_, spec_);
    const auto chunks = static_cast<double>(
        chunks_in_flight(static_cast<Index>(share) / grain + 1, spec_.num_parameters(), real));
    app::require_memory(share * static_cast<double>(8 + real * dim()) +
                            chunks * static_cast<double>(real * spec_.num_parameters()),
                        setting("batch") + " " + std::to_string(o_.batch));
    // Each thread's jet stacks 1 + tangents rows per sample (ssm's projections, nce's noise rows)
    // through every layer.
    double width = static_cast<double>(dim());
    for (const Index h : spec_.hidden) width += static_cast<double>(h);
    const double tangents = static_cast<double>(objective_->tangents(spec_));
    app::require_memory(
        parallel::num_threads() * static_cast<double>(grain) * (tangents + 2) * width *
            static_cast<double>(real),
        objective_->name() + " with " + fmt("%.0f", tangents) + " stacked rows per sample");
  }

  // Rows in model units z = (x − shift)/scale; ESM targets in model units: ∇_z = scale ⊙ ∇_x.
  LocalRows to_model(const Matrix& x) const {
    LocalRows g;
    g.x = ((x.rowwise() - shift_.transpose()).array().rowwise() / scale_.transpose().array())
              .matrix();
    if (target_)
      g.target = (target_->score(x).array().rowwise() * scale_.transpose().array()).matrix();
    return g;
  }

  void open_data() {
    // Streaming: rows come from the file per minibatch (NPY: random access by row).
    dist::run_collectively(comm_, [&] {
      if (!o_.stream) return;
      if (shard_.info.format != io::DataInfo::Format::npy)
        throw SettingError(setting("stream") +
                           " needs an .npy data file (random access by row); '" + in_.data +
                           "' is CSV (convert it, e.g. with numpy, or drop --stream)");
      reader_.emplace(in_.data);
    });
    const RangeReader read_range = [&](RowRange r) -> Matrix {
      if (reader_) return io::read_data_rows(shard_.info, r);
      return shard_.rows.middleRows(r.begin - shard_.range.begin, r.size());
    };
    // One pass over the data for the column statistics, whoever needs them.
    const bool edm = spec_.precondition == Precondition::edm;
    shift_ = Vector::Zero(dim());
    scale_ = Vector::Ones(dim());
    if (in_.standardize || edm) {
      const dist::ColumnStats stats = dist::column_stats(comm_, read_range, shard_.range, dim(),
                                                         rows(), shard_.info.columns, in_.data);
      if (in_.standardize) {
        check_standardisable(comm_, stats, in_.data);
        shift_ = stats.mean;
        scale_ = stats.sd;
      }
      if (edm) centre_for_edm(stats);
    }
    if (reader_) {
      local_ = {shard_.range, [this](const std::vector<Index>& rows) {
                  std::vector<Index> global(rows);
                  for (Index& r : global) r += shard_.range.begin;
                  // A read error here is this rank's alone: it propagates as a local failure
                  // (main ends the job with MPI_Abort naming the rank), never a collective hang.
                  const auto t0 = std::chrono::steady_clock::now();
                  Matrix x = reader_->read(global);
                  stream_read_seconds_ += seconds_since(t0);
                  return to_model(x);
                }};
    } else {
      resident_ = to_model(shard_.rows);
      local_ = in_memory_rows(&resident_.x, shard_.range, target_ ? &resident_.target : nullptr);
    }
  }

  // edm preconditioning (models/mlp.hpp) assumes centred inputs: the model's shift becomes the
  // column means (scale stays: the sds with --standardize, 1 without) and σ_d is the root mean
  // square of the columns' sds in model units, √(mean_j sd_j² / scale_j²) — 1 when standardised.
  void centre_for_edm(const dist::ColumnStats& stats) {
    shift_ = stats.mean;
    spec_.sigma_data = std::sqrt((stats.sd.array() / scale_.array()).square().mean());
    dist::run_collectively(comm_, [&] {
      if (!(spec_.sigma_data > 0))
        throw Error("'" + in_.data + "': every column is constant; edm preconditioning (" +
                    setting("precondition") + ") needs data with a spread");
    });
  }

  // --init-from: the parameters of a fitted network of the same architecture, standardisation
  // and σ_d (fine-tuning it, e.g. with another objective; the optimiser state starts afresh).
  Vector warm_start() const {
    const std::string& dir = o_.init_from;
    const io::LoadedModel loaded = io::load_model(dir);
    const auto* mlp = dynamic_cast<const MlpModel*>(loaded.model.get());
    if (mlp == nullptr)
      throw SettingError(setting("init_from") + " '" + dir + "' holds a " + loaded.model->kind() +
                         " model, not a network");
    if (mlp->dim() != spec_.dim)
      throw SettingError(setting("init_from") + " '" + dir + "' has dimension " +
                         std::to_string(mlp->dim()) + ", but the data have " +
                         std::to_string(spec_.dim) + " columns");
    const nlohmann::json theirs = io::mlp_meta(mlp->spec(), 0.0), ours = io::mlp_meta(spec_, 0.0);
    if (theirs != ours)
      throw SettingError(setting("init_from") + " '" + dir + "' is another network (" +
                         io::config_difference(
                             theirs, ours, io::mlp_prose_keys(),
                             [](const std::string& key) { return config_key_name("mlp." + key); }) +
                         ")");
    if (mlp->shift() != shift_ || mlp->scale() != scale_)
      throw SettingError(setting("init_from") + " '" + dir +
                         "' was fitted with another standardisation of the data (its column "
                         "shift or scale differ: other data or --standardize)");
    return mlp->theta();
  }

  void start_state() {
    // Collective: --init-from's fingerprint reads that model's files.
    dist::run_collectively(comm_, [&] {
      config_ = training_config(in_, o_, spec_, rows());
      checkpoint_config_ = io::with_canonical_paths(config_, kPathKeys);  // once: see kPathKeys
    });
    ckdir_ = o_.checkpoint_dir.empty() ? in_.out + ".ckpt" : o_.checkpoint_dir;
    dist::run_collectively(comm_, [&] {
      if (!o_.resume.empty()) {
        st_ = restore(o_.resume, checkpoint_config_, shift_, scale_, spec_.num_parameters());
      } else {
        st_.theta = o_.init_from.empty()
                        ? init_mlp_parameters(spec_, derive_seed(o_.seed, kInitTag))
                        : warm_start();
        st_.opt = optimizer_->init(st_.theta);
      }
      // A fixed teacher is the starting model, read again on --resume (the run's fingerprint
      // holds that model's).
      if (o_.consistency_teacher == "init") teacher_ = o_.resume.empty() ? st_.theta : warm_start();
    });
    first_ = st_.step + 1;
    ck_every_ = o_.checkpoint_every > 0 ? o_.checkpoint_every : std::max<Index>(1, o_.steps / 10);
    if (!o_.resume.empty()) last_checkpoint_ = io::resolve_checkpoint(o_.resume);
    if (!o_.resume.empty()) open_log();  // trims the log to the checkpoint's step
    say(comm_, std::string(o_.resume.empty() ? "training " : "resuming ") + spec_.kind() + " (" +
                   std::to_string(spec_.num_parameters()) + " parameters, " + o_.dtype + ") by " +
                   objective_->name() + " on " + std::to_string(rows()) + " rows x " +
                   std::to_string(dim()) + " columns; " + std::to_string(comm_.size()) +
                   " rank(s) x " + std::to_string(parallel::num_threads()) + " thread(s)" +
                   (o_.resume.empty() ? "" : "; from step " + std::to_string(st_.step)) + "\n");
  }

  std::string write_checkpoint() {
    const auto t0 = std::chrono::steady_clock::now();
    std::string path;
    dist::run_collectively(comm_, [&] {
      if (comm_.is_root())
        path = io::write_checkpoint(
            ckdir_, make_checkpoint(checkpoint_config_, st_, shift_, scale_, seconds_since(start_)),
            o_.keep);
    });
    io_seconds_ += seconds_since(t0);
    comm_.broadcast(path);
    last_checkpoint_ = path;
    return path;
  }

  std::string last_good() const {
    return last_checkpoint_.empty()
               ? std::string("no checkpoint was written before it (the first is due at step ") +
                     std::to_string(first_ - 1 + ck_every_ - (first_ - 1) % ck_every_) + ")"
               : "the last good checkpoint is '" + last_checkpoint_ + "'";
  }

  void train() {
    const Index log_every = o_.log_every > 0 ? o_.log_every : std::max<Index>(1, o_.steps / 100);
    const Index val_every = o_.val_every > 0 ? o_.val_every : std::max<Index>(1, o_.steps / 10);
    const DataSplit split{rows(), o_.val_fraction, o_.seed};
    Trainer trainer(spec_, *objective_, {o_.batch, o_.seed, o_.dtype == "float32"}, split);
    if (teacher_.size() > 0) trainer.hold_teacher(&teacher_);
    const Reduce reduce = [&](std::vector<double>& buffer) { comm_.allreduce_sum(buffer); };
    RunControl control(comm_, {o_.steps, ck_every_, std::max(log_every, o_.steps / 20), true,
                               o_.preempt_exit_code});
    // A stop signal that arrived during start-up or while --resume loaded: stop before the first
    // step. A fresh run writes its initial state (step 0), so that --resume always finds a
    // checkpoint; a resumed one still has the checkpoint it started from.
    if (control.stop_requested()) {
      const std::string path = o_.resume.empty() ? write_checkpoint() : last_checkpoint_;
      control.stop("stop signal received before the first step: checkpoint " + path +
                   "; continue with --resume " + (o_.resume.empty() ? ckdir_ : o_.resume) + "\n");
    }
    DivergenceMonitor divergence(st_.theta);
    Index samples = 0;
    const auto loop_start = std::chrono::steady_clock::now();
    for (Index step = first_; step <= o_.steps; ++step) {
      control.signal_hook(step - 1, step);
      const StepResult r = trainer.step(static_cast<std::uint32_t>(step), st_.theta, *optimizer_,
                                        st_.opt, local_, reduce, {RunControl::local_stop_flag()});
      compute_ += r.compute_seconds;
      allreduce_ += r.reduce_seconds;
      const std::string diverged =
          r.finite ? divergence.check(r.loss, st_.theta) : "the loss or gradient is not finite";
      if (!diverged.empty()) {
        control.finish();
        dist::run_collectively(comm_, [&] {
          throw Error("training diverged at step " + std::to_string(step) + ": " + diverged +
                      "; nothing was written for this step; " + last_good() +
                      (log_open_ ? "; the loss history is in " + ckdir_ + "/metrics.jsonl"
                                 : std::string()) +
                      " (try a smaller --lr or --clip)");
        });
      }
      st_.step = step;
      st_.loss = r.loss;
      samples += o_.batch;
      const double rate = static_cast<double>(samples) / std::max(seconds_since(loop_start), 1e-9);
      const bool validate = split.val_fraction > 0 && (step % val_every == 0 || step == o_.steps);
      if (validate) {
        const auto t0 = std::chrono::steady_clock::now();
        st_.val_loss = trainer.validation_loss(st_.opt.ema, local_, reduce);
        compute_ += seconds_since(t0);  // validation is compute (its reads are moved to io)
        // The loss is allreduced, so every rank takes the same decision.
        if (o_.early_stopping && std::isfinite(st_.val_loss) &&
            (st_.best.size() == 0 || st_.val_loss < st_.best_val)) {
          st_.best = st_.opt.ema;
          st_.best_step = step;
          st_.best_val = st_.val_loss;
        }
      }
      if (step % log_every == 0 || step == o_.steps || validate) log_step(step, r, rate, validate);
      const double eta =
          static_cast<double>(o_.steps - step) * static_cast<double>(o_.batch) / rate;
      control.progress(
          step, "step " + std::to_string(step) + "/" + std::to_string(o_.steps) + "  loss " +
                    fmt("%.6g", st_.loss) +
                    (std::isnan(st_.val_loss) ? "" : "  val " + fmt("%.6g", st_.val_loss)) + "  " +
                    fmt("%.0f", rate) + " samples/s  ETA " + fmt("%.0f", eta) + " s");
      const bool stop = !r.extras.empty() && r.extras[0] > 0;
      if (step % ck_every_ == 0 || stop) {
        const std::string path = write_checkpoint();
        if (stop)
          control.stop("stop signal received: finished step " + std::to_string(step) +
                       ", checkpoint written to " + path + "; continue with --resume " + ckdir_ +
                       "\n");
      }
      control.after_step(step);
    }
    control.finish();
    if (st_.step % ck_every_ != 0) write_checkpoint();
  }

  // metrics.jsonl in the checkpoint directory, opened at the first logged step of a new run, so a
  // run that fails before it leaves no directory behind.
  void open_log() {
    dist::run_collectively(comm_, [&] {
      if (!comm_.is_root()) return;
      std::filesystem::create_directories(ckdir_);
      log_.emplace(ckdir_ + "/metrics.jsonl", o_.resume.empty() ? -1 : st_.step);
    });
    log_open_ = true;
  }

  void log_step(Index step, const StepResult& r, double rate, bool validate) {
    if (!log_open_) open_log();
    const auto t0 = std::chrono::steady_clock::now();
    nlohmann::json record = {
        {"step", step},      {"loss", st_.loss},      {"grad_norm", r.update.grad_norm},
        {"lr", r.update.lr}, {"samples_per_s", rate}, {"seconds", seconds_since(start_)}};
    if (validate) record["val_loss"] = st_.val_loss;
    if (log_) log_->append(record);
    io_seconds_ += seconds_since(t0);
  }

  // The saved model is the EMA of the weights; a conditioned network is evaluated, as a plain
  // score model, at its smallest training level.
  void write_model() {
    std::optional<NoiseProcess> noise = objective_->noise();
    if (noise) noise->sde = spec_.sde;
    const bool best = o_.early_stopping && st_.best.size() > 0;
    if (o_.early_stopping && !best)
      say(comm_,
          "warning: --early-stopping saw no finite validation loss (no validation rows in "
          "this data, or the losses overflowed): the last weights are saved\n");
    const MlpModel model(
        spec_, best ? st_.best : st_.opt.ema, shift_, scale_,
        spec_.conditioning != Conditioning::none && noise ? noise->smallest_level() : 0.0);
    const double seconds = seconds_since(start_);
    nlohmann::json meta = {{"columns", shard_.info.columns},
                           {"mlp", io::mlp_meta(spec_, model.noise_level())},
                           {"fit",
                            {{"method", "neural score matching"},
                             {"config", config_},
                             {"final_loss", st_.loss},
                             {"val_loss", st_.val_loss},
                             {"weights", std::string(o_.optimizer.ema_decay > 0 ? "ema" : "raw") +
                                             (best ? " at the lowest validation loss" : "")},
                             {"ranks", comm_.size()},
                             {"threads_per_rank", parallel::num_threads()},
                             {"thread_backend", parallel::backend_name()},
                             {"seconds", seconds}}}};
    if (noise) meta["noise"] = io::noise_meta(*noise);
    if (best) {
      meta["fit"]["best_step"] = st_.best_step;
      meta["fit"]["best_val_loss"] = st_.best_val;
    }
    dist::run_collectively(comm_, [&] {
      if (!comm_.is_root()) return;
      io::OutputDir dir(in_.out);
      io::stage_model(dir, model, meta);
      std::ifstream metrics(ckdir_ + "/metrics.jsonl");
      std::stringstream text;
      text << metrics.rdbuf();
      dir.write_text("metrics.jsonl", text.str());
      dir.commit();
    });
    say(comm_,
        "final loss " + fmt("%.6g", st_.loss) +
            (std::isnan(st_.val_loss) ? "" : ", validation loss " + fmt("%.6g", st_.val_loss)) +
            " after " + std::to_string(o_.steps) + " steps (" + fmt("%.1f", seconds) + " s)\n" +
            (best ? "early stopping: saved the weights of step " + std::to_string(st_.best_step) +
                        " (validation loss " + fmt("%.6g", st_.best_val) + ")\n"
                  : "") +
            "wrote " + in_.out +
            "/ (meta.json, W*.npy, b*.npy, shift.npy, scale.npy, metrics.jsonl)\n" +
            (o_.objective.name == "nce"
                 ? "nce learns the normaliser in the output bias, so log Z is near 0, but not "
                   "exactly: estimate it with `scorematch logz --model " +
                       in_.out + " --out Z` before loglik/compare\n"
                 : ""));
    if (o_.timings)
      print_timings(
          comm_, {"compute", "allreduce", "io"},
          {compute_ - stream_read_seconds_, allreduce_, io_seconds_ + stream_read_seconds_});
  }

  const dist::Comm& comm_;
  const FitInputs& in_;
  const NeuralOptions& o_;
  const std::chrono::steady_clock::time_point start_;
  Shard shard_;
  MlpSpec spec_;
  std::unique_ptr<Objective> objective_;
  std::unique_ptr<Target> target_;
  std::optional<Optimizer> optimizer_;
  std::optional<io::NpyRowReader> reader_;
  Vector shift_, scale_;
  Vector teacher_;  // --consistency-teacher init: the starting model, held fixed (else empty)
  LocalRows resident_;
  LocalData local_;
  nlohmann::json config_;
  nlohmann::json checkpoint_config_;     // config_ with its input files by canonical path
  std::string ckdir_, last_checkpoint_;  // last: written by this process, or resumed from
  RunState st_;
  Index first_ = 1, ck_every_ = 1;
  std::optional<io::MetricsLog> log_;
  bool log_open_ = false;
  double compute_ = 0, allreduce_ = 0, io_seconds_ = 0;
  double stream_read_seconds_ = 0;  // inside the trainer's compute time; reported as I/O
};

}  // namespace

void fit_neural(const dist::Comm& comm, const FitInputs& in, const NeuralOptions& o) {
  NeuralFit(comm, in, o).run();
}

}  // namespace scorematch::app
