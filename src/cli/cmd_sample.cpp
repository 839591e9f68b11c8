// scorematch sample: Langevin-type sampling of a fitted model or an analytic target, with chains
// sharded over ranks (whole blocks of 64 chains each) and threads (blocks), then diagnostics.
// Output: samples.npy ((chains × draws) × d, chain-major, written collectively), sampler.json,
// report.json. Long runs checkpoint on SIGTERM/SIGUSR1 and every --checkpoint-every steps.
#include <algorithm>
#include <utility>
#include <vector>

#include "app/sample.hpp"
#include "command.hpp"
#include "inverse_options.hpp"

namespace scorematch::cli {

namespace {
// "Sampler options (pc)": the help group of a sampler setting, named by the samplers that read it
// (the registry's descriptors), so a new sampler's options group themselves.
std::string sampler_group(const std::string& key) {
  std::string users;
  for (const SamplerDescriptor& d : sampler_registry())
    if (d.uses(key)) users += (users.empty() ? "" : ", ") + d.name;
  return "Sampler options (" + users + ")";
}

std::string sampler_footer() {
  std::string text = "Samplers:\n";
  for (const SamplerDescriptor& d : sampler_registry()) {
    text += "  " + d.name + std::string(10 - std::min<std::size_t>(d.name.size(), 9), ' ') +
            d.summary + "\n";
  }
  return text;
}
using SamplerSettingOptions = std::vector<std::pair<CLI::Option*, std::string>>;

// Settings read by some samplers only: grouped by the samplers that read them, and recorded, so
// that app::run_sample refuses one the chosen sampler does not read.
void add_sampler_settings(CLI::App* app, app::SampleJob* o, SamplerSettingOptions& specific) {
  auto setting = [&](CLI::Option* option, const std::string& key) {
    option->group(sampler_group(key));
    specific.emplace_back(option, key);
  };
  setting(app->add_option("--thin", o->s.thin, "Keep every k-th draw"), "thin");
  setting(app->add_option("--step-size", o->s.step_size,
                          "ula/mala: alpha (default 0.01); annealed: epsilon, the step at "
                          "sigma_min (default 0.2 sigma_min^2)")
              ->check(above(0)),
          "step_size");
  setting(app->add_option("--warmup", o->s.warmup, "Warm-up steps (MALA adapts its step size)"),
          "warmup");
  setting(app->add_option("--target-accept", o->s.target_accept, "Target acceptance rate")
              ->check(above(0)),
          "target_accept");
  setting(app->add_flag("--no-adapt", o->no_adapt, "Keep --step-size fixed during warm-up"),
          "adapt");
  setting(app->add_option("--leapfrog-steps", o->s.leapfrog_steps,
                          "Leapfrog steps per transition (L; step size jittered by +-10%)")
              ->check(at_least(1)),
          "leapfrog_steps");
  setting(app->add_option("--replicas", o->s.replicas,
                          "Tempered replicas per chain, beta = 0 (Gaussian reference) ... 1")
              ->check(at_least(2)),
          "replicas");
  setting(app->add_option("--sigma-max", o->s.sigma_max, "Largest sigma (default: the model's)")
              ->check(above(0)),
          "sigma_max");
  setting(app->add_option("--sigma-min", o->s.sigma_min, "Smallest sigma (default: the model's)")
              ->check(above(0)),
          "sigma_min");
  setting(app->add_option(
              "--levels", o->s.levels,
              "Number of geometric sigma levels (default: the model's, else 10; with 1, Langevin "
              "at --sigma-min from chains started at scale --sigma-max)"),
          "levels");
  setting(app->add_flag("--no-denoise", o->no_denoise, "Skip the final Tweedie step"), "denoise");
  setting(app->add_option("--snr", o->s.snr, "Corrector signal-to-noise ratio")->check(above(0)),
          "snr");
  setting(app->add_option("--corrector-steps", o->s.corrector_steps, "Langevin steps per time")
              ->check(at_least(0)),
          "corrector_steps");
  setting(
      app->add_option("--t-eps", o->s.t_eps,
                      "Final time (default: the t_eps the model was trained to; 0.001 for targets)")
          ->check(above(0)),
      "t_eps");
  setting(app->add_option("--beta-min", o->beta_min, "With a target: beta(0)")->check(above(0)),
          "beta_min");
  setting(app->add_option("--beta-max", o->beta_max, "With a target: beta(1)")->check(above(0)),
          "beta_max");
  setting(app->add_option("--metric", o->metric,
                          "Preconditioner: auto (model: a network's standardisation scale, else "
                          "--data's column sd) | identity | data | model"),
          "metric");
}

// Output, diagnostics, checkpoints and progress.
void add_run_options(CLI::App* app, app::SampleJob* o) {
  app->add_option("--out", o->out, "Output directory")->required();
  app->add_flag("--no-diag", o->no_diag, "Skip the diagnostics at the end");
  app->add_option("--trace-dims", o->trace_dims,
                  "Render trace.png: traces and autocorrelations of these dimensions (0-based)")
      ->check(at_least(0));
  app->add_option("--reference", o->reference, "Reference draws for energy distance / MMD");
  app->add_option("--ksd-rows", o->ksd_rows, "Draws used (evenly thinned) for KSD and MMD")
      ->check(at_least(2));
  app->add_option("--checkpoint-every", o->checkpoint_every,
                  "Checkpoint every N steps (0: only on signal)")
      ->check(at_least(0));
  app->add_option("--checkpoint-dir", o->checkpoint_dir,
                  "Checkpoint directory (default <out>.ckpt)");
  app->add_option("--resume", o->resume, "Continue from this checkpoint directory");
  app->add_option(
         "--preempt-exit-code", o->preempt_exit_code,
         "Exit status (0 to 255) after a SIGTERM/SIGUSR1 checkpoint (default 75, EX_TEMPFAIL: "
         "the run stopped without writing its output, so 'sample && next' stops too)")
      ->check(within(0, 255));  // an exit status: more would wrap
  app->add_option("--progress-every", o->progress_every, "Status line every N steps (non-TTY)")
      ->check(at_least(0));
  app->add_flag("--quiet", o->quiet, "No progress line");
  app->add_flag("--timings", o->timings, "Print the compute / io / diagnostics split");
}
}  // namespace

Command add_sample(CLI::App& root) {
  auto o = std::make_shared<app::SampleJob>();
  CLI::App* app = root.add_subcommand("sample", "Langevin sampling of a model or target");
  app->footer(
      sampler_footer() +
      "ula runs on a score, mala on an energy, annealed and ve-pc on a sigma-conditioned model\n"
      "or a fitted Gaussian (fit --model gaussian), sde/ode/pc on a time-conditioned model; all\n"
      "noised samplers on a gaussian/gmm target (closed-form noised laws).\n"
      "Writes samples.npy ((chains x draws) x d, chain-major), sampler.json and report.json.\n"
      "Example: mpirun -np 2 build/scorematch sample --model out/poly4 --sampler mala \\\n"
      "           --data data/faithful.csv --chains 256 --steps 2000 --warmup 1000 --out out/mala");
  add_model_or_target(app, o->model, o->target, "Model directory written by fit",
                      "Or an analytic target: gaussian | gmm | banana | rings");
  CLI::Option* dim = app->add_option("--dim", o->dim, "Dimension of --target")->check(at_least(1));
  std::string names;
  for (const std::string& name : sampler_names()) names += (names.empty() ? "" : " | ") + name;
  app->add_option("--sampler", o->s.name, names);
  auto specific = std::make_shared<SamplerSettingOptions>();
  add_sampler_settings(app, o.get(), *specific);
  app->add_option("--chains", o->chains, "Number of chains")->check(at_least(1));
  app->add_option("--steps", o->s.steps,
                  "ula/mala: kept-phase steps; annealed: steps per level; sde/ode/pc: time steps");
  app->add_option("--dtype", o->dtype,
                  "float64 | float32: precision of a network's energy and score evaluations");
  app->add_option("--init", o->init, "auto | prior | data (--data rows) | file (--init-file)");
  app->add_option("--data", o->data, "Data file for --init data (chain c starts at row c mod n)");
  app->add_option("--init-file", o->init_file, "Starting states, one row per chain");
  app->add_option("--seed", o->s.seed, "Seed of the initial states and the transition noise")
      ->check(at_least(0));
  add_run_options(app, o.get());
  std::string posterior_samplers;
  for (const std::string& name :
       sampler_names_if([](const SamplerDescriptor& d) { return d.posterior; }))
    posterior_samplers += (posterior_samplers.empty() ? "" : ", ") + name;
  const std::string posterior_group =
      "Posterior sampling (" + posterior_samplers + "): p(x | y), y = A x + noise";
  add_inverse_options(app, o->inv, posterior_group);
  app->add_option("--superchains", o->superchains,
                  "Nested design: K superchains of consecutive chains sharing their start; "
                  "diag reports nested R-hat (Margossian et al. 2024)");
  app->add_option("--chains-per-obs", o->chains_per_obs,
                  "Chains per observation; --chains becomes rows(y) x this")
      ->group(posterior_group);
  CLI::Option* guidance =
      app->add_option(
             "--guidance", o->guidance,
             "annealed, ve-pc: how y enters the noised score: auto (ve-pc with a mask or "
             "identity: imputation; else widened) | imputation | widened (Jalal et al. 2021) | "
             "pigdm (likelihood of Tweedie's denoised x, Song et al. 2023)")
          ->group(posterior_group);
  CLI::Option* sigma_data =
      app->add_option("--sigma-data", o->sigma_data,
                      "pigdm: one number, the data's sd per coordinate in the model's coordinates "
                      "(about 1 for a standardised fit; data units with --no-standardize); "
                      "default: an edm model's sigma_data; a Gaussian prior's sqrt(tr C / d), the "
                      "root-mean-square sd: give it on columns of very different scales")
          ->group(posterior_group);

  auto run = [o, specific, dim, app, posterior_group, guidance,
              sigma_data](const dist::Comm& comm) {
    if (is_given(dim)) o->dim_given = given_name(dim);
    o->guidance_given = is_given(guidance);
    o->sigma_data_given = is_given(sigma_data);
    for (const CLI::Option* option : app->get_options())
      if (option->get_group() == posterior_group && option->get_lnames().front() != "obs" &&
          is_given(option) && o->posterior_given.empty())
        o->posterior_given = given_name(option);
    for (const auto& [option, key] : *specific)
      if (is_given(option)) o->given.emplace_back(key, given_name(option));
    app::run_sample(comm, *o);
  };
  return {app, run, /*file_output=*/false, /*checkpoints=*/true};
}

}  // namespace scorematch::cli
