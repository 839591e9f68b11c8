#include "scorematch/dist/column_stats.hpp"

#include <cmath>
#include <limits>

#include "scorematch/core/error.hpp"

namespace scorematch::dist {

namespace {
constexpr Index kChunk = 1 << 16;

template <class F>
void for_chunks(const RowReader& read, RowRange local, F f) {
  for (Index b = local.begin; b < local.end; b += kChunk)
    f(read({b, std::min(local.end, b + kChunk)}));
}

std::string column_name(const std::vector<std::string>& columns, Index j) {
  std::string name = "column " + std::to_string(j + 1);
  if (j < static_cast<Index>(columns.size()) && !columns[static_cast<std::size_t>(j)].empty())
    name += " '" + columns[static_cast<std::size_t>(j)] + "'";
  return name;
}

// Exact global sums of each column of f(chunk) (long accumulators: order-free, so bitwise for
// any ranks × threads).
template <class F>
std::vector<double> exact_sums_of(const Comm& comm, const RowReader& read, RowRange local, Index d,
                                  F f) {
  ExactVectorSum sums(static_cast<std::size_t>(d));
  std::vector<double> row(static_cast<std::size_t>(d));
  for_chunks(read, local, [&](const Matrix& chunk) {
    const Matrix& x = f(chunk);
    for (Index i = 0; i < x.rows(); ++i) {
      for (Index j = 0; j < d; ++j) row[static_cast<std::size_t>(j)] = x(i, j);
      sums.add(row);
    }
  });
  return exact_global_sum(comm, std::move(sums));
}
}  // namespace

ColumnStats column_stats(const Comm& comm, const RowReader& read, RowRange local, Index d,
                         Index total, const std::vector<std::string>& columns,
                         const std::string& source) {
  if (total < 1) throw Error("column statistics of '" + source + "': no rows");
  // 1. Bounds (a non-finite entry becomes +inf, so every rank sees it).
  std::vector<double> bound(static_cast<std::size_t>(d), 0.0);
  run_collectively(comm, [&] {
    for_chunks(read, local, [&](const Matrix& x) {
      for (Index j = 0; j < d; ++j) {
        double& m = bound[static_cast<std::size_t>(j)];
        for (Index i = 0; i < x.rows(); ++i) {
          const double a = std::fabs(x(i, j));
          m = std::isfinite(a) ? std::max(m, a) : std::numeric_limits<double>::infinity();
        }
      }
    });
  });
  comm.allreduce_max(bound);
  std::vector<int> e(static_cast<std::size_t>(d));
  run_collectively(comm, [&] {
    for (Index j = 0; j < d; ++j) {
      if (!std::isfinite(bound[static_cast<std::size_t>(j)]))
        throw Error("'" + source + "': " + column_name(columns, j) +
                    " holds a non-finite value (NaN or Inf, or a number beyond ±1.8e308)");
      std::frexp(bound[static_cast<std::size_t>(j)], &e[static_cast<std::size_t>(j)]);  // < 2^e
    }
  });
  const double n = static_cast<double>(total);
  // 2. Means.
  const std::vector<double> sum =
      exact_sums_of(comm, read, local, d, [](const Matrix& x) -> const Matrix& { return x; });
  ColumnStats out;
  out.mean.resize(d);
  for (Index j = 0; j < d; ++j) out.mean[j] = sum[static_cast<std::size_t>(j)] / n;
  // 3. Centred sums of squares of the scaled data u = 2^−e x: |u − ū| < 2, squares < 4.
  Vector mean_scaled(d);
  for (Index j = 0; j < d; ++j)
    mean_scaled[j] = std::ldexp(out.mean[j], -e[static_cast<std::size_t>(j)]);
  const std::vector<double> squares = exact_sums_of(comm, read, local, d, [&](const Matrix& x) {
    Matrix s(x.rows(), d);
    for (Index j = 0; j < d; ++j) {
      const int ej = e[static_cast<std::size_t>(j)];
      for (Index i = 0; i < x.rows(); ++i) {
        const double c = std::ldexp(x(i, j), -ej) - mean_scaled[j];
        s(i, j) = c * c;
      }
    }
    return s;
  });
  out.sd.resize(d);
  for (Index j = 0; j < d; ++j)
    out.sd[j] = std::ldexp(std::sqrt(squares[static_cast<std::size_t>(j)] / n),
                           e[static_cast<std::size_t>(j)]);
  return out;
}

std::vector<double> exact_column_sums(const Comm& comm, const Matrix& local_rows) {
  run_collectively(comm, [&] {
    if (!local_rows.allFinite())
      throw Error(
          "a sum met a non-finite value (NaN, or an overflow beyond ±1.8e308): some setting or "
          "data value is too large for this computation");
  });
  const RowReader read = [&](RowRange r) -> Matrix {
    return local_rows.middleRows(r.begin, r.size());
  };
  return exact_sums_of(comm, read, {0, local_rows.rows()}, local_rows.cols(),
                       [](const Matrix& x) -> const Matrix& { return x; });
}

std::vector<double> exact_global_sum(const Comm& comm, ExactVectorSum local) {
  return exact_sum_over_ranks(comm, std::move(local));  // core/collective.hpp
}

ColumnStats column_stats(const Comm& comm, const Matrix& local_rows, Index total,
                         const std::vector<std::string>& columns, const std::string& source) {
  const RowReader read = [&](RowRange r) -> Matrix {
    return local_rows.middleRows(r.begin, r.size());
  };
  return column_stats(comm, read, {0, local_rows.rows()}, local_rows.cols(), total, columns,
                      source);
}

}  // namespace scorematch::dist
