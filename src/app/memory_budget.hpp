// Sizes a user chooses (--hidden, --batch, --n, --chains × draws) checked against this machine's
// memory before anything is allocated: an absurd size is a setting error naming the option and
// the size, not a bad_alloc after minutes of work or an OOM kill.
#pragma once
#include <memory>
#include <string>

#include "scorematch/core/types.hpp"

namespace scorematch {
class Target;
}

namespace scorematch::app {

// Physical memory of this node in bytes (sysconf).
double physical_memory_bytes();

// Throws SettingError "<what> needs at least <bytes> per rank, more than this machine's <memory>
// of memory" when `bytes` (a lower bound of what one rank will hold at once) times the ranks on
// this node (dist::ranks_on_this_node) exceeds the node's physical memory. The node's ranks are
// taken to hold about the same: the callers pass the largest share a rank can own (e.g. ⌈chains
// / ranks⌉), so the check errs towards refusing only where the shares are uneven.
void require_memory(double bytes, const std::string& what);

// The kept draws of `chains` chains (this rank's) × `draws` × `dim` doubles stay in memory until
// they are written, beside a copy of the same size: twice the draws is the lower bound checked
// (sample and latent --sample). Peak RSS measured 2.0 times the draws with sample --no-diag and
// 4.6 times with the diagnostics (`/usr/bin/time -f %M scorematch sample --model poly4 --sampler
// mala --chains 64 --steps 200000`, 205 MB of draws); draws of 20 GB on a 24 GB node passed the
// bound of once the draws and then drove the node out of memory.
void require_draws_memory(double chains, Index draws, Index dim, const std::string& what);

// An analytic target of `dim` dimensions (make_target), its size checked: at least a few vectors
// of `dim` doubles must fit (require_memory), and an allocation that fails while its parameters
// are built (a covariance of dim² values) is a SettingError naming --dim, not a bad_alloc.
std::unique_ptr<Target> make_sized_target(const std::string& name, Index dim);

// "1.5 GiB", "980 MiB": a byte count for messages.
std::string byte_text(double bytes);

}  // namespace scorematch::app
