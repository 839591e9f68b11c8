#include "scorematch/core/collective.hpp"

#include <algorithm>

namespace scorematch {

Matrix gather_by_index(const Collective& collective, const Matrix& local, Index begin,
                       Index total) {
  const Index cols = local.cols();
  std::vector<double> all(static_cast<std::size_t>(total * cols), 0.0);
  for (Index r = 0; r < local.rows(); ++r)
    for (Index c = 0; c < cols; ++c)
      all[static_cast<std::size_t>((begin + r) * cols + c)] = local(r, c);
  collective.allreduce_sum(all);
  return Eigen::Map<const Matrix>(all.data(), total, cols);
}

Vector gather_by_index(const Collective& collective, const Vector& local, Index begin,
                       Index total) {
  std::vector<double> all(static_cast<std::size_t>(total), 0.0);
  std::copy(local.data(), local.data() + local.size(),
            all.begin() + static_cast<std::ptrdiff_t>(begin));
  collective.allreduce_sum(all);
  return Eigen::Map<const Vector>(all.data(), total);
}

std::vector<double> exact_sum_over_ranks(const Collective& collective, ExactVectorSum local) {
  std::vector<double> limbs = local.limbs();
  collective.allreduce_sum(limbs);  // digits below 2^32: exact for < 2^20 ranks
  local.set_from_limb_sums(limbs);
  return local.values();
}

}  // namespace scorematch
