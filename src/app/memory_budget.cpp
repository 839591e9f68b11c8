#include "app/memory_budget.hpp"

#include <unistd.h>

#include <cstdio>
#include <new>
#include <stdexcept>

#include "scorematch/core/error.hpp"
#include "scorematch/dist/comm.hpp"
#include "scorematch/models/targets.hpp"

namespace scorematch::app {

double physical_memory_bytes() {
  return static_cast<double>(::sysconf(_SC_PHYS_PAGES)) *
         static_cast<double>(::sysconf(_SC_PAGE_SIZE));
}

std::string byte_text(double bytes) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  while (bytes >= 1024 && u < 6) bytes /= 1024, ++u;
  char text[48];
  std::snprintf(text, sizeof text, "%.3g %s", bytes, units[u]);
  return text;
}

void require_memory(double bytes, const std::string& what) {
  const double memory = physical_memory_bytes();
  const int ranks = dist::ranks_on_this_node();
  if (memory <= 0 || bytes * ranks <= memory) return;
  if (ranks == 1)
    throw SettingError(what + " needs at least " + byte_text(bytes) +
                       " per rank, more than this machine's " + byte_text(memory) + " of memory");
  throw SettingError(what + " needs at least " + byte_text(bytes) +
                     " per rank: " + byte_text(bytes * ranks) + " for the " +
                     std::to_string(ranks) + " ranks on this node, more than its " +
                     byte_text(memory) + " of memory (use fewer ranks per node or a smaller size)");
}

void require_draws_memory(double chains, Index draws, Index dim, const std::string& what) {
  require_memory(2.0 * chains * static_cast<double>(draws) * static_cast<double>(dim) * 8,
                 what + " x " + std::to_string(draws) + " kept draws x " + std::to_string(dim) +
                     " dimensions");
}

std::unique_ptr<Target> make_sized_target(const std::string& name, Index dim) {
  const std::string what =
      "target '" + name + "' with " + setting("dim") + " " + std::to_string(dim);
  // A mean, a draw and a score row at least.
  require_memory(3.0 * 8.0 * static_cast<double>(dim), what);
  try {
    return make_target(name, dim);
  } catch (const std::bad_alloc&) {
  } catch (const std::length_error&) {
  }
  throw SettingError(what + " does not fit in this machine's " +
                     byte_text(physical_memory_bytes()) + " of memory");
}

}  // namespace scorematch::app
