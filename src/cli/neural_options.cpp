#include "neural_options.hpp"

#include "command.hpp"
#include "scorematch/objectives/dropout.hpp"
#include "scorematch/objectives/objective.hpp"

namespace scorematch::cli {

namespace {
const std::string kNeuralGroup = "Neural models (--model mlp-energy | mlp-score)";

// The component an option configures: "objective" and "optimizer" settings are read only by
// some objectives (optimizers), which decide (Objective::uses, OptimizerSettings::uses).
std::string component_of(const std::string& key) {
  static constexpr const char* kObjectiveKeys[] = {"projections",
                                                   "probe",
                                                   "variance_reduced",
                                                   "noise",
                                                   "sigma",
                                                   "sigma_min",
                                                   "sigma_max",
                                                   "levels",
                                                   "beta_min",
                                                   "beta_max",
                                                   "t_eps",
                                                   "target",
                                                   "noise_ratio",
                                                   "dropout",
                                                   "sigma_density",
                                                   "p_mean",
                                                   "p_std",
                                                   "consistency",
                                                   "consistency_steps",
                                                   "consistency_teacher"};
  for (const char* k : kObjectiveKeys)
    if (key == k) return "objective";
  if (key == "momentum") return "optimizer";
  // How the run is driven, not what is fitted: generic batch scripts (jobs/slurm/) pass these to
  // every fit, and a closed-form fit simply has no checkpoint to write.
  for (const char* k : {"checkpoint_dir", "resume", "preempt_exit_code", "keep", "checkpoint_every",
                        "log_every", "timings"})
    if (key == k) return "run";
  return "network";
}
}  // namespace

std::vector<NeuralOptions::Given> given_neural_settings(const CLI::App* app) {
  std::vector<NeuralOptions::Given> given;
  for (const CLI::Option* opt : app->get_options()) {
    if (opt->get_group() != kNeuralGroup || !is_given(opt)) continue;
    std::string key = opt->get_lnames().front();
    for (char& c : key)
      if (c == '-') c = '_';
    given.push_back({component_of(key), key, given_name(opt)});
  }
  return given;
}

void add_neural_options(CLI::App* app, NeuralOptions& o) {
  const std::string& g = kNeuralGroup;
  auto opt = [&](const std::string& name, auto& value, const std::string& help) {
    return app->add_option(name, value, help)->group(g)->capture_default_str();
  };
  opt("--objective", o.objective.name, "esm | ism | ssm | dsm; nce (poly:K)");
  opt("--steps", o.steps, "Optimiser steps")->check(at_least(1));
  opt("--batch", o.batch, "Global minibatch size (split over ranks)")->check(at_least(1));
  opt("--seed", o.seed, "Seed of initialisation, minibatches, noise and validation split")
      ->check(at_least(0));
  opt("--hidden", o.hidden, "Hidden widths, e.g. 128,128,128")->delimiter(',');
  opt("--activation", o.activation, "softplus | tanh | silu | gelu");
  opt("--dtype", o.dtype, "Precision of the forward/backward sweeps: float64 | float32")
      ->check(one_of({"float64", "float32"}));
  opt("--conditioning", o.conditioning,
      "Noise conditioning: auto (from --noise) | none | sigma | time");
  opt("--embedding", o.embedding,
      "Noise-conditioned models: K sinusoidal features of log sigma or t in every hidden layer "
      "(0 to 64; 0: log sigma or t is one extra input)")
      ->check(within(0, 64));
  app->add_flag("--residual", o.residual,
                "mlp-score: residual blocks, every hidden layer after the first adds its input "
                "(y = x + act(W x + b); equal --hidden widths, at least two; He et al. 2016)")
      ->group(g);
  opt("--precondition", o.precondition,
      "sigma-conditioned mlp-score: none | edm (Karras et al. 2022: centred input scaled to unit "
      "variance at every sigma, skip to the noised Gaussian score, loss weight 1 + sigma^2 / "
      "sigma_data^2; sigma_data from the data)")
      ->check(one_of({"none", "edm"}));
  opt("--optimizer", o.optimizer.name, "adam | adamw | sgd");
  opt("--lr", o.optimizer.lr, "Peak learning rate");
  opt("--lr-min", o.optimizer.lr_min, "Final learning rate of the cosine schedule");
  opt("--schedule", o.optimizer.schedule, "cosine | constant (after warm-up)")
      ->check(one_of({"cosine", "constant"}));
  opt("--warmup", o.optimizer.warmup, "Linear warm-up steps");
  opt("--weight-decay", o.optimizer.weight_decay, "L2 (adam, sgd) or decoupled (adamw) decay");
  opt("--momentum", o.optimizer.momentum, "SGD momentum");
  opt("--clip", o.optimizer.clip_norm, "Clip the gradient norm to this value (0: off)");
  opt("--ema", o.optimizer.ema_decay, "EMA decay of the saved weights (0: save raw weights)");
  opt("--projections,--probes", o.objective.projections, "ssm: probes per sample");
  opt("--probe", o.objective.probe, "ssm: rademacher | gaussian");
  app->add_flag("--variance-reduced", o.objective.variance_reduced,
                "ssm: variance-reduced form (exact ½|s|² term)")
      ->group(g);
  opt("--noise", o.objective.noise,
      "dsm: single | ladder | vesde | vpsde; nce: gaussian | uniform");
  opt("--noise-ratio", o.objective.noise_ratio, "nce: noise rows per data row (nu)")
      ->check(at_least(1));
  opt("--sigma", o.objective.sigma, "dsm single: noise level (standardised units)");
  opt("--sigma-min", o.objective.sigma_min, "dsm ladder, vesde: smallest sigma");
  opt("--sigma-max", o.objective.sigma_max, "dsm ladder, vesde: largest sigma");
  opt("--sigma-density", o.objective.sigma_density,
      "dsm vesde: density of sigma in training: log-uniform on [sigma-min, sigma-max] | lognormal "
      "(log sigma ~ N(p-mean, p-std^2), Karras et al. 2022)");
  opt("--p-mean", o.objective.p_mean, "dsm vesde lognormal: mean of log sigma (EDM: -1.2)");
  opt("--p-std", o.objective.p_std, "dsm vesde lognormal: sd of log sigma (EDM: 1.2)");
  opt("--levels", o.objective.levels, "dsm ladder: number of geometric levels");
  opt("--beta-min", o.beta_min, "dsm vpsde: beta(0)")->check(above(0));
  opt("--beta-max", o.beta_max, "dsm vpsde: beta(1)")->check(above(0));
  opt("--t-eps", o.objective.t_eps, "dsm vpsde: t ~ U[t_eps, 1]");
  opt("--dropout", o.objective.dropout,
      "dsm, mlp-score: hidden-unit dropout rate in [0, 0.95] in training steps (Srivastava et al. "
      "2014; inverted: kept units scaled by 1/(1 - p), none in validation, sampling and MAP)")
      ->check(within(0, kMaxDropout));
  opt("--consistency", o.objective.consistency,
      "dsm vesde, mlp-score: weight of the consistency term in training steps (Daras et al. 2023: "
      "the denoiser at sigma regressed on the model's own denoiser one ancestral step below)")
      ->check(at_least(0));
  opt("--consistency-steps", o.objective.consistency_steps,
      "dsm --consistency: ancestral steps of the target's reverse process from sigma to sigma' "
      "(1 to 64, geometric; 1: one step, as Daras et al. 2023)")
      ->check(within(1, static_cast<double>(kMaxConsistencySteps)));
  opt("--consistency-teacher", o.consistency_teacher,
      "dsm --consistency: the target's network: ema (the EMA of the weights, moving with the run) "
      "| init (the --init-from model held fixed: its reverse process distilled into the one-step "
      "denoiser)")
      ->check(one_of({"ema", "init"}));
  opt("--target", o.target, "esm: analytic target whose score is matched (gen names)");
  opt("--val-fraction", o.val_fraction, "Fraction of rows held out for validation");
  opt("--val-every", o.val_every, "Validation every N steps (0: 10 times per run)")
      ->check(at_least(0));
  opt("--log-every", o.log_every, "metrics.jsonl / progress every N steps (0: 100 per run)")
      ->check(at_least(0));
  opt("--checkpoint-every", o.checkpoint_every, "Checkpoint every N steps (0: 10 per run)")
      ->check(at_least(0));
  opt("--keep", o.keep, "Checkpoints kept")->check(at_least(1));
  opt("--checkpoint-dir", o.checkpoint_dir, "Checkpoints and metrics.jsonl (default <out>.ckpt)");
  opt("--resume", o.resume, "Resume from a checkpoint file or the newest one in a directory");
  opt("--init-from", o.init_from,
      "Start from the parameters of this fitted model directory (fine-tuning: same network, data "
      "and standardisation) instead of a random initialisation");
  opt("--preempt-exit-code", o.preempt_exit_code,
      "Exit status (0 to 255) after a SIGTERM/SIGUSR1 checkpoint (default 75, EX_TEMPFAIL: no "
      "model was written, so 'fit && next' stops too; a requeueing batch script resumes)")
      ->check(within(0, 255));  // an exit status: more would wrap
  app->add_flag("--stream", o.stream,
                "Read each step's minibatch rows from the (.npy) data file instead of holding this "
                "rank's rows in memory: memory independent of the data size; same result, bitwise")
      ->group(g);
  app->add_flag(
         "--early-stopping", o.early_stopping,
         "Save the (EMA) weights of the validation with the lowest validation loss, not "
         "the last ones (needs --val-fraction > 0; set how often with --val-every; on --resume it "
         "must be given as in the checkpointed run)")
      ->group(g);
  app->add_flag("--timings", o.timings, "Print the compute / allreduce / I/O split of the run")
      ->group(g);
}

}  // namespace scorematch::cli
