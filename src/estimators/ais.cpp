#include "scorematch/estimators/ais.hpp"

#include <cmath>
#include <limits>
#include <numbers>

#include "scorematch/core/error.hpp"
#include "scorematch/core/parallel.hpp"
#include "scorematch/core/random_fill.hpp"
#include "scorematch/core/random_stream.hpp"
#include "scorematch/sampling/chain_runner.hpp"

namespace scorematch {

namespace {
// Philox purposes of an AIS run: main chains' starts and moves, tuning chains' starts and moves.
constexpr std::uint64_t kStartTag = 41, kMoveTag = 42, kTuneStartTag = 43, kTuneMoveTag = 44;

// A block of consecutive chains: positions, the model's cached energy and score, log-weights.
struct AisBlock {
  Index first = 0;
  Matrix x;
  Vector phi;  // φ(x); +inf where the model's energy is not a number (zero density)
  Matrix s;    // s(x) = −∇φ(x)
  Vector log_w;
};

// The chains of `range` started from exact draws of the base.
std::vector<AisBlock> start_blocks(const ScoreModel& model, const DiagonalGaussian& base,
                                   RowRange range, std::uint64_t key) {
  std::vector<AisBlock> blocks;
  const Index d = model.dim();
  for (Index first = range.begin; first < range.end; first += kChainBlock) {
    AisBlock b;
    b.first = first;
    const Index n = std::min(kChainBlock, range.end - first);
    b.x.resize(n, d);
    for (Index r = 0; r < n; ++r) {
      RandomStream rng(key, static_cast<std::uint64_t>(first + r));
      base.draw(rng, b.x.row(r).data());  // Matrix is row-major: row r is contiguous
    }
    b.log_w = Vector::Zero(n);
    blocks.push_back(std::move(b));
  }
  parallel::for_each_chunk(static_cast<Index>(blocks.size()), 1, [&](Index i, Index, Index) {
    AisBlock& b = blocks[static_cast<std::size_t>(i)];
    tempered_evaluate(model, b.x, b.phi, b.s);
  });
  return blocks;
}

// One MALA transition of every chain of `b` on π_β (sampling/tempered_mala.hpp); returns the sum
// of the acceptance probabilities.
double mala_move(const ScoreModel& model, const DiagonalGaussian& base, AisBlock& b, double beta,
                 double alpha, std::uint64_t key, std::uint32_t step) {
  const Index n = b.x.rows(), d = b.x.cols();
  // The d normals of each chain's stream in bulk (SIMD Philox + Box–Muller, equal bitwise to
  // RandomStream::normal() in order), then the acceptance uniform after them.
  Matrix xi(n, d);
  fill_normal_rows(key, nullptr, static_cast<std::uint64_t>(b.first), step, n, d, xi.data(), d);
  Vector log_u(n);
  for (Index r = 0; r < n; ++r) {
    RandomStream rng(key, static_cast<std::uint64_t>(b.first + r), step);
    rng.seek(static_cast<std::uint32_t>((d + 1) / 2));
    log_u[r] = std::log(rng.uniform());
  }
  const Vector accept = tempered_mala_move(model, base, b.x, b.phi, b.s, Vector::Constant(n, beta),
                                           Vector::Constant(n, alpha), xi, log_u);
  double sum = 0;
  for (Index r = 0; r < n; ++r) sum += accept[r];
  return sum;
}

// Temperature t (1 … T) for every local block: the weight increment at x_{t−1}, then (t < T) the
// moves on π_{β_t}. Returns the per-block sums of acceptance probabilities, indexed by global
// block (zero for other ranks' blocks), ready for an order-free allreduce.
std::vector<double> temperature(const ScoreModel& model, const DiagonalGaussian& base,
                                std::vector<AisBlock>& blocks, const std::vector<double>& beta,
                                Index t, double alpha, const AisSettings& s, std::uint64_t key,
                                Index global_blocks) {
  std::vector<double> accepted(static_cast<std::size_t>(global_blocks), 0.0);
  const double dbeta = beta[static_cast<std::size_t>(t)] - beta[static_cast<std::size_t>(t - 1)];
  const Index T = static_cast<Index>(beta.size()) - 1;
  parallel::for_each_chunk(static_cast<Index>(blocks.size()), 1, [&](Index i, Index, Index) {
    AisBlock& b = blocks[static_cast<std::size_t>(i)];
    b.log_w += dbeta * (base.energy(b.x) - b.phi);
    if (t == T) return;
    double sum = 0;
    for (Index k = 0; k < s.steps_per_temp; ++k)
      sum += mala_move(model, base, b, beta[static_cast<std::size_t>(t)], alpha, key,
                       static_cast<std::uint32_t>((t - 1) * s.steps_per_temp + k));
    accepted[static_cast<std::size_t>(b.first / kChainBlock)] = sum;
  });
  return accepted;
}

// Σ over blocks in block order after the allreduce: the same bits on any number of ranks.
double ordered_sum(const Collective& collective, std::vector<double> per_block) {
  collective.allreduce_sum(per_block);
  double total = 0;
  for (double v : per_block) total += v;
  return total;
}

Index block_count(Index chains) {
  return (chains + kChainBlock - 1) / kChainBlock;
}

// The tuning run: α_t for t = 1 … T − 1 (index t − 1).
Vector tune_steps(const Collective& collective, const ScoreModel& model,
                  const DiagonalGaussian& base, const std::vector<double>& beta,
                  const AisSettings& s) {
  const Index T = static_cast<Index>(beta.size()) - 1;
  Vector alpha = Vector::Constant(std::max<Index>(T - 1, 0), s.initial_step);
  if (s.tune_chains == 0 || T < 2) return alpha;
  const RowRange mine = chain_shard(s.tune_chains, collective.rank(), collective.size());
  std::vector<AisBlock> blocks =
      start_blocks(model, base, mine, derive_seed(s.seed, kTuneStartTag));
  const std::uint64_t key = derive_seed(s.seed, kTuneMoveTag);
  double log_alpha = std::log(s.initial_step);
  const double moves = static_cast<double>(s.tune_chains * s.steps_per_temp);
  for (Index t = 1; t < T; ++t) {
    alpha[t - 1] = std::exp(log_alpha);
    const double mean_accept =
        ordered_sum(collective, temperature(model, base, blocks, beta, t, alpha[t - 1], s, key,
                                            block_count(s.tune_chains))) /
        moves;
    log_alpha += mean_accept - s.target_accept;
  }
  return alpha;
}

void check(const ScoreModel& model, const DiagonalGaussian& base, const AisSettings& s) {
  if (!model.has_energy())
    throw Error("annealed importance sampling needs the model's energy, but this " + model.kind() +
                " model has only a score");
  if (s.chains < 1) throw InvalidSetting("chains", "be at least 1", std::to_string(s.chains));
  if (s.temps < 1) throw InvalidSetting("temps", "be at least 1", std::to_string(s.temps));
  if (s.steps_per_temp < 1)
    throw InvalidSetting("steps_per_temp", "be at least 1", std::to_string(s.steps_per_temp));
  if (s.tune_chains < 0)
    throw InvalidSetting("tune_chains", "be at least 0", std::to_string(s.tune_chains));
  if (!(s.initial_step > 0) || !std::isfinite(s.initial_step))
    throw InvalidSetting("initial_step", "be a positive number");
  if (!(s.target_accept > 0 && s.target_accept < 1))
    throw InvalidSetting("target_accept", "lie in (0, 1)");
  // In double: the product of two 64-bit counts may overflow (2^63 - 1 moves ran forever).
  if (static_cast<double>(s.temps) * static_cast<double>(s.steps_per_temp) >= 4294967296.0)
    throw SettingError(setting("temps") + " x " + setting("steps_per_temp") +
                       " must stay below 2^32 (the Philox step counter)");
  if (base.mean.size() != model.dim() || base.sd.size() != model.dim() ||
      !(base.sd.array() > 0).all() || !base.mean.allFinite() || !base.sd.allFinite())
    throw Error("the AIS base needs a finite mean and positive standard deviations of length " +
                std::to_string(model.dim()));
}
}  // namespace

std::vector<double> ais_schedule(const std::string& kind, Index temps) {
  if (temps < 1) throw InvalidSetting("temps", "be at least 1", std::to_string(temps));
  std::vector<double> beta(static_cast<std::size_t>(temps + 1));
  const double T = static_cast<double>(temps);
  if (kind == "linear") {
    for (Index t = 0; t <= temps; ++t)
      beta[static_cast<std::size_t>(t)] = static_cast<double>(t) / T;
  } else if (kind == "sigmoid") {
    constexpr double delta = 4.0;
    auto sig = [&](double t) { return 1.0 / (1.0 + std::exp(-delta * (2 * t / T - 1))); };
    const double lo = sig(0), hi = sig(T);
    for (Index t = 0; t <= temps; ++t)
      beta[static_cast<std::size_t>(t)] = (sig(static_cast<double>(t)) - lo) / (hi - lo);
  } else {
    throw InvalidSetting("schedule", "be sigmoid or linear", kind);
  }
  beta.front() = 0.0;
  beta.back() = 1.0;
  return beta;
}

LogMeanExp log_mean_exp(const Vector& log_w) {
  LogMeanExp out;
  const Index n = log_w.size();
  if (n == 0) {
    out.log_mean = out.se = std::nan("");
    out.undefined = "no weights";
    return out;
  }
  for (Index i = 0; i < n; ++i)
    if (std::isnan(log_w[i]) || log_w[i] == std::numeric_limits<double>::infinity()) {
      out.log_mean = out.se = out.ess = std::nan("");
      out.undefined = "a log-weight is not finite (" + std::to_string(log_w[i]) + " at chain " +
                      std::to_string(i) + "): the model's energy is unbounded below there";
      return out;
    }
  const double top = log_w.maxCoeff();
  if (top == -std::numeric_limits<double>::infinity()) {
    out.log_mean = -std::numeric_limits<double>::infinity();
    out.se = out.ess = std::nan("");
    out.undefined = "every weight is zero (every chain ended where the model has no density)";
    return out;
  }
  const Vector w = (log_w.array() - top).exp().matrix();
  const double mean = w.mean();
  out.log_mean = top + std::log(mean);
  out.ess = w.sum() * w.sum() / w.squaredNorm();
  if (n < 2) {
    out.se = std::nan("");
    out.undefined = "one chain: the spread of the weights cannot be estimated";
    return out;
  }
  const double var = (w.array() - mean).square().sum() / static_cast<double>(n - 1);
  out.se = std::sqrt(var / static_cast<double>(n)) / mean;
  return out;
}

AisResult ais_log_z(const Collective& collective, const ScoreModel& model,
                    const DiagonalGaussian& base, const AisSettings& s) {
  check(model, base, s);
  AisResult out;
  out.betas = ais_schedule(s.schedule, s.temps);
  out.step_size = tune_steps(collective, model, base, out.betas, s);
  const RowRange mine = chain_shard(s.chains, collective.rank(), collective.size());
  std::vector<AisBlock> blocks = start_blocks(model, base, mine, derive_seed(s.seed, kStartTag));
  const std::uint64_t key = derive_seed(s.seed, kMoveTag);
  const Index global_blocks = block_count(s.chains);
  // Per-temperature, per-block acceptance sums: one reduction at the end.
  std::vector<double> accepted(
      static_cast<std::size_t>(global_blocks * std::max<Index>(s.temps - 1, 0)), 0.0);
  for (Index t = 1; t <= s.temps; ++t) {
    const double alpha = t < s.temps ? out.step_size[t - 1] : 0.0;
    const std::vector<double> part =
        temperature(model, base, blocks, out.betas, t, alpha, s, key, global_blocks);
    if (t < s.temps)
      std::copy(part.begin(), part.end(),
                accepted.begin() + static_cast<std::ptrdiff_t>((t - 1) * global_blocks));
  }
  collective.allreduce_sum(accepted);
  out.acceptance = Vector::Zero(std::max<Index>(s.temps - 1, 0));
  for (Index t = 0; t < out.acceptance.size(); ++t) {
    double sum = 0;
    for (Index b = 0; b < global_blocks; ++b)
      sum += accepted[static_cast<std::size_t>(t * global_blocks + b)];
    out.acceptance[t] = sum / static_cast<double>(s.chains * s.steps_per_temp);
  }
  Vector local(mine.size());
  for (const AisBlock& b : blocks) local.segment(b.first - mine.begin, b.x.rows()) = b.log_w;
  out.log_weights = gather_by_index(collective, local, mine.begin, s.chains);
  out.log_z = log_mean_exp(out.log_weights);
  return out;
}

}  // namespace scorematch
