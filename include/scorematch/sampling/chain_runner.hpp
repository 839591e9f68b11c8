// Runs a Sampler on this rank's chains, block by block, and keeps their draws.
//
// Chains are cut into global blocks of kChainBlock consecutive chains and a rank owns whole blocks
// (chain_shard), so every batched score call sees the same rows whatever the number of ranks and
// threads: together with the (seed, chain, step) noise this makes samples bitwise identical for
// any decomposition. Threads split the local blocks. Memory is O(local chains × (d + aux)) plus
// the kept draws, O(local chains × draws × d).
#pragma once
#include <numeric>
#include <vector>

#include "scorematch/sampling/sampler.hpp"

namespace scorematch {

inline constexpr Index kChainBlock = 64;

// The chains owned by `rank` of `ranks`: a contiguous range of whole groups of `group` chains (a
// multiple of kChainBlock; the last group may be partial); empty, {chains, chains}, on a rank
// that owns no group.
RowRange chain_shard(Index chains, int rank, int ranks, Index group = kChainBlock);

// The group of chain_shard for K chains per observation (or per row): lcm(kChainBlock, K) chains,
// whole blocks and whole observations, so a rank holds every chain of each of its observations
// (their posterior mean is local) and blocks start at the same chains on any number of ranks.
Index chain_group(Index chains_per_unit);

// units × chains_per_unit chains (observations or rows times chains each), refusing a count
// below 1 or a total of 2^40 or more (which would overflow before any memory check) as the
// setting `key`.
Index chains_for_units(Index units, Index chains_per_unit, const char* key);

// Initial states in the sampler's coordinates: N(0, prior_scale² I) from
// RandomStream(derive_seed(seed, kInitTag), chain).
Matrix prior_states(const Sampler& sampler, RowRange chains);

class ChainRunner {
 public:
  // `initial` holds the local chains' starting states (chains.size() × d) in the sampler's
  // coordinates; `shift`/`scale` map them to data units for the draws (x = shift + scale ⊙ z).
  ChainRunner(const Sampler& sampler, RowRange chains, const Matrix& initial, Vector shift,
              Vector scale);

  // Runs transitions [step(), until) on every local block; throws Error naming the chain and step
  // if a state becomes NaN/Inf or a draw lies beyond the sampler's divergence_bound().
  void advance(Index until);
  Index step() const { return step_; }
  RowRange chains() const { return chains_; }

  // Kept draws, chain-major: row (local chain) · draws_per_chain + slot, in data units; the slots
  // below kept_draws() are filled (draw slots grow with the step).
  const Matrix& draws() const { return draws_; }
  Index kept_draws() const { return kept_; }
  // States and sampler aux of all local chains (chains × d, chains × aux).
  Matrix states() const;
  Matrix aux() const;
  // Continue from a checkpoint at `step`: states and aux as returned above, and the draws of
  // slots [0, kept_draws(step)) of each local chain, chain-major (row chain · kept + slot).
  void restore(Index step, const Matrix& states, const Matrix& aux, const Matrix& draws);
  // The number of draw slots filled by transitions [0, step).
  Index kept_draws(Index step) const;

 private:
  void check_states(const ChainBlock& block, Index step, bool keeps_draw) const;
  Index kept_by(Index from, Index until) const;

  const Sampler& sampler_;
  RowRange chains_;
  Vector shift_, scale_;
  std::vector<ChainBlock> blocks_;
  Matrix draws_;
  Index step_ = 0, kept_ = 0;
};

}  // namespace scorematch
