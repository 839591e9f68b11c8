// The diagonal Gaussian a model's tempering path starts from (logz's AIS base, pt's reference):
// --data's column means and standard deviations when given, else the model's standardisation
// (poly:K, mlp-*; an analytic target's is the moments of its exact draws), or a Gaussian model's
// own mean and marginal standard deviations. Collective; throws Error when none is available.
#pragma once
#include <string>

#include "score_source.hpp"
#include "scorematch/dist/comm.hpp"
#include "scorematch/sampling/tempered_mala.hpp"

namespace scorematch::app {

// `from` receives a plain-words description of where it came from. --data must have the model's
// columns in its order (check_data_fits_model).
DiagonalGaussian gaussian_reference(const dist::Comm& comm, const LoadedScore& src,
                                    const std::string& data, std::string& from);

}  // namespace scorematch::app
