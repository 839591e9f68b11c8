#include "scorematch/inverse/map_lbfgs.hpp"

#include <cmath>
#include <deque>
#include <limits>
#include <utility>
#include <vector>

#include "scorematch/core/error.hpp"

namespace scorematch::inverse {

namespace {

// Posterior energy f and gradient ∇f of every row.
void evaluate(const ScoreModel& prior, const LinearOperator& a, const Matrix& y, double sigma_y,
              const Matrix& x, Index first_row, Vector& f, Matrix& g) {
  Matrix s;
  prior.energy_and_score(x, f, s);
  const Matrix r = y - a.apply(x, first_row);
  const double w = 1.0 / (sigma_y * sigma_y);
  f += 0.5 * w * r.rowwise().squaredNorm();
  g = -s - w * a.adjoint(r, first_row);
}

struct History {
  std::deque<std::pair<Vector, Vector>> pairs;  // (s_k, y_k), newest last
};

// −H ∇f by the two-loop recursion.
Vector direction(const History& h, const Vector& grad) {
  Vector q = grad;
  std::vector<double> alpha(h.pairs.size());
  for (std::size_t i = h.pairs.size(); i-- > 0;) {
    const auto& [s, yk] = h.pairs[i];
    alpha[i] = s.dot(q) / yk.dot(s);
    q -= alpha[i] * yk;
  }
  if (!h.pairs.empty()) {
    const auto& [s, yk] = h.pairs.back();
    q *= s.dot(yk) / yk.squaredNorm();
  }
  for (std::size_t i = 0; i < h.pairs.size(); ++i) {
    const auto& [s, yk] = h.pairs[i];
    const double beta = yk.dot(q) / yk.dot(s);
    q += (alpha[i] - beta) * s;
  }
  return -q;
}

}  // namespace

LbfgsResult map_lbfgs(const ScoreModel& prior, const LinearOperator& a, const Matrix& y,
                      double sigma_y, Matrix x0, Index first_row, const LbfgsSettings& set) {
  if (!prior.has_energy())
    throw Error("L-BFGS MAP needs a prior with an energy (a score-only model has none): use adam");
  if (!(sigma_y > 0)) throw Error("the observation noise sigma_y must be > 0");
  if (set.max_iterations < 1 || set.memory < 1)
    throw Error("L-BFGS needs iterations and memory >= 1");
  const Index n = x0.rows();
  LbfgsResult res;
  res.x = std::move(x0);
  res.iterations.assign(static_cast<std::size_t>(n), 0);
  std::vector<History> hist(static_cast<std::size_t>(n));
  std::vector<char> done(static_cast<std::size_t>(n), 0);
  Vector f;
  Matrix g;
  evaluate(prior, a, y, sigma_y, res.x, first_row, f, g);
  for (Index it = 0; it < set.max_iterations; ++it) {
    Matrix dir = Matrix::Zero(n, res.x.cols());
    Vector slope = Vector::Zero(n);
    bool active = false;
    for (Index b = 0; b < n; ++b) {
      if (done[static_cast<std::size_t>(b)]) continue;
      if (g.row(b).cwiseAbs().maxCoeff() <= set.tolerance * (1 + std::abs(f[b]))) {
        done[static_cast<std::size_t>(b)] = 1;
        continue;
      }
      Vector p = direction(hist[static_cast<std::size_t>(b)], g.row(b).transpose());
      if (!(p.dot(g.row(b).transpose()) < 0)) p = -g.row(b).transpose();
      dir.row(b) = p.transpose();
      slope[b] = p.dot(g.row(b).transpose());
      res.iterations[static_cast<std::size_t>(b)] = it + 1;
      active = true;
    }
    if (!active) break;
    // Backtracking in lockstep: rows that meet Armijo keep their step, the others halve theirs.
    Vector t = Vector::Ones(n);
    std::vector<char> accepted(static_cast<std::size_t>(n), 0);
    Matrix x_new = res.x, g_new = g;
    Vector f_new = f;
    for (int trial = 0; trial < 60; ++trial) {
      Matrix x_try = res.x;
      bool pending = false;
      for (Index b = 0; b < n; ++b)
        if (!done[static_cast<std::size_t>(b)] && !accepted[static_cast<std::size_t>(b)]) {
          x_try.row(b) += t[b] * dir.row(b);
          pending = true;
        }
      if (!pending) break;
      Vector f_try;
      Matrix g_try;
      evaluate(prior, a, y, sigma_y, x_try, first_row, f_try, g_try);
      for (Index b = 0; b < n; ++b) {
        if (done[static_cast<std::size_t>(b)] || accepted[static_cast<std::size_t>(b)]) continue;
        if (std::isfinite(f_try[b]) && f_try[b] <= f[b] + set.armijo * t[b] * slope[b]) {
          accepted[static_cast<std::size_t>(b)] = 1;
          x_new.row(b) = x_try.row(b);
          f_new[b] = f_try[b];
          g_new.row(b) = g_try.row(b);
        } else {
          t[b] *= 0.5;
        }
      }
    }
    for (Index b = 0; b < n; ++b) {
      if (done[static_cast<std::size_t>(b)]) continue;
      if (!accepted[static_cast<std::size_t>(b)]) {  // no decrease at any step: round-off floor
        done[static_cast<std::size_t>(b)] = 1;
        continue;
      }
      // No measurable decrease: f is at its round-off floor.
      if (f[b] - f_new[b] <= 4 * std::numeric_limits<double>::epsilon() * std::abs(f[b]))
        done[static_cast<std::size_t>(b)] = 1;
      Vector s = (x_new.row(b) - res.x.row(b)).transpose();
      Vector yk = (g_new.row(b) - g.row(b)).transpose();
      auto& h = hist[static_cast<std::size_t>(b)];
      if (s.dot(yk) > 1e-16 * s.norm() * yk.norm()) {
        h.pairs.emplace_back(std::move(s), std::move(yk));
        if (static_cast<Index>(h.pairs.size()) > set.memory) h.pairs.pop_front();
      }
    }
    res.x = std::move(x_new);
    f = std::move(f_new);
    g = std::move(g_new);
  }
  // Converged: the gradient test passed, or no step along a descent direction lowers f any more
  // (the round-off floor); rows still running at max_iterations are not.
  for (Index b = 0; b < n; ++b)
    res.converged += done[static_cast<std::size_t>(b)] ||
                             g.row(b).cwiseAbs().maxCoeff() <= set.tolerance * (1 + std::abs(f[b]))
                         ? 1
                         : 0;
  if (!res.x.allFinite()) throw Error("L-BFGS MAP produced a non-finite iterate");
  return res;
}

}  // namespace scorematch::inverse
