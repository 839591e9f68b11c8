// Column means and standard deviations of a data set whose rows are spread over ranks: the one
// routine behind every standardisation (fit --standardize for poly:K and networks, sample
// --metric data). Bitwise identical for any ranks × threads, and numerically stable:
//   1. M_j = max |x_ij| over all rows (an exact max-allreduce); a non-finite entry is an error
//      naming the column.
//   2. mean_j = (Σ_i x_ij) / n with the sum exact (core/long_accumulator.hpp), rounded once:
//      order-free.
//   3. sd_j = 2^e_j · √( Σ_i (2^−e_j x_ij − 2^−e_j mean_j)² / n ), the two-pass (centred) sum of
//      squares, again in fixed point; the exact power-of-two scaling keeps the squares finite for
//      data near the overflow threshold (1e300), where E[x²] − E[x]² would overflow or cancel.
// Population (1/n) standard deviation, as the standardisation z = (x − mean) / sd uses.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "scorematch/core/long_accumulator.hpp"
#include "scorematch/core/types.hpp"
#include "scorematch/dist/comm.hpp"

namespace scorematch::dist {

struct ColumnStats {
  Vector mean, sd;
};

// Rows of this rank: read(r) returns the rows of r ⊂ local (chunks of at most 65 536 rows).
using RowReader = std::function<Matrix(RowRange)>;

// Collective. `total` is the number of rows over all ranks (> 0), `d` the number of columns,
// `columns` their names (may be empty) and `source` the file named in errors. Throws Error (on
// every rank, via run_collectively) naming the file and column of a non-finite value.
ColumnStats column_stats(const Comm& comm, const RowReader& read, RowRange local, Index d,
                         Index total, const std::vector<std::string>& columns,
                         const std::string& source);

// Exact column totals of rows spread over ranks (the same bits for any decomposition): the
// long accumulators of core/long_accumulator.hpp behind one sum-allreduce. Throws Error if an
// entry is not finite (callers check finiteness first and name the quantity).
std::vector<double> exact_column_sums(const Comm& comm, const Matrix& local_rows);

// Exact global sum of each rank's exact partial sums (long accumulators: the limbs meet in one
// allreduce_sum, exactly), rounded once: bitwise for any decomposition.
std::vector<double> exact_global_sum(const Comm& comm, ExactVectorSum local);

// Convenience: the rows are already in memory.
ColumnStats column_stats(const Comm& comm, const Matrix& local_rows, Index total,
                         const std::vector<std::string>& columns, const std::string& source);

}  // namespace scorematch::dist
