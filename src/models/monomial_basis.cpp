#include "scorematch/models/monomial_basis.hpp"

#include <cmath>
#include <numeric>

#include "scorematch/core/error.hpp"

namespace scorematch {

MonomialBasis::MonomialBasis(Index dim, std::vector<Exponent> exponents)
    : dim_(dim), exponents_(std::move(exponents)) {
  factors_.reserve(exponents_.size());
  for (const Exponent& alpha : exponents_) {
    if (static_cast<Index>(alpha.size()) != dim_)
      throw Error("monomial exponent has " + std::to_string(alpha.size()) + " entries, expected " +
                  std::to_string(dim_));
    std::vector<Factor> f;
    for (Index j = 0; j < dim_; ++j) {
      if (alpha[j] < 0) throw Error("monomial exponents must be non-negative integers");
      if (alpha[j] > 0) f.push_back({j, alpha[j]});
    }
    max_degree_ = std::max(max_degree_, std::accumulate(alpha.begin(), alpha.end(), 0));
    factors_.push_back(std::move(f));
  }
}

namespace {
// Appends all exponents of total degree `remaining` over variables [var, dim) in lex order
// (higher powers of earlier variables first).
void append_degree(Index dim, Index var, int remaining, Exponent& current,
                   std::vector<Exponent>& out) {
  if (var == dim - 1) {
    current[var] = remaining;
    out.push_back(current);
    current[var] = 0;
    return;
  }
  for (int power = remaining; power >= 0; --power) {
    current[var] = power;
    append_degree(dim, var + 1, remaining - power, current, out);
  }
  current[var] = 0;
}
}  // namespace

MonomialBasis MonomialBasis::total_degree(Index dim, int max_degree, int min_degree) {
  if (dim < 1) throw Error("polynomial family needs dimension ≥ 1");
  std::vector<Exponent> exps;
  Exponent current(static_cast<std::size_t>(dim), 0);
  for (int degree = min_degree; degree <= max_degree; ++degree)
    append_degree(dim, 0, degree, current, exps);
  return MonomialBasis(dim, std::move(exps));
}

// For T = Π_f z_f^{a_f}: ∂_i T = a_i z_i^{a_i−1} Π_{f≠i} z_f^{a_f},
// ∂_i² T = a_i (a_i − 1) z_i^{a_i−2} Π_{f≠i} z_f^{a_f}. Only variables in the support contribute.
void MonomialBasis::evaluate(const double* z, const Vector& weight, Vector& value, Matrix& jac,
                             Vector& lap) const {
  const Index p = size();
  value.resize(p);
  lap.resize(p);
  jac.setZero(dim_, p);
  for (Index m = 0; m < p; ++m) {
    const auto& fs = factors_[static_cast<std::size_t>(m)];
    double v = 1.0, l = 0.0;
    for (const Factor& f : fs) v *= std::pow(z[f.var], f.power);
    for (const Factor& f : fs) {
      double others = 1.0;
      for (const Factor& g : fs)
        if (g.var != f.var) others *= std::pow(z[g.var], g.power);
      const double zi = z[f.var];
      jac(f.var, m) = f.power * std::pow(zi, f.power - 1) * others;
      if (f.power >= 2)
        l += weight[f.var] * f.power * (f.power - 1) * std::pow(zi, f.power - 2) * others;
    }
    value[m] = v;
    lap[m] = l;
  }
}

}  // namespace scorematch
