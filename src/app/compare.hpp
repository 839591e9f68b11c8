// scorematch compare: which fitted model describes held-out data best. One row per model:
//   - held-out log-likelihood per row ± SE (loglik: energy and log Z, exact for normalised
//     models, or the probability-flow ODE for time-conditioned scores); null with a reason when
//     the model has no log Z yet;
//   - the Hyvärinen (ISM) objective J = mean[∇·s + ½‖s‖²] ± SE on the same rows: the Fisher
//     divergence to the data up to a data-only constant (Hyvärinen 2005), needs no Z; lower is
//     better;
//   - KSD² of the held-out rows under the model's score (IMQ kernel; Gorham & Mackey 2017), on at
//     most --ksd-rows rows; lower is better.
// Models are sorted by log-likelihood (then ISM). Differences between models are paired (same
// rows): se(ℓ̄_A − ℓ̄_B)² = var(ℓ_A − ℓ_B)/n + se(log Z_A)² + se(log Z_B)², and the report says in
// plain words which exceed twice their SE.
#pragma once
#include <string>
#include <vector>

#include "scorematch/dist/comm.hpp"
#include "scorematch/sampling/flow_likelihood.hpp"

namespace scorematch::app {

struct CompareJob {
  std::vector<std::string> models, logz;  // logz: one per model, "auto" = the model's own
  std::string data, out;
  Index ksd_rows = 2000;
  FlowLikelihoodSettings flow;
  std::vector<std::string> flow_options_given;  // refused when no model is time-conditioned
};

void run_compare(const dist::Comm& comm, CompareJob& job);

}  // namespace scorematch::app
