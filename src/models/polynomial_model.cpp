#include "scorematch/models/polynomial_model.hpp"

#include <cmath>
#include <numbers>
#include <sstream>

#include "scorematch/core/error.hpp"
#include "scorematch/core/parallel.hpp"
#include "scorematch/core/random_stream.hpp"

namespace scorematch {

namespace {
std::vector<Exponent> exponents_from(const Matrix& e) {
  std::vector<Exponent> out(static_cast<std::size_t>(e.rows()));
  for (Index m = 0; m < e.rows(); ++m)
    for (Index j = 0; j < e.cols(); ++j) {
      const double v = e(m, j);
      if (v < 0 || v != std::floor(v) || v > 64)
        throw Error("polynomial model: exponents.npy row " + std::to_string(m) +
                    " has a non-integer or out-of-range exponent");
      out[static_cast<std::size_t>(m)].push_back(static_cast<int>(v));
    }
  return out;
}
constexpr Index kRowsPerChunk = 256;
}  // namespace

PolynomialModel::PolynomialModel(MonomialBasis basis, Vector theta, Vector shift, Vector scale)
    : basis_(std::move(basis)),
      theta_(std::move(theta)),
      shift_(std::move(shift)),
      scale_(std::move(scale)) {
  const Index d = basis_.dim();
  if (theta_.size() != basis_.size())
    throw Error("polynomial model: theta has " + std::to_string(theta_.size()) +
                " entries but there are " + std::to_string(basis_.size()) + " monomials");
  if (shift_.size() != d || scale_.size() != d)
    throw Error("polynomial model: shift/scale must have " + std::to_string(d) + " entries");
  if ((scale_.array() <= 0).any()) throw Error("polynomial model: scale must be positive");
}

PolynomialModel PolynomialModel::from_arrays(const NamedArrays& arrays) {
  auto get = [&](const std::string& name) -> const Array& {
    return require_array(arrays, name, "polynomial");
  };
  const Matrix e = get("exponents").to_matrix("exponents");
  MonomialBasis basis(e.cols(), exponents_from(e));
  return PolynomialModel(std::move(basis), get("theta").to_vector("theta"),
                         get("shift").to_vector("shift"), get("scale").to_vector("scale"));
}

void PolynomialModel::evaluate(const Matrix& x, Vector* log_p, Matrix* grad, Vector* div) const {
  const Index n = x.rows(), d = dim();
  if (x.cols() != d)
    throw Error("data has " + std::to_string(x.cols()) + " columns, the model expects " +
                std::to_string(d));
  if (log_p) log_p->resize(n);
  if (grad) grad->resize(n, d);
  if (div) div->resize(n);
  const Vector inv_scale2 = scale_.array().square().inverse();
  parallel::for_each_chunk(n, kRowsPerChunk, [&](Index, Index begin, Index end) {
    Vector value, lap, z(d);
    Matrix jac;
    for (Index r = begin; r < end; ++r) {
      z = (x.row(r).transpose() - shift_).cwiseQuotient(scale_);
      basis_.evaluate(z.data(), inv_scale2, value, jac, lap);
      if (log_p) (*log_p)[r] = theta_.dot(value);
      if (grad) grad->row(r) = (jac * theta_).cwiseQuotient(scale_).transpose();
      if (div) (*div)[r] = theta_.dot(lap);
    }
  });
}

Vector PolynomialModel::energy(const Matrix& x) const {
  Vector log_p;
  evaluate(x, &log_p, nullptr, nullptr);
  return -log_p;
}

Matrix PolynomialModel::score(const Matrix& x) const {
  Matrix grad;
  evaluate(x, nullptr, &grad, nullptr);
  return grad;
}

Vector PolynomialModel::score_divergence(const Matrix& x) const {
  Vector div;
  evaluate(x, nullptr, nullptr, &div);
  return div;
}

NamedArrays PolynomialModel::arrays() const {
  Matrix e(basis_.size(), basis_.dim());
  for (Index m = 0; m < e.rows(); ++m)
    for (Index j = 0; j < e.cols(); ++j)
      e(m, j) = basis_.exponents()[static_cast<std::size_t>(m)][static_cast<std::size_t>(j)];
  return {{"theta", Array::from(theta_)},
          {"exponents", Array::from(e)},
          {"shift", Array::from(shift_)},
          {"scale", Array::from(scale_)}};
}

PolynomialModel::LeadingFormCheck PolynomialModel::check_leading_form(Index directions) const {
  const Index d = dim();
  const int k = basis_.max_degree();
  auto leading = [&](const Vector& u) {
    double q = 0.0;
    for (Index m = 0; m < basis_.size(); ++m) {
      const Exponent& a = basis_.exponents()[static_cast<std::size_t>(m)];
      int degree = 0;
      double term = theta_[m];
      for (Index j = 0; j < d; ++j) {
        degree += a[j];
        term *= std::pow(u[j], a[j]);
      }
      if (degree == k) q += term;
    }
    return q;
  };
  LeadingFormCheck check{false, -INFINITY, Vector::Zero(d), ""};
  auto consider = [&](const Vector& u) {
    const double q = leading(u);
    if (q > check.max_value) {
      check.max_value = q;
      check.argmax = u;
    }
  };
  for (Index j = 0; j < d; ++j) {
    consider(Vector::Unit(d, j));
    consider(-Vector::Unit(d, j));
  }
  for (Index i = 0; i < directions; ++i) {
    Vector u(d);
    if (d == 2) {
      const double angle =
          2.0 * std::numbers::pi * static_cast<double>(i) / static_cast<double>(directions);
      u << std::cos(angle), std::sin(angle);
    } else {
      RandomStream rng(/*seed=*/0x5eed, static_cast<std::uint64_t>(i));
      for (Index j = 0; j < d; ++j) u[j] = rng.normal();
      u.normalize();
    }
    consider(u);
  }
  std::ostringstream msg;
  if (k % 2 == 1) {
    msg << "the highest degree " << k << " is odd, so the density cannot be normalised";
  } else if (check.max_value >= 0.0) {
    msg << "the leading degree-" << k << " form is not negative definite (it reaches "
        << check.max_value << " ≥ 0 along a direction in standardised units), so the fitted "
        << "density may not be normalisable; try more data, a " << setting("ridge")
        << " penalty or a lower degree";
  } else {
    check.normalisable = true;
    msg << "normalisable: the leading degree-" << k << " form is negative on the unit sphere (max "
        << check.max_value << " over " << directions + 2 * d << " directions)";
  }
  check.message = msg.str();
  return check;
}

}  // namespace scorematch
