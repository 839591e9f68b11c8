#include "scorematch/sampling/chain_runner.hpp"

#include <cstdio>
#include <limits>
#include <string>

#include "scorematch/core/error.hpp"
#include "scorematch/core/parallel.hpp"

namespace scorematch {
namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

std::string short_g(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}
}  // namespace

RowRange chain_shard(Index chains, int rank, int ranks, Index group) {
  if (group < 1 || group % kChainBlock != 0)
    throw Error("chain groups must be whole blocks of " + std::to_string(kChainBlock) + " chains");
  return block_range(chains, group, rank, ranks);
}

Index chains_for_units(Index units, Index chains_per_unit, const char* key) {
  if (chains_per_unit < 1) throw InvalidSetting(key, "be >= 1", std::to_string(chains_per_unit));
  if (chains_per_unit > (Index{1} << 40) / std::max<Index>(1, units))
    throw InvalidSetting(key, "keep rows x chains below 2^40", std::to_string(chains_per_unit));
  return units * chains_per_unit;
}

Index chain_group(Index chains_per_unit) {
  return std::lcm(kChainBlock, std::max<Index>(1, chains_per_unit));
}

Matrix prior_states(const Sampler& sampler, RowRange chains) {
  Matrix x(chains.size(), sampler.dim());
  const double s = sampler.prior_scale();
  for (Index r = 0; r < x.rows(); ++r) {
    RandomStream rng(derive_seed(sampler.settings().seed, kInitTag),
                     static_cast<std::uint64_t>(chains.begin + r));
    for (Index j = 0; j < x.cols(); ++j) x(r, j) = s * rng.normal();
  }
  return x;
}

ChainRunner::ChainRunner(const Sampler& sampler, RowRange chains, const Matrix& initial,
                         Vector shift, Vector scale)
    : sampler_(sampler), chains_(chains), shift_(std::move(shift)), scale_(std::move(scale)) {
  if (initial.rows() != chains.size() || initial.cols() != sampler.dim())
    throw Error("initial states must be " + std::to_string(chains.size()) + " x " +
                std::to_string(sampler.dim()) + ", got " + std::to_string(initial.rows()) + " x " +
                std::to_string(initial.cols()));
  if (!initial.allFinite()) throw Error("initial states contain NaN or Inf");
  // A rank that owns no block holds an empty range, wherever it starts (more ranks than blocks).
  if (chains.size() > 0 && chains.begin % kChainBlock != 0)
    throw Error("chain ranges must start at a multiple of the block size");
  for (Index begin = 0; begin < chains.size(); begin += kChainBlock) {
    const Index n = std::min(kChainBlock, chains.size() - begin);
    blocks_.push_back({chains.begin + begin, initial.middleRows(begin, n), Matrix()});
  }
  parallel::for_each_chunk(static_cast<Index>(blocks_.size()), 1, [&](Index b, Index, Index) {
    ChainBlock& block = blocks_[static_cast<std::size_t>(b)];
    block.aux.resize(block.x.rows(), sampler_.aux_columns());
    sampler_.start(block);
  });
  draws_.resize(chains.size() * sampler.draws_per_chain(), sampler.dim());
}

// Throws if a chain of `block` is NaN/Inf after transition `step` (checked at every step: it never
// recovers) or, when the step keeps a draw, beyond the sampler's divergence bound: such a draw is
// meaningless and so is any average over it. Only draws are bounded because a too-large step at a
// high noise level can swing far out and then contract at the lower levels, ending in good draws.
void ChainRunner::check_states(const ChainBlock& block, Index step, bool keeps_draw) const {
  const double bound = keeps_draw ? sampler_.divergence_bound() : kInf;
  const auto ok = [&](Index r) {
    return block.x.row(r).allFinite() &&
           (bound == kInf || block.x.row(r).cwiseAbs().maxCoeff() <= bound);
  };
  Index r = 0;
  while (r < block.x.rows() && ok(r)) ++r;
  if (r == block.x.rows()) return;
  const std::string chain = "chain " + std::to_string(block.first_chain + r);
  if (!block.x.row(r).allFinite())
    throw Error(chain + " became NaN/Inf at step " + std::to_string(step) +
                " (the score is non-finite there or the step size is too large for it)");
  throw Error(chain + " diverged: its draw at step " + std::to_string(step) +
              " has a coordinate of " + short_g(block.x.row(r).cwiseAbs().maxCoeff()) +
              ", beyond the sampler's divergence bound " + short_g(bound) +
              " (the score is wrong there or the step size is too large for it)");
}

void ChainRunner::advance(Index until) {
  until = std::min(until, sampler_.num_transitions());
  const Index per_chain = sampler_.draws_per_chain();
  parallel::for_each_chunk(static_cast<Index>(blocks_.size()), 1, [&](Index b, Index, Index) {
    ChainBlock& block = blocks_[static_cast<std::size_t>(b)];
    const Index local0 = block.first_chain - chains_.begin;
    for (Index t = step_; t < until; ++t) {
      sampler_.transition(block, t);
      const Index slot = sampler_.draw_slot(t);
      check_states(block, t, slot >= 0);
      if (slot < 0) continue;
      for (Index r = 0; r < block.x.rows(); ++r)
        draws_.row((local0 + r) * per_chain + slot) =
            shift_.transpose() + block.x.row(r).cwiseProduct(scale_.transpose());
    }
  });
  kept_ = std::max(kept_, kept_by(step_, until));
  step_ = std::max(step_, until);
}

Index ChainRunner::kept_draws(Index step) const {
  return kept_by(0, step);
}

// Slots grow with the step, so the last slot kept by a transition in [from, until) gives the
// count; the search runs back from `until` and stops at the first kept draw (within thin steps
// for the MCMC samplers). 0 when no transition there keeps one.
Index ChainRunner::kept_by(Index from, Index until) const {
  for (Index t = std::min(until, sampler_.num_transitions()) - 1; t >= from; --t)
    if (const Index slot = sampler_.draw_slot(t); slot >= 0) return slot + 1;
  return 0;
}

Matrix ChainRunner::states() const {
  Matrix x(chains_.size(), sampler_.dim());
  for (const ChainBlock& b : blocks_) x.middleRows(b.first_chain - chains_.begin, b.x.rows()) = b.x;
  return x;
}

Matrix ChainRunner::aux() const {
  Matrix a(chains_.size(), sampler_.aux_columns());
  for (const ChainBlock& b : blocks_)
    a.middleRows(b.first_chain - chains_.begin, b.aux.rows()) = b.aux;
  return a;
}

void ChainRunner::restore(Index step, const Matrix& states, const Matrix& aux,
                          const Matrix& draws) {
  const Index kept = kept_draws(step), per_chain = sampler_.draws_per_chain();
  if (step < 0 || step > sampler_.num_transitions() || states.rows() != chains_.size() ||
      states.cols() != sampler_.dim() || aux.rows() != chains_.size() ||
      aux.cols() != sampler_.aux_columns() || draws.rows() != chains_.size() * kept ||
      draws.cols() != draws_.cols())
    throw Error("checkpoint state does not match this run's chains");
  for (ChainBlock& b : blocks_) {
    b.x = states.middleRows(b.first_chain - chains_.begin, b.x.rows());
    b.aux = aux.middleRows(b.first_chain - chains_.begin, b.x.rows());
  }
  for (Index c = 0; c < chains_.size(); ++c)
    draws_.middleRows(c * per_chain, kept) = draws.middleRows(c * kept, kept);
  step_ = step;
  kept_ = kept;
}

}  // namespace scorematch
