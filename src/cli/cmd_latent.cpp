// scorematch latent: latent codes of data rows under a decoder model x = f(z) + ε, ε ~ N(0, Σ):
// MAP codes per row (damped Newton on −log p(z | x); inverse/latent.hpp) and, on request,
// Langevin draws of p(z | x) (ULA or MALA on the latent score J_fᵀ Σ⁻¹ (x − f(z)) − λ z, K chains
// per row started at the MAP). Rows (and their chains) are sharded over ranks in whole blocks of
// 64 chains, so the output is bitwise identical for any number of ranks and threads; every file is
// written collectively.
#include "app/latent.hpp"
#include "command.hpp"

namespace scorematch::cli {

Command add_latent(CLI::App& root) {
  auto o = std::make_shared<app::LatentJob>();
  CLI::App* app = root.add_subcommand(
      "latent", "Latent codes of data under a decoder x = f(z) + noise: MAP and Langevin draws");
  app->footer(
      "Writes z_map.npy (one row per data row), reconstruction.npy (f(z_map)) and latent.json;\n"
      "with --sample also z_samples.npy (rows x chains-per-row x draws, chain-major) and\n"
      "z_mean.npy.\n"
      "Example: build/scorematch latent --decoder dec/ --data x.npy --sigma 0.1 --out out/z");
  app->add_option("--decoder", o->decoder, "Decoder directory (linear-decoder or mlp-decoder)")
      ->required();
  app->add_option("--data", o->data, "Data rows x (.csv or .npy)")->required();
  app->add_option("--out", o->out, "Output directory")->required();
  app->add_option("--sigma", o->sigma, "Isotropic decoder noise sd (overrides the decoder's)")
      ->check(above(0));
  app->add_option("--noise-sd", o->noise_sd, "Diagonal decoder noise sds (file, d values)");
  app->add_option("--prior", o->prior, "Latent prior: normal (N(0, I)) | flat");
  app->add_option("--method", o->method,
                  "MAP: newton (damped, exact Hessian via jets) | gauss-newton");
  app->add_option("--iterations", o->map.max_iterations, "MAP: maximum iterations per row")
      ->check(at_least(1));
  app->add_option("--tol", o->map.tolerance,
                  "MAP: relative stationarity tolerance (0: until no step lowers the energy)")
      ->check(at_least(0));
  app->add_option("--init", o->init, "MAP start: zero | FILE (n x k codes)");
  const std::string group = "Langevin draws of p(z | x)";
  app->add_flag("--sample", o->sample, "Also sample p(z | x) per row")->group(group);
  app->add_option("--sampler", o->s.name, "ula | mala")->group(group);
  app->add_option("--chains-per-row", o->chains_per_row, "Chains per row")->group(group);
  app->add_option("--steps", o->s.steps, "Kept-phase transitions")->group(group);
  app->add_option("--warmup", o->s.warmup, "Warm-up transitions (MALA adapts its step)")
      ->group(group);
  app->add_option("--thin", o->s.thin, "Keep every k-th draw")->group(group);
  app->add_option("--step-size", o->s.step_size, "Initial step size")
      ->check(above(0))
      ->group(group);
  app->add_option("--seed", o->s.seed, "Seed of the chains' noise")
      ->check(at_least(0))
      ->group(group);
  o->s.name = "mala";
  o->s.warmup = 500;
  o->s.steps = 1000;

  auto run = [o](const dist::Comm& comm) { app::run_latent(comm, *o); };
  return {app, run};
}

}  // namespace scorematch::cli
