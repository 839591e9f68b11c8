#include "gen.hpp"

#include <cmath>

#include "memory_budget.hpp"
#include "report.hpp"

namespace scorematch::app {

void run_gen(const dist::Comm& comm, GenJob& job) {
  GenJob* const o = &job;
  std::unique_ptr<Target> target;
  const std::string ext = std::filesystem::path(o->out).extension().string();
  dist::run_collectively(comm, [&] {
    if (ext != ".npy" && ext != ".csv")
      throw SettingError(setting("out") + " '" + o->out + "': expected a .npy or .csv file name");
    target = make_sized_target(o->dist, o->dim);
    // This rank's rows, and for CSV also their text (up to 24 characters a value, as to_chars
    // writes a double, plus the separator).
    const double per_value = ext == ".csv" ? 8 + 25 : 8;
    require_memory(std::ceil(static_cast<double>(o->n) / comm.size()) *
                       static_cast<double>(o->dim) * per_value,
                   setting("n") + " " + std::to_string(o->n) + " rows x " + setting("dim") + " " +
                       std::to_string(o->dim));
  });
  const Matrix rows = draw_rows(*target, o->seed, dist::shard(o->n, comm.rank(), comm.size()));
  if (ext == ".npy") {
    dist::write_npy_collective(comm, o->out, rows, false);
  } else {
    std::vector<std::string> columns;
    for (Index j = 0; j < o->dim; ++j) columns.push_back("x" + std::to_string(j + 1));
    dist::write_csv_collective(comm, o->out, columns, rows);
  }
  say(comm, "wrote " + std::to_string(o->n) + " rows x " + std::to_string(o->dim) + " of '" +
                o->dist + "' (seed " + std::to_string(o->seed) + ") to " + o->out + "\n");
}

}  // namespace scorematch::app
