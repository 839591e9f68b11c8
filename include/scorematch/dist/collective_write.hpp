// Files written by all ranks together, each rank its own rows, no rank gathering the whole:
// sizes are prefix-summed (MPI_Exscan) into offsets, rank 0 creates "<path>.tmp-<pid>" at full
// size with the header, every rank pwrite()s its bytes, rank 0 fsyncs and renames. On any rank's
// failure the temporary is removed and every rank throws CollectiveFailure.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "scorematch/core/types.hpp"
#include "scorematch/dist/comm.hpp"

namespace scorematch::dist {

// `header` is only used on rank 0.
void write_ordered(const Comm& comm, const std::string& path, const std::string& header,
                   std::string_view local_bytes);

// A float64 NPY file whose leading dimension is split over ranks in rank order:
// shape = {total_rows} (1-D, local is n×1) or {total_rows, local.cols()} (2-D).
void write_npy_collective(const Comm& comm, const std::string& path, const Matrix& local,
                          bool one_d);

// A CSV file with the given header columns and %.17g values (exact round trip).
void write_csv_collective(const Comm& comm, const std::string& path,
                          const std::vector<std::string>& columns, const Matrix& local);

}  // namespace scorematch::dist
