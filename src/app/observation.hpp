// The observation model y = A x + N(0, σ_y² I) shared by `map` and `sample --obs`: its settings
// and the operator they describe (checked against the prior and the observations).
#pragma once
#include <memory>
#include <string>

#include "scorematch/inverse/linear_operator.hpp"

namespace scorematch::app {

struct InverseOptions {
  std::string obs, op = "identity", mask, kernel, image, boundary = "zero", matrix;
  double sigma_y = 0;
};

// The operator for a prior of dimension d and `observations` rows of y with `obs_width` values
// each; throws a clear Error for a bad setting or a size mismatch (naming the file).
std::unique_ptr<inverse::LinearOperator> make_operator(const InverseOptions& o, Index d,
                                                       Index observations, Index obs_width);

}  // namespace scorematch::app
