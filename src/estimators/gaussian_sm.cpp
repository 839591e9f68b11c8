#include "scorematch/estimators/gaussian_sm.hpp"

#include <cmath>
#include <sstream>

#include "scorematch/core/error.hpp"
#include "scorematch/core/parallel.hpp"

namespace scorematch {

namespace {
constexpr Index kRowsPerChunk = kGaussianStatsChunk;

std::string column_label(const std::vector<std::string>& names, Index j) {
  std::string label = "column " + std::to_string(j + 1);
  if (static_cast<std::size_t>(j) < names.size())
    label += " '" + names[static_cast<std::size_t>(j)] + "'";
  return label;
}
}  // namespace

GaussianStats GaussianStats::zeros(Index dim) {
  return {0.0, Vector::Zero(dim), Matrix::Zero(dim, dim)};
}

void GaussianStats::add(const GaussianStats& other) {
  count += other.count;
  sum += other.sum;
  cross += other.cross;
}

std::vector<double> GaussianStats::pack() const {
  std::vector<double> buffer;
  buffer.reserve(static_cast<std::size_t>(1 + sum.size() + cross.size()));
  buffer.push_back(count);
  buffer.insert(buffer.end(), sum.data(), sum.data() + sum.size());
  buffer.insert(buffer.end(), cross.data(), cross.data() + cross.size());
  return buffer;
}

GaussianStats GaussianStats::unpack(const std::vector<double>& buffer, Index dim) {
  GaussianStats s = zeros(dim);
  s.count = buffer[0];
  s.sum = Eigen::Map<const Vector>(buffer.data() + 1, dim);
  s.cross = Eigen::Map<const Matrix>(buffer.data() + 1 + dim, dim, dim);
  return s;
}

GaussianStats accumulate_gaussian_stats(const Matrix& x, const Vector& reference) {
  return GaussianStats::unpack(gaussian_stats_partials(x, reference).values(), x.cols());
}

ExactVectorSum gaussian_stats_partials(const Matrix& x, const Vector& reference) {
  const Index d = x.cols();
  return parallel::exact_reduce(
      x.rows(), kRowsPerChunk, static_cast<std::size_t>(1 + d + d * d),
      [&](Index begin, Index end) {
        const Matrix centred = x.middleRows(begin, end - begin).rowwise() - reference.transpose();
        GaussianStats s = GaussianStats::zeros(d);
        s.count = static_cast<double>(end - begin);
        s.sum = centred.colwise().sum().transpose();
        // Symmetric rank-k update (half the flops of a GEMM), mirrored to the upper triangle.
        Eigen::MatrixXd lower = Eigen::MatrixXd::Zero(d, d);
        lower.selfadjointView<Eigen::Lower>().rankUpdate(centred.transpose());
        s.cross = lower.selfadjointView<Eigen::Lower>();
        return s.pack();
      });
}

GaussianStats accumulate_gaussian_stats_reference(const Matrix& x, const Vector& reference) {
  GaussianStats s = GaussianStats::zeros(x.cols());
  for (Index r = 0; r < x.rows(); ++r) {
    const Vector c = x.row(r).transpose() - reference;
    s.count += 1.0;
    s.sum += c;
    s.cross += c * c.transpose();
  }
  return s;
}

GaussianFit solve_gaussian_sm(const GaussianStats& stats, const Vector& reference, double ridge,
                              const std::vector<std::string>& column_names) {
  const Index d = stats.sum.size();
  if (stats.count < 1.0) throw Error("no data rows: cannot fit a Gaussian");
  // n ≤ d rows span at most an (n − 1)-dimensional affine subspace: the covariance is singular
  // whatever rounding says, and the "precision" and its standard errors would be invented.
  if (stats.count <= static_cast<double>(d) && !(ridge > 0))
    throw Error("cannot fit a " + std::to_string(d) + "-dimensional Gaussian to " +
                std::to_string(static_cast<long long>(stats.count)) +
                " rows: the sample covariance of n <= d rows is singular (more rows, or a ridge "
                "penalty, e.g. " +
                setting("ridge") + " 1e-6)");
  if (!(ridge >= 0.0) || !std::isfinite(ridge))
    throw InvalidSetting("ridge", "be a finite number ≥ 0", number_text(ridge));
  const Vector offset = stats.sum / stats.count;
  GaussianFit fit;
  fit.mean = reference + offset;
  fit.covariance = stats.cross / stats.count - offset * offset.transpose();
  if (ridge == 0.0) {
    for (Index j = 0; j < d; ++j) {
      // Relative to the column's magnitude: below ~1e-26 relative variance, the column is
      // constant to the precision of double.
      const double magnitude = 1.0 + fit.mean[j] * fit.mean[j];
      if (fit.covariance(j, j) <= 1e-26 * magnitude)
        throw Error(column_label(column_names, j) +
                    " is constant (variance 0): the precision matrix does not exist; drop the "
                    "column or add a ridge penalty, e.g. " +
                    setting("ridge") + " 1e-6");
    }
  }
  const Matrix regularised = fit.covariance + ridge * Matrix::Identity(d, d);
  Eigen::LLT<Eigen::MatrixXd> llt(regularised);
  if (llt.info() != Eigen::Success) {
    std::ostringstream msg;
    msg << "the sample covariance is singular (columns are linearly dependent";
    if (stats.count <= static_cast<double>(d))
      msg << "; only " << stats.count << " rows for " << d << " columns";
    msg << "): the precision matrix does not exist; add a ridge penalty, e.g. " << setting("ridge")
        << " 1e-6";
    throw Error(msg.str());
  }
  fit.precision = llt.solve(Eigen::MatrixXd::Identity(d, d));
  fit.precision = 0.5 * (fit.precision + fit.precision.transpose());
  return fit;
}

}  // namespace scorematch
