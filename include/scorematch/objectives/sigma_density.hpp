// The density of the noise level σ that denoising score matching on the VE SDE trains on (which
// σ a training row sees; the noise process itself, x̃ = x + σ ε, is models/noise_process.hpp):
//   log-uniform  log σ ~ U[log σ_min, log σ_max]   (Song et al. 2021, "Score-based generative
//                modeling through SDEs": t ~ U[0, 1] on σ(t) = σ_min (σ_max/σ_min)^t)
//   lognormal    log σ ~ N(P_mean, P_std²)          (Karras, Aittala, Aila & Laine 2022,
//                "Elucidating the design space of diffusion-based generative models", §5 and
//                Table 1: P_mean = −1.2, P_std = 1.2 for data of σ_data = 0.5; for data of
//                another scale s, P_mean + log(s/0.5) keeps the same density relative to it)
// The lognormal is not truncated, as in the paper: σ_min and σ_max stay the range recorded with
// the model (meta.json), where the samplers of the trained prior start and end by default; a
// network trained with edm preconditioning extrapolates smoothly to the rarely drawn ends.
// The density only moves training effort between levels: every σ's DSM minimiser is the same
// score ∇log p_σ, so the trained model is read exactly as a log-uniform one.
#pragma once
#include <string>

#include "scorematch/core/random_stream.hpp"
#include "scorematch/models/noise_process.hpp"

namespace scorematch {

struct SigmaDensity {
  enum class Kind { log_uniform, lognormal };
  Kind kind = Kind::log_uniform;
  double p_mean = -1.2, p_std = 1.2;  // lognormal: mean and sd of log σ (σ in data units)

  // From the setting's name ("log-uniform" | "lognormal") and the lognormal's parameters; throws
  // Error naming the setting for an unknown name, a non-finite P_mean or P_std ≤ 0.
  static SigmaDensity parse(const std::string& name, double p_mean, double p_std);
  std::string name() const;
  // σ of one training row from its stream, positioned at a fresh Philox block: log-uniform
  // takes one uniform() (bitwise the VE SDE's σ(u) of earlier versions), lognormal the first
  // normal() of a fresh pair. Both use that one block only.
  double draw(const NoiseProcess& process, RandomStream& rng) const;
};

}  // namespace scorematch
