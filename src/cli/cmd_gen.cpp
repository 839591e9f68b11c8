// scorematch gen: synthetic data from an analytic target. Row i is drawn from
// Philox(seed, stream = i), each rank draws and writes only its rows, so the file is bitwise
// identical for any number of ranks and threads.
#include "app/gen.hpp"
#include "command.hpp"

namespace scorematch::cli {

Command add_gen(CLI::App& root) {
  auto o = std::make_shared<app::GenJob>();
  CLI::App* app = root.add_subcommand("gen", "Generate synthetic data from an analytic target");
  app->footer(
      "Targets (their exact scores are built in): gaussian (mean j, covariance 0.5^|j-k|), gmm\n"
      "(3 components), banana (twisted Gaussian), rings (3 rings). Output .npy or .csv.\n"
      "Example: mpirun -np 2 build/scorematch gen --dist gmm --n 100000 --dim 2 --seed 7 --out "
      "gmm.npy");
  app->add_option("--dist", o->dist, "gaussian | gmm | banana | rings")->capture_default_str();
  app->add_option("--n", o->n, "Number of rows")->check(at_least(1))->capture_default_str();
  app->add_option("--dim", o->dim, "Dimension")->check(at_least(1))->capture_default_str();
  app->add_option("--seed", o->seed, "Random seed")->check(at_least(0))->capture_default_str();
  app->add_option("--out", o->out, "Output file (.npy or .csv)")->required();
  auto run = [o](const dist::Comm& comm) { app::run_gen(comm, *o); };
  return {app, run, /*file_output=*/true};
}

}  // namespace scorematch::cli
