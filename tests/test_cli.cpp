// The CLI end to end: every bad input of the Foundation issue gives exactly one line on stderr
// naming the file / line / column and what was expected, exit code 1, and no output directory;
// ranks > rows works; flags override the TOML job file.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "../src/cli/setting_names.hpp"
#include "scorematch/core/array.hpp"
#include "scorematch/core/error.hpp"
#include "scorematch/io/npy.hpp"
#include "scorematch/optim/optimizer.hpp"
#include "scorematch/sampling/time_grid.hpp"
#include "scratch.hpp"

using namespace scorematch;
namespace fs = std::filesystem;

namespace {

// Files of this process only (tests/scratch.hpp), removed at exit.
const fs::path& kDir = scorematch::testing::scratch_dir();

struct Result {
  int code;
  std::string err, out;
};

Result run(const std::string& args, int ranks = 0) {
  const std::string err = (kDir / "stderr.txt").string(), out = (kDir / "stdout.txt").string();
  std::string cmd = std::string(SCOREMATCH_BIN) + " " + args;
  // Open MPI refuses root without these and needs oversubscription for more ranks than cores;
  // a session directory of this process's own, because concurrent mpiruns sharing the per-user one
  // race on its removal (open-mpi/ompi#8510; see the end of tests/CMakeLists.txt).
  if (ranks > 0)
    cmd =
        "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
        "OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_orte_tmpdir_base=" +
        (kDir / "ompi").string() + " " + std::string(MPIEXEC) + " -n " + std::to_string(ranks) +
        " " + cmd;
  const int status = std::system((cmd + " >" + out + " 2>" + err).c_str());
  auto slurp = [](const std::string& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(err), slurp(out)};
}

std::string file(const std::string& name, const std::string& text) {
  const fs::path p = kDir / name;
  std::ofstream(p) << text;
  return p.string();
}

std::string faithful() {
  return std::string(SCOREMATCH_SOURCE_DIR) + "/data/faithful.csv";
}

// The failure contract: a nonzero exit code (1 for a bad input, 2 for a usage error: see
// UsageErrorsExitTwoAndBadInputsOneOnEveryRank), exactly `message` as the only stderr line, no
// output.
void expect_clean_failure(const std::string& args, const std::string& message, int ranks = 0) {
  const fs::path out = kDir / "out";
  fs::remove_all(out);
  const Result r = run(args + " --out " + out.string(), ranks);
  EXPECT_NE(r.code, 0) << args;
  const std::string line = "scorematch: error: " + message + "\n";
  if (ranks == 0) {
    EXPECT_EQ(r.err, line) << args;  // exactly one line
  } else {
    // Under mpirun our line is forwarded asynchronously and mpirun adds its own banner: require
    // our message exactly once, wherever it lands, followed by the rank that saw the error.
    const std::string ranked = "scorematch: error: " + message + " (rank ";
    const auto at = r.err.find(ranked);
    EXPECT_NE(at, std::string::npos) << args << "\n" << r.err;
    if (at != std::string::npos) {
      EXPECT_EQ(r.err.find(ranked, at + 1), std::string::npos) << "printed twice";
    }
  }
  EXPECT_FALSE(fs::exists(out)) << args;
  for (const auto& entry : fs::directory_iterator(kDir))
    EXPECT_EQ(entry.path().filename().string().find("out.tmp"), std::string::npos)
        << "left " << entry.path();
}

}  // namespace

TEST(Cli, BadCsvInputsFailCleanly) {
  const std::string missing = (kDir / "missing.csv").string();
  expect_clean_failure("fit --data " + missing,
                       "cannot open '" + missing + "': No such file or directory");
  const std::string empty = file("empty.csv", "");
  expect_clean_failure("fit --data " + empty,
                       "'" + empty + "' is empty (expected a header line and data rows)");
  const std::string header = file("header.csv", "a,b\n");
  expect_clean_failure("fit --data " + header, "'" + header + "' has a header but no data rows");
  const std::string ragged = file("ragged.csv", "a,b\n1,2\n3,4,5\n");
  expect_clean_failure(
      "fit --data " + ragged,
      "'" + ragged + "' line 3: row has 3 fields, expected 2 (one per header column)");
  const std::string text = file("text.csv", "a,b\n1,2\n3,four\n");
  expect_clean_failure("fit --data " + text,
                       "'" + text + "' line 3, column 2 'b': expected a number, got 'four'");
  const std::string nan = file("nan.csv", "a,b\n1,2\nNaN,4\n");
  expect_clean_failure(
      "fit --data " + nan,
      "'" + nan + "' line 3, column 1 'a': value 'NaN' is not finite (NaN/Inf are not allowed)");
  const std::string inf = file("inf.csv", "a,b\n1,inf\n3,4\n");
  expect_clean_failure(
      "fit --model poly:2 --data " + inf,
      "'" + inf + "' line 2, column 2 'b': value 'inf' is not finite (NaN/Inf are not allowed)");
}

TEST(Cli, BadNpyInputsFailCleanly) {
  const std::string trunc = (kDir / "trunc.npy").string();
  io::write_npy(trunc, Array{{4, 2}, std::vector<double>(8, 1.0)});
  fs::resize_file(trunc, fs::file_size(trunc) - 8);
  expect_clean_failure("fit --data " + trunc, "'" + trunc +
                                                  "': truncated: the header promises 4×2 values "
                                                  "(64 bytes) but only 56 bytes follow the header");
  const std::string ints = (kDir / "ints.npy").string();
  std::string bytes = io::npy_header_bytes({2, 1}, io::NpyDtype::f8);
  bytes.replace(bytes.find("<f8"), 3, "<i8");
  std::ofstream(ints, std::ios::binary) << bytes << std::string(16, '\0');
  expect_clean_failure("fit --data " + ints, "'" + ints +
                                                 "': dtype '<i8' is not supported (expected '<f8' "
                                                 "or '<f4': little-endian float64 or float32)");
}

TEST(Cli, ConfigDataMismatchesAndSingularStatisticsFailCleanly) {
  expect_clean_failure(
      "fit --dim 3 --data " + faithful(),
      "dimension mismatch: the job says --dim 3 but '" + faithful() + "' has 2 columns");
  const std::string constant = file("constant.csv", "a,b\n1,5\n2,5\n3,5\n4,5\n");
  expect_clean_failure(
      "fit --data " + constant,
      "column 2 'b' is constant (variance 0): the precision matrix does not exist; drop "
      "the column or add a ridge penalty, e.g. --ridge 1e-6");
  expect_clean_failure("fit --model poly:x --data " + faithful(),
                       "--model 'poly:x' is not a closed-form family (expected gaussian or poly:K "
                       "with 1 <= K <= 12)");
  const fs::path out = kDir / "ridge_out";
  fs::remove_all(out);
  EXPECT_EQ(run("fit --ridge 1e-6 --data " + constant + " --out " + out.string()).code, 0);
  EXPECT_TRUE(fs::exists(out / "precision.npy"));
}

// Options that the chosen component (model family, objective, noise process, optimizer,
// sampler) would ignore are refused, naming what they apply to.
TEST(Cli, OptionsOfAnotherComponentAreRefused) {
  expect_clean_failure("fit --model gaussian --steps 10 --data " + faithful(),
                       "--steps applies to neural models (--model mlp-energy | mlp-score), not "
                       "gaussian");
  // How the run is driven applies to every fit (generic batch scripts pass it).
  const fs::path ck = kDir / "closed_form_ck", ck_out = kDir / "closed_form_out";
  fs::remove_all(ck);
  fs::remove_all(ck_out);
  EXPECT_EQ(run("fit --model poly:4 --checkpoint-dir " + ck.string() +
                " --preempt-exit-code 75 --data " + faithful() + " --out " + ck_out.string())
                .code,
            0);
  expect_clean_failure("fit --model mlp-energy --objective ism --sigma 0.3 --data " + faithful(),
                       "--sigma does not apply to ism (it is read by dsm with noise 'single')");
  expect_clean_failure(
      "fit --model mlp-energy --objective dsm --noise ladder --sigma 0.3 --data " + faithful(),
      "--sigma does not apply to dsm with noise 'ladder' (it is read by dsm with noise "
      "'single')");
  // The training density's parameters belong to the lognormal density of the VE SDE only.
  expect_clean_failure(
      "fit --model mlp-score --objective dsm --noise vesde --p-mean -1 --data " + faithful(),
      "--p-mean does not apply to dsm with noise 'vesde' (it is read by dsm with noise 'vesde' "
      "(lognormal sigma))");
  expect_clean_failure(
      "fit --model mlp-score --objective dsm --noise vesde --sigma-density normal --data " +
          faithful(),
      "unknown --sigma-density 'normal' (expected log-uniform or lognormal)");
  // dsm's consistency term: the VE SDE's only, λ ≥ 0.
  expect_clean_failure(
      "fit --model mlp-score --objective dsm --noise ladder --consistency 1 --data " + faithful(),
      "dsm --consistency needs noise vesde (it has 'ladder')");
  expect_clean_failure(
      "fit --model mlp-score --objective dsm --noise vesde --consistency -1 --data " + faithful(),
      "--consistency: must be >= 0, got -1 (see scorematch fit --help)");
  expect_clean_failure("fit --model mlp-energy --momentum 0.5 --data " + faithful(),
                       "--momentum does not apply to the adam optimizer (it is read by sgd)");
  expect_clean_failure("fit --model mlp-energy --objective ism --probes 2 --data " + faithful(),
                       "--projections does not apply to ism (it is read by ssm)");
  expect_clean_failure("fit --model mlp-energy --ridge 1 --data " + faithful(),
                       "--ridge applies to closed-form fits (--model gaussian | poly:K), not "
                       "mlp-energy");
  expect_clean_failure("sample --target gmm --sampler mala --no-adapt --target-accept 0.9",
                       "--target-accept sets the goal of the step-size adaptation, which "
                       "--no-adapt turns off");
  expect_clean_failure("sample --target gmm --sampler ula --init-file " + faithful(),
                       "--init-file needs --init file (it holds one starting row per chain)");
  // A job file's option is named with its file; a false flag in it is no option at all.
  const std::string job =
      file("mala_job.toml", "[sample]\ntarget = \"gmm\"\nwarmup = 3\nno-denoise = false\n");
  expect_clean_failure("sample --config " + job + " --sampler ode",
                       "--warmup (set in job file '" + job +
                           "') does not apply to ode (it is read by ula, mala, hmc or pt)");
  expect_clean_failure("sample --target gmm --sampler mala --snr 0.2",
                       "--snr does not apply to mala (it is read by pc or ve-pc)");
  // ... nor while the feature that reads it is off.
  expect_clean_failure("sample --target gmm --sampler mala --target-accept 0.9",
                       "--target-accept sets the goal of the step-size adaptation, which runs in "
                       "--warmup only (0 here)");
  expect_clean_failure("sample --target gmm --sampler ve-pc --corrector-steps 0 --snr 0.2",
                       "--snr sets the corrector's step size, which --corrector-steps 0 turns off");
  expect_clean_failure("sample --target gmm --sampler ode --warmup 10",
                       "--warmup does not apply to ode (it is read by ula, mala, hmc or pt)");
  expect_clean_failure("fit --model foo --data " + faithful(),
                       "--model 'foo' is not a model family of fit (expected one of: gaussian, "
                       "poly:K with 1 <= K <= 12, mlp-energy, mlp-score)");
}

TEST(Cli, ErrorOnAnotherRanksRowsIsReportedOnceWithoutHanging) {
  std::string text = "a,b\n";
  for (int i = 0; i < 40; ++i) text += std::to_string(i) + "," + std::to_string(i % 7) + "\n";
  text += "1,oops\n";  // data row 41: owned by the last rank
  const std::string bad = file("late.csv", text);
  expect_clean_failure("fit --data " + bad,
                       "'" + bad + "' line 42, column 2 'b': expected a number, got 'oops'", 3);
}

TEST(Cli, MoreRanksThanRowsStillFits) {
  const std::string tiny = file("tiny.csv", "a,b\n1,2\n2,1\n4,4\n");
  const fs::path one = kDir / "tiny1", four = kDir / "tiny4";
  fs::remove_all(one);
  fs::remove_all(four);
  ASSERT_EQ(run("fit --data " + tiny + " --out " + one.string()).code, 0);
  const Result r = run("fit --data " + tiny + " --out " + four.string(), 4);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto a = io::read_npy_array((one / "precision.npy").string());
  const auto b = io::read_npy_array((four / "precision.npy").string());
  for (std::size_t i = 0; i < a.values.size(); ++i)
    EXPECT_NEAR(a.values[i], b.values[i], 1e-12 * std::abs(a.values[i]));
}

// [fit.objective] / [fit.optimizer] component tables are the flat keys grouped: the same weights.
TEST(Cli, ComponentTablesEqualFlatKeys) {
  const std::string common =
      "[fit]\ndata = \"" + faithful() + "\"\nmodel = \"mlp-energy\"\nhidden = [4]\nsteps = 5\n";
  const std::string grouped =
      file("grouped.toml", common +
                               "[fit.objective]\nname = \"dsm\"\nnoise = \"ladder\"\n"
                               "sigma-min = 0.05\nsigma-max = 2.0\nlevels = 4\n"
                               "[fit.optimizer]\nname = \"adamw\"\nlr = 0.002\n");
  const std::string flat =
      file("flat.toml", common +
                            "objective = \"dsm\"\nnoise = \"ladder\"\nsigma-min = 0.05\n"
                            "sigma-max = 2.0\nlevels = 4\noptimizer = \"adamw\"\nlr = 0.002\n");
  const fs::path a = kDir / "grouped_out", b = kDir / "flat_out";
  for (const fs::path& p : {a, b}) {
    fs::remove_all(p);
    fs::remove_all(p.string() + ".ckpt");
  }
  ASSERT_EQ(run("fit --config " + grouped + " --out " + a.string()).code, 0);
  ASSERT_EQ(run("fit --config " + flat + " --out " + b.string()).code, 0);
  const auto wa = io::read_npy_array((a / "W0.npy").string());
  const auto wb = io::read_npy_array((b / "W0.npy").string());
  EXPECT_EQ(wa.values, wb.values);
}

TEST(Cli, FlagsOverrideTheJobFileAndUnknownKeysAreRejected) {
  const fs::path out_file = kDir / "from_config", out_flag = kDir / "from_flag";
  fs::remove_all(out_file);
  fs::remove_all(out_flag);
  const std::string job =
      file("job.toml", "[fit]\ndata = \"" + faithful() + "\"\nmodel = \"poly:4\"\nout = \"" +
                           out_file.string() + "\"\n");
  ASSERT_EQ(run("fit --config " + job).code, 0);
  EXPECT_TRUE(fs::exists(out_file / "theta.npy"));
  ASSERT_EQ(run("--config " + job + " fit --model gaussian --out " + out_flag.string()).code, 0);
  EXPECT_TRUE(fs::exists(out_flag / "precision.npy"));
  const std::string typo = file("typo.toml", "[fit]\ndata = \"x.csv\"\nridg = 1\n");
  const Result r = run("fit --config " + typo + " --out " + (kDir / "never").string());
  EXPECT_NE(r.code, 0);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("line 3: unknown key 'fit.ridg' (keys of [fit] are the long option names "
                       "of fit"),
            std::string::npos)
      << r.err;
  const std::string misplaced = file("misplaced.toml", "[fit]\ndata = \"x.csv\"\nthreads = 1\n");
  const Result r_program = run("fit --config " + misplaced + " --out " + (kDir / "never").string());
  EXPECT_EQ(r_program.code, 2);
  EXPECT_NE(
      r_program.err.find("line 3: 'threads' is a program option, not one of [fit]: set it at the "
                         "top of the file, before any [table]"),
      std::string::npos)
      << r_program.err;
  // In a component table the key is named in its table, with its line (was "fit.sigma-minn").
  const std::string in_table =
      file("in_table.toml",
           "[fit]\ndata = \"x.csv\"\n[fit.objective]\nname = \"dsm\"\nsigma-minn = 1\n");
  const Result r3 = run("fit --config " + in_table + " --out " + (kDir / "never").string());
  EXPECT_EQ(r3.code, 2);
  EXPECT_NE(r3.err.find("line 5: unknown key 'fit.objective.sigma-minn' (keys of [fit.objective] "
                        "are the long option names of fit"),
            std::string::npos)
      << r3.err;
  // Tables that are neither subcommands nor their components are refused, with their line (a
  // nested [fit.objective.optimizer] was read as [fit.optimizer]; [fit.sampler] was ignored).
  for (const auto& [text, table] : std::vector<std::pair<std::string, std::string>>{
           {"[fit]\ndata = \"x.csv\"\n[fit.objective.optimizer]\nname = \"sgd\"\n",
            "fit.objective.optimizer"},
           {"[fit]\ndata = \"x.csv\"\n[fit.sampler]\nsteps = 5\n", "fit.sampler"}}) {
    const Result bad =
        run("fit --config " + file("tables.toml", text) + " --out " + (kDir / "never").string());
    EXPECT_EQ(bad.code, 2);
    EXPECT_NE(bad.err.find("line 3: unknown table [" + table + "]"), std::string::npos) << bad.err;
  }
  const std::string broken = file("broken.toml", "[fit\ndata = 1\n");
  const Result r2 = run("fit --config " + broken);
  EXPECT_NE(r2.code, 0);
  EXPECT_NE(r2.err.find("config '" + broken + "': line 1"), std::string::npos) << r2.err;
}

TEST(Cli, EvalWritesScoreEnergyLaplacianAndMetrics) {
  const fs::path model = kDir / "eval_model", out = kDir / "eval_out";
  fs::remove_all(model);
  fs::remove_all(out);
  ASSERT_EQ(run("fit --model gaussian --data " + faithful() + " --out " + model.string()).code, 0);
  const Result r =
      run("eval --model " + model.string() + " --data " + faithful() + " --out " + out.string(), 2);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(io::read_npy_array((out / "score.npy").string()).shape, (std::vector<Index>{272, 2}));
  EXPECT_EQ(io::read_npy_array((out / "energy.npy").string()).shape, (std::vector<Index>{272}));
  const auto lap = io::read_npy_array((out / "laplacian.npy").string());
  const auto precision = io::read_npy_array((model / "precision.npy").string());
  EXPECT_NEAR(lap.values[100], -(precision.values[0] + precision.values[3]), 1e-12);
  EXPECT_TRUE(fs::exists(out / "metrics.json"));
  expect_clean_failure(
      "eval --model " + model.string() + " --data " + file("three.csv", "a,b,c\n1,2,3\n"),
      "dimension mismatch: the model has dimension 2 but '" + (kDir / "three.csv").string() +
          "' has 3 columns");
}

TEST(Cli, EverySubcommandHasHelp) {
  for (const std::string sub : {"fit", "eval", "gen"}) {
    const Result r = run(sub + " --help");
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.out.find("Example:"), std::string::npos) << sub;
  }
}

// Library messages name a setting by its key; the CLI's namer turns the key into the flag. Without
// a namer (library users, the unit tests) the key itself shows.
TEST(Cli, LibraryErrorsNameSettingsByKeyOrByTheInstalledNamer) {
  OptimizerSettings bad;
  bad.clip_norm = -1;
  const auto message = [](const auto& thrower) {
    try {
      thrower();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const auto validate = [&] { bad.validate(); };
  const auto grid = [] { ReverseTimeGrid(10, 2.0); };

  set_setting_namer(nullptr);
  EXPECT_EQ(setting("sigma_min"), "sigma_min");
  EXPECT_EQ(message(validate), "clip_norm must be finite and >= 0");
  EXPECT_EQ(message(grid), "t_eps must lie in (0, 1)");

  set_setting_namer(cli::flag_for_setting);
  EXPECT_EQ(setting("sigma_min"), "--sigma-min");
  EXPECT_EQ(message(validate), "--clip must be finite and >= 0");
  EXPECT_EQ(message(grid), "--t-eps must lie in (0, 1)");
  try {
    throw InvalidSetting("ridge", "be a finite number ≥ 0", "-1");
  } catch (const InvalidSetting& e) {
    EXPECT_STREQ(e.what(), "--ridge must be a finite number ≥ 0, got -1");
    EXPECT_EQ(e.key, "ridge");
    EXPECT_EQ(e.requirement, "be a finite number ≥ 0");
    EXPECT_EQ(e.value, "-1");
  }
  set_setting_namer(nullptr);
  EXPECT_EQ(message(validate), "clip_norm must be finite and >= 0");
}

// Every key the library names maps to a flag that some subcommand registers.
TEST(Cli, EverySettingKeyTheLibraryNamesIsARealFlag) {
  std::string help;
  for (const std::string sub :
       {"fit", "eval", "gen", "sample", "diag", "loglik", "field", "plot", "map", "latent"}) {
    const Result r = run(sub + " --help");
    EXPECT_EQ(r.code, 0) << sub;
    help += r.out;
  }
  const auto registered = [&](const std::string& flag) {
    for (std::size_t at = help.find(flag); at != std::string::npos; at = help.find(flag, at + 1)) {
      const char next = at + flag.size() < help.size() ? help[at + flag.size()] : ' ';
      if (next != '-' && !(next >= 'a' && next <= 'z')) return true;
    }
    return false;
  };
  for (const char* key :
       {"activation", "guidance", "optimizer", "precondition", "probe", "sampler", "schedule"})
    EXPECT_TRUE(registered(cli::flag_for_setting(key))) << key;
  for (const char* key : {"checkpoint_dir", "clip_norm",   "conditioning",  "corrector_steps",
                          "decoder",        "dim",         "ema_decay",     "hidden",
                          "levels",         "lr",          "lr_min",        "model",
                          "momentum",       "noise",       "objective",     "out",
                          "probes",         "profile",     "projections",   "range",
                          "resume",         "ridge",       "sigma",         "sigma_max",
                          "sigma_min",      "snr",         "step_size",     "steps",
                          "t_eps",          "target",      "target_accept", "thin",
                          "through",        "total_steps", "warmup",        "weight_decay"})
    EXPECT_TRUE(registered(cli::flag_for_setting(key)))
        << key << " -> " << cli::flag_for_setting(key);
}

// Exit codes are one contract on every rank count (mpirun returns the code of the first rank to
// exit, so every rank must end with the same one): 2 for a usage error — an unknown option, a bad
// job file, a setting value outside its domain (SettingError), a negative seed, a preemption code
// outside 0..255 — and 1 for a bad input file. Each case runs alone and on 2 and 3 ranks, twice
// under mpirun (which rank exits first varies).
TEST(Cli, UsageErrorsExitTwoAndBadInputsOneOnEveryRank) {
  const std::string job = file("bogus.toml", "[fit]\nbogus = 3\n");
  const std::string bad = file("nan_cell.csv", "a,b\n1,2\n3,x\n");
  const fs::path model = kDir / "usage_model";
  fs::remove_all(model);
  ASSERT_EQ(run("fit --data " + faithful() + " --out " + model.string()).code, 0);
  const std::vector<std::pair<std::string, int>> cases = {
      {"fit --data " + faithful() + " --bogus", 2},
      {"fit --config " + job + " --data " + faithful(), 2},
      {"fit --data " + faithful() + " --model gaussian --ridge -1", 2},
      {"fit --data " + faithful() + " --model mlp-energy --optimizer nadam", 2},
      {"fit --data " + faithful() + " --model mlp-energy --seed -3", 2},
      {"fit --data " + faithful() + " --model mlp-energy --preempt-exit-code 256", 2},
      {"sample --model " + model.string() + " --sampler bogus", 2},
      {"fit --data " + bad, 1}};
  for (const auto& [args, code] : cases)
    for (const int ranks : {0, 2, 3, 2, 3}) {
      const fs::path out = kDir / "usage_out";
      fs::remove_all(out);
      const Result r = run(args + " --out " + out.string(), ranks);
      EXPECT_EQ(r.code, code) << args << " on " << ranks << " ranks\n" << r.err;
      EXPECT_FALSE(fs::exists(out)) << args;
    }
}

// No output may lie inside an input: a file written into an input model directory (or next to
// the samples, where diag reads sampler.json) would change that input. Refused before any work,
// the input unchanged.
TEST(Cli, OutputsInsideAnInputAreRefused) {
  const fs::path model = kDir / "inside_model", samples = kDir / "inside_samples";
  fs::remove_all(model);
  fs::remove_all(samples);
  ASSERT_EQ(run("fit --data " + faithful() + " --out " + model.string()).code, 0);
  ASSERT_EQ(run("sample --model " + model.string() +
                " --sampler mala --chains 4 --steps 200 --quiet --out " + samples.string())
                .code,
            0);
  const auto slurp = [](const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  const std::string meta = slurp(model / "meta.json"), info = slurp(samples / "sampler.json");
  Result r = run("compare --models " + model.string() + " --data " + faithful() + " --out " +
                 (model / "meta.json").string());
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("lies inside --models"), std::string::npos) << r.err;
  r = run("diag --samples " + (samples / "samples.npy").string() + " --out " +
          (samples / "sampler.json").string());
  EXPECT_NE(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("an input of this run"), std::string::npos) << r.err;
  r = run("logz --model " + model.string() + " --out " + (model / "logz").string(), 2);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(slurp(model / "meta.json"), meta);
  EXPECT_EQ(slurp(samples / "sampler.json"), info);
  EXPECT_FALSE(fs::exists(model / "logz"));
}

// A hand-edited sampler.json field of another type is named with what was expected (diag reads
// the chain count, column names and superchains from it).
TEST(Cli, HandEditedSamplerJsonFieldsAreNamed) {
  const fs::path samples = kDir / "edited_samples";
  fs::remove_all(samples);
  ASSERT_EQ(run("sample --target gaussian --dim 2 --sampler mala --chains 4 --steps 50 --quiet "
                "--out " +
                samples.string())
                .code,
            0);
  std::ifstream in(samples / "sampler.json");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Adaptation runs in warm-up only: without one (the default) none ran, and sampler.json says so.
  EXPECT_NE(text.find("\"adapt\": false"), std::string::npos) << text;
  const fs::path adapted = kDir / "adapted_samples";
  fs::remove_all(adapted);
  ASSERT_EQ(run("sample --target gaussian --dim 2 --sampler mala --chains 4 --steps 5 --warmup 5 "
                "--quiet --out " +
                adapted.string())
                .code,
            0);
  std::ifstream adapted_in(adapted / "sampler.json");
  const std::string adapted_text((std::istreambuf_iterator<char>(adapted_in)),
                                 std::istreambuf_iterator<char>());
  EXPECT_NE(adapted_text.find("\"adapt\": true"), std::string::npos) << adapted_text;
  struct Edit {
    std::string from, to, message;
  };
  for (const Edit& e : std::vector<Edit>{
           {"\"chains\": 4", "\"chains\": \"four\"", "chains must be an integer, got \"four\""},
           {"\"chains\": 4", "\"chains\": 4.5", "chains must be an integer, got 4.5"},
           {"\"chains\": 4", "\"chains\": 0", "chains must be a positive integer, got 0"},
           {"\"chains\": 4", "\"chains\": 4, \"superchains\": 1",
            "superchains must be at least 2, got 1"}}) {
    std::string changed = text;
    const std::size_t at = changed.find(e.from);
    ASSERT_NE(at, std::string::npos) << e.from << text;
    std::ofstream(samples / "sampler.json") << changed.replace(at, e.from.size(), e.to);
    expect_clean_failure("diag --samples " + (samples / "samples.npy").string(),
                         "'" + (samples / "sampler.json").string() + "': " + e.message);
  }
  // A file that is not JSON or not an object is named as such (not as a missing file); values
  // from the file are named as the file's, never as a flag the user did not give.
  for (const Edit& e : std::vector<Edit>{
           {"\"chains\": 4", "\"chains\": 4, \"superchains\": 3",
            "superchains 3 does not divide the 4 chains (the 4 chains of '"},
           {"", "[1, 2]", "sampler.json' must hold a JSON object (as sample writes it), got array"},
           {"\"chains\": 4", "\"chains\": 4,,", "sampler.json' is not valid JSON"},
           {"\"chains\": 4,", "", "sampler.json' has no chains field to take it from)"}}) {
    std::string changed = e.to;  // no `from`: the whole file
    if (!e.from.empty()) {
      changed = text;
      const std::size_t at = changed.find(e.from);
      ASSERT_NE(at, std::string::npos) << e.from << text;
      changed.replace(at, e.from.size(), e.to);
    }
    std::ofstream(samples / "sampler.json") << changed;
    const fs::path out = kDir / "out";
    fs::remove_all(out);
    const Result r =
        run("diag --samples " + (samples / "samples.npy").string() + " --out " + out.string());
    EXPECT_NE(r.code, 0) << e.to;
    EXPECT_NE(r.err.find(e.message), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("--chains 4"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(out));
  }
}

// A list option given twice would have its lists joined by CLI11 (--hidden 16,16 --hidden 8
// trained [16, 16, 8]) where every other repeated option is refused: refused alike, exit 2.
TEST(Cli, ListOptionGivenTwiceIsRefused) {
  const std::string args = "fit --data " + faithful() +
                           " --model mlp-score --objective dsm --steps 5 --hidden 16,16 --hidden 8";
  expect_clean_failure(args, "--hidden was given twice: give its whole list once, comma-separated");
  EXPECT_EQ(run(args + " --out " + (kDir / "out").string()).code, 2);
}

// Undefined is not zero: with no more rows than parameters the sandwich standard errors are not
// estimable (the per-row gradients' covariance has rank ≤ n − 1), so none are written and
// meta.json says why; with one row more they are.
TEST(Cli, StandardErrorsNeedMoreRowsThanParameters) {
  const std::string two = file("two_rows.csv", "a\n1.0\n2.0\n");
  const std::string three = file("three_rows.csv", "a\n1.0\n2.0\n4.0\n");
  const fs::path a = kDir / "se_two", b = kDir / "se_three";
  fs::remove_all(a);
  fs::remove_all(b);
  const Result r = run("fit --data " + two + " --se on --out " + a.string());
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream meta(a / "meta.json");
  std::stringstream text;
  text << meta.rdbuf();
  EXPECT_NE(text.str().find("undefined: 2 rows for 2 parameters"), std::string::npos) << text.str();
  EXPECT_FALSE(fs::exists(a / "precision_se.npy"));
  ASSERT_EQ(run("fit --data " + three + " --out " + b.string()).code, 0);
  EXPECT_TRUE(fs::exists(b / "precision_se.npy"));
}

// A data file with the model's columns in another order (a swapped header) is refused, naming
// both orders; the same columns in the model's order are evaluated.
TEST(Cli, DataWithTheModelsColumnsInAnotherOrderAreRefused) {
  const std::string fitted = file("order_fit.csv", "u,v\n1,2\n2,1\n4,4\n3,1\n");
  const std::string swapped = file("order_swapped.csv", "v,u\n2,1\n1,2\n");
  const fs::path model = kDir / "order_model";
  fs::remove_all(model);
  ASSERT_EQ(run("fit --data " + fitted + " --out " + model.string()).code, 0);
  expect_clean_failure("eval --model " + model.string() + " --data " + swapped,
                       "'" + swapped +
                           "' has the columns of the model in another order (v,u; "
                           "it was fitted on u,v): reorder the columns");
  expect_clean_failure("loglik --model " + model.string() + " --data " + swapped,
                       "'" + swapped +
                           "' has the columns of the model in another order (v,u; "
                           "it was fitted on u,v): reorder the columns");
  // The AIS base placed by the data's columns, and chains started from data rows, too.
  expect_clean_failure("logz --model " + model.string() +
                           " --method ais --temps 10 --chains 8 "
                           "--data " +
                           swapped,
                       "'" + swapped +
                           "' has the columns of the model in another order (v,u; "
                           "it was fitted on u,v): reorder the columns");
  expect_clean_failure("sample --model " + model.string() +
                           " --sampler mala --chains 2 --steps "
                           "5 --init data --data " +
                           swapped,
                       "'" + swapped +
                           "' has the columns of the model in another order (v,u; "
                           "it was fitted on u,v): reorder the columns");
  const fs::path out = kDir / "order_eval";
  fs::remove_all(out);
  EXPECT_EQ(
      run("eval --model " + model.string() + " --data " + fitted + " --out " + out.string()).code,
      0);
}

// A bad value set in a job file names the file (the installed setting namer); options of another
// inverse operator are refused, not ignored; a mask that is not 0/1 names its row and column.
TEST(Cli, JobFileValuesAndOperatorOptionsAreNamed) {
  const std::string job = file("ridge.toml", "[fit]\nmodel = \"gaussian\"\nridge = -1.0\n");
  expect_clean_failure(
      "fit --config " + job + " --data " + faithful(),
      "--ridge (set in job file '" + job + "') must be a finite number ≥ 0, got -1");
  const fs::path model = kDir / "operator_model";
  fs::remove_all(model);
  ASSERT_EQ(run("fit --data " + faithful() + " --out " + model.string()).code, 0);
  const std::string mask = file("half.csv", "a,b\n1,0.5\n");
  const std::string map = "map --model " + model.string() + " --obs " + faithful() +
                          " --sigma-y 0.5 --mask " + mask + " --operator ";
  expect_clean_failure(map + "identity",
                       "--mask does not apply to --operator identity (it is read by --operator "
                       "mask)");
  expect_clean_failure(map + "mask",
                       "'" + mask + "' row 1, column 2: mask entries must be 0 or 1, got 0.5");
  const fs::path out = kDir / "chains0";
  const Result r = run("diag --samples " + faithful() + " --chains 0 --out " + out.string());
  EXPECT_EQ(r.code, 2) << r.err;
}

// A job-file value must have the TOML type its option takes (CLI11 sees text: "10" would pass as
// an integer, 2.5 fail without naming the file); a value a validator refuses names the file.
TEST(Cli, JobFileValuesMustHaveTheirOptionsType) {
  struct Case {
    std::string toml, message;
  };
  const std::vector<Case> cases{
      {"[fit]\nsteps = \"10\"\n", "line 2: steps is a string, but --steps takes an integer"},
      {"[fit]\nmodel = \"gaussian\"\nridge = \"0.1\"\n",
       "line 3: ridge is a string, but --ridge takes a number"},
      {"[fit]\nsteps = 2.5\n",
       "line 2: steps is a floating-point number, but --steps takes an integer"},
      {"[fit]\nstandardize = 1\n",
       "line 2: standardize is an integer, but --standardize takes true or false"},
      {"[fit.objective]\nname = 3\n",
       "line 2: objective is an integer, but --objective takes a string"},
      // One option set twice (tables are read in key order: both lines named).
      {"[fit]\nlr = 0.01\n[fit.optimizer]\nlr = 0.002\n", "lines 2 (lr) and 4 (lr) both set --lr"},
      {"[fit]\nstandardize = true\nno-standardize = true\n",
       "lines 2 (standardize) and 3 (no-standardize) both set --standardize"}};
  for (const Case& c : cases) {
    const std::string job = file("typed.toml", c.toml);
    expect_clean_failure("fit --config " + job + " --data " + faithful(),
                         "config '" + job + "': " + c.message);
    EXPECT_EQ(
        run("fit --config " + job + " --data " + faithful() + " --out " + (kDir / "typed").string())
            .code,
        2);
  }
  const std::string job = file("steps0.toml", "[fit]\nmodel = \"mlp-energy\"\nsteps = 0\n");
  expect_clean_failure(
      "fit --config " + job + " --data " + faithful(),
      "--steps (set in job file '" + job + "'): must be >= 1, got 0 (see scorematch fit --help)");
  // Integers have 64 bits in a job file as on the command line; a narrower option refuses what it
  // cannot hold, naming the file.
  const std::string threads = file("threads.toml", "threads = 99999999999\n");
  expect_clean_failure("gen --config " + threads,
                       "--threads (set in job file '" + threads +
                           "'): '99999999999' is out of range for this option (see scorematch gen "
                           "--help)");
  // Integers are numbers: a float option takes `ridge = 1`.
  const std::string ok = file("ridge1.toml", "[fit]\nmodel = \"gaussian\"\nridge = 1\n");
  const fs::path out = kDir / "ridge1";
  fs::remove_all(out);
  EXPECT_EQ(run("fit --config " + ok + " --data " + faithful() + " --out " + out.string()).code, 0);
}

// fit --init-from: a fitted network's parameters start the run (after one step at a tiny rate the
// weights are the model's to 1e-6, where a fresh start is far off); another architecture or
// standardisation is refused, naming what differs.
TEST(Cli, InitFromStartsAtTheModelAndNeedsTheSameNetwork) {
  const fs::path first = kDir / "init_first", tuned = kDir / "init_tuned",
                 fresh = kDir / "init_fresh";
  for (const fs::path& p : {first, tuned, fresh}) {
    fs::remove_all(p);
    fs::remove_all(p.string() + ".ckpt");
  }
  const std::string common = "fit --data " + faithful() +
                             " --model mlp-score --objective dsm --noise vesde --sigma-min 0.05 "
                             "--sigma-max 2 --precondition edm --hidden 16";
  ASSERT_EQ(run(common + " --steps 300 --out " + first.string()).code, 0);
  const std::string tiny = " --steps 1 --warmup 0 --lr 1e-9 --ema 0 --consistency 1";
  ASSERT_EQ(run(common + tiny + " --init-from " + first.string() + " --out " + tuned.string()).code,
            0);
  ASSERT_EQ(run(common + tiny + " --seed 4 --out " + fresh.string()).code, 0);
  const auto weights = [](const fs::path& dir) {
    const std::string path = (dir / "W0.npy").string();
    return io::read_npy_rows(path, io::read_npy_header(path), {0, 16});
  };
  EXPECT_LT((weights(tuned) - weights(first)).cwiseAbs().maxCoeff(), 1e-6);
  EXPECT_GT((weights(fresh) - weights(first)).cwiseAbs().maxCoeff(), 1e-2);
  expect_clean_failure(
      std::string(common).replace(common.find("--hidden 16"), 11, "--hidden 16,8") +
          " --init-from " + first.string(),
      "--init-from '" + first.string() + "' is another network (--hidden was [16], now [16,8])");
  // Another dimension: named before anything is trained.
  const std::string wide = file("wide.csv", "a,b,c\n1,2,3\n2,1,0\n4,4,1\n3,1,2\n5,2,2\n");
  expect_clean_failure(
      "fit --data " + wide +
          " --model mlp-score --objective dsm --noise vesde --sigma-min 0.05 --sigma-max 2 "
          "--precondition edm --hidden 16 --init-from " +
          first.string(),
      "--init-from '" + first.string() + "' has dimension 2, but the data have 3 columns");
  // Infinite rates are settings errors, not a diverged first step.
  expect_clean_failure(common + " --lr inf",
                       "--lr: expected a finite number, got 'inf' (see scorematch fit --help)");
  // --consistency-teacher init: the starting model held fixed as the target's network.
  const fs::path distilled = kDir / "init_distilled";
  fs::remove_all(distilled);
  fs::remove_all(distilled.string() + ".ckpt");
  EXPECT_EQ(run(common + " --steps 20 --consistency 2 --consistency-teacher init --init-from " +
                first.string() + " --out " + distilled.string())
                .code,
            0);
  expect_clean_failure(common + " --consistency 2 --consistency-teacher init",
                       "--consistency-teacher init needs --init-from (the model held fixed as the "
                       "teacher)");
  // The target's settings are unread without the term: refused even at their defaults.
  for (const std::string& target : {" --consistency-teacher init --init-from " + first.string(),
                                    std::string(" --consistency-teacher ema")})
    expect_clean_failure(common + target,
                         "--consistency-teacher needs --consistency > 0 (it sets "
                         "the consistency term's target)");
  expect_clean_failure(common + " --consistency-steps 1",
                       "--consistency-steps needs --consistency > 0 (it sets the consistency "
                       "term's target)");
  expect_clean_failure(common + " --schedule cosin --lr-min 1e-5",
                       "--schedule: expected cosine or constant, got 'cosin' (see scorematch fit "
                       "--help)");
  expect_clean_failure(
      "fit --data " + faithful() +
          " --model mlp-score --objective dsm --noise ladder --consistency-steps 2",
      "--consistency-steps does not apply to dsm with noise 'ladder' (it is read "
      "by dsm with noise 'vesde', dsm with noise 'vesde' (lognormal sigma))");
  expect_clean_failure(common + " --schedule constant --lr-min 1e-5",
                       "--lr-min needs --schedule cosine (the rate the cosine decays to)");
  // A setting from the job file is named as the file's, in every part of the message.
  const std::string no_rows =
      file("no_rows.toml", "[fit]\nval-fraction = 0\nearly-stopping = true\n");
  expect_clean_failure("--config " + no_rows + " " + common,
                       "--early-stopping (set in job file '" + no_rows +
                           "') needs validation rows (--val-fraction (set in job file '" + no_rows +
                           "') > 0)");
  expect_clean_failure(common + " --val-fraction 0 --val-every 5",
                       "--val-every needs --val-fraction > 0 (validation rows to evaluate)");
  expect_clean_failure(common + " --consistency-teacher last",
                       "--consistency-teacher: expected ema or init, got 'last' (see scorematch "
                       "fit --help)");
  expect_clean_failure(common + " --no-standardize --init-from " + first.string(),
                       "--init-from '" + first.string() +
                           "' is another network (mlp.sigma_data (edm's sigma_d, derived from "
                           "the data and their standardisation) was 1.0, now 9.6291680266091)");
}

// Residual blocks (--residual, models/mlp.hpp): refused for energies and unequal widths with the
// setting named; recorded in meta.json, so a plain network cannot continue a residual one.
TEST(Cli, ResidualBlocksAreRecordedAndChecked) {
  const fs::path res = kDir / "residual_fit";
  fs::remove_all(res);
  fs::remove_all(res.string() + ".ckpt");
  const std::string common = "fit --data " + faithful() +
                             " --model mlp-score --objective dsm --noise vesde --sigma-min 0.05 "
                             "--sigma-max 2 --precondition edm";
  ASSERT_EQ(run(common + " --hidden 16,16 --residual --steps 50 --out " + res.string()).code, 0);
  std::ifstream meta(res / "meta.json");
  const std::string text((std::istreambuf_iterator<char>(meta)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("\"residual\": true"), std::string::npos) << text;
  expect_clean_failure(common + " --hidden 16,16 --init-from " + res.string(),
                       "--init-from '" + res.string() +
                           "' is another network (--residual was true, now not set (the "
                           "default))");
  expect_clean_failure(
      "fit --data " + faithful() + " --model mlp-energy --hidden 8,8 --residual",
      "residual blocks (--residual) are for mlp-score networks, not mlp-energy (the energy's "
      "input-gradient sweep has no skip)");
  expect_clean_failure(common + " --hidden 16,8 --residual",
                       "residual blocks (--residual) need equal hidden widths (--hidden), got 8 "
                       "after 16");
  expect_clean_failure(common + " --hidden 16 --residual",
                       "residual blocks (--residual) need at least two hidden layers (the first "
                       "one has no skip)");
  // A hand-edited meta.json value of the wrong type is named with what was expected.
  struct Edit {
    std::string from, to, message;
  };
  for (const Edit& e : std::vector<Edit>{
           {"\"residual\": true", "\"residual\": \"yes\"",
            "meta.json mlp.residual must be true or false, got \"yes\""},
           {"\"hidden\": [", "\"hidden\": [\"16\",",
            "meta.json mlp.hidden must be a list of integers, got [\"16\",16,16]"},
           {"\"dim\": 2", "\"dim\": 2.5", "meta.json dim must be an integer, got 2.5"},
           {"\"dim\": 2", "\"dimm\": 2", "meta.json dim is missing"},
           {"\"dim\": 2", "\"dim\": 0", "meta.json dim must be at least 1, got 0"},
           {"\"columns\": [", "\"columns\": [\"extra\", ",
            "meta.json columns has 3 names, expected one per dimension (2)"},
           {"\"sigma_max\": 2.0", "\"sigma_max\": 0.01",
            "meta.json noise (process vesde) needs 0 < sigma_min < sigma_max < inf, got sigma_min "
            "0.05, sigma_max 0.01"},
           {"\"sigma_max\": 2.0", "\"sigma_maxx\": 2.0", "meta.json noise.sigma_max is missing"},
           {"\"process\": \"vesde\"", "\"process\": \"single\", \"sigma\": 0.1",
            "meta.json noise.process single does not match mlp.conditioning sigma"},
           {"\"noise_level\": ", "\"noise_level\": 5, \"x\": ",
            "meta.json mlp.noise_level 5 is outside the levels of its noise section, [0.05, 2]"},
           {"\"columns\": [", "\"columns\": \"x\", \"c2\": [",
            "meta.json columns must be a list of strings, got \"x\""}}) {
    const fs::path edited = kDir / "residual_edited";
    fs::remove_all(edited);
    fs::copy(res, edited);
    std::string changed = text;
    const std::size_t at = changed.rfind(e.from);  // the mlp section, after fit.config
    ASSERT_NE(at, std::string::npos) << e.from;
    std::ofstream(edited / "meta.json", std::ios::trunc)
        << changed.replace(at, e.from.size(), e.to);
    expect_clean_failure("eval --model " + edited.string() + " --data " + faithful(),
                         "'" + edited.string() + "': " + e.message);
  }
}

// meta.json's dim and columns must describe the arrays' model (a Gaussian's dim is read from no
// array shape check otherwise): a hand edit that disagrees is refused, named.
TEST(Cli, HandEditedGaussianMetaIsChecked) {
  const fs::path model = kDir / "gaussian_meta", edited = kDir / "gaussian_meta_edited";
  fs::remove_all(model);
  ASSERT_EQ(run("fit --model gaussian --data " + faithful() + " --out " + model.string()).code, 0);
  std::ifstream meta(model / "meta.json");
  const std::string text((std::istreambuf_iterator<char>(meta)), std::istreambuf_iterator<char>());
  struct Edit {
    std::string from, to, message;
  };
  for (const Edit& e : std::vector<Edit>{
           {"\"dim\": 2", "\"dim\": 2.0", "meta.json dim must be an integer, got 2.0"},
           {"\"dim\": 2", "\"dim\": 3",
            "meta.json dim is 3 but the arrays hold a model of dimension 2"}}) {
    fs::remove_all(edited);
    fs::copy(model, edited);
    std::string changed = text;
    const std::size_t at = changed.rfind(e.from);
    ASSERT_NE(at, std::string::npos) << e.from;
    std::ofstream(edited / "meta.json", std::ios::trunc)
        << changed.replace(at, e.from.size(), e.to);
    expect_clean_failure("eval --model " + edited.string() + " --data " + faithful(),
                         "'" + edited.string() + "': " + e.message);
  }
}

// A checkpoint names its input files canonically: a sample stopped in one working directory with
// relative --model and --init-file paths resumes from another directory, where those paths are
// spelled otherwise (a job requeued elsewhere), instead of being refused as another setup.
TEST(Cli, SampleResumesFromAnotherWorkingDirectory) {
  const fs::path top = kDir / "cwd_resume", sub = top / "sub";
  fs::remove_all(top);
  fs::create_directories(sub);
  ASSERT_EQ(
      run("fit --model gaussian --data " + faithful() + " --out " + (top / "m").string()).code, 0);
  std::ofstream(top / "start.csv") << "eruptions,waiting\n3.5,70\n2.0,55\n";
  const auto in = [](const fs::path& dir, const std::string& args) {
    const std::string err = (kDir / "cwd_stderr.txt").string();
    const int status = std::system(
        ("cd " + dir.string() + " && " + SCOREMATCH_BIN + " " + args + " >/dev/null 2>" + err)
            .c_str());
    std::ifstream text(err);
    std::stringstream ss;
    ss << text.rdbuf();
    return std::make_pair(WIFEXITED(status) ? WEXITSTATUS(status) : -1, ss.str());
  };
  const std::string tail =
      " --sampler mala --chains 2 --steps 40 --init file --checkpoint-every 5 --quiet --no-diag";
  setenv("SCOREMATCH_TEST_SIGTERM_AT_STEP", "10", 1);
  const auto stopped = in(top, "sample --model m --init-file start.csv --out s" + tail);
  unsetenv("SCOREMATCH_TEST_SIGTERM_AT_STEP");
  ASSERT_EQ(stopped.first, 75) << stopped.second;
  const auto resumed =
      in(sub, "sample --model ../m --init-file ../start.csv --out ../s --resume ../s.ckpt" + tail);
  EXPECT_EQ(resumed.first, 0) << resumed.second;
  EXPECT_TRUE(fs::exists(top / "s" / "samples.npy")) << resumed.second;
}

// A sample checkpoint holds its model by content: resumed against a model refitted at the same
// path, it is refused (the chains would continue under another density).
TEST(Cli, SampleResumeRefusesAModelRefittedAtTheSamePath) {
  const fs::path model = kDir / "refit_model", samples = kDir / "refit_samples";
  for (const fs::path& p : {model, samples, fs::path(samples.string() + ".ckpt")})
    fs::remove_all(p);
  ASSERT_EQ(run("fit --model gaussian --data " + faithful() + " --out " + model.string()).code, 0);
  const std::string sample = "sample --model " + model.string() +
                             " --sampler mala --chains 4 --steps 40 --checkpoint-every 5 --quiet "
                             "--no-diag --out " +
                             samples.string();
  setenv("SCOREMATCH_TEST_SIGTERM_AT_STEP", "10", 1);
  const Result stopped = run(sample);
  unsetenv("SCOREMATCH_TEST_SIGTERM_AT_STEP");
  ASSERT_NE(stopped.code, 0) << stopped.err;
  ASSERT_TRUE(fs::exists(samples.string() + ".ckpt")) << stopped.err;
  fs::remove_all(model);
  const std::string fewer = file("refit_rows.csv", "eruptions,waiting\n3.6,79\n1.8,54\n3.3,74\n");
  ASSERT_EQ(run("fit --model gaussian --data " + fewer + " --out " + model.string()).code, 0);
  const Result r = run(sample + " --resume " + samples.string() + ".ckpt");
  EXPECT_EQ(r.code, 2);  // a setting that differs from the checkpoint's: a usage error
  EXPECT_NE(r.err.find("different run configuration (--model's content (its fingerprint) was"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(samples)) << r.err;
}

// One row: the standard error of a mean over rows is null in metrics.json, with its reason.
TEST(Cli, OneRowStandardErrorsAreNullWithAReason) {
  const fs::path model = kDir / "one_row_model", ev = kDir / "one_row_eval",
                 ll = kDir / "one_row_ll";
  for (const fs::path& p : {model, ev, ll}) fs::remove_all(p);
  ASSERT_EQ(run("fit --data " + faithful() + " --out " + model.string()).code, 0);
  const std::string one = file("one_row.csv", "eruptions,waiting\n3.6,79\n");
  ASSERT_EQ(run("eval --model " + model.string() + " --data " + one + " --out " + ev.string()).code,
            0);
  ASSERT_EQ(
      run("loglik --model " + model.string() + " --data " + one + " --out " + ll.string()).code, 0);
  for (const fs::path& metrics : {ev / "metrics.json", ll / "metrics.json"}) {
    std::ifstream in(metrics);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_NE(text.str().find("\"undefined\""), std::string::npos) << metrics << text.str();
    EXPECT_NE(text.str().find("one row: no spread to estimate"), std::string::npos) << text.str();
  }
}

// A failed run leaves no trace: the parent directories its --out needed are removed again when
// they stayed empty; a run that succeeds keeps them.
TEST(Cli, AFailedRunLeavesNoNewDirectories) {
  const std::string bad = file("fails.csv", "a,b\n1,2\n3,x\n");
  const fs::path top = kDir / "new_parent";
  fs::remove_all(top);
  EXPECT_EQ(run("fit --data " + bad + " --out " + (top / "a" / "m").string()).code, 1);
  EXPECT_FALSE(fs::exists(top));
  EXPECT_EQ(run("fit --data " + bad + " --out " + (top / "a" / "m").string(), 2).code, 1);
  EXPECT_FALSE(fs::exists(top));
  ASSERT_EQ(run("fit --data " + faithful() + " --out " + (top / "a" / "m").string()).code, 0);
  EXPECT_TRUE(fs::exists(top / "a" / "m" / "meta.json"));
}

// Integers are read as written or refused: CLI11 reads them with strtoll base 0 (010 is 8, 0x10
// is 16) and saturates on overflow; an empty text value is not "not given"; a size beyond this
// machine's memory is a setting error naming it, not a bad_alloc; a name a component does not know
// names its option and the job file that set it.
TEST(Cli, OptionValuesAreReadAsWrittenOrRefused) {
  const std::string gen = "gen --dist gmm ";
  expect_clean_failure(gen + "--n 010",
                       "--n: expected an integer in decimal digits without leading "
                       "zeros, got '010' (see scorematch gen --help)");
  expect_clean_failure(gen + "--n 0x10",
                       "--n: expected an integer in decimal digits, got '0x10' "
                       "(see scorematch gen --help)");
  expect_clean_failure(gen + "--n 1e3",
                       "--n: expected an integer in decimal digits, got '1e3' "
                       "(see scorematch gen --help)");
  expect_clean_failure(gen + "--seed 99999999999999999999",
                       "--seed: '99999999999999999999' is out of range (an integer >= 0 in "
                       "decimal digits up to 18446744073709551615) (see scorematch gen --help)");
  expect_clean_failure("--threads 99999999999 " + gen,
                       "--threads: '99999999999' is out of range for this option (see scorematch "
                       "gen --help)");
  expect_clean_failure("fit --data " + faithful() + " --model mlp-score --init-from ''",
                       "--init-from: expected a value, got an empty string (see scorematch fit "
                       "--help)");
  // Bounded options (cli/command.hpp within): the type check first, then the range in one form.
  const std::string score = "fit --data " + faithful() + " --model mlp-score ";
  expect_clean_failure(score + "--embedding 2.5",
                       "--embedding: expected an integer in decimal digits, got '2.5' (see "
                       "scorematch fit --help)");
  expect_clean_failure(score + "--dropout 0.99",
                       "--dropout: must lie in [0, 0.95], got 0.99 (see scorematch fit --help)");
  expect_clean_failure("field --target gauss2 --grid 5000",
                       "--grid: must lie in [2, 4000], got 5000 (see scorematch field --help)");
  expect_clean_failure(score + "--dtype float16",
                       "--dtype: expected float64 or float32, got 'float16' (see scorematch fit "
                       "--help)");
  const std::string vesde = score + "--objective dsm --noise vesde ";
  expect_clean_failure(vesde + "--consistency 1 --consistency-steps 0",
                       "--consistency-steps: must lie in [1, 64], got 0 (see scorematch fit "
                       "--help)");
  expect_clean_failure(vesde + "--consistency-steps 3",
                       "--consistency-steps needs --consistency > 0 (it sets the consistency "
                       "term's target)");
  const fs::path out = kDir / "seedmax.csv";
  fs::remove(out);
  EXPECT_EQ(run(gen + "--n 5 --seed 18446744073709551615 --out " + out.string()).code, 0);
  const fs::path huge = kDir / "huge";
  for (const std::string& args :
       {gen + "--n 9000000000000000000 --out " + huge.string() + ".csv",
        "fit --data " + faithful() + " --model mlp-score --steps 2 --batch 100000000000 --out " +
            huge.string(),
        "sample --target gaussian --dim 2 --sampler ula --chains 1000000000 --steps 10 --out " +
            huge.string(),
        "fit --data " + faithful() +
            " --model mlp-energy --objective nce --noise-ratio 1000000000 --out " + huge.string(),
        "fit --data " + faithful() + " --model poly:2 --objective nce --noise-ratio 1000000000 " +
            "--out " + huge.string()}) {
    const Result r = run(args);
    EXPECT_EQ(r.code, 2) << args << r.err;
    EXPECT_NE(r.err.find(" per rank, more than this machine's "), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(huge) || fs::exists(huge.string() + ".csv"));
  }
  // An analytic target's --dim is a size like the others: named, exit 2, nothing written.
  for (const std::string& args : {gen + "--n 5 --dim 4294967296 --out " + huge.string() + ".csv",
                                  "sample --target gmm --dim 4294967296 --out " + huge.string()}) {
    const Result r = run(args);
    EXPECT_EQ(r.code, 2) << args << r.err;
    EXPECT_EQ(r.err.rfind("scorematch: error: target 'gmm' with --dim 4294967296 needs at least 96 "
                          "GiB per rank, more than this machine's ",
                          0),
              0)
        << r.err;
    EXPECT_FALSE(fs::exists(huge) || fs::exists(huge.string() + ".csv"));
  }
  // A non-finite word in a multi-value option is a value, not an option name (CLI11 read "-inf"
  // as one: "At least 2 required but received 1"); a subnormal value is not silently "positive".
  expect_clean_failure("field --target gmm --dim 2 --range 1 -inf 40 100",
                       "--range: expected a finite number, got '-inf'");
  expect_clean_failure("field --target gmm --dim 2 --through 3 -NaN",
                       "--through: expected a finite number, got '-NaN'");
  // ... and an integer option says it wants an integer (it said "a finite number").
  expect_clean_failure("fit --data " + faithful() + " --model mlp-energy --hidden 32 -inf",
                       "--hidden: expected an integer in decimal digits, got '-inf'");
  // Decimal only (strtod read -0x10 as -16), and one reading for every check of a number.
  expect_clean_failure("field --target gmm --dim 2 --range -0x10 3 -3 3",
                       "--range: expected a finite number, got '-0x10' (see scorematch field "
                       "--help)");
  expect_clean_failure(
      "map --target gmm --dim 2 --obs " + faithful() + " --operator identity --sigma-y 1e-320",
      "--sigma-y: '1e-320' is too small to be represented (nonzero magnitudes "
      "start at 2.2e-308) (see scorematch map --help)");
  expect_clean_failure("fit --data " + faithful() + " --model gaussian --ridge 1e-320",
                       "--ridge: '1e-320' is too small to be represented (nonzero magnitudes "
                       "start at 2.2e-308) (see scorematch fit --help)");
  // A finite value too large for the computation names the option, not an internal sum.
  expect_clean_failure("fit --data " + faithful() + " --model gaussian --ridge 1e308",
                       "--ridge must be small enough that 4 × ridge is finite, got 1e+308");
  // Sampler counts stay below 2^31 (their sums and products must not overflow before the 32-bit
  // step counter refuses the total; 2^63 - 1 corrector steps crashed), and so does the ladder a
  // fit stores for the sampler (2^32 levels were accepted, then refused by sample).
  expect_clean_failure("fit --data " + faithful() +
                           " --model mlp-score --objective dsm --noise ladder --levels 4294967296",
                       "--levels must be at most 2147483647, got 4294967296");
  expect_clean_failure("sample --target gaussian --dim 2 --sampler hmc --leapfrog-steps 4294967296",
                       "--leapfrog-steps must be at most 2147483647, got 4294967296");
  expect_clean_failure(
      "sample --target gaussian --dim 2 --sampler pc --corrector-steps 9223372036854775807",
      "--corrector-steps must be at most 2147483647, got 9223372036854775807");
  // Domains are checked where the option is declared (finite, bounds) or, when they depend on other
  // settings, before any work, naming the option as given.
  const std::string fit_vp =
      "fit --data " + faithful() + " --model mlp-score --objective dsm --noise vpsde --steps 2 ";
  expect_clean_failure(
      fit_vp + "--beta-max inf",
      "--beta-max: expected a finite number, got 'inf' (see scorematch fit --help)");
  expect_clean_failure(fit_vp + "--beta-min 30",
                       "--beta-max must be finite and exceed --beta-min 30, got 20");
  expect_clean_failure("loglik --target gmm --data " + faithful() + " --beta-min 30",
                       "--beta-max must be finite and exceed --beta-min 30, got 20");
  // A time-conditioned network read outside the times it was trained on, [t_eps, 1], is refused
  // as the sigma-conditioned ones are; without --t-eps the reverse time stops at the trained one.
  const fs::path vp = kDir / "vp_range";
  fs::remove_all(vp);
  ASSERT_EQ(run(fit_vp + "--hidden 8 --t-eps 0.01 --out " + vp.string()).code, 0);
  expect_clean_failure("sample --model " + vp.string() + " --sampler sde --steps 5 --t-eps 0.001",
                       "--t-eps 0.001 is outside the times the model was trained on, [0.01, 1]: "
                       "the network's score there is an extrapolation");
  const fs::path vp_samples = kDir / "vp_range_samples";
  fs::remove_all(vp_samples);
  ASSERT_EQ(run("sample --model " + vp.string() +
                " --sampler sde --chains 4 --steps 5 --quiet "
                "--no-diag --out " +
                vp_samples.string())
                .code,
            0);
  std::ifstream vp_info(vp_samples / "sampler.json");
  const std::string vp_text((std::istreambuf_iterator<char>(vp_info)),
                            std::istreambuf_iterator<char>());
  EXPECT_NE(vp_text.find("\"t_eps\": 0.01"), std::string::npos) << vp_text;
  expect_clean_failure("fit --data " + faithful() + " --model mlp-energy --checkpoint-every -5",
                       "--checkpoint-every: must be >= 0, got -5 (see scorematch fit --help)");
  expect_clean_failure("sample --target gaussian --dim 2 --sampler pc --snr inf",
                       "--snr: expected a finite number, got 'inf' (see scorematch sample --help)");
  expect_clean_failure("sample --target gaussian --dim 2 --sampler ula --trace-dims 5",
                       "--trace-dims 5 is outside [0, 2)");
  expect_clean_failure(
      "map --target gaussian --obs " + faithful() + " --operator identity --sigma-y inf",
      "--sigma-y: expected a finite number, got 'inf' (see scorematch map --help)");
  const std::string relu =
      file("relu.toml", "[fit]\nmodel = \"mlp-score\"\nactivation = \"relu\"\n");
  expect_clean_failure("fit --config " + relu + " --data " + faithful(),
                       "--activation (set in job file '" + relu +
                           "'): unknown activation 'relu' (expected softplus, tanh, silu or gelu)");
  const std::string widths =
      file("widths.toml", "[fit]\nmodel = \"mlp-score\"\nhidden = [16, -3]\n");
  expect_clean_failure("fit --config " + widths + " --data " + faithful(),
                       "--hidden (set in job file '" + widths + "') widths must be >= 1, got -3");
}
