// scorematch sample: Langevin-type sampling of a fitted model or an analytic target, with chains
// sharded over ranks (whole blocks of 64 chains each) and threads (blocks), then diagnostics.
// Output: samples.npy ((chains × draws) × d, chain-major, written collectively), sampler.json,
// report.json. Long runs checkpoint on SIGTERM/SIGUSR1 and every --checkpoint-every steps.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "observation.hpp"
#include "scorematch/dist/comm.hpp"
#include "scorematch/sampling/sampler.hpp"

namespace scorematch::app {

struct SampleJob {
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
  // How y enters a noised sampler's posterior score (inverse/posterior_noised.hpp): auto
  // (imputation for a sampler that imputes with a coordinate-selecting operator, else widened),
  // imputation, widened or pigdm; resolved in place. sigma_data: pigdm's σ_d in the model's units
  // (unless given: the model's edm σ_d). guidance_recorded: the choice differs from auto's, so the
  // checkpoint config records it (older checkpoints, made before the option, still resume).
  std::string guidance = "auto";
  double sigma_data = 0;
  bool guidance_given = false, sigma_data_given = false;  // on the command line or in --config
  bool guidance_recorded = false;
  // Nested design (Margossian et al. 2024): chains in K superchains of chains/K consecutive
  // chains, each superchain's chains started from its first chain's start; diag reports nested
  // R-hat. 0: off.
  Index superchains = 0;
  // Sampler-specific settings the user gave: (SamplerSettings key, how the user named it). One
  // that the chosen sampler does not read is refused.
  std::vector<std::pair<std::string, std::string>> given;
  std::string dim_given;  // how the user gave --dim (empty: not given); it applies to a --target
  std::string posterior_given;  // an observation-model option given (it needs --obs)
};

// Runs the job: resolves its defaults in place (sampler settings, chains of a posterior run).
void run_sample(const dist::Comm& comm, SampleJob& job);

}  // namespace scorematch::app
