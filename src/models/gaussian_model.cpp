#include "scorematch/models/gaussian_model.hpp"

#include <cmath>
#include <numbers>

#include "scorematch/core/error.hpp"

namespace scorematch {

GaussianModel::GaussianModel(Vector mean, Matrix precision)
    : mean_(std::move(mean)), precision_(std::move(precision)) {
  const Index d = mean_.size();
  if (precision_.rows() != d || precision_.cols() != d)
    throw Error("gaussian model: precision is " + std::to_string(precision_.rows()) + "×" +
                std::to_string(precision_.cols()) + ", expected " + std::to_string(d) + "×" +
                std::to_string(d) + " to match the mean");
  Eigen::LLT<Eigen::MatrixXd> llt(precision_);
  if (llt.info() != Eigen::Success)
    throw Error("gaussian model: precision is not positive definite");
  const double log_det = 2.0 * llt.matrixL().toDenseMatrix().diagonal().array().log().sum();
  log_normaliser_ = 0.5 * static_cast<double>(d) * std::log(2.0 * std::numbers::pi) - 0.5 * log_det;
}

GaussianModel GaussianModel::from_arrays(const NamedArrays& arrays) {
  auto get = [&](const std::string& name) -> const Array& {
    return require_array(arrays, name, "gaussian");
  };
  return GaussianModel(get("mean").to_vector("mean"), get("precision").to_matrix("precision"));
}

Vector GaussianModel::energy(const Matrix& x) const {
  const Matrix centred = x.rowwise() - mean_.transpose();
  const Matrix pc = centred * precision_;
  return (0.5 * (centred.array() * pc.array()).rowwise().sum()).matrix().array() + log_normaliser_;
}

Matrix GaussianModel::score(const Matrix& x) const {
  return -((x.rowwise() - mean_.transpose()) * precision_);
}

Vector GaussianModel::score_divergence(const Matrix& x) const {
  return Vector::Constant(x.rows(), -precision_.trace());
}

NamedArrays GaussianModel::arrays() const {
  return {{"mean", Array::from(mean_)}, {"precision", Array::from(precision_)}};
}

}  // namespace scorematch
