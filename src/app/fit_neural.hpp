// scorematch fit --model mlp-energy|mlp-score: neural score matching, data-parallel over ranks.
#pragma once
#include <string>
#include <vector>

#include "scorematch/dist/comm.hpp"
#include "scorematch/models/mlp.hpp"
#include "scorematch/objectives/objective.hpp"
#include "scorematch/optim/optimizer.hpp"

namespace scorematch::app {

struct NeuralOptions {
  ObjectiveSettings objective;
  OptimizerSettings optimizer;
  Index steps = 1000, batch = 256;
  std::uint64_t seed = 0;
  std::vector<Index> hidden{128, 128, 128};
  Index embedding = 0;                // MlpSpec::embedding
  bool residual = false;              // MlpSpec::residual
  std::string precondition = "none";  // MlpSpec::precondition (σ_d is measured on the data)
  std::string activation = "softplus", dtype = "float64", conditioning = "auto", target;
  double beta_min = 0.1, beta_max = 20.0;
  double val_fraction = 0.1;
  Index val_every = 0, log_every = 0, checkpoint_every = 0;
  int keep = 3, preempt_exit_code = 75;  // EX_TEMPFAIL: stopped with a checkpoint, no model yet
  std::string checkpoint_dir, resume;
  // A fitted model directory whose parameters start the run (fine-tuning; same network, data
  // standardisation and σ_d), instead of the random initialisation.
  std::string init_from;
  // dsm --consistency: the network whose reverse step makes the target: "ema" (the EMA of the
  // weights, a mean teacher that moves with the run) or "init" (the --init-from model, held
  // fixed: the run distils that model's reverse process into the one-step denoiser).
  std::string consistency_teacher = "ema";
  bool timings = false, stream = false;
  // Early stopping on the validation loss: save the EMA weights of the validation with the
  // lowest loss instead of the last ones (the schedule still runs all steps).
  bool early_stopping = false;
  // The neural settings the user gave, as (component, setting key, how the user named it);
  // component "objective" and "optimizer" settings the chosen one does not read are refused, and
  // all but the "run" ones (checkpoints, resume, preemption, logging) with a closed-form model.
  struct Given {
    std::string component, key, name;
  };
  std::vector<Given> given;
};

// Refuses a given objective or optimizer setting that `objective` / `optimizer` does not read.
void check_given_settings(const NeuralOptions& o, const Objective& objective);

struct FitInputs {
  std::string data, model, out;
  Index dim = 0;
  bool standardize = true;
  MlpOutput output = MlpOutput::energy;  // mlp-energy or mlp-score
};

void fit_neural(const dist::Comm& comm, const FitInputs& in, const NeuralOptions& o);

}  // namespace scorematch::app
